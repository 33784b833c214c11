//! Logout: native apps send their session token; browsers fetch a logout URL with a one-off
//! logout token and follow it.

use super::flows::{return_destination, see_other};
use crate::browser;
use crate::error::ApiError;
use crate::session_token;
use crate::state::HttpState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::CoreError;
use clavis_core::secret::BearerToken;
use clavis_types::flow::LogoutFlow;
use serde::Deserialize;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/self-service/logout/api", web::delete().to(logout_api))
        .route(
            "/self-service/logout/browser",
            web::get().to(logout_create_browser),
        )
        .route("/self-service/logout", web::get().to(logout_browser));
}

async fn logout_api(
    state: web::Data<HttpState>,
    req: HttpRequest,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = crate::body::decode(&req, &bytes)?;
    let token = body
        .get("session_token")
        .and_then(|v| v.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the `session_token` field is required".to_owned()))?;
    match state
        .sessions
        .logout_token_holder(&BearerToken::new(token))
        .await
    {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(CoreError::NoActiveSession) => Err(ApiError::LogoutTokenInvalid),
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Deserialize)]
struct ReturnTo {
    return_to: Option<String>,
}

fn checked_return_to(
    state: &HttpState,
    return_to: Option<&str>,
) -> Result<Option<String>, ApiError> {
    match return_to.filter(|r| !r.is_empty()) {
        Some(r) if state.login.return_to_allowed(r) => Ok(Some(r.to_owned())),
        Some(_) => Err(CoreError::ReturnToForbidden.into()),
        None => Ok(None),
    }
}

async fn logout_create_browser(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<ReturnTo>,
) -> Result<HttpResponse, ApiError> {
    let who = session_token::require(&req, &state).await?;
    let return_to = checked_return_to(&state, query.return_to.as_deref())?;
    let token = state.sessions.new_logout_token(&who.session).await?;
    let mut url = state
        .settings
        .public_base_url
        .join("self-service/logout")
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    url.query_pairs_mut().append_pair("token", token.expose());
    if let Some(return_to) = &return_to {
        url.query_pairs_mut().append_pair("return_to", return_to);
    }
    Ok(HttpResponse::Ok().json(LogoutFlow {
        logout_url: url.to_string(),
        logout_token: token.expose().to_owned(),
    }))
}

#[derive(Debug, Deserialize)]
struct LogoutQuery {
    token: Option<String>,
    return_to: Option<String>,
}

async fn logout_browser(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<LogoutQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest("the `token` query parameter is required".to_owned())
        })?;
    let return_to = checked_return_to(&state, query.return_to.as_deref())?;
    match state
        .sessions
        .logout_with_logout_token(&BearerToken::new(token))
        .await
    {
        Ok(_) => {}
        Err(CoreError::NoActiveSession) => return Err(ApiError::LogoutTokenInvalid),
        Err(other) => return Err(other.into()),
    }
    let mut response = if browser::wants_json(&req) {
        HttpResponse::NoContent().finish()
    } else {
        see_other(&return_destination(&state, return_to.as_deref()))
    };
    response
        .add_cookie(&browser::clear_session_cookie(&state))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(response)
}

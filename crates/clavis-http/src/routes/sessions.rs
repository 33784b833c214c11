//! `/sessions/whoami`, the caller's own sessions (list, revoke others, revoke one), and the
//! session-token exchange of native apps.

use super::flows::aal2_login_url;
use super::pagination::{PageQuery, QueryPairs};
use crate::error::ApiError;
use crate::present;
use crate::session_token;
use crate::state::HttpState;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::CoreError;
use clavis_core::secret::BearerToken;
use clavis_types::SessionId;
use clavis_types::flow::SuccessfulCodeExchange;
use clavis_types::session::RevokedSessionsCount;
use uuid::Uuid;

/// `whoami`, the route every app behind Clavis calls on every request: the public listener
/// registers it before all others, since routes are tried in registration order and a path
/// with a parameter (`/schemas/{id}`) costs a pattern match.
pub fn configure_whoami(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/sessions/whoami").to(sessions_whoami));
}

/// Public listener routes besides `whoami`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/sessions")
            .route(web::get().to(sessions_list))
            .route(web::delete().to(sessions_revoke_others)),
    )
    .route(
        "/sessions/token-exchange",
        web::get().to(sessions_token_exchange),
    )
    .route("/sessions/{id}", web::delete().to(sessions_revoke_one));
}

#[derive(Debug, serde::Deserialize)]
struct ExchangeQuery {
    init_code: Option<String>,
    return_to_code: Option<String>,
}

async fn sessions_token_exchange(
    state: web::Data<HttpState>,
    query: web::Query<ExchangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = |value: &Option<String>, name: &str| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(BearerToken::new)
            .ok_or_else(|| {
                ApiError::BadRequest(format!("the `{name}` query parameter is required"))
            })
    };
    let init = code(&query.init_code, "init_code")?;
    let return_to = code(&query.return_to_code, "return_to_code")?;
    let (caller, token) = state.exchanges.redeem(&init, &return_to).await?;
    Ok(HttpResponse::Ok().json(SuccessfulCodeExchange {
        session: present::session(
            &caller.session,
            Some(&caller.identity),
            &state.settings.public_base_url,
            state.clock.now(),
        ),
        session_token: token.expose().to_owned(),
    }))
}

const IDENTITY_HEADER: &str = "X-Kratos-Authenticated-Identity-Id";

async fn sessions_whoami(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let who = session_token::require_shared(&req, &state).await?;
    if let Err(CoreError::Aal2Required) = state.assurance.check_whoami(&who.caller) {
        return Err(ApiError::Aal2Required(aal2_login_url(&state, None)));
    }
    // Only usable sessions get here, so the answer is the same for as long as the cache
    // trusts the entry: it is serialised once per entry.
    let body = who.rendering(|caller| {
        let now = state.clock.now();
        serde_json::to_vec(&present::caller_session(
            caller,
            &state.settings.public_base_url,
            now,
        ))
        .map_err(|e| CoreError::Internal(format!("serialising the session: {e}")))
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((IDENTITY_HEADER, who.caller.identity.id.to_string()))
        .content_type(ContentType::json())
        .body(Bytes::from_owner(body)))
}

async fn sessions_list(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let who = session_token::require(&req, &state).await?;
    let page_size = query.size()?;
    let after = query.after()?.map(SessionId);
    let page = state
        .sessions
        .list_others(&who.session, after, page_size)
        .await?;
    let now = state.clock.now();
    let body: Vec<_> = page
        .sessions
        .iter()
        .map(|s| present::session(s, Some(&who.identity), &state.settings.public_base_url, now))
        .collect();
    let mut response = HttpResponse::Ok();
    response.insert_header(QueryPairs::parse(req.query_string()).links(
        "/sessions",
        page_size,
        page.next.map(|id| id.as_uuid()),
    ));
    Ok(response.json(body))
}

async fn sessions_revoke_others(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let who = session_token::require(&req, &state).await?;
    let count = state.sessions.revoke_others(&who.session).await?;
    Ok(HttpResponse::Ok().json(RevokedSessionsCount { count }))
}

async fn sessions_revoke_one(
    state: web::Data<HttpState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| ApiError::BadRequest("the session id is not a UUID".to_owned()))?;
    let who = session_token::require(&req, &state).await?;
    state
        .sessions
        .revoke_other(&who.session, SessionId(id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

//! Logout for native apps: `DELETE /self-service/logout/api` with the session token.

use crate::error::ApiError;
use crate::state::HttpState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::CoreError;
use clavis_core::secret::BearerToken;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/self-service/logout/api", web::delete().to(logout_api));
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

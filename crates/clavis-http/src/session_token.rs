//! Finding the session credential in a request, in Kratos' order: the `X-Session-Token`
//! header, then the session cookie, then `Authorization: Bearer`. The first carrier present
//! decides; a bad credential there is not rescued by another carrier.

use crate::error::ApiError;
use crate::state::HttpState;
use actix_web::HttpRequest;
use actix_web::http::header;
use clavis_core::CoreError;
use clavis_core::secret::BearerToken;
use clavis_core::session::Authenticated;

/// The cookie-signing purpose of the session cookie.
pub const SESSION_COOKIE_PURPOSE: &str = "session";

/// The session token a request carries, if any.
pub fn extract(req: &HttpRequest, state: &HttpState) -> Option<BearerToken> {
    if let Some(value) = req
        .headers()
        .get("x-session-token")
        .and_then(|v| v.to_str().ok())
    {
        return Some(BearerToken::new(value.trim()));
    }
    if let Some(cookie) = req.cookie(&state.settings.session_cookie.name) {
        // A cookie that fails its signature still decides: it stands for no session.
        return Some(
            state
                .cookie_signer
                .verify(SESSION_COOKIE_PURPOSE, cookie.value())
                .unwrap_or_else(|| BearerToken::new("")),
        );
    }
    let authorization = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = authorization.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| BearerToken::new(token.trim()))
}

/// The authenticated caller, or 401 `session_inactive`.
pub async fn require(req: &HttpRequest, state: &HttpState) -> Result<Authenticated, ApiError> {
    let token = extract(req, state).ok_or(CoreError::NoActiveSession)?;
    if token.expose().is_empty() {
        return Err(CoreError::NoActiveSession.into());
    }
    Ok(state.sessions.authenticate(&token).await?)
}

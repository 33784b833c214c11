//! Finding the caller's credential in a request, in Kratos' order: the `X-Session-Token`
//! header, then the session cookie, then `Authorization: Bearer`; last, for clients that speak
//! Nextcloud's protocols, `Authorization: Basic` with a login name and an app password. The
//! first carrier present decides; a bad credential there is not rescued by another carrier.
//! Empty Basic credentials (`Basic Og==`, which Nextcloud clients send before they have any)
//! count as none.
//!
//! A token, bearer or Basic, may be a session token or a per-client grant (an app password);
//! a grant's use is noted (when, from where, with which user agent) as it authenticates.

use crate::error::ApiError;
use crate::state::HttpState;
use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clavis_core::CoreError;
use clavis_core::grant::GrantUse;
use clavis_core::identity::Identity;
use clavis_core::secret::BearerToken;
use clavis_core::session::Authenticated;
use clavis_core::session::cache::Remembered;
use std::sync::Arc;

/// The cookie-signing purpose of the session cookie.
pub const SESSION_COOKIE_PURPOSE: &str = "session";

/// A credential as a request presents it.
pub enum Presented {
    /// A session token or an app password, by header, cookie or bearer.
    Token(BearerToken),
    /// HTTP Basic: a login name and an app password.
    Basic { login: String, secret: BearerToken },
}

impl Presented {
    fn secret(&self) -> &BearerToken {
        match self {
            Presented::Token(token) | Presented::Basic { secret: token, .. } => token,
        }
    }
}

/// The session token a request carries, if any (Basic credentials are not session tokens).
pub fn extract(req: &HttpRequest, state: &HttpState) -> Option<BearerToken> {
    match presented(req, state)? {
        Presented::Token(token) => Some(token),
        Presented::Basic { .. } => None,
    }
}

/// The credential a request presents, if any.
pub fn presented(req: &HttpRequest, state: &HttpState) -> Option<Presented> {
    if let Some(value) = req
        .headers()
        .get("x-session-token")
        .and_then(|v| v.to_str().ok())
    {
        return Some(Presented::Token(BearerToken::new(value.trim())));
    }
    if let Some(cookie) = req.cookie(&state.settings.session_cookie.name) {
        // A cookie that fails its signature still decides: it stands for no session.
        return Some(Presented::Token(
            state
                .cookie_signer
                .verify(SESSION_COOKIE_PURPOSE, cookie.value())
                .unwrap_or_else(|| BearerToken::new("")),
        ));
    }
    let authorization = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, value) = authorization.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Presented::Token(BearerToken::new(value.trim())));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let Some((login, secret)) = STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(l, s)| (l.to_owned(), s.to_owned()))
        })
    else {
        // Undecodable Basic credentials stand for no session, like a bad cookie.
        return Some(Presented::Token(BearerToken::new("")));
    };
    if login.is_empty() && secret.is_empty() {
        return None;
    }
    Some(Presented::Basic {
        login,
        secret: BearerToken::new(secret),
    })
}

/// The authenticated caller, or 401 `session_inactive`.
pub async fn require(req: &HttpRequest, state: &HttpState) -> Result<Authenticated, ApiError> {
    require_shared(req, state)
        .await
        .map(|remembered| remembered.caller.clone())
}

/// As [`require`], handing out the session cache's entry instead of a copy of it (`whoami`
/// keeps its serialised answer there).
pub async fn require_shared(
    req: &HttpRequest,
    state: &HttpState,
) -> Result<Arc<Remembered>, ApiError> {
    let presented = presented(req, state).ok_or(CoreError::NoActiveSession)?;
    if presented.secret().expose().is_empty() {
        return Err(CoreError::NoActiveSession.into());
    }
    let remembered = state
        .sessions
        .authenticate_shared(presented.secret())
        .await?;
    let caller = &remembered.caller;
    if let Presented::Basic { login, .. } = &presented {
        // Basic carries app passwords only, and only under a name of their owner.
        if caller.client.is_none() || !answers_to(&caller.identity, login) {
            return Err(CoreError::NoActiveSession.into());
        }
    }
    if let Some(grant) = &caller.client {
        let used = GrantUse {
            ip: req.peer_addr().map(|a| a.ip().to_string()),
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        state.grants.touch(grant, &used).await?;
    }
    Ok(remembered)
}

/// Whether `login` names `identity`: one of its login identifiers (compared without regard to
/// case, as identifiers are stored normalised) or its id.
pub fn answers_to(identity: &Identity, login: &str) -> bool {
    login == identity.id.to_string()
        || identity
            .credentials
            .values()
            .flat_map(|c| c.identifiers.iter())
            .any(|id| id.eq_ignore_ascii_case(login))
}

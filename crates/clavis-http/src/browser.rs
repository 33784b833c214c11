//! Browser concerns: content negotiation (JSON for SPAs, redirects for plain forms), the CSRF
//! cookie, and the session cookie.

use crate::session_token::SESSION_COOKIE_PURPOSE;
use crate::state::{HttpState, SameSite};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite as CookieSameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use chrono::{DateTime, Utc};
use clavis_core::CoreError;
use clavis_core::random::alphanumeric;
use clavis_core::secret::{BearerToken, constant_time_eq};
use sha2::{Digest, Sha256};

const CSRF_PURPOSE: &str = "csrf";

/// Whether the client wants JSON: `Content-Type: application/json`, or an `Accept` header whose
/// preferred type (among text/html, text/*, */* and application/json) is JSON.
pub fn wants_json(req: &HttpRequest) -> bool {
    let header_value = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    if header_value(header::CONTENT_TYPE)
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return true;
    }
    let mut offers: Vec<(f32, usize, String)> = header_value(header::ACCEPT)
        .split(',')
        .enumerate()
        .filter_map(|(index, part)| {
            let mut pieces = part.split(';');
            let media = pieces.next()?.trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((q, index, media))
        })
        .filter(|(q, _, media)| {
            *q > 0.0 && ["text/html", "text/*", "*/*", "application/json"].contains(&media.as_str())
        })
        .collect();
    offers.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    offers
        .first()
        .is_some_and(|(_, _, media)| media == "application/json")
}

/// `csrf_token_<sha256 of the public base URL>`, so two deployments on one domain do not clash.
pub fn csrf_cookie_name(state: &HttpState) -> String {
    let digest = Sha256::digest(state.settings.public_base_url.as_str().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("csrf_token_{hex}")
}

/// The token in the request's CSRF cookie, when its signature verifies.
pub fn csrf_from_cookie(req: &HttpRequest, state: &HttpState) -> Option<BearerToken> {
    let cookie = req.cookie(&csrf_cookie_name(state))?;
    state.cookie_signer.verify(CSRF_PURPOSE, cookie.value())
}

/// The browser's CSRF token, and the cookie to set when it had none.
pub fn ensure_csrf(req: &HttpRequest, state: &HttpState) -> (BearerToken, Option<Cookie<'static>>) {
    if let Some(token) = csrf_from_cookie(req, state) {
        return (token, None);
    }
    let token = BearerToken::new(alphanumeric(state.rng.as_ref(), 43));
    let cookie = base_cookie(
        state,
        csrf_cookie_name(state),
        state.cookie_signer.sign(CSRF_PURPOSE, &token),
    );
    (token, Some(cookie))
}

/// Refuses a form whose `csrf_token` does not match the browser's CSRF cookie.
pub fn check_csrf(
    req: &HttpRequest,
    state: &HttpState,
    submitted: Option<&str>,
) -> Result<(), CoreError> {
    let cookie = csrf_from_cookie(req, state)
        .ok_or_else(|| CoreError::CsrfViolation("the CSRF cookie is missing".to_owned()))?;
    if constant_time_eq(
        cookie.expose().as_bytes(),
        submitted.unwrap_or_default().as_bytes(),
    ) {
        Ok(())
    } else {
        Err(CoreError::CsrfViolation(
            "the CSRF token does not match".to_owned(),
        ))
    }
}

/// A cookie holding `token`, signed for `purpose`, with the session cookie's attributes; it
/// lasts as long as the browser session.
pub fn signed_cookie(
    state: &HttpState,
    name: &str,
    purpose: &str,
    token: &BearerToken,
) -> Cookie<'static> {
    base_cookie(
        state,
        name.to_owned(),
        state.cookie_signer.sign(purpose, token),
    )
}

/// The token in the signed cookie `name`, when its signature for `purpose` verifies.
pub fn signed_cookie_value(
    req: &HttpRequest,
    state: &HttpState,
    name: &str,
    purpose: &str,
) -> Option<BearerToken> {
    let cookie = req.cookie(name)?;
    state.cookie_signer.verify(purpose, cookie.value())
}

/// A cookie that makes the browser forget the cookie `name`.
pub fn forget_cookie(state: &HttpState, name: &str) -> Cookie<'static> {
    let mut cookie = base_cookie(state, name.to_owned(), String::new());
    cookie.set_max_age(CookieDuration::ZERO);
    cookie
}

/// The session cookie for `token`; persistent cookies last until the session expires.
pub fn session_cookie(
    state: &HttpState,
    token: &BearerToken,
    expires_at: DateTime<Utc>,
) -> Cookie<'static> {
    let settings = &state.settings.session_cookie;
    let mut cookie = base_cookie(
        state,
        settings.name.clone(),
        state.cookie_signer.sign(SESSION_COOKIE_PURPOSE, token),
    );
    if settings.persistent {
        let seconds = (expires_at - state.clock.now()).num_seconds().max(0);
        cookie.set_max_age(CookieDuration::seconds(seconds));
    }
    cookie
}

/// A cookie that makes the browser forget its session cookie.
pub fn clear_session_cookie(state: &HttpState) -> Cookie<'static> {
    let mut cookie = base_cookie(
        state,
        state.settings.session_cookie.name.clone(),
        String::new(),
    );
    cookie.set_max_age(CookieDuration::ZERO);
    cookie
}

fn base_cookie(state: &HttpState, name: String, value: String) -> Cookie<'static> {
    let settings = &state.settings.session_cookie;
    let mut cookie = Cookie::new(name, value);
    cookie.set_http_only(true);
    cookie.set_secure(settings.secure);
    cookie.set_path(settings.path.clone());
    if let Some(domain) = &settings.domain {
        cookie.set_domain(domain.clone());
    }
    cookie.set_same_site(match settings.same_site {
        SameSite::Strict => CookieSameSite::Strict,
        SameSite::Lax => CookieSameSite::Lax,
        SameSite::None => CookieSameSite::None,
    });
    cookie
}

/// `url?flow=<id>` for a UI page.
pub fn ui_with_flow(page: &url::Url, flow: impl std::fmt::Display) -> String {
    let mut url = page.clone();
    url.query_pairs_mut().append_pair("flow", &flow.to_string());
    url.to_string()
}

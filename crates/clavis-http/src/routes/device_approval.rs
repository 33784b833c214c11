//! The device-approval page: the `login` URL of Nextcloud's Login Flow v2
//! (`/index.php/login/v2/flow/{token}`, also without `/index.php`), where a person decides
//! whether the client that asked may have access to their account.
//!
//! The page shows what a phished person needs to notice: the client's self-declared name
//! marked as unverified, when and from which address the request was made and whether that
//! differs from the browser's, and whose account it is. A browser without a session signs in
//! first (any method, second factors included) and comes back; a session that signed in more
//! than 30 minutes ago signs in again; a session below the settings' required assurance level
//! steps up. Decisions are single-use, posted with the CSRF token. A browser session that was
//! created only to approve (the page found no session and sent the browser to sign in) ends
//! with the decision.

use super::flows::{aal2_login_url, login_browser_url, see_other, with_cookie};
use super::ui::{common, error_view, first_identifier, html, links, render_failed, when};
use crate::browser;
use crate::error::ApiError;
use crate::session_token;
use crate::state::HttpState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::DateTime;
use clavis_core::CoreError;
use clavis_core::device::DeviceAuthorization;
use clavis_core::secret::BearerToken;
use clavis_core::session::Authenticated;
use clavis_render::{DeviceDecision, DeviceView, ErrorView};
use serde_json::Value;

/// The cookie that remembers that this browser had no session when it opened the page.
const SIGN_IN_COOKIE: &str = "clavis_device_sign_in";
const SIGN_IN_PURPOSE: &str = "device_sign_in";

/// Public listener routes, with and without the `/index.php` front controller.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/index.php", ""] {
        cfg.route(
            &format!("{prefix}/login/v2/flow/{{token}}"),
            web::get().to(device_page),
        )
        .route(
            &format!("{prefix}/login/v2/flow/{{token}}"),
            web::post().to(device_decide),
        );
    }
}

/// This page's own URL, where sign-in comes back to and the decision is posted.
fn page_url(state: &HttpState, token: &str) -> String {
    format!(
        "{}/index.php/login/v2/flow/{token}",
        state
            .settings
            .public_base_url
            .as_str()
            .trim_end_matches('/')
    )
}

/// Where a browser that may not decide yet goes, if anywhere: to sign in, sign in again or
/// step up, coming back to the page.
fn sign_in_first(state: &HttpState, who: Option<&Authenticated>, back: &str) -> Option<String> {
    match who {
        None => Some(login_browser_url(state, &[("return_to", back)])),
        Some(who) if state.settings_flows.check_assurance(who).is_err() => {
            Some(aal2_login_url(state, Some(back)))
        }
        Some(who) if !state.devices.recent_enough(who) => Some(login_browser_url(
            state,
            &[("refresh", "true"), ("return_to", back)],
        )),
        Some(_) => None,
    }
}

/// The caller's browser session; a client's grant never approves another client.
async fn browser_session(req: &HttpRequest, state: &HttpState) -> Option<Authenticated> {
    session_token::require(req, state)
        .await
        .ok()
        .filter(|who| who.client.is_none())
}

async fn device_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Ok(authorization) = state
        .devices
        .pending(&BearerToken::new(token.as_str()))
        .await
    else {
        return invalid(&state, &req);
    };
    let back = page_url(&state, &token);
    let who = browser_session(&req, &state).await;
    if let Some(target) = sign_in_first(&state, who.as_ref(), &back) {
        // Only a browser that arrives without any session gets the marker: its sign-in is
        // for this decision alone.
        let marker = who.is_none().then(|| {
            let value = format!("{}~{}", authorization.id, state.clock.now().timestamp());
            browser::signed_cookie(
                &state,
                SIGN_IN_COOKIE,
                SIGN_IN_PURPOSE,
                &BearerToken::new(value),
            )
        });
        return with_cookie(see_other(&target), marker.as_ref());
    }
    let Some(who) = who else {
        return Ok(see_other(&back));
    };
    let (csrf, csrf_cookie) = browser::ensure_csrf(&req, &state);
    let browser_ip = req.peer_addr().map(|a| a.ip().to_string());
    let view = DeviceView {
        client_name: authorization.client_name.clone(),
        requested_at: when(authorization.created_at),
        ip_differs: matches!(
            (&authorization.request_ip, &browser_ip),
            (Some(a), Some(b)) if a != b
        ),
        request_ip: authorization.request_ip.clone(),
        browser_ip,
        signed_in_as: first_identifier(&who.identity),
        action: back,
        csrf_token: csrf.expose().to_owned(),
        decided: None,
    };
    let response = render(&state, &req, &view, StatusCode::OK)?;
    with_cookie(response, csrf_cookie.as_ref())
}

async fn device_decide(
    state: web::Data<HttpState>,
    req: HttpRequest,
    token: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Ok(authorization) = state
        .devices
        .pending(&BearerToken::new(token.as_str()))
        .await
    else {
        return invalid(&state, &req);
    };
    let back = page_url(&state, &token);
    let Some(who) = browser_session(&req, &state).await else {
        return Ok(see_other(&back));
    };
    let form = match crate::body::decode(&req, &bytes) {
        Ok(form) => form,
        Err(error) => return error_page(&state, &req, &error),
    };
    let submitted = form.get("csrf_token").and_then(Value::as_str);
    if let Err(error) = browser::check_csrf(&req, &state, submitted) {
        return error_page(&state, &req, &error.into());
    }
    let decision = match form.get("decision").and_then(Value::as_str) {
        Some("approve") => {
            if let Some(target) = sign_in_first(&state, Some(&who), &back) {
                return Ok(see_other(&target));
            }
            match state.devices.approve(&authorization, &who).await {
                Ok(()) => DeviceDecision::Approved,
                Err(CoreError::ReauthenticationRequired) => {
                    return Ok(see_other(&login_browser_url(
                        &state,
                        &[("refresh", "true"), ("return_to", &back)],
                    )));
                }
                Err(error) => return error_page(&state, &req, &error.into()),
            }
        }
        Some("deny") => match state.devices.deny(&authorization).await {
            Ok(()) => DeviceDecision::Denied,
            Err(error) => return error_page(&state, &req, &error.into()),
        },
        _ => {
            let error = ApiError::BadRequest("`decision` must be approve or deny".to_owned());
            return error_page(&state, &req, &error);
        }
    };
    decided(&state, &req, &authorization, &who, decision).await
}

/// The page after a decision; a session created only for it ends here.
async fn decided(
    state: &HttpState,
    req: &HttpRequest,
    authorization: &DeviceAuthorization,
    who: &Authenticated,
    decision: DeviceDecision,
) -> Result<HttpResponse, ApiError> {
    let view = DeviceView {
        client_name: authorization.client_name.clone(),
        requested_at: when(authorization.created_at),
        request_ip: authorization.request_ip.clone(),
        browser_ip: None,
        ip_differs: false,
        signed_in_as: first_identifier(&who.identity),
        action: String::new(),
        csrf_token: String::new(),
        decided: Some(decision),
    };
    let mut response = render(state, req, &view, StatusCode::OK)?;
    let Some(marker) = browser::signed_cookie_value(req, state, SIGN_IN_COOKIE, SIGN_IN_PURPOSE)
    else {
        return Ok(response);
    };
    response = with_cookie(
        response,
        Some(&browser::forget_cookie(state, SIGN_IN_COOKIE)),
    )?;
    if !signed_in_for(marker.expose(), authorization, who) {
        return Ok(response);
    }
    if let Some(token) = session_token::extract(req, state) {
        state.sessions.logout_token_holder(&token).await?;
    }
    with_cookie(response, Some(&browser::clear_session_cookie(state)))
}

/// Whether the marker `<authorization id>~<unix time>` names this request and the session
/// was issued after the page sent the browser to sign in.
fn signed_in_for(marker: &str, authorization: &DeviceAuthorization, who: &Authenticated) -> bool {
    let Some((id, at)) = marker.split_once('~') else {
        return false;
    };
    let sent_at = at
        .parse::<i64>()
        .ok()
        .and_then(|t| DateTime::from_timestamp(t, 0));
    id == authorization.id.to_string() && sent_at.is_some_and(|sent| who.session.issued_at >= sent)
}

fn render(
    state: &HttpState,
    req: &HttpRequest,
    view: &DeviceView,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let common = common(req, state);
    let body = state
        .renderer
        .device_page(view, &links(state), &common)
        .map_err(render_failed)?;
    Ok(html(state, &common, status, body))
}

/// The answer for a login token that is unknown, expired or answered already.
fn invalid(state: &HttpState, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let view = ErrorView {
        code: 404,
        status: "Not Found".to_owned(),
        message: "This login request is unknown, has expired or was already answered. \
                  Start the login from the app again."
            .to_owned(),
        reason: None,
        id: None,
    };
    show_error(state, req, &view)
}

/// An error as the HTML error page, with its status.
fn error_page(
    state: &HttpState,
    req: &HttpRequest,
    error: &ApiError,
) -> Result<HttpResponse, ApiError> {
    let envelope = serde_json::to_value(error.envelope().error)
        .map_err(|e| ApiError::Core(CoreError::Internal(e.to_string())))?;
    show_error(state, req, &error_view(&envelope))
}

fn show_error(
    state: &HttpState,
    req: &HttpRequest,
    view: &ErrorView,
) -> Result<HttpResponse, ApiError> {
    let status = StatusCode::from_u16(view.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let common = common(req, state);
    let body = state
        .renderer
        .error_page(view, &links(state), &common)
        .map_err(render_failed)?;
    Ok(html(state, &common, status, body))
}

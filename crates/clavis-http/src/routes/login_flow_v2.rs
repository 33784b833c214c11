//! Nextcloud's Login Flow v2, wire-compatible, so existing desktop and mobile clients log in
//! through the browser: `POST /index.php/login/v2` (and `/login/v2`) starts a device
//! authorization, `POST …/login/v2/poll` collects it. Every poll that yields nothing — pending,
//! unknown, malformed, expired, denied or already collected — is the same `404 []`; the one
//! poll after approval gets `200` with the app password minted for it.
//!
//! Both endpoints are public: `OCS-APIRequest` and the empty Basic credentials that clients
//! send (`Authorization: Basic Og==`) are accepted and ignored. Each is rate-limited per client
//! address (`native_apps.rate_limits`); a request over the limit gets `429` with
//! `Retry-After`, which clients treat like any other "not yet".

use crate::body;
use crate::error::ApiError;
use crate::state::HttpState;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::device::FrontEnd;
use clavis_core::identity::{CredentialKind, Identity};
use clavis_core::secret::BearerToken;
use serde_json::{Value, json};

/// Public listener routes, with and without the `/index.php` front controller.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/index.php", ""] {
        cfg.route(
            &format!("{prefix}/login/v2"),
            web::post().to(login_flow_v2_init),
        )
        .route(
            &format!("{prefix}/login/v2/poll"),
            web::post().to(login_flow_v2_poll),
        );
    }
}

/// The public base URL without its trailing slash (Nextcloud's `server`).
fn server(state: &HttpState) -> String {
    state
        .settings
        .public_base_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

/// The client address a rate limit counts by.
pub(super) fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

async fn login_flow_v2_init(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    state
        .rate_limiter
        .check(
            "login_v2_init",
            &client_address(&req),
            state.settings.device_login_limits.init,
        )
        .await?;
    let client_name = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let ip = req.peer_addr().map(|a| a.ip().to_string());
    let started = state
        .devices
        .start(FrontEnd::NextcloudLoginFlowV2, client_name, ip)
        .await?;
    let server = server(&state);
    Ok(HttpResponse::Ok().json(json!({
        "poll": {
            "token": started.poll_token.expose(),
            "endpoint": format!("{server}/index.php/login/v2/poll"),
        },
        "login": format!("{server}/index.php/login/v2/flow/{}", started.login_token.expose()),
    })))
}

async fn login_flow_v2_poll(
    state: web::Data<HttpState>,
    req: HttpRequest,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    state
        .rate_limiter
        .check(
            "login_v2_poll",
            &client_address(&req),
            state.settings.device_login_limits.poll,
        )
        .await?;
    // A body that cannot be read carries no token: like every other failure, it is pending.
    let token = body::decode(&req, &bytes)
        .ok()
        .and_then(|b| b.get("token").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let Some(collected) = state.devices.poll(&BearerToken::new(token)).await? else {
        return Ok(HttpResponse::NotFound().json(json!([])));
    };
    let identity = state.identities.get(collected.identity).await?;
    Ok(HttpResponse::Ok().json(json!({
        "server": server(&state),
        "loginName": login_name(&identity),
        "appPassword": collected.grant.secret.expose(),
    })))
}

/// The name a client shows and sends with its app password: the first login identifier, or
/// the identity id for identities without a password.
pub fn login_name(identity: &Identity) -> String {
    identity
        .credentials
        .get(&CredentialKind::Password)
        .and_then(|c| c.identifiers.first().cloned())
        .unwrap_or_else(|| identity.id.to_string())
}

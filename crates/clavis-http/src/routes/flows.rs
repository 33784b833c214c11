//! What login and registration handlers share: the flow id parameter, the caller's optional
//! session, the request URL, and the facts the engine needs about a submission.

use crate::body;
use crate::browser;
use crate::error::ApiError;
use crate::session_token;
use crate::state::HttpState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use clavis_core::CoreError;
use clavis_core::flow::RequestFacts;
use clavis_core::session::{Authenticated, DeviceInfo};
use clavis_types::id::FlowId;
use clavis_types::session::Aal;
use serde::Deserialize;
use uuid::Uuid;

/// `?flow=<id>` of a submission.
#[derive(Debug, Deserialize)]
pub struct FlowParam {
    pub flow: Option<String>,
}

/// `?id=<id>` of a flow read.
#[derive(Debug, Deserialize)]
pub struct IdParam {
    pub id: Option<String>,
}

/// Parses a flow id; a missing or malformed one is a 400 that says so.
pub fn flow_id(value: Option<&str>, name: &str) -> Result<FlowId, ApiError> {
    let value = value
        .ok_or_else(|| ApiError::BadRequest(format!("the `{name}` query parameter is required")))?;
    Uuid::parse_str(value)
        .map(FlowId)
        .map_err(|_| ApiError::BadRequest(format!("the `{name}` query parameter is not a flow id")))
}

/// The caller's session when it presents a usable one; anything else counts as none.
pub async fn optional_session(req: &HttpRequest, state: &HttpState) -> Option<Authenticated> {
    session_token::require(req, state).await.ok()
}

/// `aal1` (the default) or `aal2`.
pub fn requested_aal(value: Option<&str>) -> Result<Aal, ApiError> {
    match value {
        None | Some("") | Some("aal1") => Ok(Aal::Aal1),
        Some("aal2") => Ok(Aal::Aal2),
        Some(other) => Err(ApiError::BadRequest(format!(
            "`aal` must be aal1 or aal2, not `{other}`"
        ))),
    }
}

/// The full URL the client requested, as Kratos stores it in `request_url`.
pub fn request_url(req: &HttpRequest, state: &HttpState) -> String {
    let base = state
        .settings
        .public_base_url
        .as_str()
        .trim_end_matches('/');
    format!(
        "{base}{}",
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    )
}

/// What the engine needs to know about a submission's origin.
pub fn request_facts(
    req: &HttpRequest,
    state: &HttpState,
    body: &serde_json::Value,
) -> RequestFacts {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip_address = req.peer_addr().map(|a| a.ip().to_string());
    let csrf_submitted = body
        .get("csrf_token")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .or_else(|| {
            req.headers()
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    RequestFacts {
        from_browser: body::from_browser(req),
        device: DeviceInfo {
            ip_address,
            user_agent,
        },
        csrf_cookie: browser::csrf_from_cookie(req, state),
        csrf_submitted,
        request_url: request_url(req, state),
        request_method: req.method().as_str().to_owned(),
        request_headers: forwardable_headers(req),
    }
}

/// The request headers a web hook may see: descriptive ones only, never cookies or
/// credentials (Kratos' allow-list).
const FORWARDABLE_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "content-length",
    "content-type",
    "origin",
    "priority",
    "referer",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-user",
    "true-client-ip",
    "user-agent",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
];

fn forwardable_headers(req: &HttpRequest) -> std::collections::BTreeMap<String, String> {
    FORWARDABLE_HEADERS
        .iter()
        .filter_map(|name| {
            let value = req.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect()
}

/// The answer to creating a browser flow: the flow as JSON for single-page apps, else a 303 to
/// the UI page that renders it; with the CSRF cookie when it is new.
pub fn browser_flow_created(
    json: bool,
    body: &impl serde::Serialize,
    ui_page: &url::Url,
    id: FlowId,
    csrf_cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, ApiError> {
    let response = if json {
        HttpResponse::Ok().json(body)
    } else {
        see_other(&browser::ui_with_flow(ui_page, id))
    };
    with_cookie(response, csrf_cookie.as_ref())
}

/// `response` with `cookie` added, when there is one.
pub fn with_cookie(
    mut response: HttpResponse,
    cookie: Option<&actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, ApiError> {
    if let Some(cookie) = cookie {
        response
            .add_cookie(cookie)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    Ok(response)
}

/// `<public>/self-service/login/browser?<query>`.
pub fn login_browser_url(state: &HttpState, query: &[(&str, &str)]) -> String {
    let mut url = state.settings.public_base_url.clone();
    url.set_path(&format!(
        "{}self-service/login/browser",
        state.settings.public_base_url.path()
    ));
    for (key, value) in query {
        url.query_pairs_mut().append_pair(key, value);
    }
    url.to_string()
}

/// The step-up login a session below `required_aal` is sent to, coming back to `return_to`.
pub fn aal2_login_url(state: &HttpState, return_to: Option<&str>) -> String {
    match return_to {
        Some(back) => login_browser_url(state, &[("aal", "aal2"), ("return_to", back)]),
        None => login_browser_url(state, &[("aal", "aal2")]),
    }
}

/// A 303 to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// Where a browser goes after a flow: its `return_to`, else the default.
pub fn return_destination(state: &HttpState, return_to: Option<&str>) -> String {
    return_to
        .map(str::to_owned)
        .unwrap_or_else(|| state.settings.ui.default_return.to_string())
}

/// How a self-service error reaches a plain browser form (a request that is not JSON and
/// carries cookies or `Origin`): an expired browser flow goes to its replacement in the UI;
/// every other error is kept and the browser goes to the error page with its id. JSON callers
/// and native apps get the error itself.
pub async fn browser_recovery(
    req: &HttpRequest,
    state: &HttpState,
    error: ApiError,
    ui_page: &url::Url,
) -> Result<HttpResponse, ApiError> {
    if browser::wants_json(req) || !body::from_browser(req) {
        return Err(error);
    }
    match &error {
        ApiError::Core(CoreError::FlowExpired {
            use_flow_id: Some(id),
            browser: true,
            ..
        }) => Ok(see_other(&browser::ui_with_flow(ui_page, id))),
        _ => to_error_page(state, error).await,
    }
}

/// Keeps `error` and sends the browser to the error page with its id; when the error cannot
/// be kept, the error itself is the answer.
pub async fn to_error_page(state: &HttpState, error: ApiError) -> Result<HttpResponse, ApiError> {
    let Ok(body) = serde_json::to_value(error.envelope().error) else {
        return Err(error);
    };
    match state.flow_errors.record(body).await {
        Ok(kept) => {
            let mut page = state.settings.ui.error.clone();
            page.query_pairs_mut()
                .append_pair("id", &kept.id.to_string());
            Ok(see_other(page.as_str()))
        }
        Err(record_error) => {
            tracing::error!(error = %record_error, "could not keep a self-service error");
            Err(error)
        }
    }
}

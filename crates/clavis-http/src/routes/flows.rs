//! What login and registration handlers share: the flow id parameter, the caller's optional
//! session, the request URL, and the facts the engine needs about a submission.

use crate::body;
use crate::error::ApiError;
use crate::session_token;
use crate::state::HttpState;
use actix_web::HttpRequest;
use actix_web::http::header;
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
pub fn request_facts(req: &HttpRequest) -> RequestFacts {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip_address = req.peer_addr().map(|a| a.ip().to_string());
    RequestFacts {
        from_browser: body::from_browser(req),
        device: DeviceInfo {
            ip_address,
            user_agent,
        },
    }
}

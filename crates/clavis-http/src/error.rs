//! The one place where errors become HTTP responses, in Kratos' error envelope.
//!
//! Every variant of [`ApiError`] (and through it every [`CoreError`]) is matched exhaustively,
//! so a new error cannot silently turn into a 500.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use clavis_core::CoreError;
use clavis_types::{ErrorBody, ErrorEnvelope, ErrorId};
use serde_json::{Map, Value, json};

/// Everything a handler can answer with besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Core(#[from] CoreError),
    /// No route or resource by that name.
    #[error("the requested resource could not be found")]
    NotFound,
    /// The body is larger than the limit.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// A parameter is malformed; the text says which and why.
    #[error("{0}")]
    BadRequest(String),
    /// The body's content type is not JSON or a form.
    #[error("unsupported content type `{0}`")]
    UnsupportedMediaType(String),
    /// The session token given to log out is unknown, expired or revoked.
    #[error("the session token is not valid")]
    LogoutTokenInvalid,
    /// A privileged change needs a fresh sign-in; the browser goes to this refresh login.
    #[error("the session must sign in again at {0}")]
    RefreshRequired(String),
    /// The admin API needs an API key and the request carries none that matches.
    #[error("a valid admin API key is required")]
    AdminKeyRequired,
    /// The session needs a second factor; the browser goes to this step-up login.
    #[error("the session needs a second factor at {0}")]
    Aal2Required(String),
    /// A single-page or native client must send the browser to this URL.
    #[error("the browser must go to {0}")]
    LocationChange(String),
}

struct Answer {
    status: StatusCode,
    id: Option<ErrorId>,
    reason: Option<String>,
    message: &'static str,
    details: Option<Map<String, Value>>,
    siblings: Map<String, Value>,
}

impl Answer {
    fn new(status: StatusCode, message: &'static str) -> Self {
        Self {
            status,
            id: None,
            reason: None,
            message,
            details: None,
            siblings: Map::new(),
        }
    }

    fn id(mut self, id: ErrorId) -> Self {
        self.id = Some(id);
        self
    }

    fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    fn sibling(mut self, key: &str, value: Value) -> Self {
        self.siblings.insert(key.to_owned(), value);
        self
    }
}

fn answer(error: &ApiError) -> Answer {
    match error {
        ApiError::Core(core) => core_answer(core),
        ApiError::NotFound => Answer::new(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        ),
        ApiError::PayloadTooLarge => Answer::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is too large",
        )
        .reason(format!(
            "Request bodies are limited to {} bytes.",
            crate::BODY_LIMIT_BYTES
        )),
        ApiError::BadRequest(reason) => bad_request(reason.clone()),
        ApiError::LogoutTokenInvalid => Answer::new(StatusCode::FORBIDDEN, "The requested action was forbidden")
            .reason("The provided session token could not be found or is invalid."),
        ApiError::UnsupportedMediaType(kind) => Answer::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The request body has an unsupported content type",
        )
        .reason(format!(
            "`{kind}` is not supported; send application/json or application/x-www-form-urlencoded."
        )),
        ApiError::AdminKeyRequired => Answer::new(
            StatusCode::UNAUTHORIZED,
            "The request could not be authorized",
        )
        .reason("A valid admin API key is required: send it as `Authorization: Bearer <key>`."),
        ApiError::RefreshRequired(url) => refresh_required()
            .sibling("redirect_browser_to", Value::String(url.clone())),
        ApiError::Aal2Required(url) => {
            let mut answer = aal2_required();
            let mut details = Map::new();
            details.insert("redirect_browser_to".to_owned(), Value::String(url.clone()));
            answer.details = Some(details);
            answer.sibling("redirect_browser_to", Value::String(url.clone()))
        }
        ApiError::LocationChange(url) => Answer::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "browser location change required",
        )
        .id(ErrorId::BrowserLocationChangeRequired)
        .reason("In order to complete this flow please redirect the browser to the URL in redirect_browser_to.")
        .sibling("redirect_browser_to", Value::String(url.clone())),
    }
}

fn aal2_required() -> Answer {
    Answer::new(StatusCode::FORBIDDEN, "The requested action was forbidden")
        .id(ErrorId::SessionAal2Required)
        .reason("An active session was found but it does not fulfill the Authenticator Assurance Level, implying that the session must (e.g.) authenticate the second factor.")
}

fn refresh_required() -> Answer {
    Answer::new(StatusCode::FORBIDDEN, "The requested action was forbidden")
        .id(ErrorId::SessionRefreshRequired)
        .reason("The login session is too old and thus not allowed to update these fields. Please re-authenticate.")
}

/// `what` with its first letter in upper case, for a `reason` sentence.
fn capitalised(what: &str) -> String {
    let mut chars = what.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn bad_request(reason: String) -> Answer {
    Answer::new(
        StatusCode::BAD_REQUEST,
        "The request was malformed or contained invalid parameters",
    )
    .reason(reason)
}

fn flow_expired(
    expired_at: &chrono::DateTime<chrono::Utc>,
    use_flow_id: Option<&clavis_types::id::FlowId>,
) -> Answer {
    let mut answer = Answer::new(StatusCode::GONE, "self-service flow expired")
        .id(ErrorId::SelfServiceFlowExpired)
        .reason(format!(
            "The self-service flow expired at {}; please retry the flow.",
            expired_at.to_rfc3339()
        ))
        .sibling("expired_at", json!(expired_at));
    if let Some(id) = use_flow_id {
        answer = answer.sibling("use_flow_id", json!(id));
    }
    answer
}

fn core_answer(error: &CoreError) -> Answer {
    match error {
        CoreError::NoActiveSession => Answer::new(
            StatusCode::UNAUTHORIZED,
            "request does not have a valid authentication session",
        )
        .id(ErrorId::SessionInactive)
        .reason("No active session was found in this request."),
        CoreError::SessionNotFound => Answer::new(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        )
        .reason("The session was not found."),
        CoreError::CannotRevokeCurrentSession => Answer::new(
            StatusCode::BAD_REQUEST,
            "The request was malformed or contained invalid parameters",
        )
        .reason("You cannot revoke the session you are currently using; log out instead."),
        CoreError::SchemaNotFound(id) => Answer::new(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        )
        .reason(format!("Identity schema `{id}` does not exist.")),
        CoreError::IdentityNotFound => Answer::new(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        )
        .reason("The identity was not found."),
        CoreError::NotFound(what) => Answer::new(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        )
        .reason(format!("{}.", capitalised(what))),
        CoreError::TraitsInvalid(violations) => {
            let mut answer = Answer::new(
                StatusCode::BAD_REQUEST,
                "The request was malformed or contained invalid parameters",
            )
            .reason("The traits do not match the identity schema.");
            let list: Vec<Value> = violations
                .iter()
                .map(|v| json!({"instance_ptr": format!("#{}", v.pointer), "message": v.message}))
                .collect();
            let mut details = Map::new();
            details.insert("validation_errors".to_owned(), Value::Array(list));
            answer.details = Some(details);
            answer
        }
        CoreError::Conflict(_) => Answer::new(
            StatusCode::CONFLICT,
            "The resource could not be created due to a conflict",
        )
        .reason("An identity with the same identifier or address exists already."),
        CoreError::SessionAlreadyAvailable => bad_request(
            "A valid session was detected and thus this flow is not possible. Did you forget to set `?refresh=true`?".to_owned(),
        )
        .id(ErrorId::SessionAlreadyAvailable),
        CoreError::Aal1Required => Answer::new(StatusCode::UNAUTHORIZED, "aal1 session required")
            .id(ErrorId::SessionAal1Required)
            .reason("You have to sign in with a first factor before you can request a second one."),
        CoreError::Aal2Required => aal2_required(),
        CoreError::FlowNotFound => Answer::new(StatusCode::NOT_FOUND, "The requested resource could not be found")
            .reason("The flow does not exist."),
        CoreError::FlowExpired { expired_at, use_flow_id, .. } => flow_expired(expired_at, use_flow_id.as_ref()),
        CoreError::RefreshRequired { .. } | CoreError::ReauthenticationRequired => refresh_required(),
        CoreError::RateLimited { retry_after } => Answer::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
            .reason(format!("Too many requests from this address; retry in {retry_after} seconds.")),
        CoreError::ExchangeNotFound => Answer::new(StatusCode::NOT_FOUND, "The requested resource could not be found")
            .reason("No session-token exchange matches these codes, or it was used already."),
        CoreError::CsrfViolation(reason) => Answer::new(StatusCode::FORBIDDEN, "the request was rejected to protect you from Cross-Site-Request-Forgery")
            .id(ErrorId::SecurityCsrfViolation)
            .reason(format!("A security violation was detected, please fill out the form again: {reason}.")),
        CoreError::ReturnToForbidden => bad_request("Requested return_to URL is not allowed.".to_owned())
            .id(ErrorId::SelfServiceFlowReturnToForbidden),
        CoreError::FlowCompleted => bad_request("The flow was already completed; start a new one.".to_owned()),
        CoreError::InvalidParameter(reason) => bad_request(reason.clone()),
        CoreError::IdentityMismatch => Answer::new(StatusCode::FORBIDDEN, "The request was denied")
            .id(ErrorId::SecurityIdentityMismatch)
            .reason("The flow belongs to another identity than the session."),
        CoreError::ApiFlowFromBrowser => bad_request(
            "The request carried an Origin header or cookies, which marks it as coming from a browser, but the flow was \
             initiated as an API flow. Use a browser flow instead."
                .to_owned(),
        ),
        CoreError::WebHookFailed(reason) => Answer::new(
            StatusCode::BAD_GATEWAY,
            "An upstream service answered with an error",
        )
        .reason(reason.clone()),
        CoreError::WebHookTimeout => Answer::new(
            StatusCode::GATEWAY_TIMEOUT,
            "An upstream service did not answer in time",
        )
        .reason("A web hook did not answer within its timeout."),
        CoreError::Internal(_) | CoreError::Storage(_) => Answer::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal server error occurred, please contact the system administrator",
        ),
    }
}

/// The error envelope for `status` with only a message, for answers built outside a handler.
pub fn envelope(status: StatusCode, message: &str) -> ErrorEnvelope {
    ErrorEnvelope {
        error: ErrorBody {
            id: None,
            code: status.as_u16(),
            status: status.canonical_reason().unwrap_or("Error").to_owned(),
            reason: None,
            message: message.to_owned(),
            request: None,
            details: None,
        },
        siblings: Map::new(),
    }
}

impl ApiError {
    /// The error in Kratos' envelope, as its JSON answer carries it.
    pub fn envelope(&self) -> ErrorEnvelope {
        let answer = answer(self);
        ErrorEnvelope {
            error: ErrorBody {
                id: answer.id,
                code: answer.status.as_u16(),
                status: answer
                    .status
                    .canonical_reason()
                    .unwrap_or("Error")
                    .to_owned(),
                reason: answer.reason,
                message: answer.message.to_owned(),
                request: None,
                details: answer.details,
            },
            siblings: answer.siblings,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        answer(self).status
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = HttpResponse::build(status);
        if matches!(self, ApiError::AdminKeyRequired) {
            response.insert_header((actix_web::http::header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let ApiError::Core(CoreError::RateLimited { retry_after }) = self {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                retry_after.to_string(),
            ));
        }
        response.json(self.envelope())
    }
}

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
}

struct Answer {
    status: StatusCode,
    id: Option<ErrorId>,
    reason: Option<String>,
    message: &'static str,
    details: Option<Map<String, Value>>,
}

impl Answer {
    fn new(status: StatusCode, message: &'static str) -> Self {
        Self {
            status,
            id: None,
            reason: None,
            message,
            details: None,
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
        ApiError::BadRequest(reason) => Answer::new(
            StatusCode::BAD_REQUEST,
            "The request was malformed or contained invalid parameters",
        )
        .reason(reason.clone()),
    }
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
        CoreError::Storage(_) => Answer::new(
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

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        answer(self).status
    }

    fn error_response(&self) -> HttpResponse {
        let answer = answer(self);
        if answer.status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorEnvelope {
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
            siblings: Map::new(),
        };
        HttpResponse::build(answer.status).json(body)
    }
}

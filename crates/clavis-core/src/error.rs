//! The domain's error type. `clavis-http` turns each variant into exactly one HTTP answer.

use crate::identity::TraitViolation;
use crate::storage::StorageError;

/// Everything the domain can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The request carries no session credential, or one that is unknown, expired or revoked.
    #[error("no active session was found in the request")]
    NoActiveSession,
    /// A session id that does not exist or does not belong to the caller.
    #[error("the session was not found")]
    SessionNotFound,
    /// A caller tried to revoke the session it is using through the "other sessions" endpoint.
    #[error("the current session cannot be revoked here; log out instead")]
    CannotRevokeCurrentSession,
    /// No identity schema has this id.
    #[error("identity schema `{0}` does not exist")]
    SchemaNotFound(String),
    /// No identity has this id.
    #[error("the identity was not found")]
    IdentityNotFound,
    /// Something the request names does not exist (a credential, a session).
    #[error("{0}")]
    NotFound(String),
    /// The traits do not satisfy the identity schema.
    #[error("the traits do not match the identity schema")]
    TraitsInvalid(Vec<TraitViolation>),
    /// An identifier or address is taken by another identity.
    #[error("{0}")]
    Conflict(String),
    /// A valid session exists and the flow would not change it.
    #[error("a valid session was detected and thus this flow is not possible")]
    SessionAlreadyAvailable,
    /// A higher assurance level was requested without any session.
    #[error("an aal1 session is required before a higher assurance level can be requested")]
    Aal1Required,
    /// The session is below the configured assurance level (`required_aal`); the caller must
    /// complete a second factor (`/self-service/login/...?aal=aal2`).
    #[error("a second factor is required for this session")]
    Aal2Required,
    /// No flow of this kind has this id.
    #[error("the flow was not found")]
    FlowNotFound,
    /// The flow expired; `use_flow_id` names a replacement when one was created.
    #[error("the flow expired")]
    FlowExpired {
        expired_at: chrono::DateTime<chrono::Utc>,
        use_flow_id: Option<clavis_types::id::FlowId>,
        /// The expired flow was a browser flow (its replacement is shown in the UI).
        browser: bool,
    },
    /// `return_to` points somewhere `selfservice.allowed_return_urls` does not allow.
    #[error("the return_to address is not allowed")]
    ReturnToForbidden,
    /// The flow was completed already (by this or a concurrent request).
    #[error("the flow was already completed")]
    FlowCompleted,
    /// A query parameter has a value the flow cannot use.
    #[error("{0}")]
    InvalidParameter(String),
    /// The session belongs to another identity than the flow.
    #[error("the flow belongs to another identity")]
    IdentityMismatch,
    /// The change needs a recently authenticated session
    /// (`selfservice.flows.settings.privileged_session_max_age`); the caller must log in again
    /// (`refresh=true`) and come back to the flow.
    #[error("the session is too old for this change; sign in again")]
    RefreshRequired { flow_id: clavis_types::id::FlowId },
    /// The action needs a session that authenticated recently (approving a device); the caller
    /// must sign in again (`refresh=true`).
    #[error("the session signed in too long ago for this action; sign in again")]
    ReauthenticationRequired,
    /// Too many requests of one kind from one client address; retry after this many seconds.
    #[error("too many requests; retry in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// No completed session-token exchange has these codes (or it was redeemed already).
    #[error("no session-token exchange matches these codes")]
    ExchangeNotFound,
    /// A browser flow was read or submitted without its CSRF cookie and token.
    #[error("CSRF check failed: {0}")]
    CsrfViolation(String),
    /// A submission to an API flow came from a browser (it carries `Origin` or cookies).
    #[error("an API flow was submitted with browser credentials")]
    ApiFlowFromBrowser,
    /// A web hook answered with an error or something unreadable.
    #[error("{0}")]
    WebHookFailed(String),
    /// A web hook did not answer in time.
    #[error("a web hook did not answer in time")]
    WebHookTimeout,
    /// A component broke its contract (a method answered an outcome its flow cannot use).
    #[error("internal error: {0}")]
    Internal(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for CoreError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Conflict(what) => CoreError::Conflict(what),
            other => CoreError::Storage(other),
        }
    }
}

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
    /// The traits do not satisfy the identity schema.
    #[error("the traits do not match the identity schema")]
    TraitsInvalid(Vec<TraitViolation>),
    /// An identifier or address is taken by another identity.
    #[error("{0}")]
    Conflict(String),
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

//! What a storage port may answer besides success. Backends map their own errors into this;
//! no database error type ever crosses into the domain.

/// A storage failure, as the domain sees it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A uniqueness rule was violated (the name says which one, for the operator).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Backend(String),
    /// A stored value could not be read back into the domain (corrupt or foreign data).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

//! The readiness port: whether the things Clavis depends on can serve requests.

use async_trait::async_trait;
use std::collections::BTreeMap;

/// Checks the dependencies a request needs (the database, its schema).
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when ready; otherwise what is not ready (`"database"`, `"migrations"`) and why.
    async fn check(&self) -> Result<(), BTreeMap<String, String>>;
}

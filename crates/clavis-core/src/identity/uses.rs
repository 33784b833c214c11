//! Single uses of a credential's secrets: a TOTP time step, a backup code. A use is recorded
//! once; the second attempt to record the same key fails, even when two requests race, because
//! storage keeps one row per (identity, kind, key) and records a use with one conditional insert.
//!
//! Uses live beside the credential, not inside its config, so rewriting an identity (a settings
//! change, an admin update) can never bring a used code back.

use super::CredentialKind;
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_types::IdentityId;

/// One recorded use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUse {
    /// The method's key: which secret was used (`<credential generation>:<index or step>`).
    pub key: String,
    pub used_at: DateTime<Utc>,
}

/// The storage single-use secrets need.
#[async_trait]
pub trait SecretUses: Send + Sync {
    /// Records a use of `key`; false when it was recorded before (a replay or a lost race).
    async fn record_use(
        &self,
        identity: IdentityId,
        kind: CredentialKind,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    /// The uses recorded for an identity's credential of `kind` whose key starts with `prefix`.
    async fn list_uses(
        &self,
        identity: IdentityId,
        kind: CredentialKind,
        prefix: &str,
    ) -> Result<Vec<SecretUse>, StorageError>;
    /// Forgets uses of `kind` recorded before `before` (only for secrets that expire on their
    /// own, such as TOTP steps); returns how many.
    async fn forget_uses_before(
        &self,
        identity: IdentityId,
        kind: CredentialKind,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError>;
}

//! Per-client credentials ("grants"): a secret one client holds for one identity, which the
//! owner can see and revoke on its own. An app password (Nextcloud's) is the first kind; OAuth2
//! grants are meant to be further kinds of the same record.
//!
//! The secret is shown once, when minted, and stored only as its SHA-256 digest. This module
//! never touches HTTP or SQL.

use crate::clock::Clock;
use crate::error::CoreError;
use crate::random::{Rng, alphanumeric, uuid_v4};
use crate::secret::{BearerToken, TokenDigest};
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use clavis_types::IdentityId;
use clavis_types::session::Aal;
use std::sync::Arc;
use uuid::Uuid;

/// Length of an app password (Nextcloud's: 72 characters of `[0-9A-Za-z]`).
pub const APP_PASSWORD_LEN: usize = 72;

/// How stale "last used" may get before a use writes it again (Nextcloud writes it at most
/// once a minute too): a busy client does not turn every request into a write.
pub const TOUCH_INTERVAL: TimeDelta = TimeDelta::seconds(60);

/// The longest client name kept (Nextcloud's).
pub const CLIENT_NAME_MAX: usize = 128;

/// What kind of per-client credential a grant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// A password for one app, usable as HTTP Basic password or bearer token.
    AppPassword,
}

impl GrantKind {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            GrantKind::AppPassword => "app_password",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        (value == "app_password").then_some(GrantKind::AppPassword)
    }
}

/// A grant as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientGrant {
    pub id: Uuid,
    pub identity_id: IdentityId,
    pub kind: GrantKind,
    /// The name the client declared when it asked for access.
    pub client_name: String,
    pub secret_digest: TokenDigest,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The assurance level of the approval that created it; requests made with the grant
    /// count at this level.
    pub aal: Aal,
}

/// Where a grant was just used from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantUse {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A grant just minted, with its secret (shown once).
#[derive(Debug)]
pub struct MintedGrant {
    pub grant: ClientGrant,
    pub secret: BearerToken,
}

/// The storage grants need.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new grant.
    async fn insert_grant(&self, grant: &ClientGrant) -> Result<(), StorageError>;
    /// The grant whose secret has this digest, revoked or not.
    async fn find_grant_by_secret(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<ClientGrant>, StorageError>;
    /// An identity's grants that are not revoked, oldest first.
    async fn list_grants(&self, identity: IdentityId) -> Result<Vec<ClientGrant>, StorageError>;
    /// Records where and when a grant was used.
    async fn touch_grant(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        used: &GrantUse,
    ) -> Result<(), StorageError>;
    /// Renames one of `identity`'s unrevoked grants; false when it has no such grant.
    async fn rename_grant(
        &self,
        identity: IdentityId,
        id: Uuid,
        name: &str,
    ) -> Result<bool, StorageError>;
    /// Revokes every unrevoked grant of `identity` but `keep`; returns how many.
    async fn revoke_grants_except(
        &self,
        identity: IdentityId,
        keep: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError>;
    /// Revokes one of `identity`'s grants; false when it has no such unrevoked grant.
    async fn revoke_grant(
        &self,
        identity: IdentityId,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}

/// Mints, lists, checks and revokes grants.
#[derive(Clone)]
pub struct ClientGrants {
    store: Arc<dyn GrantStore>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
}

impl ClientGrants {
    /// Builds the service over its ports.
    pub fn new(store: Arc<dyn GrantStore>, clock: Arc<dyn Clock>, rng: Arc<dyn Rng>) -> Self {
        Self { store, clock, rng }
    }

    /// Mints a grant of `kind` for `identity` and the client that calls itself `client_name`,
    /// approved at assurance level `aal`.
    pub async fn mint(
        &self,
        identity: IdentityId,
        kind: GrantKind,
        client_name: &str,
        ip: Option<String>,
        aal: Aal,
    ) -> Result<MintedGrant, CoreError> {
        let secret = BearerToken::new(alphanumeric(self.rng.as_ref(), APP_PASSWORD_LEN));
        let grant = ClientGrant {
            id: uuid_v4(self.rng.as_ref()),
            identity_id: identity,
            kind,
            client_name: client_name_of(client_name),
            secret_digest: secret.digest(),
            created_at: self.clock.now(),
            last_used_at: None,
            last_ip: ip,
            user_agent: None,
            revoked_at: None,
            aal,
        };
        self.store.insert_grant(&grant).await?;
        Ok(MintedGrant { grant, secret })
    }

    /// The unrevoked grant a secret stands for.
    pub async fn authenticate(&self, secret: &BearerToken) -> Result<ClientGrant, CoreError> {
        self.store
            .find_grant_by_secret(&secret.digest())
            .await?
            .filter(|g| g.revoked_at.is_none())
            .ok_or(CoreError::NoActiveSession)
    }

    /// Notes a use of `grant` from `used`: written when the last note is older than
    /// [`TOUCH_INTERVAL`] or the client moved or changed its user agent.
    pub async fn touch(&self, grant: &ClientGrant, used: &GrantUse) -> Result<(), CoreError> {
        let now = self.clock.now();
        let fresh = grant
            .last_used_at
            .is_some_and(|at| now - at < TOUCH_INTERVAL);
        let moved = used.ip.is_some() && used.ip != grant.last_ip;
        let renamed = used.user_agent.is_some() && used.user_agent != grant.user_agent;
        if fresh && !moved && !renamed {
            return Ok(());
        }
        let used = GrantUse {
            ip: used.ip.clone().or_else(|| grant.last_ip.clone()),
            user_agent: used
                .user_agent
                .as_deref()
                .map(|ua| ua.chars().take(512).collect())
                .or_else(|| grant.user_agent.clone()),
        };
        Ok(self.store.touch_grant(grant.id, now, &used).await?)
    }

    /// Renames one of the identity's grants (the name is cleaned like a declared one).
    pub async fn rename(
        &self,
        identity: IdentityId,
        id: Uuid,
        name: &str,
    ) -> Result<(), CoreError> {
        if self
            .store
            .rename_grant(identity, id, &client_name_of(name))
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::NotFound("the grant was not found".to_owned()))
        }
    }

    /// Revokes every grant of the identity but `keep` (the one the caller uses, if any).
    pub async fn revoke_all(
        &self,
        identity: IdentityId,
        keep: Option<Uuid>,
    ) -> Result<u64, CoreError> {
        Ok(self
            .store
            .revoke_grants_except(identity, keep, self.clock.now())
            .await?)
    }

    /// The identity's unrevoked grants.
    pub async fn list(&self, identity: IdentityId) -> Result<Vec<ClientGrant>, CoreError> {
        Ok(self.store.list_grants(identity).await?)
    }

    /// Revokes one of the identity's grants; it stops working at once.
    pub async fn revoke(&self, identity: IdentityId, id: Uuid) -> Result<(), CoreError> {
        if self
            .store
            .revoke_grant(identity, id, self.clock.now())
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::NotFound("the grant was not found".to_owned()))
        }
    }
}

/// A client name as shown and stored: trimmed, at most [`CLIENT_NAME_MAX`] characters (longer
/// ones are cut to 120 and marked, as Nextcloud does), `unknown` when empty.
pub fn client_name_of(declared: &str) -> String {
    let trimmed = declared.trim();
    if trimmed.is_empty() {
        return "unknown".to_owned();
    }
    if trimmed.chars().count() > CLIENT_NAME_MAX {
        let mut cut: String = trimmed.chars().take(120).collect();
        cut.push('…');
        return cut;
    }
    trimmed.to_owned()
}

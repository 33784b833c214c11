//! Identities: who a user is (traits shaped by an identity schema), how they can be reached
//! (verifiable and recovery addresses) and what they can prove (credentials).
//!
//! This module validates and derives; it never stores. Persistence goes through
//! [`IdentityStore`], which `clavis-store` implements.

pub mod admin;
mod extension;
mod schema;
pub mod uses;

pub use extension::{AddressVia, TraitsExtract};
pub use schema::{
    DEFAULT_SCHEMA, DEFAULT_SCHEMA_ID, IdentitySchema, SchemaError, SchemaRegistry, TraitViolation,
};

use crate::clock::Clock;
use crate::error::CoreError;
use crate::random::{Rng, uuid_v4};
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use clavis_types::IdentityId;
use clavis_types::id::AddressId;
use clavis_types::identity::IdentityState;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a credential is (stored kind), as opposed to the flow method that created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CredentialKind {
    Password,
    Oidc,
    Totp,
    LookupSecret,
    Webauthn,
    Passkey,
    Code,
}

impl CredentialKind {
    /// The stored and wire name (`password`, `lookup_secret`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            CredentialKind::Password => "password",
            CredentialKind::Oidc => "oidc",
            CredentialKind::Totp => "totp",
            CredentialKind::LookupSecret => "lookup_secret",
            CredentialKind::Webauthn => "webauthn",
            CredentialKind::Passkey => "passkey",
            CredentialKind::Code => "code",
        }
    }

    /// Whether the identity schema declares this kind's identifiers (so they follow the
    /// traits); other kinds keep the identifiers their method gave them.
    pub fn identified_by_traits(&self) -> bool {
        matches!(
            self,
            CredentialKind::Password
                | CredentialKind::Code
                | CredentialKind::Webauthn
                | CredentialKind::Passkey
        )
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<CredentialKind> {
        [
            CredentialKind::Password,
            CredentialKind::Oidc,
            CredentialKind::Totp,
            CredentialKind::LookupSecret,
            CredentialKind::Webauthn,
            CredentialKind::Passkey,
            CredentialKind::Code,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
    }
}

/// One credential of an identity. `config` is the owning method's versioned payload, opaque
/// here, unless the identity was read without it (see [`CredentialConfig`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub kind: CredentialKind,
    pub identifiers: Vec<String>,
    pub config: CredentialConfig,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A credential's payload: the owning method's versioned JSON (password hashes, sealed TOTP
/// seeds, lookup codes), or the fact that it was not read. Identities remembered with
/// sessions are read without payloads ([`IdentityStore::get_identity_without_configs`]):
/// checking a session needs only which credentials exist and their identifiers, and secrets
/// stay out of the session cache. A method that needs a payload works on an identity read in
/// full; storage refuses to write an identity whose payloads were not read.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialConfig {
    Read(Value),
    Withheld,
}

impl CredentialConfig {
    /// The payload, if it was read.
    pub fn read(&self) -> Option<&Value> {
        match self {
            CredentialConfig::Read(value) => Some(value),
            CredentialConfig::Withheld => None,
        }
    }
}

impl From<Value> for CredentialConfig {
    fn from(value: Value) -> Self {
        CredentialConfig::Read(value)
    }
}

/// Progress of an address' verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationStatus {
    Pending,
    Sent,
    Completed,
}

impl VerificationStatus {
    /// The stored and wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            VerificationStatus::Pending => "pending",
            VerificationStatus::Sent => "sent",
            VerificationStatus::Completed => "completed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(Self::Pending),
            "sent" => Some(Self::Sent),
            "completed" => Some(Self::Completed),
            _ => None,
        }
    }
}

/// An address that can be verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiableAddress {
    pub id: AddressId,
    pub via: AddressVia,
    pub value: String,
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub status: VerificationStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An address that can recover the account.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryAddress {
    pub id: AddressId,
    pub via: AddressVia,
    pub value: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An identity with everything that belongs to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: IdentityId,
    pub schema_id: String,
    pub state: IdentityState,
    pub state_changed_at: Option<DateTime<Utc>>,
    pub traits: Value,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
    pub external_id: Option<String>,
    pub verifiable_addresses: Vec<VerifiableAddress>,
    pub recovery_addresses: Vec<RecoveryAddress>,
    pub credentials: BTreeMap<CredentialKind, Credential>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Identity {
    /// Whether the identity may sign in and use its sessions.
    pub fn is_active(&self) -> bool {
        self.state == IdentityState::Active
    }

    /// Whether every credential's payload was read (see [`CredentialConfig`]).
    pub fn has_configs(&self) -> bool {
        self.credentials
            .values()
            .all(|c| matches!(c.config, CredentialConfig::Read(_)))
    }

    /// The same identity without its credentials' payloads.
    pub fn without_configs(mut self) -> Identity {
        for credential in self.credentials.values_mut() {
            credential.config = CredentialConfig::Withheld;
        }
        self
    }
}

/// The storage an identity needs.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Writes a new identity with its addresses, credentials and identifiers, all or nothing.
    /// A taken identifier or address is a [`StorageError::Conflict`].
    async fn insert_identity(&self, identity: &Identity) -> Result<(), StorageError>;
    /// Reads an identity with its addresses and credentials.
    async fn get_identity(&self, id: IdentityId) -> Result<Option<Identity>, StorageError>;
    /// Reads an identity with its addresses and credentials, leaving out the credentials'
    /// payloads ([`CredentialConfig::Withheld`]): what a session check needs.
    async fn get_identity_without_configs(
        &self,
        id: IdentityId,
    ) -> Result<Option<Identity>, StorageError> {
        Ok(self.get_identity(id).await?.map(Identity::without_configs))
    }
    /// Replaces an identity's traits, state, metadata, addresses, credentials and identifiers,
    /// all or nothing. A taken identifier or address is a [`StorageError::Conflict`].
    async fn update_identity(&self, identity: &Identity) -> Result<(), StorageError>;
}

/// Finding an identity by one of its credential identifiers (login).
#[async_trait]
pub trait IdentifierLookup: Send + Sync {
    /// The identity whose `kind` credential has this (normalised) identifier.
    async fn find_identity_by_identifier(
        &self,
        kind: CredentialKind,
        identifier: &str,
    ) -> Result<Option<Identity>, StorageError>;
}

/// Finding an identity by one of its addresses (recovery, verification).
#[async_trait]
pub trait AddressLookup: Send + Sync {
    /// The identity with this recovery address (compared as stored: lower-cased e-mail).
    async fn find_identity_by_recovery_address(
        &self,
        value: &str,
    ) -> Result<Option<Identity>, StorageError>;
    /// The identity with this verifiable address.
    async fn find_identity_by_verifiable_address(
        &self,
        value: &str,
    ) -> Result<Option<Identity>, StorageError>;
}

/// What a caller supplies to create an identity.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIdentity {
    /// `None` picks the configured default schema.
    pub schema_id: Option<String>,
    pub traits: Value,
    pub state: IdentityState,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
    /// Credentials with their configs; identifiers are derived from the traits.
    pub credentials: Vec<(CredentialKind, Value)>,
    /// The id another system knows the identity by (unique when set).
    pub external_id: Option<String>,
    /// Verification states known from elsewhere (an import), matched to the addresses the
    /// traits declare by value; addresses without a claim start unverified.
    pub address_claims: Vec<AddressClaim>,
}

/// What an import knows about one verifiable address.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressClaim {
    pub value: String,
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
}

/// A change to an existing identity, as a settings method or a login upgrade describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityChange {
    /// New traits (validated against the identity's schema), or `None` to keep them.
    pub traits: Option<Value>,
    /// Credentials to add or replace, with their new configs.
    pub credentials: Vec<(CredentialKind, Value)>,
    /// Credentials to remove.
    pub remove_credentials: Vec<CredentialKind>,
    /// New public metadata, or `None` to keep it.
    pub metadata_public: Option<Value>,
    /// New admin metadata, or `None` to keep it.
    pub metadata_admin: Option<Value>,
    /// Another identity schema (the traits are validated against it), or `None` to keep it.
    pub schema_id: Option<String>,
    /// A new state, or `None` to keep it.
    pub state: Option<IdentityState>,
    /// A new external id (`Some(None)` clears it), or `None` to keep it.
    pub external_id: Option<Option<String>>,
    /// Verification states to set on addresses that stay, or `None` to keep them.
    pub address_claims: Option<Vec<AddressClaim>>,
}

impl IdentityChange {
    /// Whether the change leaves the identity as it is.
    pub fn is_empty(&self) -> bool {
        self.traits.is_none()
            && self.credentials.is_empty()
            && self.remove_credentials.is_empty()
            && self.metadata_public.is_none()
            && self.metadata_admin.is_none()
            && self.schema_id.is_none()
            && self.state.is_none()
            && self.external_id.is_none()
            && self.address_claims.is_none()
    }
}

/// Creates and reads identities, enforcing the identity schema.
#[derive(Clone)]
pub struct IdentityService {
    schemas: Arc<SchemaRegistry>,
    store: Arc<dyn IdentityStore>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    sessions: crate::session::cache::SessionCache,
}

impl IdentityService {
    /// Builds the service over its ports.
    pub fn new(
        schemas: Arc<SchemaRegistry>,
        store: Arc<dyn IdentityStore>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
    ) -> Self {
        Self {
            schemas,
            store,
            clock,
            rng,
            sessions: crate::session::cache::SessionCache::disabled(),
        }
    }

    /// The same service, forgetting what `cache` remembers of an identity's sessions whenever
    /// the identity changes.
    pub fn with_session_cache(mut self, cache: crate::session::cache::SessionCache) -> Self {
        self.sessions = cache;
        self
    }

    /// Forgets what the session cache remembers of `identity` (it was deleted or changed
    /// behind this service's back).
    pub fn forget_sessions_of(&self, identity: IdentityId) {
        self.sessions.forget_identity(identity);
    }

    /// The identity schemas in force.
    pub fn schemas(&self) -> &SchemaRegistry {
        &self.schemas
    }

    /// Validates the traits, derives addresses and identifiers, and stores the identity.
    pub async fn create(&self, new: NewIdentity) -> Result<Identity, CoreError> {
        let schema_id = new
            .schema_id
            .unwrap_or_else(|| self.schemas.default_id().to_owned());
        let schema = self
            .schemas
            .get(&schema_id)
            .ok_or_else(|| CoreError::SchemaNotFound(schema_id.clone()))?;
        let extract = schema
            .validate_traits(&new.traits)
            .map_err(CoreError::TraitsInvalid)?;
        let now = self.clock.now();
        let mut verifiable_addresses = self.verifiable_addresses(&extract, now);
        apply_claims(&mut verifiable_addresses, &new.address_claims, now);
        let identity = Identity {
            id: IdentityId(uuid_v4(self.rng.as_ref())),
            schema_id,
            state: new.state,
            state_changed_at: Some(now),
            traits: new.traits,
            metadata_public: new.metadata_public.filter(|m| !m.is_null()),
            metadata_admin: new.metadata_admin.filter(|m| !m.is_null()),
            external_id: new.external_id,
            verifiable_addresses,
            recovery_addresses: self.recovery_addresses(&extract, now),
            credentials: credentials(new.credentials, &extract, now),
            created_at: now,
            updated_at: now,
        };
        self.store.insert_identity(&identity).await?;
        Ok(identity)
    }

    /// Reads one identity.
    pub async fn get(&self, id: IdentityId) -> Result<Identity, CoreError> {
        self.store
            .get_identity(id)
            .await?
            .ok_or(CoreError::IdentityNotFound)
    }

    /// `identity` with its credentials' payloads: as it is when it has them, else read again
    /// in full (see [`CredentialConfig`]).
    pub async fn in_full(&self, identity: Identity) -> Result<Identity, CoreError> {
        if identity.has_configs() {
            Ok(identity)
        } else {
            self.get(identity.id).await
        }
    }

    /// Applies `change` to `current`: validates new traits, keeps the verification state of
    /// addresses that stay, re-derives every credential's identifiers, and stores the result.
    /// `current` must have been read in full (see [`CredentialConfig`]).
    pub async fn update(
        &self,
        current: &Identity,
        change: IdentityChange,
    ) -> Result<Identity, CoreError> {
        if !current.has_configs() {
            return Err(CoreError::Internal(
                "an identity read without its credentials' payloads cannot be written back".into(),
            ));
        }
        let schema_id = change
            .schema_id
            .unwrap_or_else(|| current.schema_id.clone());
        let schema = self
            .schemas
            .get(&schema_id)
            .ok_or_else(|| CoreError::SchemaNotFound(schema_id.clone()))?;
        let traits = change.traits.unwrap_or_else(|| current.traits.clone());
        let extract = schema
            .validate_traits(&traits)
            .map_err(CoreError::TraitsInvalid)?;
        let now = self.clock.now();
        let mut updated = current.clone();
        updated.schema_id = schema_id;
        updated.traits = traits;
        // Every change moves the stamp forward, even within one tick of the clock: session
        // caches read it to tell whether the identity they remember is still current.
        updated.updated_at = now.max(current.updated_at + TimeDelta::microseconds(1));
        if let Some(state) = change.state.filter(|state| *state != current.state) {
            updated.state = state;
            updated.state_changed_at = Some(now);
        }
        if let Some(external_id) = change.external_id {
            updated.external_id = external_id;
        }
        if let Some(metadata) = change.metadata_public {
            updated.metadata_public = Some(metadata).filter(|m| !m.is_null());
        }
        if let Some(metadata) = change.metadata_admin {
            updated.metadata_admin = Some(metadata).filter(|m| !m.is_null());
        }
        updated.verifiable_addresses = self
            .verifiable_addresses(&extract, now)
            .into_iter()
            .map(|fresh| {
                current
                    .verifiable_addresses
                    .iter()
                    .find(|old| old.via == fresh.via && old.value == fresh.value)
                    .cloned()
                    .unwrap_or(fresh)
            })
            .collect();
        if let Some(claims) = &change.address_claims {
            apply_claims(&mut updated.verifiable_addresses, claims, now);
        }
        updated.recovery_addresses = self
            .recovery_addresses(&extract, now)
            .into_iter()
            .map(|fresh| {
                current
                    .recovery_addresses
                    .iter()
                    .find(|old| old.via == fresh.via && old.value == fresh.value)
                    .cloned()
                    .unwrap_or(fresh)
            })
            .collect();
        for kind in &change.remove_credentials {
            updated.credentials.remove(kind);
        }
        for (kind, config) in change.credentials {
            let created_at = current.credentials.get(&kind).map_or(now, |c| c.created_at);
            updated.credentials.insert(
                kind,
                Credential {
                    kind,
                    identifiers: Vec::new(),
                    config: config.into(),
                    version: 0,
                    created_at,
                    updated_at: now,
                },
            );
        }
        for (kind, credential) in &mut updated.credentials {
            match extract.identifiers.get(kind) {
                Some(identifiers) => credential.identifiers = identifiers.clone(),
                None if kind.identified_by_traits() => credential.identifiers.clear(),
                None => {}
            }
        }
        self.store.update_identity(&updated).await?;
        self.sessions.forget_identity(updated.id);
        Ok(updated)
    }

    fn verifiable_addresses(
        &self,
        extract: &TraitsExtract,
        now: DateTime<Utc>,
    ) -> Vec<VerifiableAddress> {
        extract
            .verifiable_addresses
            .iter()
            .map(|(via, value)| VerifiableAddress {
                id: AddressId(uuid_v4(self.rng.as_ref())),
                via: *via,
                value: value.clone(),
                verified: false,
                verified_at: None,
                status: VerificationStatus::Pending,
                created_at: now,
                updated_at: now,
            })
            .collect()
    }

    fn recovery_addresses(
        &self,
        extract: &TraitsExtract,
        now: DateTime<Utc>,
    ) -> Vec<RecoveryAddress> {
        extract
            .recovery_addresses
            .iter()
            .map(|(via, value)| RecoveryAddress {
                id: AddressId(uuid_v4(self.rng.as_ref())),
                via: *via,
                value: value.clone(),
                created_at: now,
                updated_at: now,
            })
            .collect()
    }
}

/// Sets the verification state each claim states on the address with its value.
fn apply_claims(addresses: &mut [VerifiableAddress], claims: &[AddressClaim], now: DateTime<Utc>) {
    for address in addresses {
        let claim = claims
            .iter()
            .find(|claim| claim.value.trim().eq_ignore_ascii_case(&address.value));
        let Some(claim) = claim else { continue };
        if claim.verified == address.verified {
            continue;
        }
        address.verified = claim.verified;
        address.updated_at = now;
        if claim.verified {
            address.verified_at = Some(claim.verified_at.unwrap_or(now));
            address.status = VerificationStatus::Completed;
        } else {
            address.verified_at = None;
            address.status = VerificationStatus::Pending;
        }
    }
}

fn credentials(
    supplied: Vec<(CredentialKind, Value)>,
    extract: &TraitsExtract,
    now: DateTime<Utc>,
) -> BTreeMap<CredentialKind, Credential> {
    supplied
        .into_iter()
        .map(|(kind, config)| {
            let credential = Credential {
                kind,
                identifiers: extract.identifiers.get(&kind).cloned().unwrap_or_default(),
                config: config.into(),
                version: 0,
                created_at: now,
                updated_at: now,
            };
            (kind, credential)
        })
        .collect()
}

#[cfg(test)]
mod tests;

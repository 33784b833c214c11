//! The admin API's bodies: identities as operators see them (with credentials' metadata and
//! `metadata_admin`), and what they send to create, replace and batch-import identities.

use crate::id::IdentityId;
use crate::identity::{Identity, IdentityState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// An identity on the admin API (`identity` in Kratos' document).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdminIdentity {
    #[serde(flatten)]
    pub identity: Identity,
    pub metadata_admin: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Present when asked for (always on single reads); never holds secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<BTreeMap<String, IdentityCredential>>,
}

/// One credential's metadata (`identityCredentials`); `config` carries nothing secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityCredential {
    #[serde(rename = "type")]
    pub kind: String,
    pub identifiers: Vec<String>,
    pub config: Value,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `createIdentityBody`: a new identity, optionally with credentials to import.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreateIdentityBody {
    pub schema_id: String,
    pub traits: Value,
    #[serde(default)]
    pub state: Option<IdentityState>,
    #[serde(default)]
    pub metadata_public: Option<Value>,
    #[serde(default)]
    pub metadata_admin: Option<Value>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub verifiable_addresses: Option<Vec<AddressImport>>,
    #[serde(default)]
    pub recovery_addresses: Option<Vec<AddressImport>>,
    #[serde(default)]
    pub credentials: Option<BTreeMap<String, CredentialImport>>,
}

/// `updateIdentityBody` (`PUT`): the identity's new state; metadata left out is cleared.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UpdateIdentityBody {
    #[serde(default)]
    pub schema_id: Option<String>,
    pub traits: Value,
    pub state: IdentityState,
    #[serde(default)]
    pub metadata_public: Option<Value>,
    #[serde(default)]
    pub metadata_admin: Option<Value>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub credentials: Option<BTreeMap<String, CredentialImport>>,
}

/// An address as an import states it: which value, and whether it was verified elsewhere.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AddressImport {
    pub value: String,
    #[serde(default)]
    pub via: Option<String>,
    #[serde(default)]
    pub verified: Option<bool>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub verified_at: Option<DateTime<Utc>>,
}

/// `credentials.<type>` of an import: the method-specific `config`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CredentialImport {
    #[serde(default)]
    pub config: Value,
}

/// `PATCH /admin/identities`: identities created one by one, each with its own result.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PatchIdentitiesBody {
    pub identities: Vec<IdentityPatch>,
}

/// One entry of a batch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IdentityPatch {
    #[serde(default)]
    pub patch_id: Option<Uuid>,
    #[serde(default)]
    pub create: Option<CreateIdentityBody>,
}

/// The batch's answer, one entry per request entry, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchPatchIdentitiesResponse {
    pub identities: Vec<IdentityPatchResponse>,
}

/// What happened to one entry: `create` with the new identity's id, or `error` with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityPatchResponse {
    pub action: PatchAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// `identityPatchResponse.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatchAction {
    Create,
    Error,
}

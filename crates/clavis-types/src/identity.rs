//! The identity as a client sees it.

use crate::id::{AddressId, IdentityId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Whether an identity may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityState {
    Active,
    Inactive,
}

/// The public view of an identity: no credentials and no `metadata_admin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub id: IdentityId,
    pub schema_id: String,
    pub schema_url: String,
    pub state: IdentityState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_changed_at: Option<DateTime<Utc>>,
    pub traits: Value,
    pub verifiable_addresses: Vec<VerifiableAddress>,
    pub recovery_addresses: Vec<RecoveryAddress>,
    pub metadata_public: Option<Value>,
    pub organization_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An address that can be verified (`verifiableIdentityAddress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiableAddress {
    pub id: AddressId,
    pub value: String,
    pub verified: bool,
    pub via: String,
    pub status: String,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An address that can recover the account (`recoveryIdentityAddress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryAddress {
    pub id: AddressId,
    pub value: String,
    pub via: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

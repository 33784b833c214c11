//! Conversions between rows and domain values, and database errors into storage errors.

use crate::entity::{
    identities, identity_recovery_addresses, identity_verifiable_addresses, session_devices,
    sessions,
};
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::identity::{
    AddressVia, Credential, CredentialConfig, CredentialKind, Identity, RecoveryAddress,
    VerifiableAddress, VerificationStatus,
};
use clavis_core::session::{Device, Session};
use clavis_types::IdentityId;
use clavis_types::SessionId;
use clavis_types::id::{AddressId, DeviceId};
use clavis_types::identity::IdentityState;
use clavis_types::session::{Aal, AuthenticationMethod};
use sea_orm::{DbErr, SqlErr};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Maps a database error to the domain's view of it.
pub fn storage_error(error: DbErr) -> StorageError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(what)) => StorageError::Conflict(what),
        _ => StorageError::Backend(error.to_string()),
    }
}

fn corrupt(what: &str, value: &str) -> StorageError {
    StorageError::Corrupt(format!("unknown {what} `{value}`"))
}

pub fn identity_state_to_row(state: IdentityState) -> String {
    match state {
        IdentityState::Active => "active".to_owned(),
        IdentityState::Inactive => "inactive".to_owned(),
    }
}

fn identity_state_from_row(value: &str) -> Result<IdentityState, StorageError> {
    match value {
        "active" => Ok(IdentityState::Active),
        "inactive" => Ok(IdentityState::Inactive),
        other => Err(corrupt("identity state", other)),
    }
}

fn via_from_row(value: &str) -> Result<AddressVia, StorageError> {
    AddressVia::parse(value).ok_or_else(|| corrupt("address channel", value))
}

/// A row of `identity_credentials`, its payload read or not (see [`CredentialConfig`]), with
/// its identifiers in order.
pub struct CredentialRow {
    pub identity_id: Uuid,
    pub kind: String,
    pub config: CredentialConfig,
    pub identifiers: Vec<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything read for one identity.
pub struct IdentityRows {
    pub identity: identities::Model,
    pub verifiable: Vec<identity_verifiable_addresses::Model>,
    pub recovery: Vec<identity_recovery_addresses::Model>,
    pub credentials: Vec<CredentialRow>,
}

pub fn identity_from_rows(rows: IdentityRows) -> Result<Identity, StorageError> {
    let row = rows.identity;
    let verifiable_addresses = rows
        .verifiable
        .into_iter()
        .map(|a| {
            Ok(VerifiableAddress {
                id: AddressId(a.id),
                via: via_from_row(&a.via)?,
                status: VerificationStatus::parse(&a.status)
                    .ok_or_else(|| corrupt("verification status", &a.status))?,
                value: a.value,
                verified: a.verified,
                verified_at: a.verified_at,
                created_at: a.created_at,
                updated_at: a.updated_at,
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    let recovery_addresses = rows
        .recovery
        .into_iter()
        .map(|a| {
            Ok(RecoveryAddress {
                id: AddressId(a.id),
                via: via_from_row(&a.via)?,
                value: a.value,
                created_at: a.created_at,
                updated_at: a.updated_at,
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    let mut credentials = BTreeMap::new();
    for c in rows.credentials {
        let kind =
            CredentialKind::parse(&c.kind).ok_or_else(|| corrupt("credential kind", &c.kind))?;
        credentials.insert(
            kind,
            Credential {
                kind,
                identifiers: c.identifiers,
                config: c.config,
                version: c.version,
                created_at: c.created_at,
                updated_at: c.updated_at,
            },
        );
    }
    Ok(Identity {
        id: IdentityId(row.id),
        schema_id: row.schema_id,
        state: identity_state_from_row(&row.state)?,
        state_changed_at: row.state_changed_at,
        traits: row.traits,
        metadata_public: row.metadata_public,
        metadata_admin: row.metadata_admin,
        external_id: row.external_id,
        verifiable_addresses,
        recovery_addresses,
        credentials,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub fn session_from_rows(
    row: sessions::Model,
    devices: Vec<session_devices::Model>,
) -> Result<Session, StorageError> {
    let aal = Aal::parse(&row.aal).ok_or_else(|| corrupt("assurance level", &row.aal))?;
    let authentication_methods: Vec<AuthenticationMethod> =
        serde_json::from_value(row.authentication_methods)
            .map_err(|e| StorageError::Corrupt(format!("authentication methods: {e}")))?;
    Ok(Session {
        id: SessionId(row.id),
        identity_id: IdentityId(row.identity_id),
        active: row.active,
        aal,
        authentication_methods,
        issued_at: row.issued_at,
        authenticated_at: row.authenticated_at,
        expires_at: row.expires_at,
        devices: devices
            .into_iter()
            .map(|d| Device {
                id: DeviceId(d.id),
                ip_address: d.ip_address,
                user_agent: d.user_agent,
                location: d.location,
            })
            .collect(),
    })
}

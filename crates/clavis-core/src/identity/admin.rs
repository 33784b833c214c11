//! What operators do to identities through the admin API: create and import (with credentials
//! made elsewhere), list a page at a time, replace, patch (RFC 6902), delete, and remove one
//! credential.
//!
//! Methods take part through [`CredentialImport`]: each turns the `credentials.<type>.config`
//! an operator sends into the credential it stores (the password method hashes a cleartext
//! password or checks that an imported hash is one it can verify). Nothing here knows a method.

use super::{
    AddressClaim, CredentialKind, Identity, IdentityChange, IdentityService, NewIdentity,
    VerifiableAddress,
};
use crate::error::CoreError;
use crate::storage::StorageError;
use async_trait::async_trait;
use clavis_types::IdentityId;
use clavis_types::admin::{
    AddressImport, CreateIdentityBody, CredentialImport as Import, UpdateIdentityBody,
};
use clavis_types::identity::IdentityState;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How a method accepts credentials through the admin API.
#[async_trait]
pub trait CredentialImport: Send + Sync {
    /// The credential kind this importer stores.
    fn kind(&self) -> CredentialKind;
    /// The stored config for the operator's `config`; a config the method cannot use is a
    /// [`CoreError::InvalidParameter`] that says why.
    async fn import(&self, config: &Value) -> Result<Value, CoreError>;
}

/// Which identities a listing returns; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityFilter {
    /// Only these ids (empty: any).
    pub ids: Vec<IdentityId>,
    /// An exact credential identifier (normalised as stored: e-mail addresses lowercased).
    pub credentials_identifier: Option<String>,
    /// A credential identifier containing this text, case-insensitively.
    pub identifier_similar: Option<String>,
}

/// The storage listings and deletions need, beyond [`super::IdentityStore`].
#[async_trait]
pub trait IdentityDirectory: Send + Sync {
    /// Identities matching `filter`, ordered by id, after `after`, at most `limit`, without
    /// their credentials' payloads (a listing shows credential types and identifiers only).
    async fn list_identities(
        &self,
        filter: &IdentityFilter,
        after: Option<IdentityId>,
        limit: u64,
    ) -> Result<Vec<Identity>, StorageError>;
    /// Deletes an identity with everything that belongs to it (credentials, addresses,
    /// sessions, flows); false when there was none.
    async fn delete_identity(&self, id: IdentityId) -> Result<bool, StorageError>;
}

/// A page of identities and the id to continue after, when more follow.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityPage {
    pub identities: Vec<Identity>,
    pub next: Option<IdentityId>,
}

/// The most identities one batch may create, as in Kratos.
pub const MAX_BATCH: usize = 1000;

/// Credential kinds an identity signs in with; one of them must stay.
const FIRST_FACTORS: [CredentialKind; 5] = [
    CredentialKind::Password,
    CredentialKind::Oidc,
    CredentialKind::Code,
    CredentialKind::Passkey,
    CredentialKind::Webauthn,
];

/// The admin API's identity operations.
#[derive(Clone)]
pub struct IdentityAdmin {
    identities: IdentityService,
    directory: Arc<dyn IdentityDirectory>,
    importers: Arc<BTreeMap<CredentialKind, Arc<dyn CredentialImport>>>,
}

impl IdentityAdmin {
    /// The service over its ports, with the importers of the enabled methods.
    pub fn new(
        identities: IdentityService,
        directory: Arc<dyn IdentityDirectory>,
        importers: Vec<Arc<dyn CredentialImport>>,
    ) -> Self {
        let importers = importers.into_iter().map(|i| (i.kind(), i)).collect();
        Self {
            identities,
            directory,
            importers: Arc::new(importers),
        }
    }

    /// Creates an identity, importing its credentials and address verification states.
    pub async fn create(&self, body: CreateIdentityBody) -> Result<Identity, CoreError> {
        let credentials = self.import_credentials(body.credentials).await?;
        self.identities
            .create(NewIdentity {
                schema_id: Some(body.schema_id),
                traits: body.traits,
                state: body.state.unwrap_or(IdentityState::Active),
                metadata_public: body.metadata_public,
                metadata_admin: body.metadata_admin,
                credentials,
                external_id: body.external_id.filter(|id| !id.is_empty()),
                address_claims: claims(body.verifiable_addresses.unwrap_or_default()),
            })
            .await
            .map_err(schema_is_input)
    }

    /// One identity.
    pub async fn get(&self, id: IdentityId) -> Result<Identity, CoreError> {
        self.identities.get(id).await
    }

    /// A page of identities matching `filter`, ordered by id, after `after`.
    pub async fn list(
        &self,
        filter: &IdentityFilter,
        after: Option<IdentityId>,
        page_size: u64,
    ) -> Result<IdentityPage, CoreError> {
        let identities = self
            .directory
            .list_identities(filter, after, page_size + 1)
            .await?;
        let (identities, next) = crate::page::keyset_page(identities, page_size, |i| i.id);
        Ok(IdentityPage { identities, next })
    }

    /// Replaces traits, state, schema, metadata and external id (`PUT`); metadata left out is
    /// cleared; credentials sent are imported and replace those of their kind.
    pub async fn replace(
        &self,
        id: IdentityId,
        body: UpdateIdentityBody,
    ) -> Result<Identity, CoreError> {
        let current = self.identities.get(id).await?;
        let credentials = self.import_credentials(body.credentials).await?;
        let change = IdentityChange {
            traits: Some(body.traits),
            credentials,
            metadata_public: Some(body.metadata_public.unwrap_or(Value::Null)),
            metadata_admin: Some(body.metadata_admin.unwrap_or(Value::Null)),
            schema_id: body.schema_id,
            state: Some(body.state),
            external_id: Some(body.external_id.filter(|id| !id.is_empty())),
            ..IdentityChange::default()
        };
        self.identities
            .update(&current, change)
            .await
            .map_err(schema_is_input)
    }

    /// Applies an RFC 6902 JSON Patch to the identity's admin document. `/id` and
    /// `/credentials` cannot be patched; read-only fields (`created_at`, `schema_url`, ...) are
    /// ignored; the result is validated like a `PUT`.
    pub async fn patch(&self, id: IdentityId, patch: Value) -> Result<Identity, CoreError> {
        let current = self.identities.get(id).await?;
        let patch: json_patch::Patch = serde_json::from_value(patch).map_err(|e| {
            CoreError::InvalidParameter(format!("the body is not a JSON Patch document: {e}"))
        })?;
        for operation in &patch.0 {
            let (path, from) = paths(operation);
            for pointer in std::iter::once(path).chain(from) {
                if ["/id", "/credentials", "/state_changed_at"]
                    .iter()
                    .any(|denied| pointer == *denied || pointer.starts_with(&format!("{denied}/")))
                {
                    return Err(CoreError::InvalidParameter(format!(
                        "the JSON Patch path `{pointer}` cannot be changed"
                    )));
                }
            }
        }
        let mut document = patch_document(&current);
        json_patch::patch(&mut document, &patch).map_err(|e| {
            CoreError::InvalidParameter(format!("the JSON Patch could not be applied: {e}"))
        })?;
        let change = change_from_document(document)?;
        self.identities
            .update(&current, change)
            .await
            .map_err(schema_is_input)
    }

    /// Deletes an identity and everything that belongs to it.
    pub async fn delete(&self, id: IdentityId) -> Result<(), CoreError> {
        let deleted = self.directory.delete_identity(id).await?;
        self.identities.forget_sessions_of(id);
        if deleted {
            Ok(())
        } else {
            Err(CoreError::IdentityNotFound)
        }
    }

    /// Removes the identity's credential of `kind` (its wire name). The last credential an
    /// identity signs in with cannot be removed.
    pub async fn delete_credential(&self, id: IdentityId, kind: &str) -> Result<(), CoreError> {
        let kind = CredentialKind::parse(kind).ok_or_else(|| {
            CoreError::InvalidParameter(format!("`{kind}` is not a credential type"))
        })?;
        let current = self.identities.get(id).await?;
        if !current.credentials.contains_key(&kind) {
            return Err(CoreError::NotFound(format!(
                "the identity has no {} credential",
                kind.as_str()
            )));
        }
        let first_factors_left = current
            .credentials
            .keys()
            .filter(|k| **k != kind && FIRST_FACTORS.contains(k))
            .count();
        if FIRST_FACTORS.contains(&kind) && first_factors_left == 0 {
            return Err(CoreError::InvalidParameter(
                "cannot remove the last first factor credential".to_owned(),
            ));
        }
        self.identities
            .update(
                &current,
                IdentityChange {
                    remove_credentials: vec![kind],
                    ..IdentityChange::default()
                },
            )
            .await?;
        Ok(())
    }

    async fn import_credentials(
        &self,
        credentials: Option<BTreeMap<String, Import>>,
    ) -> Result<Vec<(CredentialKind, Value)>, CoreError> {
        let mut imported = Vec::new();
        for (name, credential) in credentials.unwrap_or_default() {
            let importer = CredentialKind::parse(&name)
                .and_then(|kind| self.importers.get(&kind))
                .ok_or_else(|| {
                    CoreError::InvalidParameter(format!(
                        "credentials of type `{name}` cannot be imported"
                    ))
                })?;
            imported.push((importer.kind(), importer.import(&credential.config).await?));
        }
        Ok(imported)
    }
}

/// An unknown `schema_id` in an operator's body is bad input (400), not a missing resource.
fn schema_is_input(error: CoreError) -> CoreError {
    match error {
        CoreError::SchemaNotFound(id) => {
            CoreError::InvalidParameter(format!("identity schema `{id}` does not exist"))
        }
        other => other,
    }
}

fn claims(addresses: Vec<AddressImport>) -> Vec<AddressClaim> {
    addresses
        .into_iter()
        .map(|a| AddressClaim {
            verified: a.verified.unwrap_or(false) || a.status.as_deref() == Some("completed"),
            value: a.value,
            verified_at: a.verified_at,
        })
        .collect()
}

fn paths(operation: &json_patch::PatchOperation) -> (String, Option<String>) {
    use json_patch::PatchOperation as Op;
    match operation {
        Op::Add(op) => (op.path.to_string(), None),
        Op::Remove(op) => (op.path.to_string(), None),
        Op::Replace(op) => (op.path.to_string(), None),
        Op::Move(op) => (op.path.to_string(), Some(op.from.to_string())),
        Op::Copy(op) => (op.path.to_string(), Some(op.from.to_string())),
        Op::Test(op) => (op.path.to_string(), None),
    }
}

/// The fields a patch may address, named as on the wire.
fn patch_document(identity: &Identity) -> Value {
    json!({
        "id": identity.id,
        "schema_id": identity.schema_id,
        "state": identity.state,
        "traits": identity.traits,
        "metadata_public": identity.metadata_public,
        "metadata_admin": identity.metadata_admin,
        "external_id": identity.external_id,
        "verifiable_addresses": identity.verifiable_addresses.iter().map(address_document).collect::<Vec<_>>(),
        "recovery_addresses": identity.recovery_addresses.iter().map(|a| json!({
            "id": a.id, "value": a.value, "via": a.via.as_str(),
        })).collect::<Vec<_>>(),
        "created_at": identity.created_at,
        "updated_at": identity.updated_at,
    })
}

fn address_document(address: &VerifiableAddress) -> Value {
    json!({
        "id": address.id,
        "value": address.value,
        "via": address.via.as_str(),
        "verified": address.verified,
        "status": address.status.as_str(),
        "verified_at": address.verified_at,
    })
}

/// Reads the patched document back into a change, checking the types of what may change.
fn change_from_document(document: Value) -> Result<IdentityChange, CoreError> {
    let invalid = |what: &str| CoreError::InvalidParameter(format!("the patched identity {what}"));
    let schema_id = document
        .get("schema_id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("has no `schema_id` string"))?
        .to_owned();
    let state = serde_json::from_value::<IdentityState>(
        document.get("state").cloned().unwrap_or(Value::Null),
    )
    .map_err(|_| invalid("has a `state` other than `active` or `inactive`"))?;
    let external_id = match document.get("external_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.is_empty() => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(invalid("has an `external_id` that is not a string")),
    };
    let address_claims = match document.get("verifiable_addresses") {
        None | Some(Value::Null) => Vec::new(),
        Some(addresses) => serde_json::from_value::<Vec<AddressImport>>(addresses.clone())
            .map_err(|_| invalid("has malformed `verifiable_addresses`"))?
            .into_iter()
            .map(|a| AddressClaim {
                verified: a.verified.unwrap_or(false),
                value: a.value,
                verified_at: a.verified_at,
            })
            .collect(),
    };
    Ok(IdentityChange {
        traits: Some(document.get("traits").cloned().unwrap_or(Value::Null)),
        metadata_public: Some(
            document
                .get("metadata_public")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        metadata_admin: Some(
            document
                .get("metadata_admin")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        schema_id: Some(schema_id),
        state: Some(state),
        external_id: Some(external_id),
        address_claims: Some(address_claims),
        ..IdentityChange::default()
    })
}

//! [`IdentityStore`] on sea-orm.

use crate::Store;
use crate::entity::{
    identities, identity_credential_identifiers, identity_credentials, identity_recovery_addresses,
    identity_verifiable_addresses,
};
use crate::row::{IdentityRows, identity_from_rows, identity_state_to_row, storage_error};
use async_trait::async_trait;
use clavis_core::StorageError;
use clavis_core::identity::{CredentialKind, IdentifierLookup, Identity, IdentityStore};
use clavis_types::IdentityId;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use uuid::Uuid;

#[async_trait]
impl IdentityStore for Store {
    async fn insert_identity(&self, identity: &Identity) -> Result<(), StorageError> {
        let txn = self.db.begin().await.map_err(storage_error)?;
        identities::Entity::insert(identities::ActiveModel {
            id: Set(identity.id.as_uuid()),
            schema_id: Set(identity.schema_id.clone()),
            state: Set(identity_state_to_row(identity.state)),
            state_changed_at: Set(identity.state_changed_at),
            traits: Set(identity.traits.clone()),
            metadata_public: Set(identity.metadata_public.clone()),
            metadata_admin: Set(identity.metadata_admin.clone()),
            external_id: Set(identity.external_id.clone()),
            created_at: Set(identity.created_at),
            updated_at: Set(identity.updated_at),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(storage_error)?;
        insert_addresses(&txn, identity).await?;
        insert_credentials(&txn, identity).await?;
        txn.commit().await.map_err(storage_error)
    }

    async fn get_identity(&self, id: IdentityId) -> Result<Option<Identity>, StorageError> {
        let Some(identity) = identities::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(storage_error)?
        else {
            return Ok(None);
        };
        let verifiable = identity_verifiable_addresses::Entity::find()
            .filter(identity_verifiable_addresses::Column::IdentityId.eq(id.as_uuid()))
            .order_by_asc(identity_verifiable_addresses::Column::Value)
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        let recovery = identity_recovery_addresses::Entity::find()
            .filter(identity_recovery_addresses::Column::IdentityId.eq(id.as_uuid()))
            .order_by_asc(identity_recovery_addresses::Column::Value)
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        let credentials = identity_credentials::Entity::find()
            .filter(identity_credentials::Column::IdentityId.eq(id.as_uuid()))
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        let credential_ids: Vec<Uuid> = credentials.iter().map(|c| c.id).collect();
        let identifiers = if credential_ids.is_empty() {
            Vec::new()
        } else {
            identity_credential_identifiers::Entity::find()
                .filter(identity_credential_identifiers::Column::CredentialId.is_in(credential_ids))
                .order_by_asc(identity_credential_identifiers::Column::Identifier)
                .all(&self.db)
                .await
                .map_err(storage_error)?
        };
        identity_from_rows(IdentityRows {
            identity,
            verifiable,
            recovery,
            credentials,
            identifiers,
        })
        .map(Some)
    }

    async fn update_identity(&self, identity: &Identity) -> Result<(), StorageError> {
        let id = identity.id.as_uuid();
        let txn = self.db.begin().await.map_err(storage_error)?;
        identities::Entity::update(identities::ActiveModel {
            id: Set(id),
            schema_id: Set(identity.schema_id.clone()),
            state: Set(identity_state_to_row(identity.state)),
            state_changed_at: Set(identity.state_changed_at),
            traits: Set(identity.traits.clone()),
            metadata_public: Set(identity.metadata_public.clone()),
            metadata_admin: Set(identity.metadata_admin.clone()),
            external_id: Set(identity.external_id.clone()),
            created_at: Set(identity.created_at),
            updated_at: Set(identity.updated_at),
        })
        .exec(&txn)
        .await
        .map_err(storage_error)?;
        let credential_ids: Vec<Uuid> = identity_credentials::Entity::find()
            .filter(identity_credentials::Column::IdentityId.eq(id))
            .all(&txn)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(|c| c.id)
            .collect();
        if !credential_ids.is_empty() {
            identity_credential_identifiers::Entity::delete_many()
                .filter(identity_credential_identifiers::Column::CredentialId.is_in(credential_ids))
                .exec(&txn)
                .await
                .map_err(storage_error)?;
        }
        identity_credentials::Entity::delete_many()
            .filter(identity_credentials::Column::IdentityId.eq(id))
            .exec(&txn)
            .await
            .map_err(storage_error)?;
        identity_verifiable_addresses::Entity::delete_many()
            .filter(identity_verifiable_addresses::Column::IdentityId.eq(id))
            .exec(&txn)
            .await
            .map_err(storage_error)?;
        identity_recovery_addresses::Entity::delete_many()
            .filter(identity_recovery_addresses::Column::IdentityId.eq(id))
            .exec(&txn)
            .await
            .map_err(storage_error)?;
        insert_addresses(&txn, identity).await?;
        insert_credentials(&txn, identity).await?;
        txn.commit().await.map_err(storage_error)
    }
}

async fn insert_addresses(
    txn: &impl ConnectionTrait,
    identity: &Identity,
) -> Result<(), StorageError> {
    for a in &identity.verifiable_addresses {
        identity_verifiable_addresses::Entity::insert(identity_verifiable_addresses::ActiveModel {
            id: Set(a.id.as_uuid()),
            identity_id: Set(identity.id.as_uuid()),
            via: Set(a.via.as_str().to_owned()),
            value: Set(a.value.clone()),
            verified: Set(a.verified),
            verified_at: Set(a.verified_at),
            status: Set(a.status.as_str().to_owned()),
            created_at: Set(a.created_at),
            updated_at: Set(a.updated_at),
        })
        .exec_without_returning(txn)
        .await
        .map_err(storage_error)?;
    }
    for a in &identity.recovery_addresses {
        identity_recovery_addresses::Entity::insert(identity_recovery_addresses::ActiveModel {
            id: Set(a.id.as_uuid()),
            identity_id: Set(identity.id.as_uuid()),
            via: Set(a.via.as_str().to_owned()),
            value: Set(a.value.clone()),
            created_at: Set(a.created_at),
            updated_at: Set(a.updated_at),
        })
        .exec_without_returning(txn)
        .await
        .map_err(storage_error)?;
    }
    Ok(())
}

async fn insert_credentials(
    txn: &impl ConnectionTrait,
    identity: &Identity,
) -> Result<(), StorageError> {
    for credential in identity.credentials.values() {
        let credential_id = Uuid::new_v4();
        identity_credentials::Entity::insert(identity_credentials::ActiveModel {
            id: Set(credential_id),
            identity_id: Set(identity.id.as_uuid()),
            kind: Set(credential.kind.as_str().to_owned()),
            config: Set(credential.config.clone()),
            version: Set(credential.version),
            created_at: Set(credential.created_at),
            updated_at: Set(credential.updated_at),
        })
        .exec_without_returning(txn)
        .await
        .map_err(storage_error)?;
        for identifier in &credential.identifiers {
            identity_credential_identifiers::Entity::insert(
                identity_credential_identifiers::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    credential_id: Set(credential_id),
                    kind: Set(credential.kind.as_str().to_owned()),
                    identifier: Set(identifier.clone()),
                    created_at: Set(credential.created_at),
                },
            )
            .exec_without_returning(txn)
            .await
            .map_err(storage_error)?;
        }
    }
    Ok(())
}

#[async_trait]
impl IdentifierLookup for Store {
    async fn find_identity_by_identifier(
        &self,
        kind: CredentialKind,
        identifier: &str,
    ) -> Result<Option<Identity>, StorageError> {
        let Some(row) = identity_credential_identifiers::Entity::find()
            .filter(identity_credential_identifiers::Column::Kind.eq(kind.as_str()))
            .filter(identity_credential_identifiers::Column::Identifier.eq(identifier))
            .one(&self.db)
            .await
            .map_err(storage_error)?
        else {
            return Ok(None);
        };
        let Some(credential) = identity_credentials::Entity::find_by_id(row.credential_id)
            .one(&self.db)
            .await
            .map_err(storage_error)?
        else {
            return Ok(None);
        };
        self.get_identity(IdentityId(credential.identity_id)).await
    }
}

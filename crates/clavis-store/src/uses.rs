//! [`SecretUses`] on sea-orm: a use is one insert that does nothing when the row exists, so the
//! affected-row count says whether this request was the one that used the secret.

use crate::Store;
use crate::entity::identity_credential_uses;
use crate::row::storage_error;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::identity::CredentialKind;
use clavis_core::identity::uses::{SecretUse, SecretUses};
use clavis_types::IdentityId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

#[async_trait]
impl SecretUses for Store {
    async fn record_use(
        &self,
        identity: IdentityId,
        kind: CredentialKind,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let inserted =
            identity_credential_uses::Entity::insert(identity_credential_uses::ActiveModel {
                identity_id: Set(identity.as_uuid()),
                kind: Set(kind.as_str().to_owned()),
                use_key: Set(key.to_owned()),
                used_at: Set(at),
            })
            .on_conflict(
                OnConflict::columns([
                    identity_credential_uses::Column::IdentityId,
                    identity_credential_uses::Column::Kind,
                    identity_credential_uses::Column::UseKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(inserted == 1)
    }

    async fn list_uses(
        &self,
        identity: IdentityId,
        kind: CredentialKind,
        prefix: &str,
    ) -> Result<Vec<SecretUse>, StorageError> {
        let rows = identity_credential_uses::Entity::find()
            .filter(identity_credential_uses::Column::IdentityId.eq(identity.as_uuid()))
            .filter(identity_credential_uses::Column::Kind.eq(kind.as_str()))
            .order_by_asc(identity_credential_uses::Column::UseKey)
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        // Keys are short and few per identity; filtering here avoids LIKE escaping rules.
        Ok(rows
            .into_iter()
            .filter(|row| row.use_key.starts_with(prefix))
            .map(|row| SecretUse {
                key: row.use_key,
                used_at: row.used_at,
            })
            .collect())
    }

    async fn forget_uses_before(
        &self,
        identity: IdentityId,
        kind: CredentialKind,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let deleted = identity_credential_uses::Entity::delete_many()
            .filter(identity_credential_uses::Column::IdentityId.eq(identity.as_uuid()))
            .filter(identity_credential_uses::Column::Kind.eq(kind.as_str()))
            .filter(identity_credential_uses::Column::UsedAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(deleted.rows_affected)
    }
}

//! [`DeviceAuthorizationStore`] and [`GrantStore`] on sea-orm. Deciding and collecting a device
//! authorization are conditional updates on its state, so of two racing requests one wins.

use crate::Store;
use crate::entity::{client_grants, device_authorizations};
use crate::row::storage_error;
use crate::unique;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::device::{DeviceAuthorization, DeviceAuthorizationStore, DeviceState, FrontEnd};
use clavis_core::grant::{ClientGrant, GrantKind, GrantStore, GrantUse};
use clavis_core::secret::TokenDigest;
use clavis_types::IdentityId;
use clavis_types::session::Aal;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

fn corrupt(what: &str, value: &str) -> StorageError {
    StorageError::Corrupt(format!("unknown {what} `{value}`"))
}

fn authorization_from_row(
    row: device_authorizations::Model,
) -> Result<DeviceAuthorization, StorageError> {
    Ok(DeviceAuthorization {
        id: row.id,
        front_end: FrontEnd::parse(&row.front_end)
            .ok_or_else(|| corrupt("front end", &row.front_end))?,
        state: DeviceState::parse(&row.state).ok_or_else(|| corrupt("state", &row.state))?,
        poll_digest: TokenDigest::from_stored(row.poll_digest),
        login_digest: TokenDigest::from_stored(row.login_digest),
        client_name: row.client_name,
        request_ip: row.request_ip,
        identity_id: row.identity_id.map(IdentityId),
        created_at: row.created_at,
        expires_at: row.expires_at,
        decided_at: row.decided_at,
        approved_aal: row
            .approved_aal
            .map(|aal| Aal::parse(&aal).ok_or_else(|| corrupt("assurance level", &aal)))
            .transpose()?,
    })
}

fn grant_from_row(row: client_grants::Model) -> Result<ClientGrant, StorageError> {
    Ok(ClientGrant {
        id: row.id,
        identity_id: IdentityId(row.identity_id),
        kind: GrantKind::parse(&row.kind).ok_or_else(|| corrupt("grant kind", &row.kind))?,
        client_name: row.client_name,
        secret_digest: TokenDigest::from_stored(row.secret_digest),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        last_ip: row.last_ip,
        user_agent: row.user_agent,
        revoked_at: row.revoked_at,
        aal: Aal::parse(&row.aal).ok_or_else(|| corrupt("assurance level", &row.aal))?,
    })
}

impl Store {
    async fn find_authorization(
        &self,
        column: device_authorizations::Column,
        digest: &TokenDigest,
    ) -> Result<Option<DeviceAuthorization>, StorageError> {
        unique::row(
            device_authorizations::Entity::find().filter(column.eq(digest.as_str())),
            &self.db,
        )
        .await
        .map_err(storage_error)?
        .map(authorization_from_row)
        .transpose()
    }
}

#[async_trait]
impl DeviceAuthorizationStore for Store {
    async fn insert_device_authorization(
        &self,
        a: &DeviceAuthorization,
    ) -> Result<(), StorageError> {
        device_authorizations::Entity::insert(device_authorizations::ActiveModel {
            id: Set(a.id),
            front_end: Set(a.front_end.as_str().to_owned()),
            state: Set(a.state.as_str().to_owned()),
            poll_digest: Set(a.poll_digest.as_str().to_owned()),
            login_digest: Set(a.login_digest.as_str().to_owned()),
            client_name: Set(a.client_name.clone()),
            request_ip: Set(a.request_ip.clone()),
            identity_id: Set(a.identity_id.map(|i| i.as_uuid())),
            created_at: Set(a.created_at),
            expires_at: Set(a.expires_at),
            decided_at: Set(a.decided_at),
            approved_aal: Set(a.approved_aal.map(|aal| aal.as_str().to_owned())),
        })
        .exec_without_returning(&self.db)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn find_device_authorization_by_poll(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<DeviceAuthorization>, StorageError> {
        self.find_authorization(device_authorizations::Column::PollDigest, digest)
            .await
    }

    async fn find_device_authorization_by_login(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<DeviceAuthorization>, StorageError> {
        self.find_authorization(device_authorizations::Column::LoginDigest, digest)
            .await
    }

    async fn decide_device_authorization(
        &self,
        id: Uuid,
        to: DeviceState,
        approver: Option<(IdentityId, Aal)>,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let result = device_authorizations::Entity::update_many()
            .col_expr(
                device_authorizations::Column::State,
                Expr::value(to.as_str()),
            )
            .col_expr(
                device_authorizations::Column::IdentityId,
                Expr::value(approver.map(|(i, _)| i.as_uuid())),
            )
            .col_expr(
                device_authorizations::Column::ApprovedAal,
                Expr::value(approver.map(|(_, aal)| aal.as_str().to_owned())),
            )
            .col_expr(device_authorizations::Column::DecidedAt, Expr::value(at))
            .filter(device_authorizations::Column::Id.eq(id))
            .filter(device_authorizations::Column::State.eq(DeviceState::Pending.as_str()))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn consume_device_authorization(&self, id: Uuid) -> Result<bool, StorageError> {
        let result = device_authorizations::Entity::update_many()
            .col_expr(
                device_authorizations::Column::State,
                Expr::value(DeviceState::Consumed.as_str()),
            )
            .filter(device_authorizations::Column::Id.eq(id))
            .filter(device_authorizations::Column::State.eq(DeviceState::Approved.as_str()))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }
}

#[async_trait]
impl GrantStore for Store {
    async fn insert_grant(&self, g: &ClientGrant) -> Result<(), StorageError> {
        client_grants::Entity::insert(client_grants::ActiveModel {
            id: Set(g.id),
            identity_id: Set(g.identity_id.as_uuid()),
            kind: Set(g.kind.as_str().to_owned()),
            client_name: Set(g.client_name.clone()),
            secret_digest: Set(g.secret_digest.as_str().to_owned()),
            created_at: Set(g.created_at),
            last_used_at: Set(g.last_used_at),
            last_ip: Set(g.last_ip.clone()),
            user_agent: Set(g.user_agent.clone()),
            revoked_at: Set(g.revoked_at),
            aal: Set(g.aal.as_str().to_owned()),
        })
        .exec_without_returning(&self.db)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn find_grant_by_secret(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<ClientGrant>, StorageError> {
        unique::row(
            client_grants::Entity::find()
                .filter(client_grants::Column::SecretDigest.eq(digest.as_str())),
            &self.db,
        )
        .await
        .map_err(storage_error)?
        .map(grant_from_row)
        .transpose()
    }

    async fn list_grants(&self, identity: IdentityId) -> Result<Vec<ClientGrant>, StorageError> {
        client_grants::Entity::find()
            .filter(client_grants::Column::IdentityId.eq(identity.as_uuid()))
            .filter(client_grants::Column::RevokedAt.is_null())
            .order_by_asc(client_grants::Column::CreatedAt)
            .order_by_asc(client_grants::Column::Id)
            .all(&self.db)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(grant_from_row)
            .collect()
    }

    async fn touch_grant(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        used: &GrantUse,
    ) -> Result<(), StorageError> {
        client_grants::Entity::update_many()
            .col_expr(client_grants::Column::LastUsedAt, Expr::value(at))
            .col_expr(client_grants::Column::LastIp, Expr::value(used.ip.clone()))
            .col_expr(
                client_grants::Column::UserAgent,
                Expr::value(used.user_agent.clone()),
            )
            .filter(client_grants::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn rename_grant(
        &self,
        identity: IdentityId,
        id: Uuid,
        name: &str,
    ) -> Result<bool, StorageError> {
        let result = client_grants::Entity::update_many()
            .col_expr(client_grants::Column::ClientName, Expr::value(name))
            .filter(client_grants::Column::Id.eq(id))
            .filter(client_grants::Column::IdentityId.eq(identity.as_uuid()))
            .filter(client_grants::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn revoke_grants_except(
        &self,
        identity: IdentityId,
        keep: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let mut update = client_grants::Entity::update_many()
            .col_expr(client_grants::Column::RevokedAt, Expr::value(at))
            .filter(client_grants::Column::IdentityId.eq(identity.as_uuid()))
            .filter(client_grants::Column::RevokedAt.is_null());
        if let Some(keep) = keep {
            update = update.filter(client_grants::Column::Id.ne(keep));
        }
        let result = update.exec(&self.db).await.map_err(storage_error)?;
        Ok(result.rows_affected)
    }

    async fn revoke_grant(
        &self,
        identity: IdentityId,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let result = client_grants::Entity::update_many()
            .col_expr(client_grants::Column::RevokedAt, Expr::value(at))
            .filter(client_grants::Column::Id.eq(id))
            .filter(client_grants::Column::IdentityId.eq(identity.as_uuid()))
            .filter(client_grants::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }
}

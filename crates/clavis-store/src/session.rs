//! [`SessionStore`] on sea-orm.

use crate::Store;
use crate::entity::{identities, session_devices, sessions};
use crate::row::{session_from_rows, storage_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::secret::TokenDigest;
use clavis_core::session::admin::{SessionDirectory, SessionFilter};
use clavis_core::session::{Session, SessionRevision, SessionStore};
use clavis_types::{IdentityId, SessionId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, TransactionTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

impl Store {
    /// The one session whose `column` equals `digest`, with its devices, in one statement
    /// (the session left-joined with its devices: a row per device).
    async fn find_session_by(
        &self,
        column: sessions::Column,
        digest: &TokenDigest,
    ) -> Result<Option<Session>, StorageError> {
        let rows = sessions::Entity::find()
            .join_rev(
                JoinType::LeftJoin,
                session_devices::Entity::belongs_to(sessions::Entity)
                    .from(session_devices::Column::SessionId)
                    .to(sessions::Column::Id)
                    .into(),
            )
            .column_as(session_devices::Column::Id, DEVICE_ID)
            .column_as(session_devices::Column::IpAddress, DEVICE_IP_ADDRESS)
            .column_as(session_devices::Column::UserAgent, DEVICE_USER_AGENT)
            .column_as(session_devices::Column::Location, DEVICE_LOCATION)
            .column_as(session_devices::Column::CreatedAt, DEVICE_CREATED_AT)
            .filter(column.eq(digest.as_str()))
            .order_by_asc(session_devices::Column::CreatedAt)
            .order_by_asc(session_devices::Column::Id)
            .into_model::<SessionDeviceRow>()
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        let mut rows = rows.into_iter();
        let Some(first) = rows.next() else {
            return Ok(None);
        };
        let devices = std::iter::once(first.device)
            .chain(rows.map(|row| row.device))
            .flatten()
            .collect();
        session_from_rows(first.session, devices).map(Some)
    }

    async fn with_devices(&self, rows: Vec<sessions::Model>) -> Result<Vec<Session>, StorageError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut devices: HashMap<Uuid, Vec<session_devices::Model>> = HashMap::new();
        for device in session_devices::Entity::find()
            .filter(session_devices::Column::SessionId.is_in(ids))
            .order_by_asc(session_devices::Column::CreatedAt)
            .order_by_asc(session_devices::Column::Id)
            .all(&self.db)
            .await
            .map_err(storage_error)?
        {
            devices.entry(device.session_id).or_default().push(device);
        }
        rows.into_iter()
            .map(|row| {
                let own = devices.remove(&row.id).unwrap_or_default();
                session_from_rows(row, own)
            })
            .collect()
    }
}

/// A session row with one of its devices (`None` when it has none), as a left join reads
/// them.
struct SessionDeviceRow {
    session: sessions::Model,
    device: Option<session_devices::Model>,
}

const DEVICE_ID: &str = "device_id";
const DEVICE_IP_ADDRESS: &str = "device_ip_address";
const DEVICE_USER_AGENT: &str = "device_user_agent";
const DEVICE_LOCATION: &str = "device_location";
const DEVICE_CREATED_AT: &str = "device_created_at";

impl FromQueryResult for SessionDeviceRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let session = sessions::Model::from_query_result(res, pre)?;
        let device = res
            .try_get::<Option<Uuid>>(pre, DEVICE_ID)?
            .map(|id| -> Result<_, DbErr> {
                Ok(session_devices::Model {
                    id,
                    session_id: session.id,
                    ip_address: res.try_get(pre, DEVICE_IP_ADDRESS)?,
                    user_agent: res.try_get(pre, DEVICE_USER_AGENT)?,
                    location: res.try_get(pre, DEVICE_LOCATION)?,
                    created_at: res.try_get(pre, DEVICE_CREATED_AT)?,
                })
            })
            .transpose()?;
        Ok(Self { session, device })
    }
}

/// A session row with its identity's `updated_at` beside it (one joined read).
struct RevisionRow {
    session: sessions::Model,
    identity_updated_at: DateTime<Utc>,
}

const IDENTITY_UPDATED_AT: &str = "identity_updated_at";

impl FromQueryResult for RevisionRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            session: sessions::Model::from_query_result(res, pre)?,
            identity_updated_at: res.try_get(pre, IDENTITY_UPDATED_AT)?,
        })
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn insert_session(
        &self,
        session: &Session,
        token: &TokenDigest,
    ) -> Result<(), StorageError> {
        let methods = serde_json::to_value(&session.authentication_methods)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let txn = self.db.begin().await.map_err(storage_error)?;
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(session.id.as_uuid()),
            identity_id: Set(session.identity_id.as_uuid()),
            token_digest: Set(token.as_str().to_owned()),
            active: Set(session.active),
            aal: Set(session.aal.as_str().to_owned()),
            authentication_methods: Set(methods),
            issued_at: Set(session.issued_at),
            authenticated_at: Set(session.authenticated_at),
            expires_at: Set(session.expires_at),
            created_at: Set(session.issued_at),
            updated_at: Set(session.issued_at),
            logout_token_digest: Set(None),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(storage_error)?;
        for device in &session.devices {
            session_devices::Entity::insert(session_devices::ActiveModel {
                id: Set(device.id.as_uuid()),
                session_id: Set(session.id.as_uuid()),
                ip_address: Set(device.ip_address.clone()),
                user_agent: Set(device.user_agent.clone()),
                location: Set(device.location.clone()),
                created_at: Set(session.issued_at),
            })
            .exec_without_returning(&txn)
            .await
            .map_err(storage_error)?;
        }
        txn.commit().await.map_err(storage_error)
    }

    async fn find_session_by_token(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<Session>, StorageError> {
        self.find_session_by(sessions::Column::TokenDigest, token)
            .await
    }

    async fn find_session_revision(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<SessionRevision>, StorageError> {
        let found = sessions::Entity::find()
            .join(
                JoinType::InnerJoin,
                sessions::Entity::belongs_to(identities::Entity)
                    .from(sessions::Column::IdentityId)
                    .to(identities::Column::Id)
                    .into(),
            )
            .column_as(identities::Column::UpdatedAt, IDENTITY_UPDATED_AT)
            .filter(sessions::Column::TokenDigest.eq(token.as_str()))
            .into_model::<RevisionRow>()
            .all(&self.db)
            .await
            .map_err(storage_error)?
            .into_iter()
            .next();
        found
            .map(|row| {
                Ok(SessionRevision {
                    session: session_from_rows(row.session, Vec::new())?,
                    identity_updated_at: row.identity_updated_at,
                })
            })
            .transpose()
    }

    async fn list_active_sessions(
        &self,
        identity: IdentityId,
        now: DateTime<Utc>,
        after: Option<SessionId>,
        limit: u64,
    ) -> Result<Vec<Session>, StorageError> {
        let mut query = sessions::Entity::find()
            .filter(sessions::Column::IdentityId.eq(identity.as_uuid()))
            .filter(sessions::Column::Active.eq(true))
            .filter(sessions::Column::ExpiresAt.gt(now));
        if let Some(after) = after {
            query = query.filter(sessions::Column::Id.gt(after.as_uuid()));
        }
        let rows = query
            .order_by_asc(sessions::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        self.with_devices(rows).await
    }

    async fn revoke_session(
        &self,
        identity: IdentityId,
        id: SessionId,
    ) -> Result<bool, StorageError> {
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::Active, Expr::value(false))
            .filter(sessions::Column::Id.eq(id.as_uuid()))
            .filter(sessions::Column::IdentityId.eq(identity.as_uuid()))
            .filter(sessions::Column::Active.eq(true))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn set_logout_token(
        &self,
        id: SessionId,
        token: &TokenDigest,
    ) -> Result<(), StorageError> {
        sessions::Entity::update_many()
            .col_expr(
                sessions::Column::LogoutTokenDigest,
                Expr::value(token.as_str()),
            )
            .filter(sessions::Column::Id.eq(id.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn find_session_by_logout_token(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<Session>, StorageError> {
        self.find_session_by(sessions::Column::LogoutTokenDigest, token)
            .await
    }

    async fn update_session_authentication(&self, session: &Session) -> Result<bool, StorageError> {
        let methods = serde_json::to_value(&session.authentication_methods)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::Aal, Expr::value(session.aal.as_str()))
            .col_expr(
                sessions::Column::AuthenticationMethods,
                Expr::value(methods),
            )
            .col_expr(
                sessions::Column::AuthenticatedAt,
                Expr::value(session.authenticated_at),
            )
            .col_expr(sessions::Column::ExpiresAt, Expr::value(session.expires_at))
            .col_expr(
                sessions::Column::UpdatedAt,
                Expr::value(session.authenticated_at),
            )
            .filter(sessions::Column::Id.eq(session.id.as_uuid()))
            .filter(sessions::Column::Active.eq(true))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn replace_session_token(
        &self,
        id: SessionId,
        token: &TokenDigest,
    ) -> Result<bool, StorageError> {
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::TokenDigest, Expr::value(token.as_str()))
            .filter(sessions::Column::Id.eq(id.as_uuid()))
            .filter(sessions::Column::Active.eq(true))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn revoke_sessions_except(
        &self,
        identity: IdentityId,
        keep: SessionId,
    ) -> Result<u64, StorageError> {
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::Active, Expr::value(false))
            .filter(sessions::Column::IdentityId.eq(identity.as_uuid()))
            .filter(sessions::Column::Id.ne(keep.as_uuid()))
            .filter(sessions::Column::Active.eq(true))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected)
    }
}

#[async_trait]
impl SessionDirectory for Store {
    async fn list_sessions(
        &self,
        filter: SessionFilter,
        now: DateTime<Utc>,
        after: Option<SessionId>,
        limit: u64,
    ) -> Result<Vec<Session>, StorageError> {
        let mut query = sessions::Entity::find();
        if let Some(identity) = filter.identity {
            query = query.filter(sessions::Column::IdentityId.eq(identity.as_uuid()));
        }
        let usable = Condition::all()
            .add(sessions::Column::Active.eq(true))
            .add(sessions::Column::ExpiresAt.gt(now));
        query = match filter.active {
            Some(true) => query.filter(usable),
            Some(false) => query.filter(usable.not()),
            None => query,
        };
        if let Some(after) = after {
            query = query.filter(sessions::Column::Id.gt(after.as_uuid()));
        }
        let rows = query
            .order_by_asc(sessions::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        self.with_devices(rows).await
    }

    async fn find_session(&self, id: SessionId) -> Result<Option<Session>, StorageError> {
        let rows = sessions::Entity::find_by_id(id.as_uuid())
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(self.with_devices(rows).await?.pop())
    }

    async fn deactivate_session(&self, id: SessionId) -> Result<bool, StorageError> {
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::Active, Expr::value(false))
            .filter(sessions::Column::Id.eq(id.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn delete_identity_sessions(&self, identity: IdentityId) -> Result<u64, StorageError> {
        let result = sessions::Entity::delete_many()
            .filter(sessions::Column::IdentityId.eq(identity.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected)
    }

    async fn set_session_expiry(
        &self,
        id: SessionId,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::ExpiresAt, Expr::value(expires_at))
            .filter(sessions::Column::Id.eq(id.as_uuid()))
            .filter(sessions::Column::Active.eq(true))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }
}

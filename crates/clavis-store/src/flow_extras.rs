//! [`FlowErrorStore`] and [`ExchangeStore`] on sea-orm: the records that outlive a flow step.
//! Redeeming an exchange is a conditional delete, so two concurrent redemptions cannot both win.

use crate::Store;
use crate::entity::{selfservice_errors, session_token_exchanges};
use crate::row::storage_error;
use crate::unique;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::flow::errors::{FlowError, FlowErrorStore};
use clavis_core::flow::exchange::{ExchangeStore, SessionTokenExchange};
use clavis_core::secret::TokenDigest;
use clavis_types::SessionId;
use clavis_types::id::FlowId;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

#[async_trait]
impl FlowErrorStore for Store {
    async fn insert_flow_error(&self, error: &FlowError) -> Result<(), StorageError> {
        selfservice_errors::Entity::insert(selfservice_errors::ActiveModel {
            id: Set(error.id),
            error: Set(error.error.clone()),
            created_at: Set(error.created_at),
            updated_at: Set(error.updated_at),
        })
        .exec_without_returning(&self.db)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn get_flow_error(&self, id: Uuid) -> Result<Option<FlowError>, StorageError> {
        Ok(
            unique::row(selfservice_errors::Entity::find_by_id(id), &self.db)
                .await
                .map_err(storage_error)?
                .map(|row| FlowError {
                    id: row.id,
                    error: row.error,
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                }),
        )
    }
}

#[async_trait]
impl ExchangeStore for Store {
    async fn insert_exchange(&self, exchange: &SessionTokenExchange) -> Result<(), StorageError> {
        session_token_exchanges::Entity::insert(session_token_exchanges::ActiveModel {
            id: Set(exchange.id),
            flow_id: Set(exchange.flow_id.as_uuid()),
            init_code_digest: Set(exchange.init_code.as_str().to_owned()),
            return_to_code_digest: Set(exchange
                .return_to_code
                .as_ref()
                .map(|d| d.as_str().to_owned())),
            session_id: Set(exchange.session_id.map(|s| s.as_uuid())),
            created_at: Set(exchange.created_at),
            updated_at: Set(exchange.created_at),
        })
        .exec_without_returning(&self.db)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn complete_exchange(
        &self,
        flow: FlowId,
        return_to_code: &TokenDigest,
        session: SessionId,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let result = session_token_exchanges::Entity::update_many()
            .col_expr(
                session_token_exchanges::Column::ReturnToCodeDigest,
                Expr::value(return_to_code.as_str()),
            )
            .col_expr(
                session_token_exchanges::Column::SessionId,
                Expr::value(session.as_uuid()),
            )
            .col_expr(session_token_exchanges::Column::UpdatedAt, Expr::value(at))
            .filter(session_token_exchanges::Column::FlowId.eq(flow.as_uuid()))
            .filter(session_token_exchanges::Column::SessionId.is_null())
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn take_exchange(
        &self,
        init_code: &TokenDigest,
        return_to_code: &TokenDigest,
    ) -> Result<Option<SessionId>, StorageError> {
        let Some(row) = session_token_exchanges::Entity::find()
            .filter(session_token_exchanges::Column::InitCodeDigest.eq(init_code.as_str()))
            .filter(session_token_exchanges::Column::ReturnToCodeDigest.eq(return_to_code.as_str()))
            .filter(session_token_exchanges::Column::SessionId.is_not_null())
            .one(&self.db)
            .await
            .map_err(storage_error)?
        else {
            return Ok(None);
        };
        let deleted = session_token_exchanges::Entity::delete_many()
            .filter(session_token_exchanges::Column::Id.eq(row.id))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok((deleted.rows_affected == 1)
            .then_some(row.session_id)
            .flatten()
            .map(SessionId))
    }
}

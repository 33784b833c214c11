//! [`MessageStore`] on sea-orm: the courier's outbox. Claiming is one `UPDATE ... RETURNING`
//! whose outer condition repeats the eligibility test, so two dispatchers (on any replica)
//! never claim the same message; PostgreSQL also skips rows another claim has locked.

use crate::Store;
use crate::entity::courier_messages;
use crate::row::storage_error;
use crate::unique;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::courier::{CourierMessage, Dispatch, MessageFilter, MessageStatus, MessageStore};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbBackend, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn dispatches_to_row(dispatches: &[Dispatch]) -> Value {
    Value::Array(
        dispatches
            .iter()
            .map(|d| {
                json!({
                    "id": d.id,
                    "status": if d.error.is_some() { "failed" } else { "success" },
                    "error": d.error,
                    "created_at": d.created_at,
                })
            })
            .collect(),
    )
}

fn dispatches_from_row(value: &Value) -> Result<Vec<Dispatch>, StorageError> {
    let corrupt = || StorageError::Corrupt("unreadable courier dispatches".to_owned());
    value
        .as_array()
        .ok_or_else(corrupt)?
        .iter()
        .map(|d| {
            Ok(Dispatch {
                id: d
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or_else(corrupt)?,
                error: d.get("error").and_then(Value::as_str).map(str::to_owned),
                created_at: d
                    .get("created_at")
                    .and_then(Value::as_str)
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&Utc))
                    .ok_or_else(corrupt)?,
            })
        })
        .collect()
}

fn message_from_row(row: courier_messages::Model) -> Result<CourierMessage, StorageError> {
    Ok(CourierMessage {
        id: row.id,
        status: MessageStatus::parse(&row.status).ok_or_else(|| {
            StorageError::Corrupt(format!("unknown courier status `{}`", row.status))
        })?,
        recipient: row.recipient,
        subject: row.subject,
        body: row.body,
        body_html: row.body_html,
        template: row.template_type,
        send_count: u32::try_from(row.send_count).unwrap_or(0),
        dispatches: dispatches_from_row(&row.dispatches)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Queued messages, and claims older than `stale_before` (their dispatcher stopped).
fn claimable(stale_before: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(courier_messages::Column::Status.eq(MessageStatus::Queued.as_str()))
        .add(
            Condition::all()
                .add(courier_messages::Column::Status.eq(MessageStatus::Processing.as_str()))
                .add(courier_messages::Column::UpdatedAt.lt(stale_before)),
        )
}

#[async_trait]
impl MessageStore for Store {
    async fn insert_message(&self, message: &CourierMessage) -> Result<(), StorageError> {
        courier_messages::Entity::insert(courier_messages::ActiveModel {
            id: Set(message.id),
            status: Set(message.status.as_str().to_owned()),
            recipient: Set(message.recipient.clone()),
            subject: Set(message.subject.clone()),
            body: Set(message.body.clone()),
            body_html: Set(message.body_html.clone()),
            template_type: Set(message.template.clone()),
            send_count: Set(i32::try_from(message.send_count).unwrap_or(i32::MAX)),
            dispatches: Set(dispatches_to_row(&message.dispatches)),
            created_at: Set(message.created_at),
            updated_at: Set(message.updated_at),
        })
        .exec_without_returning(&self.db)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn claim_messages(
        &self,
        limit: u64,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<CourierMessage>, StorageError> {
        let mut oldest = Query::select()
            .column(courier_messages::Column::Id)
            .from(courier_messages::Entity)
            .cond_where(claimable(stale_before))
            .order_by(courier_messages::Column::CreatedAt, Order::Asc)
            .limit(limit)
            .to_owned();
        if self.db.get_database_backend() == DbBackend::Postgres {
            oldest.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = courier_messages::Entity::update_many()
            .col_expr(
                courier_messages::Column::Status,
                Expr::value(MessageStatus::Processing.as_str()),
            )
            .col_expr(courier_messages::Column::UpdatedAt, Expr::value(now))
            .filter(courier_messages::Column::Id.in_subquery(oldest))
            .filter(claimable(stale_before))
            .exec_with_returning(&self.db)
            .await
            .map_err(storage_error)?;
        let mut messages = rows
            .into_iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.created_at);
        Ok(messages)
    }

    async fn record_dispatch(&self, message: &CourierMessage) -> Result<(), StorageError> {
        courier_messages::Entity::update_many()
            .col_expr(
                courier_messages::Column::Status,
                Expr::value(message.status.as_str()),
            )
            .col_expr(
                courier_messages::Column::SendCount,
                Expr::value(i32::try_from(message.send_count).unwrap_or(i32::MAX)),
            )
            .col_expr(
                courier_messages::Column::Dispatches,
                Expr::value(dispatches_to_row(&message.dispatches)),
            )
            .col_expr(
                courier_messages::Column::UpdatedAt,
                Expr::value(message.updated_at),
            )
            .filter(courier_messages::Column::Id.eq(message.id))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn list_messages(
        &self,
        filter: &MessageFilter,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<CourierMessage>, StorageError> {
        let mut query = courier_messages::Entity::find();
        if let Some(status) = filter.status {
            query = query.filter(courier_messages::Column::Status.eq(status.as_str()));
        }
        if let Some(recipient) = &filter.recipient {
            query = query.filter(courier_messages::Column::Recipient.eq(recipient.as_str()));
        }
        if let Some(after) = after {
            let Some(mark) = courier_messages::Entity::find_by_id(after)
                .one(&self.db)
                .await
                .map_err(storage_error)?
            else {
                return Ok(Vec::new());
            };
            query = query.filter(
                Condition::any()
                    .add(courier_messages::Column::CreatedAt.lt(mark.created_at))
                    .add(
                        Condition::all()
                            .add(courier_messages::Column::CreatedAt.eq(mark.created_at))
                            .add(courier_messages::Column::Id.lt(mark.id)),
                    ),
            );
        }
        query
            .order_by_desc(courier_messages::Column::CreatedAt)
            .order_by_desc(courier_messages::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(message_from_row)
            .collect()
    }

    async fn get_message(&self, id: Uuid) -> Result<Option<CourierMessage>, StorageError> {
        unique::row(courier_messages::Entity::find_by_id(id), &self.db)
            .await
            .map_err(storage_error)?
            .map(message_from_row)
            .transpose()
    }
}

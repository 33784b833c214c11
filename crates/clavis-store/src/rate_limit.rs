//! [`RateLimitStore`] on sea-orm: a hit is one upsert that adds one to its window's row and
//! reads the sum back, so concurrent requests on any replica are all counted.

use crate::Store;
use crate::entity::rate_limit_hits;
use crate::row::storage_error;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::rate_limit::RateLimitStore;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

#[async_trait]
impl RateLimitStore for Store {
    async fn hit(
        &self,
        bucket: &str,
        window_start: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u32, StorageError> {
        let row = rate_limit_hits::Entity::insert(rate_limit_hits::ActiveModel {
            bucket: Set(bucket.to_owned()),
            window_start: Set(window_start),
            hits: Set(1),
        })
        .on_conflict(
            OnConflict::columns([
                rate_limit_hits::Column::Bucket,
                rate_limit_hits::Column::WindowStart,
            ])
            .value(
                rate_limit_hits::Column::Hits,
                Expr::col((rate_limit_hits::Entity, rate_limit_hits::Column::Hits)).add(1),
            )
            .to_owned(),
        )
        .exec_with_returning(&self.db)
        .await
        .map_err(storage_error)?;
        if row.hits == 1 {
            // The first hit of a window clears the windows of the same action (the bucket up
            // to its first `:`) that ended: the table stays small without a background job,
            // and counters of actions with longer windows are left alone.
            let action = bucket.split(':').next().unwrap_or(bucket);
            rate_limit_hits::Entity::delete_many()
                .filter(rate_limit_hits::Column::Bucket.starts_with(format!("{action}:")))
                .filter(rate_limit_hits::Column::WindowStart.lt(forget_before))
                .exec(&self.db)
                .await
                .map_err(storage_error)?;
        }
        Ok(u32::try_from(row.hits).unwrap_or(u32::MAX))
    }
}

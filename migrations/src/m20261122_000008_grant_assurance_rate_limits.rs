//! The assurance level a device approval was made at, carried into the grant it yields, and
//! fixed-window counters for rate limits that every replica shares.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, string_len, string_len_null, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeviceAuthorizations {
    Table,
    ApprovedAal,
}

#[derive(DeriveIden)]
enum ClientGrants {
    Table,
    Aal,
}

#[derive(DeriveIden)]
enum RateLimitHits {
    Table,
    Bucket,
    WindowStart,
    Hits,
}

const WINDOW_INDEX: &str = "rate_limit_hits_window_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DeviceAuthorizations::Table)
                    .add_column(string_len_null(DeviceAuthorizations::ApprovedAal, 8))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ClientGrants::Table)
                    .add_column(string_len(ClientGrants::Aal, 8).default("aal1"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RateLimitHits::Table)
                    .col(string_len(RateLimitHits::Bucket, 200))
                    .col(timestamp_with_time_zone(RateLimitHits::WindowStart))
                    .col(integer(RateLimitHits::Hits))
                    .primary_key(
                        Index::create()
                            .col(RateLimitHits::Bucket)
                            .col(RateLimitHits::WindowStart),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(WINDOW_INDEX)
                    .table(RateLimitHits::Table)
                    .col(RateLimitHits::WindowStart)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimitHits::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ClientGrants::Table)
                    .drop_column(ClientGrants::Aal)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DeviceAuthorizations::Table)
                    .drop_column(DeviceAuthorizations::ApprovedAal)
                    .to_owned(),
            )
            .await
    }
}

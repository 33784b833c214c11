//! The courier's outbox: rendered mail waiting for delivery, with the attempts made so far.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, json, string_len, text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CourierMessages {
    Table,
    Id,
    Status,
    Recipient,
    Subject,
    Body,
    BodyHtml,
    TemplateType,
    SendCount,
    Dispatches,
    CreatedAt,
    UpdatedAt,
}

const CLAIM_INDEX: &str = "courier_messages_status_updated_idx";
const LIST_INDEX: &str = "courier_messages_created_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CourierMessages::Table)
                    .col(uuid(CourierMessages::Id).primary_key())
                    .col(string_len(CourierMessages::Status, 16))
                    .col(string_len(CourierMessages::Recipient, 320))
                    .col(text(CourierMessages::Subject))
                    .col(text(CourierMessages::Body))
                    .col(text(CourierMessages::BodyHtml))
                    .col(string_len(CourierMessages::TemplateType, 64))
                    .col(integer(CourierMessages::SendCount))
                    .col(json(CourierMessages::Dispatches))
                    .col(timestamp_with_time_zone(CourierMessages::CreatedAt))
                    .col(timestamp_with_time_zone(CourierMessages::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CLAIM_INDEX)
                    .table(CourierMessages::Table)
                    .col(CourierMessages::Status)
                    .col(CourierMessages::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(LIST_INDEX)
                    .table(CourierMessages::Table)
                    .col(CourierMessages::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CourierMessages::Table).to_owned())
            .await
    }
}

//! Self-service errors shown to browsers (`/self-service/errors?id=`), and the session-token
//! exchanges of native apps that finish a flow in a browser (the return code and the session
//! are filled in when the flow completes).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    json_binary, pk_uuid, string_len, string_len_null, timestamp_with_time_zone, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SelfserviceErrors {
    Table,
    Id,
    Error,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SessionTokenExchanges {
    Table,
    Id,
    FlowId,
    InitCodeDigest,
    ReturnToCodeDigest,
    SessionId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SelfserviceFlows {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SelfserviceErrors::Table)
                    .col(pk_uuid(SelfserviceErrors::Id))
                    .col(json_binary(SelfserviceErrors::Error))
                    .col(timestamp_with_time_zone(SelfserviceErrors::CreatedAt))
                    .col(timestamp_with_time_zone(SelfserviceErrors::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SessionTokenExchanges::Table)
                    .col(pk_uuid(SessionTokenExchanges::Id))
                    .col(uuid(SessionTokenExchanges::FlowId).unique_key())
                    .col(string_len(SessionTokenExchanges::InitCodeDigest, 64).unique_key())
                    .col(
                        string_len_null(SessionTokenExchanges::ReturnToCodeDigest, 64).unique_key(),
                    )
                    .col(uuid_null(SessionTokenExchanges::SessionId))
                    .col(timestamp_with_time_zone(SessionTokenExchanges::CreatedAt))
                    .col(timestamp_with_time_zone(SessionTokenExchanges::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SessionTokenExchanges::Table, SessionTokenExchanges::FlowId)
                            .to(SelfserviceFlows::Table, SelfserviceFlows::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SessionTokenExchanges::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SelfserviceErrors::Table).to_owned())
            .await
    }
}

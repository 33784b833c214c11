//! Device authorizations (a client asks for access, a person approves it in a browser, the
//! client collects the result; Nextcloud's Login Flow v2 first) and per-client grants (app
//! passwords first). Tokens and secrets are kept only as SHA-256 digests.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    pk_uuid, string_len, string_len_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
    uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeviceAuthorizations {
    Table,
    Id,
    FrontEnd,
    State,
    PollDigest,
    LoginDigest,
    ClientName,
    RequestIp,
    IdentityId,
    CreatedAt,
    ExpiresAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum ClientGrants {
    Table,
    Id,
    IdentityId,
    Kind,
    ClientName,
    SecretDigest,
    CreatedAt,
    LastUsedAt,
    LastIp,
    UserAgent,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeviceAuthorizations::Table)
                    .col(pk_uuid(DeviceAuthorizations::Id))
                    .col(string_len(DeviceAuthorizations::FrontEnd, 64))
                    .col(string_len(DeviceAuthorizations::State, 16))
                    .col(string_len(DeviceAuthorizations::PollDigest, 64).unique_key())
                    .col(string_len(DeviceAuthorizations::LoginDigest, 64).unique_key())
                    .col(string_len(DeviceAuthorizations::ClientName, 256))
                    .col(string_len_null(DeviceAuthorizations::RequestIp, 64))
                    .col(uuid_null(DeviceAuthorizations::IdentityId))
                    .col(timestamp_with_time_zone(DeviceAuthorizations::CreatedAt))
                    .col(timestamp_with_time_zone(DeviceAuthorizations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        DeviceAuthorizations::DecidedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                DeviceAuthorizations::Table,
                                DeviceAuthorizations::IdentityId,
                            )
                            .to(Identities::Table, Identities::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClientGrants::Table)
                    .col(pk_uuid(ClientGrants::Id))
                    .col(uuid(ClientGrants::IdentityId))
                    .col(string_len(ClientGrants::Kind, 32))
                    .col(string_len(ClientGrants::ClientName, 256))
                    .col(string_len(ClientGrants::SecretDigest, 64).unique_key())
                    .col(timestamp_with_time_zone(ClientGrants::CreatedAt))
                    .col(timestamp_with_time_zone_null(ClientGrants::LastUsedAt))
                    .col(string_len_null(ClientGrants::LastIp, 64))
                    .col(string_len_null(ClientGrants::UserAgent, 512))
                    .col(timestamp_with_time_zone_null(ClientGrants::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientGrants::Table, ClientGrants::IdentityId)
                            .to(Identities::Table, Identities::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("client_grants_identity_idx")
                    .table(ClientGrants::Table)
                    .col(ClientGrants::IdentityId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClientGrants::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DeviceAuthorizations::Table).to_owned())
            .await
    }
}

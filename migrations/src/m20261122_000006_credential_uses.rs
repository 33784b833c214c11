//! Single uses of a credential's secrets (a TOTP time step, a backup code): one row per use,
//! unique per identity, credential kind and key, so that of two concurrent uses only one insert
//! succeeds. Rows go with their identity.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_len, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityCredentialUses {
    Table,
    IdentityId,
    Kind,
    UseKey,
    UsedAt,
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
                    .table(IdentityCredentialUses::Table)
                    .col(uuid(IdentityCredentialUses::IdentityId))
                    .col(string_len(IdentityCredentialUses::Kind, 32))
                    .col(string_len(IdentityCredentialUses::UseKey, 128))
                    .col(timestamp_with_time_zone(IdentityCredentialUses::UsedAt))
                    .primary_key(
                        Index::create()
                            .col(IdentityCredentialUses::IdentityId)
                            .col(IdentityCredentialUses::Kind)
                            .col(IdentityCredentialUses::UseKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                IdentityCredentialUses::Table,
                                IdentityCredentialUses::IdentityId,
                            )
                            .to(Identities::Table, Identities::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(IdentityCredentialUses::Table)
                    .to_owned(),
            )
            .await
    }
}

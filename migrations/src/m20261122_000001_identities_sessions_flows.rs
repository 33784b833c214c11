//! Identities with credentials, identifiers and addresses; sessions with devices; self-service
//! flows in one table with a kind column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, json_binary, json_binary_null, pk_uuid, string, string_len, string_null,
    text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    SchemaId,
    State,
    StateChangedAt,
    Traits,
    MetadataPublic,
    MetadataAdmin,
    ExternalId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdentityCredentials {
    Table,
    Id,
    IdentityId,
    Kind,
    Config,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdentityCredentialIdentifiers {
    Table,
    Id,
    CredentialId,
    Kind,
    Identifier,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdentityVerifiableAddresses {
    Table,
    Id,
    IdentityId,
    Via,
    Value,
    Verified,
    VerifiedAt,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdentityRecoveryAddresses {
    Table,
    Id,
    IdentityId,
    Via,
    Value,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    IdentityId,
    TokenDigest,
    Active,
    Aal,
    AuthenticationMethods,
    IssuedAt,
    AuthenticatedAt,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SessionDevices {
    Table,
    Id,
    SessionId,
    IpAddress,
    UserAgent,
    Location,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SelfserviceFlows {
    Table,
    Id,
    Kind,
    FlowType,
    State,
    IdentityId,
    SessionId,
    RequestUrl,
    ReturnTo,
    RequestedAal,
    Refresh,
    Ui,
    StrategyState,
    CsrfTokenDigest,
    TransientPayload,
    IssuedAt,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

fn foreign_key_cascade(
    from_table: impl IntoIden,
    from_column: impl IntoIden,
    to_table: impl IntoIden,
    to_column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_column)
        .to(to_table, to_column)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_identities(manager).await?;
        create_credentials(manager).await?;
        create_addresses(manager).await?;
        create_sessions(manager).await?;
        create_flows(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SelfserviceFlows::Table.into_iden(),
            SessionDevices::Table.into_iden(),
            Sessions::Table.into_iden(),
            IdentityRecoveryAddresses::Table.into_iden(),
            IdentityVerifiableAddresses::Table.into_iden(),
            IdentityCredentialIdentifiers::Table.into_iden(),
            IdentityCredentials::Table.into_iden(),
            Identities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn create_identities(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Identities::Table)
                .col(pk_uuid(Identities::Id))
                .col(string(Identities::SchemaId))
                .col(string_len(Identities::State, 16))
                .col(timestamp_with_time_zone_null(Identities::StateChangedAt))
                .col(json_binary(Identities::Traits))
                .col(json_binary_null(Identities::MetadataPublic))
                .col(json_binary_null(Identities::MetadataAdmin))
                .col(string_null(Identities::ExternalId).unique_key())
                .col(timestamp_with_time_zone(Identities::CreatedAt))
                .col(timestamp_with_time_zone(Identities::UpdatedAt))
                .to_owned(),
        )
        .await
}

async fn create_credentials(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(IdentityCredentials::Table)
                .col(pk_uuid(IdentityCredentials::Id))
                .col(uuid(IdentityCredentials::IdentityId))
                .col(string_len(IdentityCredentials::Kind, 32))
                .col(json_binary(IdentityCredentials::Config))
                .col(integer(IdentityCredentials::Version))
                .col(timestamp_with_time_zone(IdentityCredentials::CreatedAt))
                .col(timestamp_with_time_zone(IdentityCredentials::UpdatedAt))
                .foreign_key(&mut foreign_key_cascade(
                    IdentityCredentials::Table,
                    IdentityCredentials::IdentityId,
                    Identities::Table,
                    Identities::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("identity_credentials_identity_kind_uq")
                .table(IdentityCredentials::Table)
                .col(IdentityCredentials::IdentityId)
                .col(IdentityCredentials::Kind)
                .unique()
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(IdentityCredentialIdentifiers::Table)
                .col(pk_uuid(IdentityCredentialIdentifiers::Id))
                .col(uuid(IdentityCredentialIdentifiers::CredentialId))
                .col(string_len(IdentityCredentialIdentifiers::Kind, 32))
                .col(string(IdentityCredentialIdentifiers::Identifier))
                .col(timestamp_with_time_zone(
                    IdentityCredentialIdentifiers::CreatedAt,
                ))
                .foreign_key(&mut foreign_key_cascade(
                    IdentityCredentialIdentifiers::Table,
                    IdentityCredentialIdentifiers::CredentialId,
                    IdentityCredentials::Table,
                    IdentityCredentials::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("identity_credential_identifiers_kind_identifier_uq")
                .table(IdentityCredentialIdentifiers::Table)
                .col(IdentityCredentialIdentifiers::Kind)
                .col(IdentityCredentialIdentifiers::Identifier)
                .unique()
                .to_owned(),
        )
        .await
}

async fn create_addresses(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(IdentityVerifiableAddresses::Table)
                .col(pk_uuid(IdentityVerifiableAddresses::Id))
                .col(uuid(IdentityVerifiableAddresses::IdentityId))
                .col(string_len(IdentityVerifiableAddresses::Via, 16))
                .col(string(IdentityVerifiableAddresses::Value))
                .col(boolean(IdentityVerifiableAddresses::Verified))
                .col(timestamp_with_time_zone_null(
                    IdentityVerifiableAddresses::VerifiedAt,
                ))
                .col(string_len(IdentityVerifiableAddresses::Status, 16))
                .col(timestamp_with_time_zone(
                    IdentityVerifiableAddresses::CreatedAt,
                ))
                .col(timestamp_with_time_zone(
                    IdentityVerifiableAddresses::UpdatedAt,
                ))
                .foreign_key(&mut foreign_key_cascade(
                    IdentityVerifiableAddresses::Table,
                    IdentityVerifiableAddresses::IdentityId,
                    Identities::Table,
                    Identities::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("identity_verifiable_addresses_via_value_uq")
                .table(IdentityVerifiableAddresses::Table)
                .col(IdentityVerifiableAddresses::Via)
                .col(IdentityVerifiableAddresses::Value)
                .unique()
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(IdentityRecoveryAddresses::Table)
                .col(pk_uuid(IdentityRecoveryAddresses::Id))
                .col(uuid(IdentityRecoveryAddresses::IdentityId))
                .col(string_len(IdentityRecoveryAddresses::Via, 16))
                .col(string(IdentityRecoveryAddresses::Value))
                .col(timestamp_with_time_zone(
                    IdentityRecoveryAddresses::CreatedAt,
                ))
                .col(timestamp_with_time_zone(
                    IdentityRecoveryAddresses::UpdatedAt,
                ))
                .foreign_key(&mut foreign_key_cascade(
                    IdentityRecoveryAddresses::Table,
                    IdentityRecoveryAddresses::IdentityId,
                    Identities::Table,
                    Identities::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("identity_recovery_addresses_via_value_uq")
                .table(IdentityRecoveryAddresses::Table)
                .col(IdentityRecoveryAddresses::Via)
                .col(IdentityRecoveryAddresses::Value)
                .unique()
                .to_owned(),
        )
        .await
}

async fn create_sessions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Sessions::Table)
                .col(pk_uuid(Sessions::Id))
                .col(uuid(Sessions::IdentityId))
                .col(string_len(Sessions::TokenDigest, 64))
                .col(boolean(Sessions::Active))
                .col(string_len(Sessions::Aal, 8))
                .col(json_binary(Sessions::AuthenticationMethods))
                .col(timestamp_with_time_zone(Sessions::IssuedAt))
                .col(timestamp_with_time_zone(Sessions::AuthenticatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::UpdatedAt))
                .foreign_key(&mut foreign_key_cascade(
                    Sessions::Table,
                    Sessions::IdentityId,
                    Identities::Table,
                    Identities::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("sessions_token_digest_uq")
                .table(Sessions::Table)
                .col(Sessions::TokenDigest)
                .unique()
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("sessions_identity_id_idx")
                .table(Sessions::Table)
                .col(Sessions::IdentityId)
                .col(Sessions::Id)
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(SessionDevices::Table)
                .col(pk_uuid(SessionDevices::Id))
                .col(uuid(SessionDevices::SessionId))
                .col(text_null(SessionDevices::IpAddress))
                .col(text_null(SessionDevices::UserAgent))
                .col(text_null(SessionDevices::Location))
                .col(timestamp_with_time_zone(SessionDevices::CreatedAt))
                .foreign_key(&mut foreign_key_cascade(
                    SessionDevices::Table,
                    SessionDevices::SessionId,
                    Sessions::Table,
                    Sessions::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("session_devices_session_id_idx")
                .table(SessionDevices::Table)
                .col(SessionDevices::SessionId)
                .to_owned(),
        )
        .await
}

async fn create_flows(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(SelfserviceFlows::Table)
                .col(pk_uuid(SelfserviceFlows::Id))
                .col(string_len(SelfserviceFlows::Kind, 16))
                .col(string_len(SelfserviceFlows::FlowType, 16))
                .col(string_len(SelfserviceFlows::State, 32))
                .col(uuid_null(SelfserviceFlows::IdentityId))
                .col(uuid_null(SelfserviceFlows::SessionId))
                .col(text(SelfserviceFlows::RequestUrl))
                .col(text_null(SelfserviceFlows::ReturnTo))
                .col(string_len(SelfserviceFlows::RequestedAal, 8))
                .col(boolean(SelfserviceFlows::Refresh))
                .col(json_binary(SelfserviceFlows::Ui))
                .col(json_binary(SelfserviceFlows::StrategyState))
                .col(string_len(SelfserviceFlows::CsrfTokenDigest, 64).null())
                .col(json_binary_null(SelfserviceFlows::TransientPayload))
                .col(timestamp_with_time_zone(SelfserviceFlows::IssuedAt))
                .col(timestamp_with_time_zone(SelfserviceFlows::ExpiresAt))
                .col(timestamp_with_time_zone(SelfserviceFlows::CreatedAt))
                .col(timestamp_with_time_zone(SelfserviceFlows::UpdatedAt))
                .foreign_key(&mut foreign_key_cascade(
                    SelfserviceFlows::Table,
                    SelfserviceFlows::IdentityId,
                    Identities::Table,
                    Identities::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("selfservice_flows_expires_at_idx")
                .table(SelfserviceFlows::Table)
                .col(SelfserviceFlows::ExpiresAt)
                .to_owned(),
        )
        .await
}

//! Indexes on the columns an identity's rows are found by: its addresses by `identity_id`,
//! a credential's identifiers by `credential_id`. Without them, reading one identity scans
//! these tables whole, and every login, registration and uncached session check grows with
//! the number of identities.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityCredentialIdentifiers {
    Table,
    CredentialId,
}

#[derive(DeriveIden)]
enum IdentityVerifiableAddresses {
    Table,
    IdentityId,
}

#[derive(DeriveIden)]
enum IdentityRecoveryAddresses {
    Table,
    IdentityId,
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("identity_credential_identifiers_credential_idx")
            .table(IdentityCredentialIdentifiers::Table)
            .col(IdentityCredentialIdentifiers::CredentialId)
            .to_owned(),
        Index::create()
            .name("identity_verifiable_addresses_identity_idx")
            .table(IdentityVerifiableAddresses::Table)
            .col(IdentityVerifiableAddresses::IdentityId)
            .to_owned(),
        Index::create()
            .name("identity_recovery_addresses_identity_idx")
            .table(IdentityRecoveryAddresses::Table)
            .col(IdentityRecoveryAddresses::IdentityId)
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drops = [
            Index::drop()
                .name("identity_credential_identifiers_credential_idx")
                .table(IdentityCredentialIdentifiers::Table)
                .to_owned(),
            Index::drop()
                .name("identity_verifiable_addresses_identity_idx")
                .table(IdentityVerifiableAddresses::Table)
                .to_owned(),
            Index::drop()
                .name("identity_recovery_addresses_identity_idx")
                .table(IdentityRecoveryAddresses::Table)
                .to_owned(),
        ];
        for drop in drops {
            manager.drop_index(drop).await?;
        }
        Ok(())
    }
}

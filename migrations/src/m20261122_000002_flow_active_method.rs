//! Flows remember the method that handled their last submission (`active` on the wire).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_len_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SelfserviceFlows {
    Table,
    ActiveMethod,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SelfserviceFlows::Table)
                    .add_column(string_len_null(SelfserviceFlows::ActiveMethod, 32))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SelfserviceFlows::Table)
                    .drop_column(SelfserviceFlows::ActiveMethod)
                    .to_owned(),
            )
            .await
    }
}

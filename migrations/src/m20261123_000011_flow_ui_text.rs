//! A flow's `ui` is kept as the JSON text it is written and read as. Flows are stored once and
//! read back whole; nothing queries inside their UI, so PostgreSQL need not parse it into
//! `jsonb` on every insert and print it again on every read. SQLite already keeps JSON as text
//! (its column type `jsonb_text` has text affinity), so the change applies to PostgreSQL only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn set_ui_type(manager: &SchemaManager<'_>, ty: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE selfservice_flows ALTER COLUMN ui TYPE {ty} USING ui::{ty}"
        ))
        .await
        .map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_ui_type(manager, "text").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_ui_type(manager, "jsonb").await
    }
}

//! The schema history of Clavis' database, one frozen migration per change, for SQLite and
//! PostgreSQL alike.
//!
//! A migration, once released, is never edited: a change to the schema is a new migration.
//! Migrations describe tables with sea-query only; they never import domain types or entities,
//! so today's code cannot silently change yesterday's schema.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_identities_sessions_flows;
mod m20261122_000002_flow_active_method;
mod m20261122_000003_session_logout_token;
mod m20261122_000004_errors_token_exchanges;
mod m20261122_000005_identity_external_id;
mod m20261122_000006_credential_uses;
mod m20261122_000007_device_authorizations_grants;
mod m20261122_000008_grant_assurance_rate_limits;
mod m20261122_000009_identity_child_indexes;
mod m20261122_000010_courier_messages;
mod m20261123_000011_flow_ui_text;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_identities_sessions_flows::Migration),
            Box::new(m20261122_000002_flow_active_method::Migration),
            Box::new(m20261122_000003_session_logout_token::Migration),
            Box::new(m20261122_000004_errors_token_exchanges::Migration),
            Box::new(m20261122_000005_identity_external_id::Migration),
            Box::new(m20261122_000006_credential_uses::Migration),
            Box::new(m20261122_000007_device_authorizations_grants::Migration),
            Box::new(m20261122_000008_grant_assurance_rate_limits::Migration),
            Box::new(m20261122_000009_identity_child_indexes::Migration),
            Box::new(m20261122_000010_courier_messages::Migration),
            Box::new(m20261123_000011_flow_ui_text::Migration),
        ]
    }
}

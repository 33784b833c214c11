//! Storage for Clavis: sea-orm entities and the implementations of the clavis-core ports, on
//! SQLite and PostgreSQL through one code path.
//!
//! Conversions between rows and domain values live here and only here. Every multi-row change
//! runs in one transaction. Database errors never leave this crate: they become
//! [`clavis_core::StorageError`] (or [`ConnectError`] at start-up).

mod connect;
mod courier;
mod device;
pub mod entity;
mod flow;
mod flow_extras;
mod group_commit;
mod health;
mod identity;
mod rate_limit;
mod row;
mod session;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod unique;
mod uses;

pub use connect::{ConnectError, Database, DatabaseKind, MigrationStatus};

use sea_orm::{DatabaseConnection, DbBackend};
use std::sync::Arc;

/// Every storage port of clavis-core, over one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Group commit of new flows, on SQLite only: it writes one transaction at a time, so
    /// grouping saves a commit per flow. PostgreSQL commits concurrent inserts in parallel and
    /// shares their WAL flushes itself; grouped inserts there only make larger messages.
    new_flows: Option<Arc<group_commit::GroupCommit<entity::selfservice_flows::ActiveModel>>>,
}

impl Store {
    /// A store over an open pool.
    pub fn new(db: DatabaseConnection) -> Self {
        let grouped = db.get_database_backend() == DbBackend::Sqlite;
        Self {
            db,
            new_flows: grouped.then(Arc::default),
        }
    }

    /// `INSERT` statements that grouped new flows have taken so far (fewer than flows when
    /// they arrive together); 0 where flows are not grouped.
    pub fn flow_insert_statements(&self) -> usize {
        self.new_flows
            .as_ref()
            .map_or(0, |group| group.statements())
    }
}

#[cfg(test)]
mod migratest;
#[cfg(test)]
mod tests;

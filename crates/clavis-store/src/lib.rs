//! Storage for Clavis: sea-orm entities and the implementations of the clavis-core ports, on
//! SQLite and PostgreSQL through one code path.
//!
//! Conversions between rows and domain values live here and only here. Every multi-row change
//! runs in one transaction. Database errors never leave this crate: they become
//! [`clavis_core::StorageError`] (or [`ConnectError`] at start-up).

mod checkpoint;
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
    /// Group commit of new flows: a statement and a commit per group instead of per flow.
    new_flows: Arc<group_commit::GroupCommit<entity::selfservice_flows::ActiveModel>>,
}

impl Store {
    /// A store over an open pool.
    pub fn new(db: DatabaseConnection) -> Self {
        let grouping = new_flow_grouping(db.get_database_backend());
        Self {
            db,
            new_flows: Arc::new(group_commit::GroupCommit::new(grouping)),
        }
    }

    /// `INSERT` statements that grouped new flows have taken so far (fewer than flows when
    /// they arrive together).
    pub fn flow_insert_statements(&self) -> usize {
        self.new_flows.statements()
    }

    /// Writer turns the grouped inserts of new flows have taken so far.
    pub fn flow_insert_turns(&self) -> usize {
        self.new_flows.turns()
    }
}

/// How new flows are grouped on each database.
///
/// SQLite writes one transaction at a time: one writer, and groups as large as 64 rows (far
/// below its 32,766 bound parameters). PostgreSQL commits in parallel, so up to one group per
/// core (2 to 8) is written at a time, and a group stays below 12 KiB so that its statement
/// fits one TLS record (16 KiB): larger statements went out several times slower over an
/// encrypted connection than the same rows in small groups.
fn new_flow_grouping(backend: DbBackend) -> group_commit::Grouping {
    match backend {
        DbBackend::Sqlite => group_commit::Grouping {
            writers: 1,
            max_rows: 64,
            max_bytes: usize::MAX,
        },
        _ => group_commit::Grouping {
            writers: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8)),
            max_rows: 64,
            max_bytes: 12 * 1024,
        },
    }
}

#[cfg(test)]
mod migratest;
#[cfg(test)]
mod tests;

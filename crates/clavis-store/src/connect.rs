//! Opening the database named by a DSN, running migrations and checking readiness.

use clavis_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbErr};
use std::time::Duration;

/// Which engine a DSN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The DSN names no engine Clavis supports.
    #[error(
        "the dsn `{0}` is not supported: use `memory`, `sqlite://PATH?mode=rwc` or `postgres://USER@HOST:PORT/DATABASE`"
    )]
    Unsupported(String),
    /// The engine is right but the database cannot be reached or opened.
    #[error("cannot connect to the database at {dsn}: {reason}")]
    Unreachable { dsn: String, reason: String },
    /// A pool parameter of the DSN has a value that is not a positive number.
    #[error("the dsn parameter `{0}` must be a whole number from 1 to 1000")]
    PoolSize(String),
    /// Applying or reading migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
}

/// Whether the schema is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub pending: Vec<String>,
}

/// The size, in bytes, SQLite's log file is cut back to when the log starts again (64 MiB):
/// well above what it holds between two checkpoints under load, so a steady load never pays
/// for growing the file again.
const WAL_FILE_LIMIT_BYTES: &str = "67108864";

/// Each SQLite connection's page cache, in KiB (a negative `cache_size`; SQLite's default is
/// 2,000 KiB). In WAL mode a connection drops its whole cache whenever another one has
/// committed, and the operating system caches the file anyway: with 512 KiB the server kept
/// about 7 MiB less after a `whoami` load, at the same speed.
const PAGE_CACHE_KIB: &str = "-512";

/// An open database pool and the engine behind it.
#[derive(Debug, Clone)]
pub struct Database {
    pub kind: DatabaseKind,
    pub connection: DatabaseConnection,
}

impl Database {
    /// Opens the database `dsn` names. `memory` is an in-memory SQLite database (one
    /// connection, gone when the process ends).
    pub async fn connect(dsn: &str) -> Result<Self, ConnectError> {
        let (kind, url) = classify(dsn)?;
        let (url, max_conns) = take_max_conns(&url)?;
        let mut options = ConnectOptions::new(url.clone());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10));
        match kind {
            DatabaseKind::Sqlite => {
                // SQLite writes one transaction at a time and every connection keeps its own
                // page and statement caches: two per core serve the reads, capped at 8.
                let cores = std::thread::available_parallelism().map_or(2, usize::from);
                let connections = if url.contains(":memory:") {
                    1
                } else {
                    max_conns.unwrap_or_else(|| u32::try_from((2 * cores).clamp(4, 8)).unwrap_or(8))
                };
                // A connection to a file in this process cannot go away, so it is never pinged
                // before use (a ping is a round trip to the connection's worker thread).
                options
                    .max_connections(connections)
                    .test_before_acquire(false)
                    .map_sqlx_sqlite_opts(|o| {
                        o.journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Normal)
                            .foreign_keys(true)
                            .busy_timeout(Duration::from_secs(5))
                            .pragma("cache_size", PAGE_CACHE_KIB)
                            // The server copies the log into the database file beside the
                            // writers (checkpoint.rs), not inside a commit.
                            .pragma("wal_autocheckpoint", "0")
                            // A log file grown by a burst of writes is cut back to this
                            // size when the log starts again.
                            .pragma("journal_size_limit", WAL_FILE_LIMIT_BYTES)
                    });
            }
            DatabaseKind::Postgres => {
                // Only a connection that sat idle long enough for a server, proxy or firewall to
                // have dropped it is pinged before use; a busy one goes straight to work.
                options
                    .max_connections(max_conns.unwrap_or(16))
                    .min_connections(0)
                    .test_before_acquire_if_idle_for(Duration::from_secs(30));
            }
        }
        if kind == DatabaseKind::Postgres {
            probe_postgres(&url)
                .await
                .map_err(|reason| ConnectError::Unreachable {
                    dsn: redact(dsn),
                    reason,
                })?;
        }
        let connection =
            sea_orm::Database::connect(options)
                .await
                .map_err(|e| ConnectError::Unreachable {
                    dsn: redact(dsn),
                    reason: describe(&e),
                })?;
        // A pool connects lazily for some engines; ask once so a bad address fails here.
        connection
            .ping()
            .await
            .map_err(|e| ConnectError::Unreachable {
                dsn: redact(dsn),
                reason: describe(&e),
            })?;
        Ok(Self { kind, connection })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        Migrator::up(&self.connection, None)
            .await
            .map_err(|e| ConnectError::Migration(describe(&e)))
    }

    /// Which migrations have not been applied yet.
    pub async fn migration_status(&self) -> Result<MigrationStatus, ConnectError> {
        let pending = Migrator::get_pending_migrations(&self.connection)
            .await
            .map_err(|e| ConnectError::Migration(describe(&e)))?;
        Ok(MigrationStatus {
            pending: pending.iter().map(|m| m.name().to_owned()).collect(),
        })
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), String> {
        self.connection
            .execute_unprepared("SELECT 1")
            .await
            .map(|_| ())
            .map_err(|e| describe(&e))
    }
}

fn classify(dsn: &str) -> Result<(DatabaseKind, String), ConnectError> {
    let dsn = dsn.trim();
    if dsn == "memory" {
        return Ok((DatabaseKind::Sqlite, "sqlite::memory:".to_owned()));
    }
    if dsn.starts_with("sqlite:") {
        return Ok((DatabaseKind::Sqlite, dsn.to_owned()));
    }
    if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
        if url::Url::parse(dsn).is_err() {
            return Err(ConnectError::Unsupported(redact(dsn)));
        }
        return Ok((DatabaseKind::Postgres, dsn.to_owned()));
    }
    Err(ConnectError::Unsupported(redact(dsn)))
}

/// Removes the `max_conns` parameter (the pool's size, named as in Kratos' DSNs) from the
/// query of `url`, which the drivers would refuse.
fn take_max_conns(url: &str) -> Result<(String, Option<u32>), ConnectError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut max_conns = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("max_conns", value)) => {
                let size = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| ConnectError::PoolSize("max_conns".to_owned()))?;
                max_conns = Some(size);
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, max_conns))
}

/// The DSN with any password replaced, fit for logs and error messages.
pub fn redact(dsn: &str) -> String {
    match url::Url::parse(dsn) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => dsn.to_owned(),
    }
}

/// One direct connection before the pool, whose timeout would hide the reason (refused,
/// unknown host, bad password, no such database).
async fn probe_postgres(url: &str) -> Result<(), String> {
    use sea_orm::sqlx::Connection;
    let attempt = sea_orm::sqlx::postgres::PgConnection::connect(url);
    match tokio::time::timeout(Duration::from_secs(5), attempt).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            Ok(())
        }
        Ok(Err(error)) => Err(tidy(&error.to_string())),
        Err(_) => Err("no answer within 5 seconds".to_owned()),
    }
}

fn describe(error: &DbErr) -> String {
    let text = match error {
        DbErr::Conn(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let text = tidy(&text);
    if text.contains("(code: 14)") {
        return format!("{text} (does the directory exist, and may Clavis write to it?)");
    }
    text
}

fn tidy(text: &str) -> String {
    let mut text = text
        .trim_start_matches("Connection Error: ")
        .trim_start_matches("error communicating with database: ")
        .trim_start_matches("error returned from database: ")
        .to_owned();
    // PostgreSQL errors end with the server's source position, which means nothing to operators.
    if let Some(at) = text.rfind(" at line ")
        && text[at + 9..].bytes().all(|b| b.is_ascii_digit())
    {
        text.truncate(at);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_accepts_supported_engines() {
        assert_eq!(classify("memory").unwrap().0, DatabaseKind::Sqlite);
        assert_eq!(
            classify("sqlite://x.db?mode=rwc").unwrap().0,
            DatabaseKind::Sqlite
        );
        assert_eq!(
            classify("postgres://u@h:5432/d").unwrap().0,
            DatabaseKind::Postgres
        );
        assert!(matches!(
            classify("mysql://u@h/d"),
            Err(ConnectError::Unsupported(_))
        ));
        assert!(matches!(
            classify("nonsense"),
            Err(ConnectError::Unsupported(_))
        ));
    }

    #[test]
    fn max_conns_sizes_the_pool_and_leaves_the_other_parameters() {
        assert_eq!(
            take_max_conns("sqlite://x.db?mode=rwc&max_conns=2").unwrap(),
            ("sqlite://x.db?mode=rwc".to_owned(), Some(2))
        );
        assert_eq!(
            take_max_conns("postgres://u@h/d?max_conns=40&sslmode=require").unwrap(),
            ("postgres://u@h/d?sslmode=require".to_owned(), Some(40))
        );
        assert_eq!(
            take_max_conns("postgres://u@h/d?max_conns=3").unwrap(),
            ("postgres://u@h/d".to_owned(), Some(3))
        );
        assert_eq!(
            take_max_conns("sqlite://x.db?mode=rwc").unwrap(),
            ("sqlite://x.db?mode=rwc".to_owned(), None)
        );
        for bad in ["0", "-1", "many", "", "1001"] {
            assert!(matches!(
                take_max_conns(&format!("sqlite://x.db?max_conns={bad}")),
                Err(ConnectError::PoolSize(_))
            ));
        }
    }

    #[tokio::test]
    async fn sqlite_connections_write_ahead_with_a_small_page_cache() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().unwrap();
        let dsn = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("c.sqlite").display()
        );
        let db = Database::connect(&dsn).await.unwrap();
        let pragma = async |name: &str| {
            let row = db
                .connection
                .query_one_raw(Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    format!("PRAGMA {name}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        };
        assert_eq!(pragma("cache_size").await, PAGE_CACHE_KIB);
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("synchronous").await, "1", "NORMAL");
        assert_eq!(pragma("wal_autocheckpoint").await, "0");
        assert_eq!(pragma("journal_size_limit").await, WAL_FILE_LIMIT_BYTES);
    }

    #[test]
    fn redact_hides_passwords() {
        assert_eq!(redact("postgres://u:secret@h/d"), "postgres://u:***@h/d");
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
    }
}

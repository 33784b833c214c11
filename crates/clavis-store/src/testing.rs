//! Throw-away databases for tests: a migrated SQLite file per test (copied from a template
//! migrated once per process) and, when `CLAVIS_TEST_DATABASE_URL` names a PostgreSQL server, a
//! fresh PostgreSQL database per test, dropped again when the test ends.

use crate::connect::Database;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The environment variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_ENV: &str = "CLAVIS_TEST_DATABASE_URL";

/// Which engine a test database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A migrated database that belongs to one test.
pub struct TestDatabase {
    dsn: String,
    engine: Engine,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

static SQLITE_TEMPLATE: OnceCell<(tempfile::TempDir, PathBuf)> = OnceCell::const_new();

impl TestDatabase {
    /// A database on `engine`, or `None` for PostgreSQL when no server is configured.
    pub async fn create(engine: Engine) -> Option<Self> {
        match engine {
            Engine::Sqlite => Some(Self::sqlite().await),
            Engine::Postgres => match std::env::var(POSTGRES_ENV) {
                Ok(url) if !url.is_empty() => Some(Self::postgres(&url).await),
                _ => None,
            },
        }
    }

    /// One database per available engine: SQLite always, PostgreSQL when configured.
    pub async fn all() -> Vec<Self> {
        let mut out = Vec::new();
        for engine in [Engine::Sqlite, Engine::Postgres] {
            if let Some(db) = Self::create(engine).await {
                out.push(db);
            }
        }
        out
    }

    /// A migrated SQLite file of its own.
    pub async fn sqlite() -> Self {
        let (_, template) = SQLITE_TEMPLATE.get_or_init(migrated_sqlite_template).await;
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail("create a temporary directory", e));
        let path = dir.path().join("clavis.sqlite");
        std::fs::copy(template, &path).unwrap_or_else(|e| fail("copy the SQLite template", e));
        Self {
            dsn: format!("sqlite://{}?mode=rwc", path.display()),
            engine: Engine::Sqlite,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh, migrated PostgreSQL database on the server `base_url` names.
    pub async fn postgres(base_url: &str) -> Self {
        let name = format!("clavis_t_{}", Uuid::new_v4().simple());
        let admin = Database::connect(base_url)
            .await
            .unwrap_or_else(|e| fail("reach PostgreSQL", e));
        admin
            .connection
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| fail("create a test database", e));
        drop(admin);
        let mut url =
            url::Url::parse(base_url).unwrap_or_else(|e| fail("parse the PostgreSQL URL", e));
        url.set_path(&format!("/{name}"));
        let db = Database::connect(url.as_str())
            .await
            .unwrap_or_else(|e| fail("open the test database", e));
        db.migrate()
            .await
            .unwrap_or_else(|e| fail("migrate the test database", e));
        db.connection.close_by_ref().await.ok();
        Self {
            dsn: url.to_string(),
            engine: Engine::Postgres,
            _dir: None,
            postgres: Some((base_url.to_owned(), name)),
        }
    }

    /// The DSN that opens this database.
    pub fn dsn(&self) -> &str {
        &self.dsn
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Runs one SQL statement on this database (test set-up that HTTP cannot express).
    pub async fn execute(&self, sql: &str) {
        let connection = self.connect().await;
        connection
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| fail("run test set-up SQL", e));
        connection.close_by_ref().await.ok();
    }

    /// Opens a pool on this database.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.dsn)
            .await
            .unwrap_or_else(|e| fail("open the test database", e))
            .connection
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((base_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on a future: drop the
        // database from a short-lived runtime on its own thread.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(&base_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = tokio::time::timeout(
                        Duration::from_secs(10),
                        admin.connection.execute_unprepared(&sql),
                    )
                    .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn migrated_sqlite_template() -> (tempfile::TempDir, PathBuf) {
    remove_stale_templates();
    let dir = tempfile::Builder::new()
        .prefix("clavis-sqlite-template-")
        .tempdir()
        .unwrap_or_else(|e| fail("create a temporary directory", e));
    let work = dir.path().join("work.sqlite");
    let template = dir.path().join("template.sqlite");
    let db = Database::connect(&format!("sqlite://{}?mode=rwc", work.display()))
        .await
        .unwrap_or_else(|e| fail("create the SQLite template", e));
    db.migrate()
        .await
        .unwrap_or_else(|e| fail("migrate the SQLite template", e));
    // VACUUM INTO writes a self-contained file with no WAL side files to copy along.
    db.connection
        .execute_unprepared(&format!("VACUUM INTO '{}'", escape_sql(&template)))
        .await
        .unwrap_or_else(|e| fail("write the SQLite template", e));
    db.connection.close_by_ref().await.ok();
    (dir, template)
}

/// Templates outlive their test process (statics are never dropped); remove those older than a
/// day so repeated runs do not pile them up.
fn remove_stale_templates() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_string_lossy()
            .starts_with("clavis-sqlite-template-")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(24 * 3600));
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn escape_sql(path: &Path) -> String {
    path.display().to_string().replace('\'', "''")
}

#[allow(clippy::panic)] // test support: a broken test database must stop the test loudly
fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    panic!("test database: cannot {what}: {error}")
}

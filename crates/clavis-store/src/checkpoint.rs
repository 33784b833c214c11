//! Checkpoints of SQLite's write-ahead log, off the request path.
//!
//! By default SQLite copies the log into the database file inside whichever commit makes the
//! log pass 1,000 pages: that commit, and every request queued behind the one writer, waits
//! for the copy and two fsyncs. Under a steady stream of new flows that was a stall several
//! times a second (flow creation p99 about 20 ms on the bench machine). Clavis' connections
//! turn that off (`wal_autocheckpoint=0`, see `connect.rs`) and this task does the
//! copying instead, with passive checkpoints, which run beside writers and readers and never
//! wait for them. When the log is long, the last few pages are copied with grouped inserts
//! paused, so that the whole log is in the database file and the next writer starts the log
//! from its beginning again: the file stops growing even under a stream of new flows that
//! never pauses. Other writers are not paused; the log restarts at the first gap between
//! their writes that a checkpoint catches. Should writers that never leave such a gap (a bulk
//! import creating identities from many connections) make the log run away all the same,
//! the last pass is a restarting checkpoint, which holds every writer off for the last few
//! pages; a log file that grew during such a burst is cut back to `journal_size_limit` (see
//! `connect.rs`) when the log starts again.
//!
//! It runs only on a SQLite database in WAL mode and ends by itself anywhere else. It must not
//! hold writers back for longer than the last few pages take to copy.

use crate::Store;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::time::Duration;

/// Pause between checkpoints while the database is being written.
const BUSY_PERIOD: Duration = Duration::from_millis(100);
/// Longest pause while nothing is written.
const IDLE_PERIOD: Duration = Duration::from_secs(1);
/// Checkpoints per round at most (each copies what the writers added during the previous one).
const PASSES: usize = 8;
/// Pages left to copy that are few enough to copy with grouped inserts paused.
const CATCH_UP_PAGES: i64 = 64;
/// Log lengths, in pages, at which a round does more than one passive checkpoint.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogLimits {
    /// From this length a round ends with the log wholly copied, so that it starts again.
    long: i64,
    /// From this length the last pass of a round also holds off writers other than grouped
    /// inserts until the log starts again.
    runaway: i64,
}

/// SQLite's own checkpoint threshold, and 32 MiB of 4 KiB pages.
const LIMITS: LogLimits = LogLimits {
    long: 1000,
    runaway: 8000,
};

/// What `PRAGMA wal_checkpoint` reports: pages in the log and pages of it copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogPages {
    pub(crate) log: i64,
    pub(crate) copied: i64,
}

impl LogPages {
    /// A database not in WAL mode reports -1 for both.
    fn is_wal(self) -> bool {
        self.log >= 0
    }
}

impl Store {
    /// The task that checkpoints SQLite's write-ahead log for as long as it runs; `None` on
    /// PostgreSQL. On a SQLite database without a log (in memory) it ends after one look.
    pub fn wal_checkpoints(&self) -> Option<impl Future<Output = ()> + Send + 'static> {
        if self.db.get_database_backend() != DbBackend::Sqlite {
            return None;
        }
        let store = self.clone();
        Some(async move {
            let mut last = None;
            let mut period = BUSY_PERIOD;
            loop {
                match store.checkpoint_round(last).await {
                    Ok(pages) if !pages.is_wal() => return,
                    Ok(pages) => {
                        period = if last == Some(pages) {
                            (period * 2).min(IDLE_PERIOD)
                        } else {
                            BUSY_PERIOD
                        };
                        last = Some(pages);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "checkpointing the SQLite write-ahead log failed");
                        period = IDLE_PERIOD;
                    }
                }
                tokio::time::sleep(period).await;
            }
        })
    }

    /// One round: a checkpoint; if the log is long and was written since the `previous` round,
    /// more until little is left to copy, and the rest with grouped inserts paused so that
    /// the next writer starts the log again.
    pub(crate) async fn checkpoint_round(
        &self,
        previous: Option<LogPages>,
    ) -> Result<LogPages, DbErr> {
        self.checkpoint_round_within(previous, LIMITS).await
    }

    async fn checkpoint_round_within(
        &self,
        previous: Option<LogPages>,
        limits: LogLimits,
    ) -> Result<LogPages, DbErr> {
        let mut pages = passive_checkpoint(&self.db).await?;
        if pages.log >= limits.long && previous != Some(pages) {
            for _ in 1..PASSES {
                if pages.log - pages.copied <= CATCH_UP_PAGES {
                    break;
                }
                pages = passive_checkpoint(&self.db).await?;
            }
            let _paused = self.new_flows.pause().await;
            pages = if pages.log >= limits.runaway {
                checkpoint(&self.db, Mode::Restart).await?
            } else {
                checkpoint(&self.db, Mode::Passive).await?
            };
        }
        Ok(pages)
    }
}

/// How a checkpoint treats the writers and readers of the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Copies what it can beside them, waiting for nobody.
    Passive,
    /// Holds off new writers until the whole log is copied and no reader uses it any more, so
    /// the next writer starts the log from its beginning (given up after the busy timeout).
    Restart,
}

async fn passive_checkpoint(db: &DatabaseConnection) -> Result<LogPages, DbErr> {
    checkpoint(db, Mode::Passive).await
}

async fn checkpoint(db: &DatabaseConnection, mode: Mode) -> Result<LogPages, DbErr> {
    let sql = match mode {
        Mode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        Mode::Restart => "PRAGMA wal_checkpoint(RESTART)",
    };
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("wal_checkpoint returned no row".to_owned()))?;
    Ok(LogPages {
        log: row.try_get_by_index(1)?,
        copied: row.try_get_by_index(2)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Database;

    async fn file_store(dir: &tempfile::TempDir) -> Store {
        let dsn = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("w.sqlite").display()
        );
        Store::new(Database::connect(&dsn).await.unwrap().connection)
    }

    /// Writes about `pages` pages of 4 KiB in one transaction.
    async fn write_pages(store: &Store, pages: usize) {
        store
            .db
            .execute_unprepared(&format!(
                "CREATE TABLE IF NOT EXISTS filler (b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {pages})
                 INSERT INTO filler SELECT randomblob(3500) FROM n;"
            ))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_round_copies_a_long_log_so_that_the_next_writer_starts_it_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(&dir).await;
        let file = dir.path().join("w.sqlite");
        let file_pages = || std::fs::metadata(&file).unwrap().len() / 4096;
        write_pages(&store, 600).await;
        write_pages(&store, 600).await;
        assert!(file_pages() < 100, "commits copy nothing themselves");

        let copied = store.checkpoint_round(None).await.unwrap();
        assert!(copied.log >= 1200, "{copied:?}");
        assert_eq!(copied.copied, copied.log);
        assert!(file_pages() >= 1200, "the round copied the log");

        write_pages(&store, 1).await;
        let after = store.checkpoint_round(Some(copied)).await.unwrap();
        assert!(after.log < 20, "the log started again: {after:?}");
        assert_eq!(after.copied, after.log);
    }

    #[tokio::test]
    async fn writers_and_readers_that_never_leave_a_gap_cannot_make_the_log_run_away() {
        let dir = tempfile::tempdir().unwrap();
        let dsn = format!(
            "sqlite://{}?mode=rwc&max_conns=8",
            dir.path().join("w.sqlite").display()
        );
        let store = Store::new(Database::connect(&dsn).await.unwrap().connection);
        write_pages(&store, 1).await;
        let limits = LogLimits {
            long: 20,
            runaway: 100,
        };
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (store, stop) = (store.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        write_pages(&store, 4).await;
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..5)
            .map(|_| {
                let (store, stop) = (store.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        store
                            .db
                            .execute_unprepared("SELECT length(b) FROM filler WHERE rowid = 1")
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        let (mut last, mut longest, mut restarts) = (None, 0, 0);
        for _ in 0..60 {
            let pages = store.checkpoint_round_within(last, limits).await.unwrap();
            if last.is_some_and(|l: LogPages| pages.log < l.log) {
                restarts += 1;
            }
            longest = longest.max(pages.log);
            last = Some(pages);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for task in writers.into_iter().chain(readers) {
            task.await.unwrap();
        }
        assert!(restarts > 0, "the log started again");
        // On top of the limit, what the writers add while a round waits for its restart (a
        // log that never starts again passes this within a dozen rounds here).
        assert!(
            longest < 10 * limits.runaway,
            "longest log: {longest} pages"
        );
    }

    #[tokio::test]
    async fn checkpoints_end_by_themselves_on_a_database_without_a_log() {
        let store = Store::new(Database::connect("memory").await.unwrap().connection);
        let task = store.wal_checkpoints().expect("SQLite");
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the task ends");
    }
}

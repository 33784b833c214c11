//! Group commit for rows that many requests insert at once and nobody reads in between (new
//! self-service flows): inserts that arrive while one is being written wait and go in
//! together, as one multi-row `INSERT`, instead of one statement and one commit each.
//!
//! Each caller still returns only after its own row is committed, so the next step of a flow
//! may go to any replica. There is no background task: the first caller to find the writer
//! free writes everything queued so far. The write itself runs as a task of its own, so a
//! caller that goes away (a closed connection) cannot cancel the rows of the others. If the
//! combined insert fails, each row is tried alone, so one bad row fails only its own caller.
//!
//! The store uses it on SQLite, which writes one transaction at a time. It must not reorder
//! or merge anything but independent inserts.

use crate::row::storage_error;
use clavis_core::StorageError;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Rows per statement at most: far below SQLite's 32,766 bound parameters for any table here.
const MAX_BATCH: usize = 64;

type Waiting<A> = (A, oneshot::Sender<Result<(), StorageError>>);

/// Inserts of one entity's active models, grouped.
pub struct GroupCommit<A> {
    queue: Mutex<Vec<Waiting<A>>>,
    writer: Arc<tokio::sync::Mutex<()>>,
    statements: Arc<AtomicUsize>,
}

impl<A> std::fmt::Debug for GroupCommit<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<A> Default for GroupCommit<A> {
    fn default() -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            statements: Arc::default(),
        }
    }
}

impl<A> GroupCommit<A>
where
    A: ActiveModelTrait + Clone + Send + Sync + 'static,
    A::Entity: EntityTrait,
{
    /// Inserts `row`, possibly together with rows of concurrent callers; returns once it is
    /// committed (or has failed).
    pub async fn insert(&self, db: &DatabaseConnection, row: A) -> Result<(), StorageError> {
        let (sender, mut done) = oneshot::channel();
        self.waiting().push((row, sender));
        loop {
            tokio::select! {
                biased;
                result = &mut done => {
                    return result.unwrap_or_else(|_| {
                        Err(StorageError::Backend("the insert was abandoned".to_owned()))
                    });
                }
                turn = self.writer.clone().lock_owned() => {
                    let batch = self.take_batch();
                    if batch.is_empty() {
                        // Ours went out with an earlier batch; its answer is on its way.
                        continue;
                    }
                    let db = db.clone();
                    let statements = self.statements.clone();
                    tokio::spawn(async move {
                        write(&db, batch, &statements).await;
                        drop(turn);
                    });
                }
            }
        }
    }

    /// `INSERT` statements sent so far (grouped ones count once).
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Vec<Waiting<A>>> {
        // Pushing and draining cannot panic halfway; a poisoned queue is still a queue.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_batch(&self) -> Vec<Waiting<A>> {
        let mut queue = self.waiting();
        let n = queue.len().min(MAX_BATCH);
        queue.drain(..n).collect()
    }
}

async fn write<A>(db: &DatabaseConnection, batch: Vec<Waiting<A>>, statements: &AtomicUsize)
where
    A: ActiveModelTrait + Clone + Send + Sync + 'static,
{
    let (rows, senders): (Vec<A>, Vec<_>) = batch.into_iter().unzip();
    if rows.len() > 1 {
        statements.fetch_add(1, Ordering::Relaxed);
        let together = A::Entity::insert_many(rows.clone())
            .exec_without_returning(db)
            .await;
        if together.is_ok() {
            for sender in senders {
                let _ = sender.send(Ok(()));
            }
            return;
        }
    }
    for (row, sender) in rows.into_iter().zip(senders) {
        statements.fetch_add(1, Ordering::Relaxed);
        let alone = A::Entity::insert(row)
            .exec_without_returning(db)
            .await
            .map(|_| ())
            .map_err(storage_error);
        let _ = sender.send(alone);
    }
}

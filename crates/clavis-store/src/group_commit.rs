//! Group commit for rows that many requests insert at once and nobody reads in between (new
//! self-service flows): inserts that arrive while the writers are busy wait and go in
//! together, as one multi-row `INSERT`, instead of one statement and one commit each.
//!
//! Each caller still returns only after its own row is committed, so the next step of a flow
//! may go to any replica. There is no background task: a caller that finds a writer free
//! writes everything queued so far, within the [`Grouping`] limits. The write itself runs as a
//! task of its own, on the runtime the group commit was created on (the server's main runtime,
//! not the listener thread of whichever request took the turn), so a caller that goes away (a
//! closed connection) cannot cancel the rows of the others, and the next group does not wait
//! behind the requests that thread has to handle. A writer keeps its turn while rows are
//! queued and writes them next, unless a [`GroupCommit::pause`] is waiting. If the combined
//! insert fails, each row is tried alone, so one bad row fails only its own caller.
//!
//! It must not reorder or merge anything but independent inserts.

use crate::row::storage_error;
use clavis_core::StorageError;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// How far inserts are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grouping {
    /// Grouped statements in flight at once (at least one).
    pub writers: usize,
    /// Rows per statement at most.
    pub max_rows: usize,
    /// Approximate encoded bytes per statement at most; a row larger than this goes alone.
    pub max_bytes: usize,
}

impl Grouping {
    /// How many of the queued rows, of these approximate sizes in queue order, the next
    /// statement takes: the largest power of two that fits the limits, and always the first.
    ///
    /// Each row count is a statement text of its own, which every pooled connection compiles
    /// and keeps in its statement cache; powers of two keep that to a handful of statements
    /// instead of one per count.
    fn batch_len(&self, sizes: impl IntoIterator<Item = usize>) -> usize {
        let mut rows = 0usize;
        let mut bytes = 0usize;
        for size in sizes {
            bytes = bytes.saturating_add(size);
            if rows > 0 && (rows == self.max_rows || bytes > self.max_bytes) {
                break;
            }
            rows += 1;
        }
        match rows.checked_ilog2() {
            Some(log) => 1 << log,
            None => 0,
        }
    }
}

struct Waiting<A> {
    row: A,
    size: usize,
    answer: oneshot::Sender<Result<(), StorageError>>,
}

/// Inserts of one entity's active models, grouped.
pub struct GroupCommit<A> {
    shared: Arc<Shared<A>>,
    writers: Arc<Semaphore>,
    /// Where writes run; `None` outside a runtime (each write then runs on the caller's).
    runtime: Option<Handle>,
}

/// What the callers and the writes they start share.
struct Shared<A> {
    grouping: Grouping,
    queue: Mutex<Vec<Waiting<A>>>,
    /// Pauses asked for and not yet over: a writer with rows queued gives its turn up for them.
    pausing: AtomicUsize,
    statements: AtomicUsize,
    turns: AtomicUsize,
}

impl<A> std::fmt::Debug for GroupCommit<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<A> GroupCommit<A> {
    /// Grouped inserts within `grouping`, written on the current runtime if there is one.
    pub fn new(grouping: Grouping) -> Self {
        Self {
            shared: Arc::new(Shared {
                grouping,
                queue: Mutex::new(Vec::new()),
                pausing: AtomicUsize::new(0),
                statements: AtomicUsize::new(0),
                turns: AtomicUsize::new(0),
            }),
            writers: Arc::new(Semaphore::new(grouping.writers.max(1))),
            runtime: Handle::try_current().ok(),
        }
    }
}

impl<A> GroupCommit<A>
where
    A: ActiveModelTrait + Clone + Send + Sync + 'static,
    A::Entity: EntityTrait,
{
    /// Inserts `row`, about `size` bytes once encoded, possibly together with rows of
    /// concurrent callers; returns once it is committed (or has failed).
    pub async fn insert(
        &self,
        db: &DatabaseConnection,
        row: A,
        size: usize,
    ) -> Result<(), StorageError> {
        let (answer, mut done) = oneshot::channel();
        self.shared.waiting().push(Waiting { row, size, answer });
        loop {
            tokio::select! {
                biased;
                result = &mut done => return answered(result),
                turn = self.writers.clone().acquire_owned() => {
                    // The semaphore is never closed.
                    let Ok(turn) = turn else { continue };
                    self.shared.turns.fetch_add(1, Ordering::Relaxed);
                    let batch = self.shared.take_batch();
                    if batch.is_empty() {
                        // Ours went out with an earlier batch: wait for its answer alone.
                        // Taking turns meanwhile would find the queue empty again and again,
                        // spinning for as long as the write takes while writers are free.
                        drop(turn);
                        return answered(done.await);
                    }
                    let writing = self.shared.clone().write_while_queued(db.clone(), batch, turn);
                    match &self.runtime {
                        Some(runtime) => drop(runtime.spawn(writing)),
                        None => drop(tokio::spawn(writing)),
                    }
                }
            }
        }
    }

    /// Waits until no grouped insert is being written and holds off new ones until the
    /// returned guard is dropped (SQLite's log restart runs in such a pause).
    pub async fn pause(&self) -> Option<OwnedSemaphorePermit> {
        let all = u32::try_from(self.shared.grouping.writers.max(1)).unwrap_or(u32::MAX);
        let _asking = Asking::new(&self.shared.pausing);
        self.writers.clone().acquire_many_owned(all).await.ok()
    }

    /// `INSERT` statements sent so far (grouped ones count once).
    pub fn statements(&self) -> usize {
        self.shared.statements.load(Ordering::Relaxed)
    }

    /// Writer turns taken so far, each to write what was queued or to find it already taken.
    pub fn turns(&self) -> usize {
        self.shared.turns.load(Ordering::Relaxed)
    }
}

impl<A> Shared<A>
where
    A: ActiveModelTrait + Clone + Send + Sync + 'static,
    A::Entity: EntityTrait,
{
    /// Writes `batch`, then whatever was queued meanwhile, holding one writer turn throughout:
    /// handing the turn to a waiting caller would make the next group wait until that
    /// caller's thread gets to it. The turn goes back once the queue is empty or a pause is
    /// waiting for it.
    async fn write_while_queued(
        self: Arc<Self>,
        db: DatabaseConnection,
        mut batch: Vec<Waiting<A>>,
        turn: OwnedSemaphorePermit,
    ) {
        loop {
            write(&db, batch, &self.statements).await;
            if self.pausing.load(Ordering::SeqCst) > 0 {
                break;
            }
            batch = self.take_batch();
            if batch.is_empty() {
                break;
            }
        }
        drop(turn);
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Vec<Waiting<A>>> {
        // Pushing and draining cannot panic halfway; a poisoned queue is still a queue.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_batch(&self) -> Vec<Waiting<A>> {
        let mut queue = self.waiting();
        let n = self.grouping.batch_len(queue.iter().map(|w| w.size));
        queue.drain(..n).collect()
    }
}

/// A pause being asked for, counted in `pausing` until it is granted or given up (a dropped
/// `pause` future included).
struct Asking<'a>(&'a AtomicUsize);

impl<'a> Asking<'a> {
    fn new(pausing: &'a AtomicUsize) -> Self {
        pausing.fetch_add(1, Ordering::SeqCst);
        Self(pausing)
    }
}

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A caller's answer; a writer that went away without one abandoned the insert.
fn answered(
    received: Result<Result<(), StorageError>, oneshot::error::RecvError>,
) -> Result<(), StorageError> {
    received.unwrap_or_else(|_| Err(StorageError::Backend("the insert was abandoned".to_owned())))
}

async fn write<A>(db: &DatabaseConnection, batch: Vec<Waiting<A>>, statements: &AtomicUsize)
where
    A: ActiveModelTrait + Clone + Send + Sync + 'static,
{
    let (rows, senders): (Vec<A>, Vec<_>) = batch.into_iter().map(|w| (w.row, w.answer)).unzip();
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

#[cfg(test)]
mod tests {
    use super::Grouping;

    const LIMITS: Grouping = Grouping {
        writers: 2,
        max_rows: 4,
        max_bytes: 1000,
    };

    #[test]
    fn a_batch_stops_at_the_row_limit() {
        assert_eq!(LIMITS.batch_len([10; 8]), 4);
        assert_eq!(LIMITS.batch_len([10; 2]), 2);
        assert_eq!(LIMITS.batch_len([10]), 1);
        assert_eq!(LIMITS.batch_len([]), 0);
    }

    #[test]
    fn a_batch_takes_a_power_of_two_rows() {
        assert_eq!(LIMITS.batch_len([10; 3]), 2);
        let wide = Grouping {
            max_rows: 64,
            ..LIMITS
        };
        assert_eq!(wide.batch_len([10; 63]), 32);
        assert_eq!(wide.batch_len([10; 64]), 64);
        assert_eq!(wide.batch_len([10; 100]), 64);
    }

    #[test]
    fn a_batch_stops_before_the_row_that_would_pass_the_byte_limit() {
        assert_eq!(LIMITS.batch_len([400, 500, 200]), 2);
        assert_eq!(LIMITS.batch_len([400, 600, 1]), 2);
        assert_eq!(LIMITS.batch_len([400, 601, 1]), 1);
    }

    #[tokio::test]
    async fn a_pause_given_up_before_it_is_granted_no_longer_counts() {
        use super::GroupCommit;
        use crate::entity::selfservice_flows::ActiveModel;
        use std::sync::atomic::Ordering;
        use std::time::Duration;
        let flows = GroupCommit::<ActiveModel>::new(LIMITS);
        let writing = flows.writers.clone().try_acquire_owned().unwrap();
        let asked = tokio::time::timeout(Duration::from_millis(20), flows.pause()).await;
        assert!(asked.is_err(), "the pause was granted while a writer wrote");
        assert_eq!(flows.shared.pausing.load(Ordering::SeqCst), 0);
        drop(writing);
        assert!(flows.pause().await.is_some());
        assert_eq!(flows.shared.pausing.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_row_larger_than_the_byte_limit_goes_alone() {
        assert_eq!(LIMITS.batch_len([5000, 10]), 1);
        assert_eq!(LIMITS.batch_len([10, 5000]), 1);
    }
}

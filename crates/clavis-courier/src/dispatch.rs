//! The dispatcher: claims queued messages in batches, delivers them and records each attempt.
//! It sleeps until a message is queued on this node or the poll interval passes (messages
//! queued on other replicas, retries, claims left behind by a stopped node).

use crate::Transport;
use chrono::TimeDelta;
use clavis_core::courier::{Dispatch, MessageStatus, MessageStore};
use clavis_core::random::uuid_v4;
use clavis_core::{Clock, Rng, StorageError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How the dispatcher works through the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchPolicy {
    /// Attempts per message before it is abandoned (`courier.message_retries`).
    pub max_attempts: u32,
    /// How often the outbox is looked at when nothing wakes the dispatcher.
    pub poll_interval: Duration,
    /// Messages claimed at once.
    pub batch: u64,
    /// A claim older than this is taken over (its dispatcher stopped mid-delivery).
    pub stale_claim: TimeDelta,
}

impl Default for DispatchPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            poll_interval: Duration::from_secs(1),
            batch: 16,
            stale_claim: TimeDelta::minutes(10),
        }
    }
}

/// Delivers the outbox.
pub struct Dispatcher {
    store: Arc<dyn MessageStore>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    wake: Arc<Notify>,
    policy: DispatchPolicy,
}

impl Dispatcher {
    /// A dispatcher over `store`, woken through `wake` (shared with the [`crate::Outbox`]).
    pub fn new(
        store: Arc<dyn MessageStore>,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        wake: Arc<Notify>,
        policy: DispatchPolicy,
    ) -> Self {
        Self {
            store,
            transport,
            clock,
            rng,
            wake,
            policy,
        }
    }

    /// Works through the outbox until the task is dropped or aborted.
    pub async fn run(self) {
        loop {
            match self.dispatch_batch().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the courier cannot read its outbox"),
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.policy.poll_interval) => {}
            }
        }
    }

    /// Claims one batch and delivers it; returns how many messages it handled.
    pub async fn dispatch_batch(&self) -> Result<usize, StorageError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_messages(self.policy.batch, now, now - self.policy.stale_claim)
            .await?;
        for mut message in claimed.iter().cloned() {
            let outcome = self.transport.deliver(&message).await;
            let at = self.clock.now();
            message.send_count += 1;
            message.updated_at = at;
            message.status = match &outcome {
                Ok(()) => MessageStatus::Sent,
                Err(_) if message.send_count >= self.policy.max_attempts => {
                    MessageStatus::Abandoned
                }
                Err(_) => MessageStatus::Queued,
            };
            if let Err(error) = &outcome {
                tracing::warn!(
                    message = %message.id,
                    attempt = message.send_count,
                    %error,
                    "a mail could not be delivered"
                );
            }
            message.dispatches.push(Dispatch {
                id: uuid_v4(self.rng.as_ref()),
                error: outcome.err(),
                created_at: at,
            });
            self.store.record_dispatch(&message).await?;
        }
        Ok(claimed.len())
    }
}

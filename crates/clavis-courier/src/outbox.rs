//! Queuing: a flow's mail is rendered and stored as a queued message, and the dispatcher is
//! woken.

use async_trait::async_trait;
use clavis_core::courier::{Courier, CourierMessage, Mail, MessageStatus, MessageStore};
use clavis_core::random::uuid_v4;
use clavis_core::{Clock, CoreError, Rng};
use clavis_render::Renderer;
use std::sync::Arc;
use tokio::sync::Notify;

/// The `Courier` port over the outbox.
#[derive(Clone)]
pub struct Outbox {
    renderer: Renderer,
    store: Arc<dyn MessageStore>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    wake: Arc<Notify>,
}

impl Outbox {
    /// Queues into `store`, rendering with `renderer`; `wake` is the dispatcher's bell.
    pub fn new(
        renderer: Renderer,
        store: Arc<dyn MessageStore>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            renderer,
            store,
            clock,
            rng,
            wake,
        }
    }
}

#[async_trait]
impl Courier for Outbox {
    async fn queue(&self, mail: Mail) -> Result<(), CoreError> {
        let rendered = self
            .renderer
            .mail(mail.template.as_str(), &mail.model)
            .map_err(|e| {
                CoreError::Internal(format!(
                    "the mail template `{}` cannot be rendered: {e}",
                    mail.template.as_str()
                ))
            })?;
        let now = self.clock.now();
        let message = CourierMessage {
            id: uuid_v4(self.rng.as_ref()),
            status: MessageStatus::Queued,
            recipient: mail.recipient,
            subject: rendered.subject,
            body: rendered.body_text,
            body_html: rendered.body_html,
            template: mail.template.as_str().to_owned(),
            send_count: 0,
            dispatches: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.store.insert_message(&message).await?;
        self.wake.notify_one();
        Ok(())
    }
}

//! Mail delivery for Clavis.
//!
//! [`Outbox`] implements the core's `Courier` port: it renders a flow's mail from
//! `ui-templates/email/` and stores it as a queued message, in the request that asked for it.
//! A [`Dispatcher`] task claims queued messages in batches and hands them to a [`Transport`]:
//! [`SmtpTransport`] (lettre, STARTTLS or implicit TLS through rustls) or [`LogTransport`] (the
//! development default, which prints the mail to the log). A failed delivery is retried until
//! `message_retries` attempts, then the message is abandoned; every attempt is recorded on the
//! message. This crate never decides what to send or to whom.

mod dispatch;
mod log;
mod outbox;
mod smtp;

pub use dispatch::{DispatchPolicy, Dispatcher};
pub use log::LogTransport;
pub use outbox::Outbox;
pub use smtp::{SmtpError, SmtpTransport};

use async_trait::async_trait;
use clavis_core::courier::CourierMessage;

/// Delivers one message.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends `message`; the error text is recorded on the message (never its body).
    async fn deliver(&self, message: &CourierMessage) -> Result<(), String>;
}

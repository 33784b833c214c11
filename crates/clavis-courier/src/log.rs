//! The development transport: mail goes to the log instead of a mail server, so
//! `clavis serve --dev` can recover and verify accounts with nothing else installed.

use crate::Transport;
use async_trait::async_trait;
use clavis_core::courier::CourierMessage;

/// Prints each message (recipient, subject and plain-text body) at `info` level. Only for
/// development: the body carries one-time codes.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogTransport;

#[async_trait]
impl Transport for LogTransport {
    async fn deliver(&self, message: &CourierMessage) -> Result<(), String> {
        tracing::info!(
            to = %message.recipient,
            subject = %message.subject,
            template = %message.template,
            "mail (development mode: printed, not sent)\n{}",
            message.body
        );
        Ok(())
    }
}

//! Mail to people: what the flows ask to send ([`Mail`], through the [`Courier`] port), and the
//! persisted outbox a dispatcher works through ([`CourierMessage`], [`MessageStore`]).
//!
//! Flows only queue: a message is rendered and stored in the same request, and a dispatcher
//! (`clavis-courier`) delivers it later, retrying on failure, so a slow or unreachable mail
//! server never holds a flow up. This module knows no template engine and no SMTP.

use crate::error::CoreError;
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

/// Which message to send: Kratos' `template_type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailTemplate {
    /// A recovery code for an address that belongs to an account.
    RecoveryCodeValid,
    /// Someone asked to recover an account for an address that belongs to none.
    RecoveryCodeInvalid,
    /// A verification code (and link) for an address of an account.
    VerificationCodeValid,
    /// Someone asked to verify an address that belongs to no account.
    VerificationCodeInvalid,
}

impl MailTemplate {
    /// Every template, for listings and checks that each one renders.
    pub const ALL: [MailTemplate; 4] = [
        MailTemplate::RecoveryCodeValid,
        MailTemplate::RecoveryCodeInvalid,
        MailTemplate::VerificationCodeValid,
        MailTemplate::VerificationCodeInvalid,
    ];

    /// The stored and wire name, also the template directory's name.
    pub fn as_str(&self) -> &'static str {
        match self {
            MailTemplate::RecoveryCodeValid => "recovery_code_valid",
            MailTemplate::RecoveryCodeInvalid => "recovery_code_invalid",
            MailTemplate::VerificationCodeValid => "verification_code_valid",
            MailTemplate::VerificationCodeInvalid => "verification_code_invalid",
        }
    }
}

/// A message a flow wants sent: the recipient, the template, and the values it shows.
#[derive(Clone, PartialEq)]
pub struct Mail {
    pub recipient: String,
    pub template: MailTemplate,
    /// The template's variables (`to`, `recovery_code`, `verification_url`, ...). Holds a
    /// one-time code, so the type has no `Debug`.
    pub model: Value,
}

/// Queues mail for delivery.
#[async_trait]
pub trait Courier: Send + Sync {
    /// Renders `mail` and stores it for the dispatcher; returns once it is stored.
    async fn queue(&self, mail: Mail) -> Result<(), CoreError>;
}

/// Where a stored message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Waiting for (another) delivery attempt.
    Queued,
    /// A dispatcher claimed it and is delivering it.
    Processing,
    Sent,
    /// Every attempt failed; no more are made.
    Abandoned,
}

impl MessageStatus {
    /// The stored and wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Processing => "processing",
            MessageStatus::Sent => "sent",
            MessageStatus::Abandoned => "abandoned",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Queued, Self::Processing, Self::Sent, Self::Abandoned]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    pub id: Uuid,
    /// The delivery failed with this error, or succeeded (`None`).
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A rendered message in the outbox.
#[derive(Clone, PartialEq)]
pub struct CourierMessage {
    pub id: Uuid,
    pub status: MessageStatus,
    pub recipient: String,
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// The HTML body, sent as the alternative part.
    pub body_html: String,
    /// The template's name ([`MailTemplate::as_str`]).
    pub template: String,
    pub send_count: u32,
    pub dispatches: Vec<Dispatch>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for CourierMessage {
    // The bodies carry one-time codes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CourierMessage")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("template", &self.template)
            .field("send_count", &self.send_count)
            .finish_non_exhaustive()
    }
}

/// Which messages a listing returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFilter {
    pub status: Option<MessageStatus>,
    pub recipient: Option<String>,
}

/// The outbox.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a new message.
    async fn insert_message(&self, message: &CourierMessage) -> Result<(), StorageError>;
    /// Moves up to `limit` messages that are queued, or were claimed before `stale_before` by a
    /// dispatcher that never finished them, to `processing` in one statement, oldest first,
    /// and returns them. Two dispatchers never claim the same message.
    async fn claim_messages(
        &self,
        limit: u64,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<CourierMessage>, StorageError>;
    /// Writes a claimed message's status, send count and dispatches.
    async fn record_dispatch(&self, message: &CourierMessage) -> Result<(), StorageError>;
    /// Messages matching `filter`, newest first, after the message `after` (keyset page).
    async fn list_messages(
        &self,
        filter: &MessageFilter,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<CourierMessage>, StorageError>;
    /// One message.
    async fn get_message(&self, id: Uuid) -> Result<Option<CourierMessage>, StorageError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_names_fail() {
        for status in [
            MessageStatus::Queued,
            MessageStatus::Processing,
            MessageStatus::Sent,
            MessageStatus::Abandoned,
        ] {
            assert_eq!(MessageStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(MessageStatus::parse("failed"), None);
    }
}

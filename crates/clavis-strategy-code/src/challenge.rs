//! What recovery and verification share: sending a code to an address and checking the
//! answer. The two differ only in which addresses count, which mail goes out and how things
//! are labelled, which [`Purpose`] names.

use crate::nodes;
use crate::payload::{self, Request};
use crate::state::SentCode;
use crate::{CodeMethod, internal};
use chrono::TimeDelta;
use clavis_core::CoreError;
use clavis_core::courier::{Mail, MailTemplate};
use clavis_core::flow::method::{ChallengeOutcome, FieldMessage};
use clavis_core::flow::{FlowState, Step};
use clavis_core::identity::Identity;
use clavis_types::message;
use clavis_types::ui::Message;
use serde_json::{Value, json};

/// Which addresses a flow sends codes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Recovery,
    Verifiable,
}

/// One use of codes: recovery or verification.
pub struct Purpose {
    /// The key purpose of the code digest, so a recovery code never passes as a verification
    /// code.
    pub digest: &'static str,
    pub addresses: AddressKind,
    pub valid: MailTemplate,
    pub invalid: MailTemplate,
    /// The model key the code goes under (`recovery_code`, `verification_code`).
    pub code_key: &'static str,
    /// Whether the mail carries a link that submits the code (verification).
    pub link: bool,
    pub code_label: fn() -> Message,
    pub sent: fn() -> Message,
    pub wrong_code: fn() -> Message,
}

/// How long the counter of a code's answers is kept: longer than any flow lives.
const ATTEMPTS_KEPT: TimeDelta = TimeDelta::days(2);

/// A uniformly drawn six-digit code.
fn six_digits(rng: &dyn clavis_core::Rng) -> String {
    // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32: drawing again above it
    // keeps every code equally likely.
    loop {
        let mut bytes = [0u8; 4];
        rng.fill(&mut bytes);
        let n = u32::from_le_bytes(bytes);
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

impl CodeMethod {
    /// Handles a submission: sends a code, or checks one.
    pub(crate) async fn challenge(
        &self,
        purpose: &Purpose,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<ChallengeOutcome, CoreError> {
        match payload::read(body) {
            Request::Empty => Ok(ChallengeOutcome::Rejected {
                messages: vec![FieldMessage::on("email", message::required("email"))],
            }),
            Request::Send(address) if !plausible_email(&address) => {
                Ok(ChallengeOutcome::Rejected {
                    messages: vec![FieldMessage::on(
                        "email",
                        message::validation_generic(&format!(
                            "\"{address}\" is not valid \"email\""
                        )),
                    )],
                })
            }
            Request::Send(address) => {
                let identity = match purpose.addresses {
                    AddressKind::Recovery => {
                        self.deps
                            .addresses
                            .find_identity_by_recovery_address(&address)
                            .await?
                    }
                    AddressKind::Verifiable => {
                        self.deps
                            .addresses
                            .find_identity_by_verifiable_address(&address)
                            .await?
                    }
                };
                let nodes = self
                    .deliver(purpose, step, &address, identity.as_ref())
                    .await?;
                Ok(ChallengeOutcome::Continue {
                    nodes: Some(nodes),
                    messages: vec![FieldMessage::global((purpose.sent)())],
                    state: FlowState::SentEmail,
                })
            }
            Request::Check(code) => self.check(purpose, step, &code).await,
        }
    }

    /// Sends a new code for `address` (or, for an address of no account, remembers that no
    /// code can match) and returns the nodes that take the answer.
    pub(crate) async fn deliver(
        &self,
        purpose: &Purpose,
        step: &mut Step<'_>,
        address: &str,
        identity: Option<&Identity>,
    ) -> Result<Vec<Node>, CoreError> {
        let now = self.deps.clock.now();
        let flow = step.flow();
        let minutes = (flow.expires_at - now).num_minutes().max(1);
        let state = match identity {
            Some(identity) => {
                let code = six_digits(self.deps.rng.as_ref());
                let digest = self
                    .deps
                    .cipher
                    .keyed_digest(purpose.digest, format!("{}:{code}", flow.id).as_bytes())
                    .map_err(internal)?;
                let mut model = json!({
                    "to": address,
                    purpose.code_key: code,
                    "identity": {"id": identity.id, "traits": identity.traits},
                    "expires_in_minutes": minutes,
                });
                if purpose.link {
                    model["verification_url"] = json!(format!("{}&code={code}", flow.ui.action));
                }
                self.deps
                    .courier
                    .queue(Mail {
                        recipient: address.to_owned(),
                        template: purpose.valid,
                        model,
                    })
                    .await?;
                SentCode {
                    address: address.to_owned(),
                    identity: Some(identity.id),
                    digest: Some(digest),
                    sent_at: now,
                }
            }
            None => {
                let notify = match purpose.addresses {
                    AddressKind::Recovery => self.policy.notify_unknown_recovery,
                    AddressKind::Verifiable => self.policy.notify_unknown_verification,
                };
                if notify {
                    self.deps
                        .courier
                        .queue(Mail {
                            recipient: address.to_owned(),
                            template: purpose.invalid,
                            model: json!({"to": address}),
                        })
                        .await?;
                }
                SentCode {
                    address: address.to_owned(),
                    identity: None,
                    digest: None,
                    sent_at: now,
                }
            }
        };
        step.set_state(&state)?;
        Ok(nodes::ask_code((purpose.code_label)(), address))
    }

    /// Checks an answer against the code last sent. Every answer counts against the code's
    /// limit before it is compared, so guesses sent together cannot exceed it.
    async fn check(
        &self,
        purpose: &Purpose,
        step: &mut Step<'_>,
        code: &str,
    ) -> Result<ChallengeOutcome, CoreError> {
        let wrong = |state: FlowState| ChallengeOutcome::Continue {
            nodes: None,
            messages: vec![FieldMessage::global((purpose.wrong_code)())],
            state,
        };
        let Some(sent) = step.state::<SentCode>() else {
            return Ok(wrong(step.flow().state));
        };
        let now = self.deps.clock.now();
        let bucket = format!(
            "code_attempts:{}:{}",
            step.flow().id,
            sent.sent_at.timestamp_micros()
        );
        let answers = self
            .deps
            .attempts
            .hit(&bucket, sent.sent_at, now - ATTEMPTS_KEPT)
            .await?;
        let (Some(identity), Some(digest)) = (sent.identity, sent.digest.as_deref()) else {
            return Ok(wrong(FlowState::SentEmail));
        };
        let data = format!("{}:{code}", step.flow().id);
        if answers > self.policy.max_submissions
            || !self
                .deps
                .cipher
                .matches_keyed_digest(purpose.digest, data.as_bytes(), digest)
        {
            return Ok(wrong(FlowState::SentEmail));
        }
        Ok(ChallengeOutcome::Passed {
            identity,
            address: sent.address,
        })
    }
}

use clavis_types::ui::Node;

/// Something shaped like an e-mail address: one `@` with text on both sides, no spaces.
fn plausible_email(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !address.chars().any(char::is_whitespace)
                && address.len() <= 320
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counting(std::sync::atomic::AtomicU32);

    impl clavis_core::Rng for Counting {
        fn fill(&self, dest: &mut [u8]) {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // The first draw is above the rejection bound, the second is 1_000_007.
            let value: u32 = if n == 0 { u32::MAX } else { 1_000_007 };
            dest.copy_from_slice(&value.to_le_bytes());
        }
    }

    #[test]
    fn codes_have_six_digits_and_biased_draws_are_redrawn() {
        let rng = Counting(std::sync::atomic::AtomicU32::new(0));
        assert_eq!(six_digits(&rng), "000007");
        let code = six_digits(&clavis_core::OsRng);
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn email_shapes() {
        assert!(plausible_email("ada@example.org"));
        assert!(!plausible_email("ada"));
        assert!(!plausible_email("@example.org"));
        assert!(!plausible_email("a b@example.org"));
        assert!(!plausible_email("a@b@c"));
    }
}

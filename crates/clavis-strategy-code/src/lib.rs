//! The code method: a six-digit one-time code sent by e-mail proves control of an address,
//! for account recovery (to a recovery address) and for address verification (to a
//! verifiable address, with a link that carries the code).
//!
//! [`CodeMethod`] implements the recovery and verification capabilities. A code lives in the
//! flow's private state only as an HMAC-SHA256 digest under the cipher secret, bound to the
//! flow, and is checked in constant time. Wrong answers are counted per code through the
//! rate-limit port (one atomic upsert per attempt, shared by every replica), so concurrent
//! guesses cannot exceed `max_submissions`; after that the code is dead and only a new one
//! helps. Whether an address belongs to an account is never revealed: the answer to a
//! request for a code is the same either way. It never touches HTTP, sessions or storage
//! beyond its ports.

mod challenge;
mod nodes;
mod payload;
mod recovery;
mod state;
mod verification;

use clavis_core::cipher::Cipher;
use clavis_core::clock::Clock;
use clavis_core::courier::Courier;
use clavis_core::flow::method::Method;
use clavis_core::identity::AddressLookup;
use clavis_core::random::Rng;
use clavis_core::rate_limit::RateLimitStore;
use clavis_types::ui::NodeGroup;
use std::sync::Arc;

/// The ports the code method uses.
pub struct CodeDeps {
    /// Finds the identity an address belongs to.
    pub addresses: Arc<dyn AddressLookup>,
    /// Queues the mail that carries a code.
    pub courier: Arc<dyn Courier>,
    /// Counts the answers given to each code.
    pub attempts: Arc<dyn RateLimitStore>,
    /// Digests codes under `secrets.cipher`.
    pub cipher: Cipher,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
}

/// `selfservice.methods.code.config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePolicy {
    /// Answers allowed per code before it stops working (Kratos' default is 5).
    pub max_submissions: u32,
    /// Whether an address that belongs to no account is told that someone asked for a
    /// recovery code (Kratos' `selfservice.flows.recovery.notify_unknown_recipients`).
    pub notify_unknown_recovery: bool,
    /// The same for verification codes.
    pub notify_unknown_verification: bool,
}

impl Default for CodePolicy {
    fn default() -> Self {
        Self {
            max_submissions: 5,
            notify_unknown_recovery: false,
            notify_unknown_verification: false,
        }
    }
}

/// The code method.
pub struct CodeMethod {
    deps: CodeDeps,
    policy: CodePolicy,
}

impl CodeMethod {
    /// The method id and the `method` value of its submissions.
    pub const ID: &'static str = "code";

    /// Builds the method over its ports.
    pub fn new(deps: CodeDeps, policy: CodePolicy) -> Self {
        Self { deps, policy }
    }
}

impl Method for CodeMethod {
    fn id(&self) -> &'static str {
        Self::ID
    }

    fn group(&self) -> NodeGroup {
        NodeGroup::Code
    }
}

/// Turns an internal failure into the core's error; it never carries a code.
fn internal(what: impl std::fmt::Display) -> clavis_core::CoreError {
    clavis_core::CoreError::Internal(format!("code: {what}"))
}

//! The lookup-secret method: twelve single-use backup codes as a second factor, for the day
//! the authenticator app is gone.
//!
//! [`LookupSecretMethod`] implements the login capability (aal2, for identities that confirmed
//! a set of codes) and the settings capability (generate, confirm, reveal, regenerate,
//! disable). Codes are shown once, when generated; the credential keeps only their HMAC-SHA256
//! digests under the cipher secret, and "reveal" afterwards shows which codes are used and
//! when. A code is consumed by recording its use through the `SecretUses` port with one
//! conditional insert, so of two requests racing with one code exactly one wins. It never
//! touches HTTP, sessions or storage beyond its ports.

mod codes;
mod credential;
mod login;
mod nodes;
mod payload;
mod settings;
mod state;

use clavis_core::cipher::Cipher;
use clavis_core::clock::Clock;
use clavis_core::flow::method::Method;
use clavis_core::identity::uses::SecretUses;
use clavis_core::random::Rng;
use clavis_types::ui::NodeGroup;
use std::sync::Arc;

pub use codes::CODE_COUNT;

/// The ports the lookup-secret method uses.
pub struct LookupSecretDeps {
    /// Records each used code once.
    pub uses: Arc<dyn SecretUses>,
    /// Digests codes under `secrets.cipher`, and seals codes waiting for confirmation.
    pub cipher: Cipher,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
}

/// The lookup-secret method.
pub struct LookupSecretMethod {
    deps: LookupSecretDeps,
}

impl LookupSecretMethod {
    /// The method id and the `method` value of its submissions.
    pub const ID: &'static str = "lookup_secret";

    /// Builds the method over its ports.
    pub fn new(deps: LookupSecretDeps) -> Self {
        Self { deps }
    }
}

impl Method for LookupSecretMethod {
    fn id(&self) -> &'static str {
        Self::ID
    }

    fn group(&self) -> NodeGroup {
        NodeGroup::LookupSecret
    }
}

/// Turns an internal failure into the core's error; it never carries a code.
fn internal(what: impl std::fmt::Display) -> clavis_core::CoreError {
    clavis_core::CoreError::Internal(format!("lookup_secret: {what}"))
}

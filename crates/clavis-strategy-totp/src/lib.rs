//! The TOTP method: time-based one-time codes from an authenticator app (RFC 6238) as a second
//! factor.
//!
//! [`TotpMethod`] implements the login capability (at aal2 only, for identities that enrolled)
//! and the settings capability (enrol with a QR code or the secret, confirmed by a valid code;
//! unlink). The seed is sealed with the configured cipher secret before it is stored, in the
//! credential and in the flow while it waits for confirmation. Each time step is accepted once
//! per identity: uses are recorded through the `SecretUses` port with one conditional insert, so
//! a code replayed, or submitted twice at the same moment, is refused. It never touches HTTP,
//! sessions or storage beyond its ports.

mod code;
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

pub use code::TIME_STEP_SECONDS;

/// The ports and settings the TOTP method uses.
pub struct TotpDeps {
    /// Records each accepted time step once.
    pub uses: Arc<dyn SecretUses>,
    /// Seals the seed at rest (`secrets.cipher`).
    pub cipher: Cipher,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
    /// The issuer shown in authenticator apps (`selfservice.methods.totp.config.issuer`).
    pub issuer: String,
}

/// The TOTP method.
pub struct TotpMethod {
    deps: TotpDeps,
}

impl TotpMethod {
    /// The method id and the `method` value of its submissions.
    pub const ID: &'static str = "totp";

    /// Builds the method over its ports.
    pub fn new(deps: TotpDeps) -> Self {
        Self { deps }
    }
}

impl Method for TotpMethod {
    fn id(&self) -> &'static str {
        Self::ID
    }

    fn group(&self) -> NodeGroup {
        NodeGroup::Totp
    }
}

/// Turns an internal failure (a seed that cannot be opened, a QR code that cannot be drawn)
/// into the core's error; it says what broke, never the secret.
fn internal(what: impl std::fmt::Display) -> clavis_core::CoreError {
    clavis_core::CoreError::Internal(format!("totp: {what}"))
}

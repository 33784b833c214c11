//! The password method: a secret the user knows, hashed with argon2id.
//!
//! [`PasswordMethod`] implements the login, registration and settings capabilities of the strategy
//! interface (`clavis_core::flow::method`). It stores a versioned credential
//! ([`credential::PasswordConfig`]), verifies argon2id and the hashes other systems made (bcrypt,
//! pbkdf2, scrypt, argon2i; accepted by the admin API's import and upgraded at the next login),
//! hashes on the blocking pool under a concurrency limit, and spends the same hashing time on
//! unknown identifiers as on wrong passwords. It never touches HTTP, sessions or storage beyond its ports.

pub mod breached;
pub mod credential;
pub mod hasher;
mod import;
pub mod imported;
mod login;
mod nodes;
mod payload;
pub mod policy;
mod registration;
mod settings;

pub use hasher::{Argon2Params, HashError, PasswordHasher};
pub use policy::PasswordPolicy;

use clavis_core::flow::method::Method;
use clavis_core::identity::IdentifierLookup;
use clavis_types::ui::NodeGroup;
use std::sync::Arc;

/// The ports and settings the password method uses.
pub struct PasswordDeps {
    pub lookup: Arc<dyn IdentifierLookup>,
    pub hasher: Arc<PasswordHasher>,
    pub policy: PasswordPolicy,
}

/// The password method.
pub struct PasswordMethod {
    deps: PasswordDeps,
}

impl PasswordMethod {
    /// The method id and the `method` value of its submissions.
    pub const ID: &'static str = "password";

    /// Builds the method over its ports.
    pub fn new(deps: PasswordDeps) -> Self {
        Self { deps }
    }
}

impl Method for PasswordMethod {
    fn id(&self) -> &'static str {
        Self::ID
    }

    fn group(&self) -> NodeGroup {
        NodeGroup::Password
    }
}

//! The wire model of Clavis: what a client sees on the HTTP API.
//!
//! Every type here serialises exactly as Ory Kratos' corresponding JSON, so the official Ory
//! SDKs decode it unchanged. This crate holds data shapes only — no behaviour, no I/O — and
//! depends on nothing but serde, uuid and chrono, so every other crate may use it.

pub mod admin;
pub mod error;
pub mod flow;
pub mod health;
pub mod id;
pub mod identity;
pub mod message;
pub mod schema;
pub mod session;
pub mod ui;

pub use error::{ErrorBody, ErrorEnvelope, ErrorId};
pub use id::{IdentityId, SessionId};

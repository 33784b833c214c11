//! The Clavis domain: identities, identity schemas and sessions, and the ports through which the
//! domain reaches storage, time and randomness.
//!
//! This crate knows no framework: no HTTP, no SQL, no templates. Storage is reached only through
//! the repository traits declared next to the code that consumes them (`identity::IdentityStore`,
//! `session::SessionStore`), time only through [`Clock`], randomness only through [`Rng`], work
//! that outlives a request only through [`Background`], so every rule here can be tested with
//! in-memory fakes and a fake clock.

pub mod background;
pub mod cipher;
pub mod clock;
pub mod cookie;
pub mod courier;
pub mod device;
pub mod error;
pub mod flow;
pub mod grant;
pub mod health;
pub mod identity;
pub mod page;
pub mod random;
pub mod rate_limit;
pub mod secret;
pub mod session;
pub mod storage;

pub use background::Background;
pub use clock::{Clock, SystemClock};
pub use error::CoreError;
pub use random::{OsRng, Rng};
pub use storage::StorageError;

//! The stored TOTP credential: the seed, sealed, and a generation id that names this
//! enrolment in recorded uses (a new enrolment starts with no used steps).

use serde::{Deserialize, Serialize};

/// `identity_credentials.config` of a `totp` credential, versioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum TotpConfig {
    #[serde(rename = "1")]
    V1 {
        /// The seed sealed with `secrets.cipher` (`xc1:…`).
        sealed_secret: String,
        /// Random id of this enrolment; the prefix of its recorded uses.
        generation: String,
    },
}

//! The stored lookup-secret credential: digests of the codes, in the order they were shown,
//! and the generation id that binds digests and recorded uses to this set.

use serde::{Deserialize, Serialize};

/// `identity_credentials.config` of a `lookup_secret` credential, versioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum LookupConfig {
    #[serde(rename = "1")]
    V1 {
        /// Random id of this set; the prefix of its recorded uses.
        generation: String,
        /// HMAC-SHA256 digests of the codes, hex.
        digests: Vec<String>,
    },
}

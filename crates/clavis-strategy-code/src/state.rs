//! What the code method remembers inside a flow between sending a code and receiving it.

use chrono::{DateTime, Utc};
use clavis_core::flow::StrategyState;
use clavis_types::IdentityId;
use serde::{Deserialize, Serialize};

/// The code last sent for this flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentCode {
    /// The address the code went to (lower-cased e-mail).
    pub address: String,
    /// The identity the address belongs to; `None` when it belongs to none (then no code
    /// matches, and the answer looks the same as for a wrong code).
    pub identity: Option<IdentityId>,
    /// HMAC-SHA256 of `<flow id>:<code>` under the cipher secret; `None` with `identity`.
    pub digest: Option<String>,
    /// When it was sent; also names the attempt counter of this code.
    pub sent_at: DateTime<Utc>,
}

impl StrategyState for SentCode {
    const METHOD: &'static str = "code";
}

//! The lookup-secret method's private state in a settings flow: codes shown and waiting for
//! confirmation, sealed with the cipher secret.

use clavis_core::flow::StrategyState;
use serde::{Deserialize, Serialize};

/// Codes generated in this flow, not yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCodes {
    /// The codes as a JSON list, sealed (`xc1:…`).
    pub sealed_codes: String,
}

impl StrategyState for PendingCodes {
    const METHOD: &'static str = "lookup_secret";
}

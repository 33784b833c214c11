//! The TOTP method's private state in a settings flow: the seed shown to the user, sealed,
//! until a valid code confirms it.

use clavis_core::flow::StrategyState;
use serde::{Deserialize, Serialize};

/// The seed offered for enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEnrolment {
    pub sealed_secret: String,
}

impl StrategyState for PendingEnrolment {
    const METHOD: &'static str = "totp";
}

//! The error envelope (`{"error": {...}}`) and Kratos' operator-facing error ids.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Kratos' error ids: stable, operator-facing names that appear in the error envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorId {
    SessionAlreadyAvailable,
    SessionAal1Required,
    SessionAalAlreadyFulfilled,
    SessionAal2Required,
    SessionRefreshRequired,
    SessionInactive,
    SessionVerifiedAddressRequired,
    SecurityCsrfViolation,
    SecurityIdentityMismatch,
    SelfServiceFlowExpired,
    SelfServiceFlowReplaced,
    SelfServiceFlowDisabled,
    SelfServiceFlowReturnToForbidden,
    BrowserLocationChangeRequired,
    IdentityDisabled,
}

/// The body of an error: `code`, `status` and `message` are always present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<ErrorId>,
    pub code: u16,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
}

/// `{"error": {...}}`, plus the top-level siblings Kratos adds to some errors
/// (`redirect_browser_to`, `use_flow_id`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
    #[serde(flatten)]
    pub siblings: Map<String, Value>,
}

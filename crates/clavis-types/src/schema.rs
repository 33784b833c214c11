//! Identity schema listings.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of `GET /schemas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentitySchemaContainer {
    pub id: String,
    pub schema: Value,
}

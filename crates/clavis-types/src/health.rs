//! Health and version answers.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `{"status": "ok"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthStatus {
    pub status: String,
}

/// `{"errors": {"database": "..."}}`: why the service is not ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthNotReady {
    pub errors: BTreeMap<String, String>,
}

/// `{"version": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub version: String,
}

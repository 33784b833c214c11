//! The session as a client sees it (`GET /sessions/whoami`).

use crate::id::{DeviceId, SessionId};
use crate::identity::Identity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Authenticator assurance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aal {
    Aal0,
    Aal1,
    Aal2,
    Aal3,
}

impl Aal {
    /// The wire spelling (`aal1`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            Aal::Aal0 => "aal0",
            Aal::Aal1 => "aal1",
            Aal::Aal2 => "aal2",
            Aal::Aal3 => "aal3",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(value: &str) -> Option<Aal> {
        match value {
            "aal0" => Some(Aal::Aal0),
            "aal1" => Some(Aal::Aal1),
            "aal2" => Some(Aal::Aal2),
            "aal3" => Some(Aal::Aal3),
            _ => None,
        }
    }
}

/// One completed authentication step of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationMethod {
    pub method: String,
    pub aal: Aal,
    pub completed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// Where a session was used from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDevice {
    pub id: DeviceId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A session (`session` in Kratos' OpenAPI document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub active: bool,
    pub expires_at: DateTime<Utc>,
    pub authenticated_at: DateTime<Utc>,
    pub authenticator_assurance_level: Aal,
    pub authentication_methods: Vec<AuthenticationMethod>,
    pub issued_at: DateTime<Utc>,
    /// Left out where the caller did not ask for it (`expand=identity` on the admin API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    pub devices: Vec<SessionDevice>,
    /// The app the caller authenticated as, when it presented a per-client credential (an
    /// app password) instead of a session token: the name the app gave itself or its owner
    /// gave it. A Clavis extension; absent for ordinary sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<SessionClient>,
}

/// The app behind a per-client credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClient {
    pub id: uuid::Uuid,
    /// What kind of credential it holds (`app_password`).
    pub kind: String,
    pub name: String,
}

/// One app holding a per-client credential for the caller's identity (`GET /sessions/apps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientApp {
    pub id: uuid::Uuid,
    pub kind: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Whether the request was made with this app's credential.
    pub current: bool,
}

/// `{"count": n}`: how many sessions `DELETE /sessions` revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSessionsCount {
    pub count: u64,
}

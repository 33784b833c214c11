//! Self-service flow objects as clients see them, and the success bodies of native flows.

use crate::identity::Identity;
use crate::session::{Aal, Session};
use crate::ui::UiContainer;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// `api` for native apps, `browser` for cookie-based apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowType {
    Api,
    Browser,
}

/// A login flow (`loginFlow`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginFlow {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub request_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    pub ui: UiContainer,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub refresh: bool,
    pub requested_aal: Aal,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transient_payload: Option<Value>,
    /// The init code of a session-token exchange; only in the answer that created the flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_exchange_code: Option<String>,
}

/// A registration flow (`registrationFlow`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationFlow {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub request_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    pub ui: UiContainer,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transient_payload: Option<Value>,
    /// The init code of a session-token exchange; only in the answer that created the flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_exchange_code: Option<String>,
}

/// A settings flow (`settingsFlow`): always about the identity of the session that created it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsFlow {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub request_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    pub ui: UiContainer,
    pub identity: Identity,
    pub state: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continue_with: Vec<ContinueWith>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transient_payload: Option<Value>,
}

/// A recovery flow (`recoveryFlow`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryFlow {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub request_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    pub ui: UiContainer,
    pub state: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continue_with: Vec<ContinueWith>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transient_payload: Option<Value>,
}

/// A verification flow (`verificationFlow`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationFlow {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub request_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    pub ui: UiContainer,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transient_payload: Option<Value>,
}

/// `continue_with` entries of success bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ContinueWith {
    SetOrySessionToken {
        ory_session_token: String,
    },
    RedirectBrowserTo {
        redirect_browser_to: String,
    },
    /// A verification flow was started for `verifiable_address` (code sent).
    ShowVerificationUi {
        flow: ContinueWithVerificationFlow,
    },
    /// A settings flow waits (after recovery).
    ShowSettingsUi {
        flow: ContinueWithFlow,
    },
}

/// The flow a `show_settings_ui` entry names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinueWithFlow {
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The flow a `show_verification_ui` entry names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinueWithVerificationFlow {
    pub id: Uuid,
    pub verifiable_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `successfulNativeLogin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessfulNativeLogin {
    pub session: Session,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continue_with: Vec<ContinueWith>,
}

/// `successfulNativeRegistration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessfulNativeRegistration {
    pub identity: Identity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continue_with: Vec<ContinueWith>,
}

/// `logoutFlow`: where a browser goes to end its session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutFlow {
    pub logout_url: String,
    pub logout_token: String,
}

/// `flowError`: an error kept for the error page of browser flows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowError {
    pub id: Uuid,
    pub error: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `successfulCodeExchangeResponse`: the session a native app's flow ended with, and its token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessfulCodeExchange {
    pub session: Session,
    pub session_token: String,
}

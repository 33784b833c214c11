//! The password method's submission bodies.

use serde::Deserialize;

/// `updateLoginFlowWithPasswordMethod`.
#[derive(Debug, Deserialize)]
pub struct LoginBody {
    #[serde(default)]
    pub identifier: Option<String>,
    /// Deprecated alias of `identifier`, still sent by older clients.
    #[serde(default)]
    pub password_identifier: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// `updateRegistrationFlowWithPasswordMethod` (traits are handled by the engine).
#[derive(Debug, Deserialize)]
pub struct RegistrationBody {
    #[serde(default)]
    pub password: Option<String>,
}

/// `updateSettingsFlowWithPasswordMethod`.
#[derive(Debug, Deserialize)]
pub struct SettingsBody {
    #[serde(default)]
    pub password: Option<String>,
}

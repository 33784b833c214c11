//! Passwords through the admin API: `{"password": "..."}` is hashed with argon2id (the policy
//! is not applied: an operator's import is trusted), `{"hashed_password": "..."}` is kept as it
//! is when it is a hash Clavis can verify, and is replaced with argon2id at the next login.

use crate::PasswordMethod;
use crate::credential::PasswordConfig;
use crate::hasher::Password;
use crate::imported::check_format;
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::identity::CredentialKind;
use clavis_core::identity::admin::CredentialImport;
use serde::Deserialize;
use serde_json::Value;

/// `identityWithCredentialsPasswordConfig`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportConfig {
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    hashed_password: Option<String>,
    #[serde(default)]
    use_password_migration_hook: Option<bool>,
}

#[async_trait]
impl CredentialImport for PasswordMethod {
    fn kind(&self) -> CredentialKind {
        CredentialKind::Password
    }

    async fn import(&self, config: &Value) -> Result<Value, CoreError> {
        let invalid = |reason: String| CoreError::InvalidParameter(reason);
        let config: ImportConfig = serde_json::from_value(config.clone()).map_err(|e| {
            invalid(format!(
                "credentials.password.config must hold `password` or `hashed_password`: {e}"
            ))
        })?;
        if config.use_password_migration_hook == Some(true) {
            return Err(invalid(
                "credentials.password.config.use_password_migration_hook is not supported"
                    .to_owned(),
            ));
        }
        let hashed_password = match (config.password, config.hashed_password) {
            (Some(password), None) if !password.is_empty() => self
                .deps
                .hasher
                .hash(&Password::new(password))
                .await
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            (None, Some(hash)) => {
                check_format(&hash).map_err(|e| {
                    invalid(format!("credentials.password.config.hashed_password: {e}"))
                })?;
                hash
            }
            _ => {
                return Err(invalid(
                    "credentials.password.config must hold either a non-empty `password` or `hashed_password`"
                        .to_owned(),
                ));
            }
        };
        serde_json::to_value(PasswordConfig::V1 { hashed_password })
            .map_err(|e| CoreError::Internal(e.to_string()))
    }
}

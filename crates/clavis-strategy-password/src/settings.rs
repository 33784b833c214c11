//! Password settings: set or change the password of the signed-in identity. Always needs a
//! privileged session (the engine checks it before this runs).

use crate::credential::PasswordConfig;
use crate::hasher::Password;
use crate::payload::SettingsBody;
use crate::{PasswordMethod, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::flow::Step;
use clavis_core::flow::method::{FieldMessage, Outcome, SettingsContext, SettingsMethod};
use clavis_core::identity::{CredentialKind, IdentityChange};
use clavis_types::message;
use clavis_types::ui::Node;
use serde::Deserialize;
use serde_json::Value;

#[async_trait]
impl SettingsMethod for PasswordMethod {
    async fn settings_nodes(
        &self,
        _ctx: &SettingsContext<'_>,
        _step: &mut Step<'_>,
    ) -> Result<Vec<Node>, CoreError> {
        Ok(nodes::settings())
    }

    async fn update(
        &self,
        ctx: &SettingsContext<'_>,
        _step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError> {
        let body: SettingsBody =
            serde_json::from_value(body.clone()).unwrap_or(SettingsBody { password: None });
        let password = body.password.unwrap_or_default();
        if password.is_empty() {
            return Ok(Outcome::Rejected {
                messages: vec![FieldMessage::on("password", message::required("password"))],
            });
        }
        let identity = &ctx.caller.identity;
        let identifiers = ctx
            .schema
            .validate_traits(&identity.traits)
            .ok()
            .and_then(|extract| extract.identifiers.get(&CredentialKind::Password).cloned())
            .unwrap_or_default();
        if identifiers.is_empty() {
            return Ok(Outcome::Rejected {
                messages: vec![FieldMessage::global(message::identifier_missing())],
            });
        }
        if let Some(refusal) = self.deps.policy.check(&password, &identifiers) {
            return Ok(Outcome::Rejected {
                messages: vec![refusal],
            });
        }
        let password = Password::new(password);
        let current = identity
            .credentials
            .get(&CredentialKind::Password)
            .and_then(|c| c.config.read())
            .and_then(|config| PasswordConfig::deserialize(config).ok());
        if let Some(current) = &current {
            let same = self
                .deps
                .hasher
                .verify(&password, Some(current.hash()))
                .await
                .map_err(|e| CoreError::Internal(e.to_string()))?;
            if same {
                return Ok(Outcome::Rejected {
                    messages: vec![FieldMessage::on(
                        "password",
                        message::password_same_as_old(),
                    )],
                });
            }
        }
        let hashed_password = self
            .deps
            .hasher
            .hash(&password)
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let config = serde_json::to_value(PasswordConfig::V1 { hashed_password })
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(Outcome::Updated {
            change: IdentityChange {
                credentials: vec![(CredentialKind::Password, config)],
                ..IdentityChange::default()
            },
            completed: None,
        })
    }
}

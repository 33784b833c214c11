//! Password login: find the identity by identifier, verify the hash, report the factor, and
//! ask for an upgrade when the stored hash is not argon2id with the configured costs.

use crate::credential::PasswordConfig;
use crate::hasher::Password;
use crate::payload::LoginBody;
use crate::{PasswordMethod, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::flow::Step;
use clavis_core::flow::method::{FieldMessage, LoginContext, LoginMethod, Outcome};
use clavis_core::identity::{CredentialKind, Identity, IdentityChange};
use clavis_types::message;
use clavis_types::session::Aal;
use clavis_types::ui::Node;
use serde::Deserialize;
use serde_json::Value;

#[async_trait]
impl LoginMethod for PasswordMethod {
    async fn login_nodes(&self, ctx: &LoginContext<'_>) -> Result<Vec<Node>, CoreError> {
        if ctx.requested_aal > Aal::Aal1 {
            return Ok(Vec::new());
        }
        let refresh_identifier = match (ctx.refresh, ctx.session) {
            (true, Some(current)) => {
                match current.identity.credentials.get(&CredentialKind::Password) {
                    Some(credential) => credential.identifiers.first().cloned(),
                    None => return Ok(Vec::new()),
                }
            }
            _ => None,
        };
        Ok(nodes::login(refresh_identifier.as_deref()))
    }

    fn available_aal(&self, identity: &Identity) -> Option<Aal> {
        identity
            .credentials
            .contains_key(&CredentialKind::Password)
            .then_some(Aal::Aal1)
    }

    async fn login(
        &self,
        _ctx: &LoginContext<'_>,
        _step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError> {
        let body: LoginBody = serde_json::from_value(body.clone()).unwrap_or(LoginBody {
            identifier: None,
            password_identifier: None,
            password: None,
        });
        let identifier = body
            .identifier
            .or(body.password_identifier)
            .unwrap_or_default();
        let identifier = normalise(&identifier);
        let password = body.password.unwrap_or_default();
        let mut missing = Vec::new();
        if identifier.is_empty() {
            missing.push(FieldMessage::on(
                "identifier",
                message::required("identifier"),
            ));
        }
        if password.is_empty() {
            missing.push(FieldMessage::on("password", message::required("password")));
        }
        if !missing.is_empty() {
            return Ok(Outcome::Rejected { messages: missing });
        }
        let identity = self
            .deps
            .lookup
            .find_identity_by_identifier(CredentialKind::Password, &identifier)
            .await?;
        let stored = identity
            .as_ref()
            .and_then(|i| i.credentials.get(&CredentialKind::Password))
            .and_then(|c| c.config.read())
            .and_then(|config| PasswordConfig::deserialize(config).ok());
        let password = Password::new(password);
        let matched = self
            .deps
            .hasher
            .verify(&password, stored.as_ref().map(PasswordConfig::hash))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        match identity {
            Some(identity) if matched => {
                if !identity.is_active() {
                    return Ok(Outcome::Rejected {
                        messages: vec![FieldMessage::global(message::identity_disabled())],
                    });
                }
                let upgrade = match &stored {
                    Some(stored) if !self.deps.hasher.is_current(stored.hash()) => {
                        Some(self.upgrade(&password).await?)
                    }
                    _ => None,
                };
                Ok(Outcome::Authenticated {
                    identity: Box::new(identity),
                    aal: Aal::Aal1,
                    provider: None,
                    upgrade,
                })
            }
            _ => Ok(Outcome::Rejected {
                messages: vec![FieldMessage::global(message::invalid_credentials())],
            }),
        }
    }
}

impl PasswordMethod {
    /// The password hashed with the current algorithm and costs, as a credential change.
    async fn upgrade(&self, password: &Password) -> Result<IdentityChange, CoreError> {
        let hashed_password = self
            .deps
            .hasher
            .hash(password)
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let config = serde_json::to_value(PasswordConfig::V1 { hashed_password })
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(IdentityChange {
            credentials: vec![(CredentialKind::Password, config)],
            ..IdentityChange::default()
        })
    }
}

/// Identifiers are stored trimmed, and e-mail addresses lowercased.
fn normalise(identifier: &str) -> String {
    let trimmed = identifier.trim();
    if trimmed.contains('@') {
        trimmed.to_lowercase()
    } else {
        trimmed.to_owned()
    }
}

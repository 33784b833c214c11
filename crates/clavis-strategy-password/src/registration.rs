//! Password registration: check the policy against the identifiers the traits declare, hash.

use crate::credential::PasswordConfig;
use crate::hasher::Password;
use crate::payload::RegistrationBody;
use crate::{PasswordMethod, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::flow::Step;
use clavis_core::flow::method::{FieldMessage, Outcome, RegistrationContext, RegistrationMethod};
use clavis_core::identity::CredentialKind;
use clavis_types::flow::FlowType;
use clavis_types::message;
use clavis_types::ui::Node;
use serde_json::Value;

#[async_trait]
impl RegistrationMethod for PasswordMethod {
    async fn registration_nodes(&self, _flow_type: FlowType) -> Result<Vec<Node>, CoreError> {
        Ok(nodes::registration())
    }

    async fn register(
        &self,
        ctx: &RegistrationContext<'_>,
        _step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError> {
        let body: RegistrationBody =
            serde_json::from_value(body.clone()).unwrap_or(RegistrationBody { password: None });
        let password = body.password.unwrap_or_default();
        if password.is_empty() {
            return Ok(Outcome::Rejected {
                messages: vec![FieldMessage::on("password", message::required("password"))],
            });
        }
        let identifiers = ctx
            .extract
            .identifiers
            .get(&CredentialKind::Password)
            .cloned()
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
        let hashed_password = self
            .deps
            .hasher
            .hash(&Password::new(password))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let config = serde_json::to_value(PasswordConfig::V1 { hashed_password })
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(Outcome::Registered {
            credentials: vec![(CredentialKind::Password, config)],
        })
    }
}

//! Backup-code login: the second step of an aal2 login. The identity is the caller's; the code
//! is consumed by recording its use, which only one request can do.

use crate::codes;
use crate::credential::LookupConfig;
use crate::payload::LoginBody;
use crate::{LookupSecretMethod, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::flow::Step;
use clavis_core::flow::method::{FieldMessage, LoginContext, LoginMethod, Outcome};
use clavis_core::identity::{CredentialKind, Identity};
use clavis_types::message;
use clavis_types::session::Aal;
use clavis_types::ui::{Message, Node};
use serde::Deserialize;
use serde_json::Value;

#[async_trait]
impl LoginMethod for LookupSecretMethod {
    async fn login_nodes(&self, ctx: &LoginContext<'_>) -> Result<Vec<Node>, CoreError> {
        if ctx.steps_up_with(CredentialKind::LookupSecret) {
            Ok(nodes::login())
        } else {
            Ok(Vec::new())
        }
    }

    fn available_aal(&self, identity: &Identity) -> Option<Aal> {
        identity
            .credentials
            .contains_key(&CredentialKind::LookupSecret)
            .then_some(Aal::Aal2)
    }

    async fn login(
        &self,
        ctx: &LoginContext<'_>,
        _step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError> {
        let Some(current) = ctx.session else {
            return Err(CoreError::Aal1Required);
        };
        let body: LoginBody = serde_json::from_value(body.clone()).unwrap_or_default();
        let code = codes::normalise(&body.lookup_secret.unwrap_or_default());
        if code.is_empty() {
            return Ok(refused(message::required("lookup_secret")));
        }
        let identity = &current.identity;
        let Some(LookupConfig::V1 {
            generation,
            digests,
        }) = config(identity)
        else {
            return Ok(refused(message::lookup_secret_none()));
        };
        let Some(index) = codes::position(&self.deps.cipher, &generation, &code, &digests) else {
            return Ok(refused(message::lookup_secret_invalid()));
        };
        let consumed = self
            .deps
            .uses
            .record_use(
                identity.id,
                CredentialKind::LookupSecret,
                &format!("{generation}:{index}"),
                self.deps.clock.now(),
            )
            .await?;
        if !consumed {
            return Ok(refused(message::lookup_secret_used()));
        }
        Ok(Outcome::Authenticated {
            identity: Box::new(identity.clone()),
            aal: Aal::Aal2,
            provider: None,
            upgrade: None,
        })
    }
}

fn refused(message: Message) -> Outcome {
    Outcome::Rejected {
        messages: vec![FieldMessage::on("lookup_secret", message)],
    }
}

/// The identity's backup-code credential, if it has a readable one.
pub(crate) fn config(identity: &Identity) -> Option<LookupConfig> {
    identity
        .credentials
        .get(&CredentialKind::LookupSecret)
        .and_then(|c| c.config.read())
        .and_then(|config| LookupConfig::deserialize(config).ok())
}

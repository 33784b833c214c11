//! TOTP login: the second step of an aal2 login. The identity is the caller's (the engine
//! refuses aal2 flows without a session); a code counts once per time step.

use crate::code::Seed;
use crate::credential::TotpConfig;
use crate::payload::LoginBody;
use crate::{TotpMethod, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::flow::Step;
use clavis_core::flow::method::{FieldMessage, LoginContext, LoginMethod, Outcome};
use clavis_core::identity::{CredentialKind, Identity};
use clavis_types::message;
use clavis_types::session::Aal;
use clavis_types::ui::Node;
use serde::Deserialize;
use serde_json::Value;

#[async_trait]
impl LoginMethod for TotpMethod {
    async fn login_nodes(&self, ctx: &LoginContext<'_>) -> Result<Vec<Node>, CoreError> {
        if ctx.steps_up_with(CredentialKind::Totp) {
            Ok(nodes::login())
        } else {
            Ok(Vec::new())
        }
    }

    fn available_aal(&self, identity: &Identity) -> Option<Aal> {
        identity
            .credentials
            .contains_key(&CredentialKind::Totp)
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
        let code = body.totp_code.unwrap_or_default();
        if code.trim().is_empty() {
            return Ok(Outcome::Rejected {
                messages: vec![FieldMessage::on(
                    "totp_code",
                    message::required("totp_code"),
                )],
            });
        }
        let identity = &current.identity;
        let Some(TotpConfig::V1 {
            sealed_secret,
            generation,
        }) = self.config(identity)
        else {
            return Ok(refused());
        };
        let seed = self.open_seed(&sealed_secret, identity)?;
        if self.accept(identity, &seed, &generation, &code).await? {
            Ok(Outcome::Authenticated {
                identity: Box::new(identity.clone()),
                aal: Aal::Aal2,
                provider: None,
                upgrade: None,
            })
        } else {
            Ok(refused())
        }
    }
}

fn refused() -> Outcome {
    Outcome::Rejected {
        messages: vec![FieldMessage::global(message::totp_code_invalid())],
    }
}

impl TotpMethod {
    /// The identity's TOTP credential, if it has a readable one.
    pub(crate) fn config(&self, identity: &Identity) -> Option<TotpConfig> {
        identity
            .credentials
            .get(&CredentialKind::Totp)
            .and_then(|c| c.config.read())
            .and_then(|config| TotpConfig::deserialize(config).ok())
    }

    /// The seed sealed in a credential or flow, labelled for `identity`.
    pub(crate) fn open_seed(&self, sealed: &str, identity: &Identity) -> Result<Seed, CoreError> {
        let bytes = self.deps.cipher.open(sealed).map_err(crate::internal)?;
        Seed::new(bytes, &self.deps.issuer, &account_name(identity)).map_err(crate::internal)
    }

    /// Whether `code` is valid now and its time step was not used before (nor a later one);
    /// records the step, so of two racing submissions of one code only one is accepted.
    pub(crate) async fn accept(
        &self,
        identity: &Identity,
        seed: &Seed,
        generation: &str,
        code: &str,
    ) -> Result<bool, CoreError> {
        let now = self.deps.clock.now();
        let unix = u64::try_from(now.timestamp()).unwrap_or(0);
        let Some(step) = seed.matching_step(code, unix) else {
            return Ok(false);
        };
        let prefix = format!("{generation}:");
        let uses = self
            .deps
            .uses
            .list_uses(identity.id, CredentialKind::Totp, &prefix)
            .await?;
        let later_used = uses.iter().any(|u| {
            u.key[prefix.len()..]
                .parse::<u64>()
                .is_ok_and(|used| used >= step)
        });
        if later_used {
            return Ok(false);
        }
        let key = format!("{prefix}{step}");
        if !self
            .deps
            .uses
            .record_use(identity.id, CredentialKind::Totp, &key, now)
            .await?
        {
            return Ok(false);
        }
        // Steps older than the skew window can never match again; their rows are dropped, and
        // a failure to drop them is only housekeeping left for the next login.
        let horizon = now - chrono::TimeDelta::minutes(10);
        if let Err(error) = self
            .deps
            .uses
            .forget_uses_before(identity.id, CredentialKind::Totp, horizon)
            .await
        {
            tracing::warn!(identity = %identity.id, %error, "could not forget old TOTP steps");
        }
        Ok(true)
    }
}

/// What an authenticator app shows under the issuer: the first login identifier, else the
/// first verifiable address, else the identity id.
pub(crate) fn account_name(identity: &Identity) -> String {
    identity
        .credentials
        .get(&CredentialKind::Password)
        .and_then(|c| c.identifiers.first().cloned())
        .or_else(|| {
            identity
                .verifiable_addresses
                .first()
                .map(|a| a.value.clone())
        })
        .unwrap_or_else(|| identity.id.to_string())
}

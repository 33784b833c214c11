//! TOTP in the settings flow: an identity without TOTP is offered a fresh seed (QR code and
//! Base32 text) that is saved only once a valid code confirms it; an identity with TOTP can
//! unlink it. Confirming proves the factor, so the caller's session gains it (aal2).

use crate::credential::TotpConfig;
use crate::payload::{SettingsBody, flag};
use crate::state::PendingEnrolment;
use crate::{TotpMethod, code, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::flow::Step;
use clavis_core::flow::method::{FieldMessage, Outcome, SettingsContext, SettingsMethod};
use clavis_core::identity::{CredentialKind, IdentityChange};
use clavis_types::message;
use clavis_types::session::Aal;
use clavis_types::ui::Node;
use serde_json::Value;

#[async_trait]
impl SettingsMethod for TotpMethod {
    async fn settings_nodes(
        &self,
        ctx: &SettingsContext<'_>,
        step: &mut Step<'_>,
    ) -> Result<Vec<Node>, CoreError> {
        let identity = &ctx.caller.identity;
        if identity.credentials.contains_key(&CredentialKind::Totp) {
            return Ok(nodes::unlink());
        }
        let mut bytes = vec![0u8; code::SEED_BYTES];
        self.deps.rng.fill(&mut bytes);
        let sealed_secret = self
            .deps
            .cipher
            .seal(self.deps.rng.as_ref(), &bytes)
            .map_err(crate::internal)?;
        let seed = self.open_seed(&sealed_secret, identity)?;
        step.set_state(&PendingEnrolment { sealed_secret })?;
        let qr = seed.qr_data_uri().map_err(crate::internal)?;
        Ok(nodes::enrol(qr, &seed.base32()))
    }

    async fn update(
        &self,
        ctx: &SettingsContext<'_>,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError> {
        let body: SettingsBody = serde_json::from_value(body.clone()).unwrap_or_default();
        let identity = &ctx.caller.identity;
        let enrolled = identity.credentials.contains_key(&CredentialKind::Totp);
        if flag(body.totp_unlink.as_ref()) {
            if !enrolled {
                return Ok(Outcome::Rejected {
                    messages: vec![FieldMessage::global(message::totp_code_invalid())],
                });
            }
            return Ok(Outcome::Updated {
                change: IdentityChange {
                    remove_credentials: vec![CredentialKind::Totp],
                    ..IdentityChange::default()
                },
                completed: None,
            });
        }
        let code = body.totp_code.unwrap_or_default();
        if code.trim().is_empty() {
            return Ok(Outcome::Rejected {
                messages: vec![FieldMessage::on(
                    "totp_code",
                    message::required("totp_code"),
                )],
            });
        }
        let pending = step.state::<PendingEnrolment>().filter(|_| !enrolled);
        let Some(PendingEnrolment { sealed_secret }) = pending else {
            return Ok(wrong_code());
        };
        let seed = self.open_seed(&sealed_secret, identity)?;
        let mut generation = [0u8; 12];
        self.deps.rng.fill(&mut generation);
        let generation: String = generation.iter().map(|b| format!("{b:02x}")).collect();
        if !self.accept(identity, &seed, &generation, &code).await? {
            return Ok(wrong_code());
        }
        let config = TotpConfig::V1 {
            sealed_secret,
            generation,
        };
        let config = serde_json::to_value(config).map_err(crate::internal)?;
        Ok(Outcome::Updated {
            change: IdentityChange {
                credentials: vec![(CredentialKind::Totp, config)],
                ..IdentityChange::default()
            },
            completed: Some(Aal::Aal2),
        })
    }
}

fn wrong_code() -> Outcome {
    Outcome::Rejected {
        messages: vec![FieldMessage::on("totp_code", message::totp_code_invalid())],
    }
}

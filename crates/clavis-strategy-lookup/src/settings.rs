//! Backup codes in the settings flow. Generating shows a new set once and keeps it (sealed) in
//! the flow until it is confirmed; confirming replaces any earlier set, and the session gains
//! the factor as Kratos does. Revealing shows which saved codes are used and when; disabling
//! removes the credential. Every action needs a privileged session.

use crate::codes;
use crate::credential::LookupConfig;
use crate::login::config;
use crate::payload::{SettingsBody, flag};
use crate::state::PendingCodes;
use crate::{LookupSecretMethod, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::flow::Step;
use clavis_core::flow::method::{FieldMessage, Outcome, SettingsContext, SettingsMethod};
use clavis_core::identity::{CredentialKind, Identity, IdentityChange};
use clavis_types::message;
use clavis_types::session::Aal;
use clavis_types::ui::{Message, Node};
use serde_json::Value;

#[async_trait]
impl SettingsMethod for LookupSecretMethod {
    async fn settings_nodes(
        &self,
        ctx: &SettingsContext<'_>,
        step: &mut Step<'_>,
    ) -> Result<Vec<Node>, CoreError> {
        step.clear_state::<PendingCodes>();
        if ctx
            .caller
            .identity
            .credentials
            .contains_key(&CredentialKind::LookupSecret)
        {
            Ok(nodes::manage())
        } else {
            Ok(nodes::offer())
        }
    }

    async fn update(
        &self,
        ctx: &SettingsContext<'_>,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError> {
        let body: SettingsBody = serde_json::from_value(body.clone()).unwrap_or_default();
        let identity = &ctx.caller.identity;
        if flag(body.lookup_secret_confirm.as_ref()) {
            return self.confirm(step);
        }
        if flag(body.lookup_secret_regenerate.as_ref()) {
            return self.regenerate(step);
        }
        if flag(body.lookup_secret_reveal.as_ref()) {
            return self.reveal(identity).await;
        }
        if flag(body.lookup_secret_disable.as_ref()) {
            if config(identity).is_none() {
                return Ok(none_set_up());
            }
            return Ok(Outcome::Updated {
                change: IdentityChange {
                    remove_credentials: vec![CredentialKind::LookupSecret],
                    ..IdentityChange::default()
                },
                completed: None,
            });
        }
        Ok(Outcome::Rejected {
            messages: vec![FieldMessage::global(message::settings_no_strategy())],
        })
    }
}

fn none_set_up() -> Outcome {
    Outcome::Rejected {
        messages: vec![FieldMessage::global(message::lookup_secret_none())],
    }
}

impl LookupSecretMethod {
    fn regenerate(&self, step: &mut Step<'_>) -> Result<Outcome, CoreError> {
        let fresh = codes::mint(self.deps.rng.as_ref());
        let plain = serde_json::to_vec(&fresh).map_err(crate::internal)?;
        let sealed_codes = self
            .deps
            .cipher
            .seal(self.deps.rng.as_ref(), &plain)
            .map_err(crate::internal)?;
        step.set_state(&PendingCodes { sealed_codes })?;
        Ok(Outcome::Continue {
            nodes: nodes::confirm(&fresh),
            messages: Vec::new(),
        })
    }

    fn confirm(&self, step: &mut Step<'_>) -> Result<Outcome, CoreError> {
        let Some(PendingCodes { sealed_codes }) = step.state::<PendingCodes>() else {
            return Ok(Outcome::Rejected {
                messages: vec![FieldMessage::global(message::lookup_secret_none())],
            });
        };
        let plain = self
            .deps
            .cipher
            .open(&sealed_codes)
            .map_err(crate::internal)?;
        let pending: Vec<String> = serde_json::from_slice(&plain).map_err(crate::internal)?;
        let mut generation = [0u8; 12];
        self.deps.rng.fill(&mut generation);
        let generation: String = generation.iter().map(|b| format!("{b:02x}")).collect();
        let digests = pending
            .iter()
            .map(|code| codes::digest(&self.deps.cipher, &generation, code))
            .collect::<Result<Vec<_>, _>>()
            .map_err(crate::internal)?;
        step.clear_state::<PendingCodes>();
        let config = serde_json::to_value(LookupConfig::V1 {
            generation,
            digests,
        })
        .map_err(crate::internal)?;
        Ok(Outcome::Updated {
            change: IdentityChange {
                credentials: vec![(CredentialKind::LookupSecret, config)],
                ..IdentityChange::default()
            },
            completed: Some(Aal::Aal2),
        })
    }

    async fn reveal(&self, identity: &Identity) -> Result<Outcome, CoreError> {
        let Some(LookupConfig::V1 {
            generation,
            digests,
        }) = config(identity)
        else {
            return Ok(none_set_up());
        };
        let prefix = format!("{generation}:");
        let uses = self
            .deps
            .uses
            .list_uses(identity.id, CredentialKind::LookupSecret, &prefix)
            .await?;
        let entries: Vec<Message> = (0..digests.len())
            .map(|index| {
                let key = format!("{prefix}{index}");
                match uses.iter().find(|u| u.key == key) {
                    Some(used) => message::settings_lookup_secret_used(used.used_at),
                    None => message::settings_lookup_secret("unused"),
                }
            })
            .collect();
        Ok(Outcome::Continue {
            nodes: nodes::revealed(&entries),
            messages: Vec::new(),
        })
    }
}

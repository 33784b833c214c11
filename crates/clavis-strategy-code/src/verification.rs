//! Verification with a code (and a link carrying it) sent to a verifiable address.

use crate::challenge::{AddressKind, Purpose};
use crate::{CodeMethod, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::courier::MailTemplate;
use clavis_core::flow::Step;
use clavis_core::flow::method::{ChallengeOutcome, VerificationMethod};
use clavis_core::identity::Identity;
use clavis_types::flow::FlowType;
use clavis_types::message;
use clavis_types::ui::Node;
use serde_json::Value;

const VERIFICATION: Purpose = Purpose {
    digest: "verification_code",
    addresses: AddressKind::Verifiable,
    valid: MailTemplate::VerificationCodeValid,
    invalid: MailTemplate::VerificationCodeInvalid,
    code_key: "verification_code",
    link: true,
    code_label: message::label_verification_code,
    sent: message::verification_code_sent,
    wrong_code: message::verification_code_invalid,
};

#[async_trait]
impl VerificationMethod for CodeMethod {
    async fn verification_nodes(&self, _flow_type: FlowType) -> Result<Vec<Node>, CoreError> {
        Ok(nodes::ask_address())
    }

    async fn verify(
        &self,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<ChallengeOutcome, CoreError> {
        self.challenge(&VERIFICATION, step, body).await
    }

    async fn send_to(
        &self,
        step: &mut Step<'_>,
        identity: &Identity,
        address: &str,
    ) -> Result<Vec<Node>, CoreError> {
        self.deliver(&VERIFICATION, step, address, Some(identity))
            .await
    }
}

//! Recovery with a code sent to a recovery address.

use crate::challenge::{AddressKind, Purpose};
use crate::{CodeMethod, nodes};
use async_trait::async_trait;
use clavis_core::CoreError;
use clavis_core::courier::MailTemplate;
use clavis_core::flow::Step;
use clavis_core::flow::method::{ChallengeOutcome, RecoveryMethod};
use clavis_types::flow::FlowType;
use clavis_types::message;
use clavis_types::ui::Node;
use serde_json::Value;

const RECOVERY: Purpose = Purpose {
    digest: "recovery_code",
    addresses: AddressKind::Recovery,
    valid: MailTemplate::RecoveryCodeValid,
    invalid: MailTemplate::RecoveryCodeInvalid,
    code_key: "recovery_code",
    link: false,
    code_label: message::label_recovery_code,
    sent: message::recovery_code_sent,
    wrong_code: message::recovery_code_invalid,
};

#[async_trait]
impl RecoveryMethod for CodeMethod {
    async fn recovery_nodes(&self, _flow_type: FlowType) -> Result<Vec<Node>, CoreError> {
        Ok(nodes::ask_address())
    }

    async fn recover(
        &self,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<ChallengeOutcome, CoreError> {
        self.challenge(&RECOVERY, step, body).await
    }
}

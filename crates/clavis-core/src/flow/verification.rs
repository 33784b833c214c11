//! The verification engine: an identity proves that it controls one of its verifiable
//! addresses (a code sent to it), and the address is marked verified. Flows start from a
//! request (anyone may ask for an address to be verified) or right after registration, with
//! the code already sent. The engine owns expiry, single use and the identity change; the
//! method owns the challenge.

use super::keeper::{Draft, FlowKeeper, expired};
use super::method::{ChallengeOutcome, FieldMessage, MethodRegistry};
use super::{Flow, FlowKind, FlowSettings, FlowState, FlowStore, RequestFacts, Step, nodes};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::identity::{AddressClaim, Identity, IdentityChange, IdentityService};
use crate::random::Rng;
use crate::secret::BearerToken;
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::message;
use clavis_types::session::Aal;
use clavis_types::ui::{AnchorAttributes, Attributes, Meta, Node, NodeGroup, NodeType};
use serde_json::Value;
use std::sync::Arc;

/// How a verification flow is requested.
#[derive(Debug, Clone)]
pub struct NewVerification {
    pub flow_type: FlowType,
    pub return_to: Option<String>,
    pub request_url: String,
    pub csrf_token: Option<BearerToken>,
}

/// What a submission led to.
#[derive(Debug)]
pub enum VerificationResult {
    /// The flow goes on, or the address was verified (`state: passed_challenge`): answered 200.
    Continued(Flow),
    /// The submission was refused: answered 400.
    Refused(Flow),
}

/// A verification flow started for a new identity, with its code already sent.
#[derive(Debug, Clone)]
pub struct StartedVerification {
    pub flow: Flow,
    pub address: String,
}

/// Creates and advances verification flows.
#[derive(Clone)]
pub struct VerificationEngine {
    methods: MethodRegistry,
    keeper: FlowKeeper,
    identities: IdentityService,
    clock: Arc<dyn Clock>,
}

impl VerificationEngine {
    /// Builds the engine over its ports.
    pub fn new(
        methods: MethodRegistry,
        flows: Arc<dyn FlowStore>,
        identities: IdentityService,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        flow_settings: FlowSettings,
    ) -> Self {
        let keeper = FlowKeeper::new(
            FlowKind::Verification,
            flows,
            clock.clone(),
            rng,
            flow_settings,
        );
        Self {
            methods,
            keeper,
            identities,
            clock,
        }
    }

    fn draft(&self, new: NewVerification, nodes: Vec<Node>) -> Result<Flow, CoreError> {
        self.keeper.draft(Draft {
            flow_type: new.flow_type,
            state: FlowState::ChooseMethod,
            nodes,
            request_url: new.request_url,
            return_to: new.return_to,
            requested_aal: Aal::Aal1,
            refresh: false,
            session: None,
            csrf_token: new.csrf_token,
        })
    }

    /// Starts a verification flow.
    pub async fn create(&self, new: NewVerification) -> Result<Flow, CoreError> {
        let mut all = Vec::new();
        for method in self.methods.verification_methods() {
            all.extend(method.verification_nodes(new.flow_type).await?);
        }
        let flow = self.draft(new, all)?;
        self.keeper.store().insert_flow(&flow).await?;
        Ok(flow)
    }

    /// Starts one flow per unverified address of a new identity and sends each its code with
    /// the first verification method. Mail that cannot be queued does not fail the caller
    /// (the registration already happened); the person can ask again.
    pub async fn start_for(
        &self,
        identity: &Identity,
        new: NewVerification,
    ) -> Vec<StartedVerification> {
        let Some(method) = self.methods.verification_methods().first().cloned() else {
            return Vec::new();
        };
        let mut started = Vec::new();
        for address in identity.verifiable_addresses.iter().filter(|a| !a.verified) {
            let attempt = async {
                let mut flow = self.draft(new.clone(), Vec::new())?;
                let sent = method
                    .send_to(&mut Step::new(&mut flow), identity, &address.value)
                    .await?;
                flow.ui.nodes.extend(sent);
                nodes::sort(&mut flow.ui.nodes);
                flow.state = FlowState::SentEmail;
                flow.active = Some(method.id().to_owned());
                flow.ui.messages.push(message::verification_code_sent());
                self.keeper.store().insert_flow(&flow).await?;
                Ok::<_, CoreError>(flow)
            };
            match attempt.await {
                Ok(flow) => started.push(StartedVerification {
                    flow,
                    address: address.value.clone(),
                }),
                Err(error) => tracing::warn!(
                    identity = %identity.id,
                    %error,
                    "could not start the verification of a new address"
                ),
            }
        }
        started
    }

    /// Reads a verification flow; an expired one, or a browser flow without its cookie, is
    /// an error.
    pub async fn get(
        &self,
        id: FlowId,
        csrf_cookie: Option<&BearerToken>,
    ) -> Result<Flow, CoreError> {
        self.keeper.read(id, csrf_cookie).await
    }

    /// Reads a verification flow for its page: as [`VerificationEngine::get`], except that a
    /// verified flow is shown to any browser (the mail's link may be opened in another one,
    /// and a verified flow shows nothing but the success and where to go on).
    pub async fn get_for_page(
        &self,
        id: FlowId,
        csrf_cookie: Option<&BearerToken>,
    ) -> Result<Flow, CoreError> {
        match self.keeper.read(id, csrf_cookie).await {
            Err(CoreError::CsrfViolation(reason)) => {
                let flow = self.keeper.load(id).await?;
                if flow.state == FlowState::PassedChallenge {
                    Ok(flow)
                } else {
                    Err(CoreError::CsrfViolation(reason))
                }
            }
            other => other,
        }
    }

    /// Hands a submission to the method it names and acts on the outcome. `from_link` marks a
    /// code that arrived through the link in the mail: the code itself is the proof, so the
    /// browser's CSRF binding is not asked for (the link may be opened in another browser).
    pub async fn submit(
        &self,
        id: FlowId,
        body: &Value,
        request: RequestFacts,
        from_link: bool,
    ) -> Result<VerificationResult, CoreError> {
        let mut flow = if from_link {
            self.keeper.load(id).await?
        } else {
            self.keeper.for_submission(id, &request).await?
        };
        if self.keeper.is_expired(&flow) {
            let replacement = self
                .create(NewVerification {
                    flow_type: flow.flow_type,
                    return_to: flow.return_to.clone(),
                    request_url: flow.request_url.clone(),
                    csrf_token: request
                        .csrf_cookie
                        .clone()
                        .filter(|_| flow.flow_type == FlowType::Browser),
                })
                .await?;
            return Err(expired(&flow, Some(&replacement)));
        }
        if flow.is_finished() {
            return Err(CoreError::FlowCompleted);
        }
        let requested = body
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(method) = self
            .methods
            .verification_methods()
            .iter()
            .find(|m| m.id() == requested)
            .cloned()
        else {
            flow.ui.messages.clear();
            let refused = vec![FieldMessage::global(message::verification_no_strategy())];
            return Ok(VerificationResult::Refused(
                self.keeper.record(flow, refused).await?,
            ));
        };
        flow.transient_payload = body
            .get("transient_payload")
            .filter(|v| v.is_object())
            .cloned();
        let outcome = method.verify(&mut Step::new(&mut flow), body).await?;
        flow.active = Some(method.id().to_owned());
        flow.ui.messages.clear();
        match outcome {
            ChallengeOutcome::Continue {
                nodes: new_nodes,
                messages,
                state,
            } => {
                if let Some(new_nodes) = new_nodes {
                    nodes::replace_group(&mut flow.ui, method.group(), new_nodes);
                }
                flow.state = state;
                Ok(VerificationResult::Continued(
                    self.keeper.record(flow, messages).await?,
                ))
            }
            ChallengeOutcome::Rejected { messages } => Ok(VerificationResult::Refused(
                self.keeper.record(flow, messages).await?,
            )),
            ChallengeOutcome::Passed { identity, address } => {
                self.verified(flow, identity, &address).await
            }
        }
    }

    /// Marks the address verified, then shows the success and closes the flow. Marking is
    /// idempotent, so two concurrent submissions of the right code both leave the address
    /// verified and only one of them closes the flow; the other is told it was completed.
    async fn verified(
        &self,
        mut flow: Flow,
        identity: clavis_types::IdentityId,
        address: &str,
    ) -> Result<VerificationResult, CoreError> {
        let identity = self.identities.get(identity).await?;
        let now = self.clock.now();
        let change = IdentityChange {
            address_claims: Some(vec![AddressClaim {
                value: address.to_owned(),
                verified: true,
                verified_at: Some(now),
            }]),
            ..IdentityChange::default()
        };
        self.identities.update(&identity, change).await?;
        let destination = flow
            .return_to
            .clone()
            .unwrap_or_else(|| self.keeper.settings().default_return_url.clone());
        flow.ui.nodes = vec![continue_node(&destination)];
        let success = vec![FieldMessage::global(message::verification_successful())];
        let mut flow = self.keeper.record(flow, success).await?;
        if !self
            .keeper
            .store()
            .finish_flow(flow.id, FlowState::PassedChallenge, now)
            .await?
        {
            return Err(CoreError::FlowCompleted);
        }
        flow.state = FlowState::PassedChallenge;
        Ok(VerificationResult::Continued(flow))
    }
}

/// The `continue` link Kratos shows on a verified flow.
fn continue_node(href: &str) -> Node {
    Node {
        node_type: NodeType::A,
        group: NodeGroup::Code,
        attributes: Attributes::A(AnchorAttributes {
            id: "continue".to_owned(),
            href: href.to_owned(),
            title: message::label_continue(),
        }),
        messages: Vec::new(),
        meta: Meta {
            label: Some(message::label_continue()),
        },
    }
}

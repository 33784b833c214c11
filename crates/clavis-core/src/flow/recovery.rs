//! The recovery engine: someone who lost their credentials proves control of a recovery
//! address (a code sent to it), gets a fresh session and lands in a settings flow to set new
//! credentials. The engine owns expiry, single use, the session and the settings flow; the
//! method owns the challenge.

use super::keeper::{Draft, FlowKeeper, expired};
use super::method::{ChallengeOutcome, FieldMessage, MethodRegistry};
use super::settings::{NewSettings, SettingsEngine};
use super::{Flow, FlowKind, FlowSettings, FlowState, FlowStore, RequestFacts, Step, nodes};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::identity::{AddressClaim, Identity, IdentityChange, IdentityService};
use crate::random::Rng;
use crate::secret::BearerToken;
use crate::session::{Authenticated, Session, SessionService};
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::message;
use clavis_types::session::{Aal, AuthenticationMethod};
use serde_json::Value;
use std::sync::Arc;

/// The authentication method a recovered session records (Kratos' AMR name).
pub const RECOVERY_AMR: &str = "code_recovery";

/// How a recovery flow is requested.
#[derive(Debug, Clone)]
pub struct NewRecovery {
    pub flow_type: FlowType,
    pub return_to: Option<String>,
    pub request_url: String,
    pub csrf_token: Option<BearerToken>,
}

/// What a submission led to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per request and consumed at once
pub enum RecoveryResult {
    /// The flow goes on (a code was sent, or a wrong one given): answered 200.
    Continued(Flow),
    /// The submission was refused: answered 400.
    Refused(Flow),
    /// The account is recovered: a new session, and the settings flow that asks for new
    /// credentials (`None` when the identity must first complete its second factor).
    Recovered {
        flow: Flow,
        session: Session,
        token: BearerToken,
        identity: Identity,
        settings: Option<Flow>,
    },
}

/// Creates and advances recovery flows.
#[derive(Clone)]
pub struct RecoveryEngine {
    methods: MethodRegistry,
    keeper: FlowKeeper,
    identities: IdentityService,
    sessions: SessionService,
    settings: SettingsEngine,
    clock: Arc<dyn Clock>,
}

impl RecoveryEngine {
    /// Builds the engine over its ports.
    #[allow(clippy::too_many_arguments)] // one argument per port; a struct would only rename them
    pub fn new(
        methods: MethodRegistry,
        flows: Arc<dyn FlowStore>,
        identities: IdentityService,
        sessions: SessionService,
        settings: SettingsEngine,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        flow_settings: FlowSettings,
    ) -> Self {
        let keeper = FlowKeeper::new(FlowKind::Recovery, flows, clock.clone(), rng, flow_settings);
        Self {
            methods,
            keeper,
            identities,
            sessions,
            settings,
            clock,
        }
    }

    /// Starts a recovery flow; a caller with a session has nothing to recover.
    pub async fn create(
        &self,
        new: NewRecovery,
        session: Option<&Authenticated>,
    ) -> Result<Flow, CoreError> {
        if session.is_some() {
            return Err(CoreError::SessionAlreadyAvailable);
        }
        let mut all = Vec::new();
        for method in self.methods.recovery_methods() {
            all.extend(method.recovery_nodes(new.flow_type).await?);
        }
        self.keeper
            .create(Draft {
                flow_type: new.flow_type,
                state: FlowState::ChooseMethod,
                nodes: all,
                request_url: new.request_url,
                return_to: new.return_to,
                requested_aal: Aal::Aal1,
                refresh: false,
                session: None,
                csrf_token: new.csrf_token,
            })
            .await
    }

    /// Reads a recovery flow; an expired one, or a browser flow without its cookie, is an
    /// error.
    pub async fn get(
        &self,
        id: FlowId,
        csrf_cookie: Option<&BearerToken>,
    ) -> Result<Flow, CoreError> {
        self.keeper.read(id, csrf_cookie).await
    }

    /// Hands a submission to the method it names and acts on the outcome.
    pub async fn submit(
        &self,
        id: FlowId,
        body: &Value,
        session: Option<&Authenticated>,
        request: RequestFacts,
    ) -> Result<RecoveryResult, CoreError> {
        if session.is_some() {
            return Err(CoreError::SessionAlreadyAvailable);
        }
        let mut flow = self.keeper.for_submission(id, &request).await?;
        if self.keeper.is_expired(&flow) {
            let replacement = self
                .create(
                    NewRecovery {
                        flow_type: flow.flow_type,
                        return_to: flow.return_to.clone(),
                        request_url: flow.request_url.clone(),
                        csrf_token: request
                            .csrf_cookie
                            .clone()
                            .filter(|_| flow.flow_type == FlowType::Browser),
                    },
                    None,
                )
                .await?;
            return Err(expired(&flow, Some(&replacement)));
        }
        if flow.is_finished() {
            return Err(CoreError::FlowCompleted);
        }
        flow.transient_payload = body
            .get("transient_payload")
            .filter(|v| v.is_object())
            .cloned();
        let requested = body
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(method) = self
            .methods
            .recovery_methods()
            .iter()
            .find(|m| m.id() == requested)
            .cloned()
        else {
            let refused = vec![FieldMessage::global(message::recovery_no_strategy())];
            return Ok(RecoveryResult::Refused(
                self.keeper.record(flow, refused).await?,
            ));
        };
        let outcome = method.recover(&mut Step::new(&mut flow), body).await?;
        flow.active = Some(method.id().to_owned());
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
                flow.ui.messages.clear();
                Ok(RecoveryResult::Continued(
                    self.keeper.record(flow, messages).await?,
                ))
            }
            ChallengeOutcome::Rejected { messages } => {
                flow.ui.messages.clear();
                Ok(RecoveryResult::Refused(
                    self.keeper.record(flow, messages).await?,
                ))
            }
            ChallengeOutcome::Passed { identity, address } => {
                self.recovered(flow, identity, &address, request).await
            }
        }
    }

    async fn recovered(
        &self,
        mut flow: Flow,
        identity: clavis_types::IdentityId,
        address: &str,
        request: RequestFacts,
    ) -> Result<RecoveryResult, CoreError> {
        let identity = self.identities.get(identity).await?;
        if !identity.is_active() {
            flow.ui.messages.clear();
            let refused = vec![FieldMessage::global(message::identity_disabled())];
            return Ok(RecoveryResult::Refused(
                self.keeper.record(flow, refused).await?,
            ));
        }
        let now = self.clock.now();
        if !self
            .keeper
            .store()
            .finish_flow(flow.id, FlowState::PassedChallenge, now)
            .await?
        {
            return Err(CoreError::FlowCompleted);
        }
        flow.state = FlowState::PassedChallenge;
        let identity = self.verify_address(identity, address).await;
        let factor = AuthenticationMethod {
            method: RECOVERY_AMR.to_owned(),
            aal: Aal::Aal1,
            completed_at: now,
            provider: None,
        };
        let (session, token) = self
            .sessions
            .issue(&identity, vec![factor], request.device.clone())
            .await?;
        let caller = Authenticated {
            session: session.clone(),
            identity: identity.clone(),
            client: None,
        };
        let minutes = self.settings.privileged_session_max_age().num_seconds() as f64 / 60.0;
        let settings = match self
            .settings
            .create_with_messages(
                NewSettings {
                    flow_type: flow.flow_type,
                    return_to: flow.return_to.clone(),
                    request_url: flow.request_url.clone(),
                    caller,
                    csrf_token: request
                        .csrf_cookie
                        .clone()
                        .filter(|_| flow.flow_type == FlowType::Browser),
                },
                vec![message::recovery_successful(
                    minutes,
                    now + self.settings.privileged_session_max_age(),
                )],
            )
            .await
        {
            Ok(settings) => Some(settings),
            Err(CoreError::Aal2Required) => None,
            Err(other) => return Err(other),
        };
        Ok(RecoveryResult::Recovered {
            flow,
            session,
            token,
            identity,
            settings,
        })
    }

    /// Receiving the code proves the address: it counts as verified from now on. A failure
    /// to store that does not undo the recovery.
    async fn verify_address(&self, identity: Identity, address: &str) -> Identity {
        let unverified = identity
            .verifiable_addresses
            .iter()
            .any(|a| a.value == address && !a.verified);
        if !unverified {
            return identity;
        }
        let change = IdentityChange {
            address_claims: Some(vec![AddressClaim {
                value: address.to_owned(),
                verified: true,
                verified_at: Some(self.clock.now()),
            }]),
            ..IdentityChange::default()
        };
        match self.identities.update(&identity, change).await {
            Ok(updated) => updated,
            Err(error) => {
                tracing::warn!(identity = %identity.id, %error, "could not mark the recovery address verified");
                identity
            }
        }
    }
}

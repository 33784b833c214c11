//! The registration engine: trait fields from the identity schema, the named method's
//! credentials, one identity per flow, and the `session` hook.

use super::method::{FieldMessage, MethodRegistry, Outcome, RegistrationContext};
use super::traits_form::{trait_nodes, violation_message};
use super::{Flow, FlowKind, FlowSettings, FlowState, FlowStore, RequestFacts, Step, nodes};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::identity::{Identity, IdentityService, NewIdentity};
use crate::random::{Rng, uuid_v4};
use crate::secret::BearerToken;
use crate::session::{Authenticated, DeviceInfo, Session, SessionService};
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::identity::IdentityState;
use clavis_types::message;
use clavis_types::session::Aal;
use clavis_types::ui::UiContainer;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Registration policy from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationSettings {
    /// The `session` hook: sign the new identity in right away.
    pub issue_session: bool,
}

/// How a registration flow is requested.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub flow_type: FlowType,
    pub return_to: Option<String>,
    pub request_url: String,
    pub session: Option<Authenticated>,
    pub csrf_token: Option<BearerToken>,
}

/// What a submission led to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per request and consumed at once; boxing buys nothing
pub enum RegistrationResult {
    /// The flow goes on or was refused; answer it with 400.
    Flow(Flow),
    /// An identity was created, and a session when the `session` hook is on.
    Registered {
        flow: Flow,
        identity: Identity,
        session: Option<(Session, BearerToken)>,
    },
    /// The browser must go elsewhere (an external provider).
    Redirect { flow: Flow, url: String },
}

/// Creates and advances registration flows.
#[derive(Clone)]
pub struct RegistrationEngine {
    methods: MethodRegistry,
    flows: Arc<dyn FlowStore>,
    identities: IdentityService,
    sessions: SessionService,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    settings: FlowSettings,
    registration: RegistrationSettings,
}

impl RegistrationEngine {
    /// Whether a `return_to` address is allowed by `selfservice.allowed_return_urls`.
    pub fn return_to_allowed(&self, return_to: &str) -> bool {
        self.settings.return_to_allowed(return_to)
    }

    /// Builds the engine over its ports.
    #[allow(clippy::too_many_arguments)] // one argument per port; a struct would only rename them
    pub fn new(
        methods: MethodRegistry,
        flows: Arc<dyn FlowStore>,
        identities: IdentityService,
        sessions: SessionService,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        settings: FlowSettings,
        registration: RegistrationSettings,
    ) -> Self {
        Self {
            methods,
            flows,
            identities,
            sessions,
            clock,
            rng,
            settings,
            registration,
        }
    }

    /// Starts a registration flow; a caller with a session is refused.
    pub async fn create(&self, new: NewRegistration) -> Result<Flow, CoreError> {
        if new.session.is_some() {
            return Err(CoreError::SessionAlreadyAvailable);
        }
        let schema_id = self.identities.schemas().default_id().to_owned();
        let schema = self
            .identities
            .schemas()
            .get(&schema_id)
            .ok_or_else(|| CoreError::SchemaNotFound(schema_id.clone()))?;
        let mut all = trait_nodes(schema, None);
        for method in self.methods.registration_methods() {
            all.extend(method.registration_nodes(new.flow_type).await?);
        }
        if let Some(token) = &new.csrf_token {
            all.push(nodes::csrf_node(token.expose()));
        }
        nodes::sort(&mut all);
        if let Some(return_to) = &new.return_to
            && !self.settings.return_to_allowed(return_to)
        {
            return Err(CoreError::ReturnToForbidden);
        }
        let id = FlowId(uuid_v4(self.rng.as_ref()));
        let now = self.clock.now();
        let flow = Flow {
            id,
            kind: FlowKind::Registration,
            flow_type: new.flow_type,
            state: FlowState::ChooseMethod,
            identity_id: None,
            session_id: None,
            request_url: new.request_url,
            return_to: new.return_to,
            requested_aal: Aal::Aal1,
            refresh: false,
            ui: UiContainer {
                action: self.settings.action_url(FlowKind::Registration, id),
                method: "POST".to_owned(),
                nodes: all,
                messages: Vec::new(),
            },
            active: None,
            strategy_state: BTreeMap::new(),
            csrf_token_digest: new.csrf_token.map(|t| t.digest().as_str().to_owned()),
            transient_payload: None,
            issued_at: now,
            expires_at: now + self.settings.lifespan,
            updated_at: now,
        };
        self.flows.insert_flow(&flow).await?;
        Ok(flow)
    }

    /// Reads a registration flow; an expired one is an error.
    pub async fn get(
        &self,
        id: FlowId,
        csrf_cookie: Option<&BearerToken>,
    ) -> Result<Flow, CoreError> {
        let flow = self.load(id).await?;
        super::check_csrf_cookie(&flow, csrf_cookie)?;
        if flow.expires_at <= self.clock.now() {
            return Err(CoreError::FlowExpired {
                expired_at: flow.expires_at,
                use_flow_id: None,
                browser: flow.flow_type == FlowType::Browser,
            });
        }
        Ok(flow)
    }

    async fn load(&self, id: FlowId) -> Result<Flow, CoreError> {
        self.flows
            .get_flow(id)
            .await?
            .filter(|f| f.kind == FlowKind::Registration)
            .ok_or(CoreError::FlowNotFound)
    }

    /// Validates the traits, hands the submission to the method it names and creates the
    /// identity its outcome describes.
    pub async fn submit(
        &self,
        id: FlowId,
        body: &Value,
        session: Option<Authenticated>,
        request: RequestFacts,
    ) -> Result<RegistrationResult, CoreError> {
        let mut flow = self.load(id).await?;
        if flow.flow_type == FlowType::Api && request.from_browser {
            return Err(CoreError::ApiFlowFromBrowser);
        }
        super::check_csrf(&flow, &request)?;
        let device = request.device;
        if flow.expires_at <= self.clock.now() {
            let replacement = self
                .create(NewRegistration {
                    flow_type: flow.flow_type,
                    return_to: flow.return_to.clone(),
                    request_url: flow.request_url.clone(),
                    session: None,
                    csrf_token: request
                        .csrf_cookie
                        .clone()
                        .filter(|_| flow.flow_type == FlowType::Browser),
                })
                .await?;
            return Err(CoreError::FlowExpired {
                expired_at: flow.expires_at,
                use_flow_id: Some(replacement.id),
                browser: flow.flow_type == FlowType::Browser,
            });
        }
        if flow.state.is_terminal() {
            return Err(CoreError::FlowCompleted);
        }
        if session.is_some() {
            return Err(CoreError::SessionAlreadyAvailable);
        }
        flow.transient_payload = body
            .get("transient_payload")
            .filter(|v| v.is_object())
            .cloned();
        let traits = body.get("traits").cloned().unwrap_or_else(|| json!({}));
        keep_trait_values(&mut flow, &traits);
        let requested = body
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(method) = self
            .methods
            .registration_methods()
            .iter()
            .find(|m| m.id() == requested)
            .cloned()
        else {
            return self
                .refuse(
                    flow,
                    vec![FieldMessage::global(message::registration_no_strategy())],
                )
                .await;
        };
        let schema_id = self.identities.schemas().default_id().to_owned();
        let schema = self
            .identities
            .schemas()
            .get(&schema_id)
            .ok_or_else(|| CoreError::SchemaNotFound(schema_id.clone()))?;
        let extract = match schema.validate_traits(&traits) {
            Ok(extract) => extract,
            Err(violations) => {
                let messages = violations.iter().map(violation_message).collect();
                return self.refuse(flow, messages).await;
            }
        };
        let ctx = RegistrationContext {
            flow_type: flow.flow_type,
            traits: &traits,
            extract: &extract,
        };
        let outcome = method
            .register(&ctx, &mut Step::new(&mut flow), body)
            .await?;
        flow.active = Some(method.id().to_owned());
        match outcome {
            Outcome::Continue {
                nodes: new_nodes,
                messages,
            } => {
                nodes::replace_group(&mut flow.ui, method.group(), new_nodes);
                self.refuse(flow, messages).await
            }
            Outcome::Rejected { messages } => self.refuse(flow, messages).await,
            Outcome::Registered { credentials } => {
                let completed = clavis_types::session::AuthenticationMethod {
                    method: method.id().to_owned(),
                    aal: Aal::Aal1,
                    completed_at: self.clock.now(),
                    provider: None,
                };
                self.complete(flow, traits, credentials, completed, device)
                    .await
            }
            Outcome::Redirect { url } => {
                self.flows.update_flow(&flow).await?;
                Ok(RegistrationResult::Redirect { flow, url })
            }
            Outcome::Authenticated { .. } => Err(CoreError::Internal(format!(
                "method `{}` answered a login outcome to a registration",
                method.id()
            ))),
        }
    }

    async fn complete(
        &self,
        mut flow: Flow,
        traits: Value,
        credentials: Vec<(crate::identity::CredentialKind, Value)>,
        method: clavis_types::session::AuthenticationMethod,
        device: DeviceInfo,
    ) -> Result<RegistrationResult, CoreError> {
        let now = self.clock.now();
        if !self
            .flows
            .finish_flow(flow.id, FlowState::PassedChallenge, now)
            .await?
        {
            return Err(CoreError::FlowCompleted);
        }
        let created = self
            .identities
            .create(NewIdentity {
                schema_id: None,
                traits,
                state: IdentityState::Active,
                metadata_public: None,
                metadata_admin: None,
                credentials,
            })
            .await;
        let identity = match created {
            Ok(identity) => identity,
            Err(CoreError::Conflict(_)) => {
                self.flows
                    .reopen_flow(flow.id, FlowState::ChooseMethod, now)
                    .await?;
                flow.state = FlowState::ChooseMethod;
                return self
                    .refuse(
                        flow,
                        vec![FieldMessage::global(message::duplicate_credentials())],
                    )
                    .await;
            }
            Err(other) => {
                self.flows
                    .reopen_flow(flow.id, FlowState::ChooseMethod, now)
                    .await?;
                return Err(other);
            }
        };
        flow.state = FlowState::PassedChallenge;
        let session = if self.registration.issue_session {
            Some(self.sessions.issue(&identity, vec![method], device).await?)
        } else {
            None
        };
        Ok(RegistrationResult::Registered {
            flow,
            identity,
            session,
        })
    }

    async fn refuse(
        &self,
        mut flow: Flow,
        messages: Vec<FieldMessage>,
    ) -> Result<RegistrationResult, CoreError> {
        nodes::apply_messages(&mut flow.ui, messages);
        flow.updated_at = self.clock.now();
        if !self.flows.update_flow(&flow).await? {
            return Err(CoreError::FlowCompleted);
        }
        Ok(RegistrationResult::Flow(flow))
    }
}

/// Writes the submitted trait values into the trait fields, so a refused form keeps them.
fn keep_trait_values(flow: &mut Flow, traits: &Value) {
    let names: Vec<String> = flow
        .ui
        .nodes
        .iter()
        .map(|n| n.key().to_owned())
        .filter(|k| k.starts_with("traits."))
        .collect();
    for name in names {
        let pointer = format!("/{}", name.trim_start_matches("traits.").replace('.', "/"));
        if let Some(value) = traits.pointer(&pointer).filter(|v| !v.is_null()) {
            nodes::set_value(&mut flow.ui, &name, value.clone());
        }
    }
}

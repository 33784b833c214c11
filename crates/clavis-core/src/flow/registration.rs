//! The registration engine: trait fields from the identity schema, the named method's
//! credentials, one identity per flow, and the `session` hook.

use super::hooks::{FlowHooks, Hook, Screening};
use super::keeper::{Draft, FlowKeeper, expired};
use super::method::{FieldMessage, MethodRegistry, Outcome, RegistrationContext};
use super::traits_form::{trait_nodes, violation_message};
use super::webhook;
use super::{Flow, FlowKind, FlowSettings, FlowState, FlowStore, RequestFacts, Step, nodes};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::identity::{CredentialKind, Identity, IdentityService, NewIdentity};
use crate::random::Rng;
use crate::secret::BearerToken;
use crate::session::{Authenticated, Session, SessionService};
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::identity::IdentityState;
use clavis_types::message;
use clavis_types::session::{Aal, AuthenticationMethod};
use serde_json::{Value, json};
use std::sync::Arc;

/// Registration policy from the configuration.
#[derive(Clone)]
pub struct RegistrationSettings {
    /// `selfservice.flows.registration.after`; the `session` hook signs the new identity in.
    pub after: FlowHooks,
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
        /// Verification flows started for the new identity's addresses, codes sent.
        verifications: Vec<super::verification::StartedVerification>,
    },
    /// The browser must go elsewhere (an external provider).
    Redirect { flow: Flow, url: String },
}

/// Creates and advances registration flows.
#[derive(Clone)]
pub struct RegistrationEngine {
    methods: MethodRegistry,
    keeper: FlowKeeper,
    identities: IdentityService,
    sessions: SessionService,
    clock: Arc<dyn Clock>,
    registration: RegistrationSettings,
    verification: Option<super::verification::VerificationEngine>,
}

impl RegistrationEngine {
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
        let keeper = FlowKeeper::new(FlowKind::Registration, flows, clock.clone(), rng, settings);
        Self {
            methods,
            keeper,
            identities,
            sessions,
            clock,
            registration,
            verification: None,
        }
    }

    /// The same engine, sending every new identity's unverified addresses a verification code
    /// (each in its own verification flow) right after registration.
    pub fn verifying_new_addresses(
        mut self,
        verification: super::verification::VerificationEngine,
    ) -> Self {
        self.verification = Some(verification);
        self
    }

    /// Whether a `return_to` address is allowed by `selfservice.allowed_return_urls`.
    pub fn return_to_allowed(&self, return_to: &str) -> bool {
        self.keeper.settings().return_to_allowed(return_to)
    }

    fn schema(&self) -> Result<&crate::identity::IdentitySchema, CoreError> {
        let schemas = self.identities.schemas();
        let id = schemas.default_id();
        schemas
            .get(id)
            .ok_or_else(|| CoreError::SchemaNotFound(id.to_owned()))
    }

    /// Starts a registration flow; a caller with a session is refused.
    pub async fn create(&self, new: NewRegistration) -> Result<Flow, CoreError> {
        if new.session.is_some() {
            return Err(CoreError::SessionAlreadyAvailable);
        }
        let mut all = trait_nodes(self.schema()?, None);
        for method in self.methods.registration_methods() {
            all.extend(method.registration_nodes(new.flow_type).await?);
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

    /// Reads a registration flow; an expired one, or a browser flow without its cookie, is an
    /// error.
    pub async fn get(
        &self,
        id: FlowId,
        csrf_cookie: Option<&BearerToken>,
    ) -> Result<Flow, CoreError> {
        self.keeper.read(id, csrf_cookie).await
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
        let mut flow = self.keeper.for_submission(id, &request).await?;
        if self.keeper.is_expired(&flow) {
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
            return Err(expired(&flow, Some(&replacement)));
        }
        if flow.is_finished() {
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
            let refused = vec![FieldMessage::global(message::registration_no_strategy())];
            return Ok(RegistrationResult::Flow(
                self.keeper.record(flow, refused).await?,
            ));
        };
        let extract = match self.schema()?.validate_traits(&traits) {
            Ok(extract) => extract,
            Err(violations) => {
                let messages = violations.iter().map(violation_message).collect();
                return Ok(RegistrationResult::Flow(
                    self.keeper.record(flow, messages).await?,
                ));
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
                Ok(RegistrationResult::Flow(
                    self.keeper.record(flow, messages).await?,
                ))
            }
            Outcome::Rejected { messages } => Ok(RegistrationResult::Flow(
                self.keeper.record(flow, messages).await?,
            )),
            Outcome::Registered { credentials } => {
                let completed = AuthenticationMethod {
                    method: method.id().to_owned(),
                    aal: Aal::Aal1,
                    completed_at: self.clock.now(),
                    provider: None,
                };
                self.complete(flow, traits, credentials, completed, &request)
                    .await
            }
            Outcome::Redirect { url } => {
                self.keeper.store().update_flow(&flow).await?;
                Ok(RegistrationResult::Redirect { flow, url })
            }
            Outcome::Authenticated { .. } | Outcome::Updated { .. } => {
                Err(CoreError::Internal(format!(
                    "method `{}` answered a login or settings outcome to a registration",
                    method.id()
                )))
            }
        }
    }

    async fn complete(
        &self,
        mut flow: Flow,
        mut traits: Value,
        credentials: Vec<(CredentialKind, Value)>,
        method: AuthenticationMethod,
        request: &RequestFacts,
    ) -> Result<RegistrationResult, CoreError> {
        let hooks = &self.registration.after;
        let with_web_hooks = hooks.has_web_hooks(&method.method);
        let (mut metadata_public, mut metadata_admin) = (None, None);
        if with_web_hooks {
            let schema_id = self.identities.schemas().default_id().to_owned();
            let payload = webhook::payload(
                &flow,
                webhook::new_identity_json(&schema_id, &traits),
                request,
            );
            match hooks.screen(&method.method, &payload).await? {
                Screening::Interrupt(messages) => {
                    return Ok(RegistrationResult::Flow(
                        self.keeper.record(flow, messages).await?,
                    ));
                }
                Screening::Proceed(patch) => {
                    if let Some(patched) = patch.traits {
                        traits = patched;
                    }
                    metadata_public = patch.metadata_public;
                    metadata_admin = patch.metadata_admin;
                }
            }
        }
        let now = self.clock.now();
        let store = self.keeper.store();
        if !store
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
                metadata_public,
                metadata_admin,
                credentials,
                external_id: None,
                address_claims: Vec::new(),
            })
            .await;
        let refused = match created {
            Ok(identity) => {
                flow.state = FlowState::PassedChallenge;
                return self.registered(flow, identity, method, request).await;
            }
            Err(CoreError::Conflict(_)) => {
                vec![FieldMessage::global(message::duplicate_credentials())]
            }
            // Only a web hook's changes can make validated traits invalid.
            Err(CoreError::TraitsInvalid(violations)) => {
                violations.iter().map(violation_message).collect()
            }
            Err(other) => {
                store
                    .reopen_flow(flow.id, FlowState::ChooseMethod, now)
                    .await?;
                return Err(other);
            }
        };
        store
            .reopen_flow(flow.id, FlowState::ChooseMethod, now)
            .await?;
        flow.state = FlowState::ChooseMethod;
        Ok(RegistrationResult::Flow(
            self.keeper.record(flow, refused).await?,
        ))
    }

    /// After the identity is stored: the notifying web hooks, the `session` hook, then the
    /// fire-and-forget web hooks.
    async fn registered(
        &self,
        flow: Flow,
        identity: Identity,
        method: AuthenticationMethod,
        request: &RequestFacts,
    ) -> Result<RegistrationResult, CoreError> {
        let hooks = &self.registration.after;
        let method_id = method.method.clone();
        let payload = hooks
            .has_web_hooks(&method_id)
            .then(|| webhook::payload(&flow, webhook::identity_json(&identity), request));
        if let Some(payload) = &payload {
            hooks.notify(&method_id, payload).await?;
        }
        let session = if hooks.runs(&method_id, Hook::Session) {
            Some(
                self.sessions
                    .issue(&identity, vec![method], request.device.clone())
                    .await?,
            )
        } else {
            None
        };
        if let Some(payload) = &payload {
            hooks.dispatch(&method_id, payload);
        }
        let verifications = match &self.verification {
            Some(verification) => {
                verification
                    .start_for(
                        &identity,
                        super::verification::NewVerification {
                            flow_type: flow.flow_type,
                            return_to: flow.return_to.clone(),
                            request_url: flow.request_url.clone(),
                            csrf_token: request
                                .csrf_cookie
                                .clone()
                                .filter(|_| flow.flow_type == FlowType::Browser),
                        },
                    )
                    .await
            }
            None => Vec::new(),
        };
        Ok(RegistrationResult::Registered {
            flow,
            identity,
            session,
            verifications,
        })
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

//! The settings engine: a signed-in identity manages its traits and credentials. Flows belong
//! to the identity that created them, stay usable after a successful update, and privileged
//! changes need a recently authenticated session.

use super::hooks::{FlowHooks, Hook, Screening};
use super::keeper::{Draft, FlowKeeper, expired};
use super::method::{FieldMessage, MethodRegistry, Outcome, SettingsContext};
use super::traits_form::violation_message;
use super::webhook;
use super::{Flow, FlowKind, FlowSettings, FlowState, FlowStore, RequestFacts, Step, nodes};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::grant::ClientGrants;
use crate::identity::{CredentialKind, Identity, IdentityChange, IdentitySchema, IdentityService};
use crate::random::Rng;
use crate::secret::BearerToken;
use crate::session::assurance::{RequiredAal, satisfies};
use crate::session::{Authenticated, SessionService};
use chrono::TimeDelta;
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::message;
use clavis_types::session::{Aal, AuthenticationMethod};
use clavis_types::ui::Node;
use serde_json::Value;
use std::sync::Arc;

/// Settings policy from the configuration.
#[derive(Clone)]
pub struct SettingsPolicy {
    /// How long after signing in a session may make privileged changes (password, login
    /// identifiers); older sessions must sign in again with `refresh=true`.
    pub privileged_session_max_age: TimeDelta,
    /// `selfservice.flows.settings.after`: `revoke_active_sessions` and web hooks.
    pub after: FlowHooks,
    /// `selfservice.flows.settings.required_aal`: the session level needed to use settings.
    pub required_aal: RequiredAal,
}

/// How a settings flow is requested.
#[derive(Debug, Clone)]
pub struct NewSettings {
    pub flow_type: FlowType,
    pub return_to: Option<String>,
    pub request_url: String,
    /// The signed-in caller whose identity the flow changes.
    pub caller: Authenticated,
    pub csrf_token: Option<BearerToken>,
}

/// What a submission led to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per request and consumed at once; boxing buys nothing
pub enum SettingsResult {
    /// The flow goes on or was refused; answer it with 400.
    Flow(Flow),
    /// The identity was changed; the flow shows the new state and a success message.
    Updated { flow: Flow, identity: Identity },
    /// The browser must go elsewhere (an external provider, for linking).
    Redirect { flow: Flow, url: String },
}

/// Creates and advances settings flows.
#[derive(Clone)]
pub struct SettingsEngine {
    methods: MethodRegistry,
    keeper: FlowKeeper,
    identities: IdentityService,
    sessions: SessionService,
    clock: Arc<dyn Clock>,
    policy: SettingsPolicy,
    /// When set, a new password revokes the identity's per-client grants (app passwords).
    revoke_grants_on_new_password: Option<ClientGrants>,
}

impl SettingsEngine {
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
        policy: SettingsPolicy,
    ) -> Self {
        let keeper = FlowKeeper::new(FlowKind::Settings, flows, clock.clone(), rng, settings);
        Self {
            methods,
            keeper,
            identities,
            sessions,
            clock,
            policy,
            revoke_grants_on_new_password: None,
        }
    }

    /// The same engine, revoking every per-client grant (app password) of an identity whose
    /// password changes, but the one the change is made with.
    pub fn revoking_grants_on_new_password(mut self, grants: ClientGrants) -> Self {
        self.revoke_grants_on_new_password = Some(grants);
        self
    }

    /// Whether a `return_to` address is allowed by `selfservice.allowed_return_urls`.
    pub fn return_to_allowed(&self, return_to: &str) -> bool {
        self.keeper.settings().return_to_allowed(return_to)
    }

    fn schema(&self, identity: &Identity) -> Result<&IdentitySchema, CoreError> {
        self.identities
            .schemas()
            .get(&identity.schema_id)
            .ok_or_else(|| CoreError::SchemaNotFound(identity.schema_id.clone()))
    }

    /// Every settings method's nodes for the caller, with the private state they keep.
    async fn method_nodes(
        &self,
        caller: &Authenticated,
        flow: &mut Flow,
    ) -> Result<Vec<Node>, CoreError> {
        let ctx = SettingsContext {
            flow_type: flow.flow_type,
            caller,
            schema: self.schema(&caller.identity)?,
        };
        let mut all = Vec::new();
        let mut step = Step::new(flow);
        for method in self.methods.settings_methods() {
            all.extend(method.settings_nodes(&ctx, &mut step).await?);
        }
        Ok(all)
    }

    /// Refuses a caller below `selfservice.flows.settings.required_aal` (also the level other
    /// account-wide decisions ask for, such as approving a device).
    pub fn check_assurance(&self, caller: &Authenticated) -> Result<(), CoreError> {
        if satisfies(&self.methods, self.policy.required_aal, caller) {
            Ok(())
        } else {
            Err(CoreError::Aal2Required)
        }
    }

    /// How long after signing in a session may make privileged changes.
    pub fn privileged_session_max_age(&self) -> TimeDelta {
        self.policy.privileged_session_max_age
    }

    /// Starts a settings flow for the caller's identity.
    pub async fn create(&self, new: NewSettings) -> Result<Flow, CoreError> {
        self.create_with_messages(new, Vec::new()).await
    }

    /// Starts a settings flow that opens with `messages` (a recovered account is told to set
    /// a new password).
    pub async fn create_with_messages(
        &self,
        new: NewSettings,
        messages: Vec<clavis_types::ui::Message>,
    ) -> Result<Flow, CoreError> {
        self.check_assurance(&new.caller)?;
        let mut new = new;
        // Methods read the credentials' payloads (the current password, the lookup codes).
        new.caller.identity = self.identities.in_full(new.caller.identity).await?;
        let mut flow = self.keeper.draft(Draft {
            flow_type: new.flow_type,
            state: FlowState::ShowForm,
            nodes: Vec::new(),
            request_url: new.request_url,
            return_to: new.return_to,
            requested_aal: Aal::Aal1,
            refresh: false,
            session: Some(&new.caller),
            csrf_token: new.csrf_token,
        })?;
        let method_nodes = self.method_nodes(&new.caller, &mut flow).await?;
        flow.ui.nodes.extend(method_nodes);
        nodes::sort(&mut flow.ui.nodes);
        flow.ui.messages = messages;
        self.keeper.store().insert_flow(&flow).await?;
        Ok(flow)
    }

    /// Reads a settings flow of the caller's identity; an expired one is an error.
    pub async fn get(&self, id: FlowId, caller: &Authenticated) -> Result<Flow, CoreError> {
        self.check_assurance(caller)?;
        let flow = self.keeper.load(id).await?;
        if flow.identity_id != Some(caller.identity.id) {
            return Err(CoreError::IdentityMismatch);
        }
        if self.keeper.is_expired(&flow) {
            return Err(expired(&flow, None));
        }
        Ok(flow)
    }

    /// Hands a submission to the method it names and stores the change it describes.
    pub async fn submit(
        &self,
        id: FlowId,
        body: &Value,
        caller: Authenticated,
        request: RequestFacts,
    ) -> Result<SettingsResult, CoreError> {
        self.check_assurance(&caller)?;
        let mut caller = caller;
        caller.identity = self.identities.in_full(caller.identity).await?;
        let mut flow = self.keeper.for_submission(id, &request).await?;
        if flow.identity_id != Some(caller.identity.id) {
            return Err(CoreError::IdentityMismatch);
        }
        if self.keeper.is_expired(&flow) {
            let csrf_token = request
                .csrf_cookie
                .clone()
                .filter(|_| flow.flow_type == FlowType::Browser);
            let replacement = self
                .create(NewSettings {
                    flow_type: flow.flow_type,
                    return_to: flow.return_to.clone(),
                    request_url: flow.request_url.clone(),
                    caller,
                    csrf_token,
                })
                .await?;
            return Err(expired(&flow, Some(&replacement)));
        }
        flow.transient_payload = body
            .get("transient_payload")
            .filter(|v| v.is_object())
            .cloned();
        flow.state = FlowState::ShowForm;
        let requested = body
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(method) = self
            .methods
            .settings_methods()
            .iter()
            .find(|m| m.id() == requested)
            .cloned()
        else {
            let refused = vec![FieldMessage::global(message::settings_no_strategy())];
            return Ok(SettingsResult::Flow(
                self.keeper.record(flow, refused).await?,
            ));
        };
        let ctx = SettingsContext {
            flow_type: flow.flow_type,
            caller: &caller,
            schema: self.schema(&caller.identity)?,
        };
        if method.needs_privileged_session(&ctx, body)
            && caller.session.authenticated_at + self.policy.privileged_session_max_age
                < self.clock.now()
        {
            return Err(CoreError::RefreshRequired { flow_id: flow.id });
        }
        let outcome = method.update(&ctx, &mut Step::new(&mut flow), body).await?;
        flow.active = Some(method.id().to_owned());
        match outcome {
            Outcome::Continue {
                nodes: new_nodes,
                messages,
            } => {
                nodes::replace_group(&mut flow.ui, method.group(), new_nodes);
                Ok(SettingsResult::Flow(
                    self.keeper.record(flow, messages).await?,
                ))
            }
            Outcome::Rejected { messages } => Ok(SettingsResult::Flow(
                self.keeper.record(flow, messages).await?,
            )),
            Outcome::Updated { change, completed } => {
                self.apply(flow, &caller, change, completed, method.id(), &request)
                    .await
            }
            Outcome::Redirect { url } => {
                self.keeper.store().update_flow(&flow).await?;
                Ok(SettingsResult::Redirect { flow, url })
            }
            Outcome::Authenticated { .. } | Outcome::Registered { .. } => {
                Err(CoreError::Internal(format!(
                    "method `{}` answered a login or registration outcome to settings",
                    method.id()
                )))
            }
        }
    }

    async fn apply(
        &self,
        mut flow: Flow,
        caller: &Authenticated,
        mut change: IdentityChange,
        completed: Option<Aal>,
        method: &str,
        request: &RequestFacts,
    ) -> Result<SettingsResult, CoreError> {
        let hooks = &self.policy.after;
        let with_web_hooks = hooks.has_web_hooks(method);
        if with_web_hooks {
            let mut prospective = webhook::identity_json(&caller.identity);
            if let Some(traits) = &change.traits {
                prospective["traits"] = traits.clone();
            }
            let payload = webhook::payload(&flow, prospective, request);
            match hooks.screen(method, &payload).await? {
                Screening::Interrupt(messages) => {
                    return Ok(SettingsResult::Flow(
                        self.keeper.record(flow, messages).await?,
                    ));
                }
                Screening::Proceed(patch) => {
                    change.traits = patch.traits.or(change.traits);
                    change.metadata_public = patch.metadata_public;
                    change.metadata_admin = patch.metadata_admin;
                }
            }
        }
        let new_password = change
            .credentials
            .iter()
            .any(|(kind, _)| *kind == CredentialKind::Password);
        let identity = match self.identities.update(&caller.identity, change).await {
            Ok(identity) => identity,
            Err(CoreError::Conflict(_)) => {
                let refused = vec![FieldMessage::global(message::duplicate_credentials())];
                return Ok(SettingsResult::Flow(
                    self.keeper.record(flow, refused).await?,
                ));
            }
            Err(CoreError::TraitsInvalid(violations)) => {
                let refused = violations.iter().map(violation_message).collect();
                return Ok(SettingsResult::Flow(
                    self.keeper.record(flow, refused).await?,
                ));
            }
            Err(other) => return Err(other),
        };
        let session = match completed {
            Some(aal) => {
                let factor = AuthenticationMethod {
                    method: method.to_owned(),
                    aal,
                    completed_at: self.clock.now(),
                    provider: None,
                };
                self.sessions.add_factor(&caller.session, factor).await?
            }
            None => caller.session.clone(),
        };
        let payload = with_web_hooks
            .then(|| webhook::payload(&flow, webhook::identity_json(&identity), request));
        if let Some(payload) = &payload {
            hooks.notify(method, payload).await?;
        }
        if hooks.runs(method, Hook::RevokeActiveSessions) {
            self.sessions.revoke_others(&caller.session).await?;
        }
        if let (true, Some(grants)) = (new_password, &self.revoke_grants_on_new_password) {
            let keep = caller.client.as_ref().map(|g| g.id);
            grants.revoke_all(identity.id, keep).await?;
        }
        if let Some(payload) = &payload {
            hooks.dispatch(method, payload);
        }
        let updated_caller = Authenticated {
            session,
            identity: identity.clone(),
            client: caller.client.clone(),
        };
        let mut fresh = self.method_nodes(&updated_caller, &mut flow).await?;
        fresh.extend(
            flow.ui
                .nodes
                .iter()
                .find(|n| n.key() == "csrf_token")
                .cloned(),
        );
        nodes::sort(&mut fresh);
        flow.ui.nodes = fresh;
        flow.state = FlowState::Success;
        let flow = self
            .keeper
            .record(flow, vec![FieldMessage::global(message::settings_saved())])
            .await?;
        Ok(SettingsResult::Updated { flow, identity })
    }
}

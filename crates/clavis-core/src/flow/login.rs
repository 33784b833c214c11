//! The login engine: creates login flows, hands submissions to the named method and turns its
//! outcome into a session.

use super::hooks::{FlowHooks, Hook, Screening};
use super::keeper::{Draft, FlowKeeper, expired};
use super::method::{FieldMessage, LoginContext, MethodRegistry, Outcome};
use super::webhook;
use super::{Flow, FlowKind, FlowSettings, FlowState, FlowStore, RequestFacts, Step, nodes};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::identity::{Identity, IdentityService};
use crate::random::Rng;
use crate::secret::BearerToken;
use crate::session::{Authenticated, Session, SessionService};
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::message;
use clavis_types::session::{Aal, AuthenticationMethod};
use serde_json::Value;
use std::sync::Arc;

/// How a login flow is requested.
#[derive(Debug, Clone)]
pub struct NewLogin {
    pub flow_type: FlowType,
    pub refresh: bool,
    pub requested_aal: Aal,
    pub return_to: Option<String>,
    pub request_url: String,
    /// The caller's session, if it presented one.
    pub session: Option<Authenticated>,
    /// The CSRF token of a browser flow (its digest is stored).
    pub csrf_token: Option<BearerToken>,
}

/// What a submission led to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per request and consumed at once; boxing buys nothing
pub enum LoginResult {
    /// The flow goes on or was refused; answer it with 400.
    Flow(Flow),
    /// Logged in: a new session and its token (shown once), or, on refresh and step-up, the
    /// caller's session with the factor added (`token: None`: the caller keeps its token).
    LoggedIn {
        flow: Flow,
        session: Session,
        token: Option<BearerToken>,
        identity: Identity,
    },
    /// The browser must go elsewhere (an external provider).
    Redirect { flow: Flow, url: String },
}

/// Creates and advances login flows.
#[derive(Clone)]
pub struct LoginEngine {
    methods: MethodRegistry,
    keeper: FlowKeeper,
    identities: IdentityService,
    sessions: SessionService,
    clock: Arc<dyn Clock>,
    hooks: FlowHooks,
}

impl LoginEngine {
    /// Builds the engine over its ports; `hooks` is `selfservice.flows.login.after`.
    #[allow(clippy::too_many_arguments)] // one argument per port; a struct would only rename them
    pub fn new(
        methods: MethodRegistry,
        flows: Arc<dyn FlowStore>,
        identities: IdentityService,
        sessions: SessionService,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        settings: FlowSettings,
        hooks: FlowHooks,
    ) -> Self {
        let keeper = FlowKeeper::new(FlowKind::Login, flows, clock.clone(), rng, settings);
        Self {
            methods,
            keeper,
            identities,
            sessions,
            clock,
            hooks,
        }
    }

    /// Whether a `return_to` address is allowed by `selfservice.allowed_return_urls`.
    pub fn return_to_allowed(&self, return_to: &str) -> bool {
        self.keeper.settings().return_to_allowed(return_to)
    }

    /// Starts a login flow, refusing when the caller's session already satisfies it.
    pub async fn create(&self, new: NewLogin) -> Result<Flow, CoreError> {
        match &new.session {
            Some(current) if !new.refresh && new.requested_aal <= current.session.aal => {
                return Err(CoreError::SessionAlreadyAvailable);
            }
            None if new.requested_aal > Aal::Aal1 => return Err(CoreError::Aal1Required),
            _ => {}
        }
        let ctx = LoginContext {
            flow_type: new.flow_type,
            requested_aal: new.requested_aal,
            refresh: new.refresh,
            session: new.session.as_ref(),
        };
        let mut all = Vec::new();
        for method in self.methods.login_methods() {
            all.extend(method.login_nodes(&ctx).await?);
        }
        let mut flow = self.keeper.draft(Draft {
            flow_type: new.flow_type,
            state: FlowState::ChooseMethod,
            nodes: all,
            request_url: new.request_url,
            return_to: new.return_to,
            requested_aal: new.requested_aal,
            refresh: new.refresh,
            session: new.session.as_ref(),
            csrf_token: new.csrf_token,
        })?;
        if new.requested_aal > Aal::Aal1 && !new.refresh {
            flow.ui.messages.push(message::login_mfa());
        }
        self.keeper.store().insert_flow(&flow).await?;
        Ok(flow)
    }

    /// Reads a login flow; an expired one, or a browser flow without its cookie, is an error.
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
        session: Option<Authenticated>,
        request: RequestFacts,
    ) -> Result<LoginResult, CoreError> {
        let mut flow = self.keeper.for_submission(id, &request).await?;
        if self.keeper.is_expired(&flow) {
            let replacement = self
                .create(NewLogin {
                    flow_type: flow.flow_type,
                    refresh: flow.refresh,
                    requested_aal: flow.requested_aal,
                    return_to: flow.return_to.clone(),
                    request_url: flow.request_url.clone(),
                    session,
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
        if session.is_none() && flow.requested_aal > Aal::Aal1 {
            return Err(CoreError::Aal1Required);
        }
        if let Some(current) = &session
            && !flow.refresh
            && flow.requested_aal <= current.session.aal
        {
            return Err(CoreError::SessionAlreadyAvailable);
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
            .login_methods()
            .iter()
            .find(|m| m.id() == requested)
            .cloned()
        else {
            let refused = vec![FieldMessage::global(message::login_no_strategy())];
            return Ok(LoginResult::Flow(self.keeper.record(flow, refused).await?));
        };
        // Second factors check what the caller's credentials hold (the TOTP seed, the codes).
        let session = match session {
            Some(mut current) => {
                current.identity = self.identities.in_full(current.identity).await?;
                Some(current)
            }
            None => None,
        };
        let ctx = LoginContext {
            flow_type: flow.flow_type,
            requested_aal: flow.requested_aal,
            refresh: flow.refresh,
            session: session.as_ref(),
        };
        let outcome = method.login(&ctx, &mut Step::new(&mut flow), body).await?;
        flow.active = Some(method.id().to_owned());
        match outcome {
            Outcome::Continue {
                nodes: new_nodes,
                messages,
            } => {
                nodes::replace_group(&mut flow.ui, method.group(), new_nodes);
                Ok(LoginResult::Flow(self.keeper.record(flow, messages).await?))
            }
            Outcome::Rejected { messages } => {
                if let Some(identifier) = body.get("identifier").filter(|v| v.is_string()) {
                    nodes::set_value(&mut flow.ui, "identifier", identifier.clone());
                }
                Ok(LoginResult::Flow(self.keeper.record(flow, messages).await?))
            }
            Outcome::Authenticated {
                identity,
                aal,
                provider,
                upgrade,
            } => {
                if let Some(current) = &session
                    && current.identity.id != identity.id
                {
                    return Err(CoreError::IdentityMismatch);
                }
                let mut identity = *identity;
                let payload = self
                    .hooks
                    .has_web_hooks(method.id())
                    .then(|| webhook::payload(&flow, webhook::identity_json(&identity), &request));
                if let Some(payload) = &payload {
                    if let Screening::Interrupt(messages) =
                        self.hooks.screen(method.id(), payload).await?
                    {
                        return Ok(LoginResult::Flow(self.keeper.record(flow, messages).await?));
                    }
                    self.hooks.notify(method.id(), payload).await?;
                }
                let now = self.clock.now();
                let completed = AuthenticationMethod {
                    method: method.id().to_owned(),
                    aal,
                    completed_at: now,
                    provider,
                };
                if !self
                    .keeper
                    .store()
                    .finish_flow(flow.id, FlowState::PassedChallenge, now)
                    .await?
                {
                    return Err(CoreError::FlowCompleted);
                }
                flow.state = FlowState::PassedChallenge;
                if let Some(change) = upgrade.filter(|c| !c.is_empty()) {
                    match self.identities.update(&identity, change).await {
                        Ok(updated) => identity = updated,
                        Err(error) => tracing::warn!(
                            identity = %identity.id,
                            %error,
                            "could not store the upgraded credential; the login goes on"
                        ),
                    }
                }
                let (session, token) = match &session {
                    Some(current) => (
                        self.sessions
                            .reauthenticate(&current.session, completed)
                            .await?,
                        None,
                    ),
                    None => {
                        let (session, token) = self
                            .sessions
                            .issue(&identity, vec![completed], request.device)
                            .await?;
                        (session, Some(token))
                    }
                };
                if self.hooks.runs(method.id(), Hook::RevokeActiveSessions) {
                    self.sessions.revoke_others(&session).await?;
                }
                if let Some(payload) = &payload {
                    self.hooks.dispatch(method.id(), payload);
                }
                Ok(LoginResult::LoggedIn {
                    flow,
                    session,
                    token,
                    identity,
                })
            }
            Outcome::Redirect { url } => {
                self.keeper.store().update_flow(&flow).await?;
                Ok(LoginResult::Redirect { flow, url })
            }
            Outcome::Registered { .. } | Outcome::Updated { .. } => {
                Err(CoreError::Internal(format!(
                    "method `{}` answered a registration or settings outcome to a login",
                    method.id()
                )))
            }
        }
    }
}

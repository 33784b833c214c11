//! The login engine: creates login flows, hands submissions to the named method and turns its
//! outcome into a session.

use super::method::{FieldMessage, LoginContext, MethodRegistry, Outcome};
use super::nodes;
use super::{Flow, FlowKind, FlowSettings, FlowState, FlowStore, RequestFacts, Step};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::identity::{Identity, IdentityStore};
use crate::random::{Rng, uuid_v4};
use crate::secret::BearerToken;
use crate::session::{Authenticated, Session, SessionService};
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::message;
use clavis_types::session::{Aal, AuthenticationMethod};
use clavis_types::ui::UiContainer;
use serde_json::Value;
use std::collections::BTreeMap;
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
    /// Logged in: a new session and its token (shown once).
    LoggedIn {
        flow: Flow,
        session: Session,
        token: BearerToken,
        identity: Identity,
    },
    /// The browser must go elsewhere (an external provider).
    Redirect { flow: Flow, url: String },
}

/// Creates and advances login flows.
#[derive(Clone)]
pub struct LoginEngine {
    methods: MethodRegistry,
    flows: Arc<dyn FlowStore>,
    identities: Arc<dyn IdentityStore>,
    sessions: SessionService,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    settings: FlowSettings,
}

impl LoginEngine {
    /// Whether a `return_to` address is allowed by `selfservice.allowed_return_urls`.
    pub fn return_to_allowed(&self, return_to: &str) -> bool {
        self.settings.return_to_allowed(return_to)
    }

    /// Builds the engine over its ports.
    pub fn new(
        methods: MethodRegistry,
        flows: Arc<dyn FlowStore>,
        identities: Arc<dyn IdentityStore>,
        sessions: SessionService,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        settings: FlowSettings,
    ) -> Self {
        Self {
            methods,
            flows,
            identities,
            sessions,
            clock,
            rng,
            settings,
        }
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
            kind: FlowKind::Login,
            flow_type: new.flow_type,
            state: FlowState::ChooseMethod,
            identity_id: new.session.as_ref().map(|s| s.identity.id),
            session_id: new.session.as_ref().map(|s| s.session.id),
            request_url: new.request_url,
            return_to: new.return_to,
            requested_aal: new.requested_aal,
            refresh: new.refresh,
            ui: UiContainer {
                action: self.settings.action_url(FlowKind::Login, id),
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

    /// Reads a login flow; an expired one is an error.
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
            .filter(|f| f.kind == FlowKind::Login)
            .ok_or(CoreError::FlowNotFound)
    }

    /// Hands a submission to the method it names and acts on the outcome.
    pub async fn submit(
        &self,
        id: FlowId,
        body: &Value,
        session: Option<Authenticated>,
        request: RequestFacts,
    ) -> Result<LoginResult, CoreError> {
        let mut flow = self.load(id).await?;
        if flow.flow_type == FlowType::Api && request.from_browser {
            return Err(CoreError::ApiFlowFromBrowser);
        }
        super::check_csrf(&flow, &request)?;
        let device = request.device;
        if flow.expires_at <= self.clock.now() {
            let replacement = self
                .replacement(&flow, session, request.csrf_cookie.clone())
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
            return self
                .refuse(
                    flow,
                    vec![FieldMessage::global(message::login_no_strategy())],
                )
                .await;
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
                self.refuse(flow, messages).await
            }
            Outcome::Rejected { messages } => {
                if let Some(identifier) = body.get("identifier").filter(|v| v.is_string()) {
                    nodes::set_value(&mut flow.ui, "identifier", identifier.clone());
                }
                self.refuse(flow, messages).await
            }
            Outcome::Authenticated {
                identity,
                aal,
                provider,
            } => {
                if let Some(current) = &session
                    && current.identity.id != identity
                {
                    return Err(CoreError::IdentityMismatch);
                }
                let now = self.clock.now();
                let completed = AuthenticationMethod {
                    method: method.id().to_owned(),
                    aal,
                    completed_at: now,
                    provider,
                };
                if !self
                    .flows
                    .finish_flow(flow.id, FlowState::PassedChallenge, now)
                    .await?
                {
                    return Err(CoreError::FlowCompleted);
                }
                flow.state = FlowState::PassedChallenge;
                let identity = self
                    .identities
                    .get_identity(identity)
                    .await?
                    .ok_or_else(|| {
                        CoreError::Internal("the authenticated identity vanished".to_owned())
                    })?;
                let (session, token) = self
                    .sessions
                    .issue(&identity, vec![completed], device)
                    .await?;
                Ok(LoginResult::LoggedIn {
                    flow,
                    session,
                    token,
                    identity,
                })
            }
            Outcome::Redirect { url } => {
                self.flows.update_flow(&flow).await?;
                Ok(LoginResult::Redirect { flow, url })
            }
            Outcome::Registered { .. } => Err(CoreError::Internal(format!(
                "method `{}` answered a registration outcome to a login",
                method.id()
            ))),
        }
    }

    async fn refuse(
        &self,
        mut flow: Flow,
        messages: Vec<FieldMessage>,
    ) -> Result<LoginResult, CoreError> {
        nodes::apply_messages(&mut flow.ui, messages);
        flow.updated_at = self.clock.now();
        if !self.flows.update_flow(&flow).await? {
            return Err(CoreError::FlowCompleted);
        }
        Ok(LoginResult::Flow(flow))
    }

    async fn replacement(
        &self,
        expired: &Flow,
        session: Option<Authenticated>,
        csrf_token: Option<BearerToken>,
    ) -> Result<Flow, CoreError> {
        self.create(NewLogin {
            flow_type: expired.flow_type,
            refresh: expired.refresh,
            requested_aal: expired.requested_aal,
            return_to: expired.return_to.clone(),
            request_url: expired.request_url.clone(),
            session,
            csrf_token: csrf_token.filter(|_| expired.flow_type == FlowType::Browser),
        })
        .await
    }
}

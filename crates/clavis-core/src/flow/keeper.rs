//! What every flow engine does the same way: drafting a new flow, loading one of its kind,
//! the read and submission checks (expiry, CSRF, API flows from browsers), and saving a
//! refused submission.

use super::method::FieldMessage;
use super::{Flow, FlowKind, FlowSettings, FlowState, FlowStore, RequestFacts, nodes};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::random::{Rng, uuid_v7};
use crate::secret::BearerToken;
use crate::session::Authenticated;
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::session::Aal;
use clavis_types::ui::{Node, UiContainer};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The parameters of a new flow.
pub struct Draft<'a> {
    pub flow_type: FlowType,
    /// The state a new flow starts in (`choose_method`, or `show_form` for settings).
    pub state: FlowState,
    pub nodes: Vec<Node>,
    pub request_url: String,
    pub return_to: Option<String>,
    pub requested_aal: Aal,
    pub refresh: bool,
    pub session: Option<&'a Authenticated>,
    pub csrf_token: Option<BearerToken>,
}

/// Flow bookkeeping for one flow kind.
#[derive(Clone)]
pub struct FlowKeeper {
    kind: FlowKind,
    flows: Arc<dyn FlowStore>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    settings: FlowSettings,
}

impl FlowKeeper {
    /// Bookkeeping for flows of `kind`.
    pub fn new(
        kind: FlowKind,
        flows: Arc<dyn FlowStore>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        settings: FlowSettings,
    ) -> Self {
        Self {
            kind,
            flows,
            clock,
            rng,
            settings,
        }
    }

    /// The storage port, for state transitions.
    pub fn store(&self) -> &dyn FlowStore {
        self.flows.as_ref()
    }

    /// The flow settings.
    pub fn settings(&self) -> &FlowSettings {
        &self.settings
    }

    /// Checks `return_to`, sorts the nodes, adds the CSRF node, and stores the new flow.
    pub async fn create(&self, draft: Draft<'_>) -> Result<Flow, CoreError> {
        let flow = self.draft(draft)?;
        self.flows.insert_flow(&flow).await?;
        Ok(flow)
    }

    /// Builds a new flow as [`FlowKeeper::create`] would, without storing it (for an engine
    /// whose methods keep private state while drawing their nodes).
    pub fn draft(&self, draft: Draft<'_>) -> Result<Flow, CoreError> {
        if let Some(return_to) = &draft.return_to
            && !self.settings.return_to_allowed(return_to)
        {
            return Err(CoreError::ReturnToForbidden);
        }
        let mut all = draft.nodes;
        if let Some(token) = &draft.csrf_token {
            all.push(nodes::csrf_node(token.expose()));
        }
        nodes::sort(&mut all);
        // Time-ordered ids: a new flow is appended to the flow table's key index.
        let now = self.clock.now();
        let id = FlowId(uuid_v7(self.rng.as_ref(), now));
        let flow = Flow {
            id,
            kind: self.kind,
            flow_type: draft.flow_type,
            state: draft.state,
            identity_id: draft.session.map(|s| s.identity.id),
            session_id: draft.session.map(|s| s.session.id),
            request_url: draft.request_url,
            return_to: draft.return_to,
            requested_aal: draft.requested_aal,
            refresh: draft.refresh,
            ui: UiContainer {
                action: self.settings.action_url(self.kind, id),
                method: "POST".to_owned(),
                nodes: all,
                messages: Vec::new(),
            },
            active: None,
            strategy_state: BTreeMap::new(),
            csrf_token_digest: draft.csrf_token.map(|t| t.digest().as_str().to_owned()),
            transient_payload: None,
            issued_at: now,
            expires_at: now + self.settings.lifespan,
            updated_at: now,
        };
        Ok(flow)
    }

    /// A flow of this kind, whatever its state.
    pub async fn load(&self, id: FlowId) -> Result<Flow, CoreError> {
        self.flows
            .get_flow(id)
            .await?
            .filter(|f| f.kind == self.kind)
            .ok_or(CoreError::FlowNotFound)
    }

    /// A flow for reading: bound to the caller's CSRF cookie (browser flows) and not expired.
    pub async fn read(
        &self,
        id: FlowId,
        csrf_cookie: Option<&BearerToken>,
    ) -> Result<Flow, CoreError> {
        let flow = self.load(id).await?;
        super::check_csrf_cookie(&flow, csrf_cookie)?;
        if self.is_expired(&flow) {
            return Err(expired(&flow, None));
        }
        Ok(flow)
    }

    /// A flow for a submission: API flows refuse browsers, browser flows need their CSRF token,
    /// and a finished flow cannot be submitted again. Expiry is left to the engine, which
    /// creates the replacement.
    pub async fn for_submission(
        &self,
        id: FlowId,
        request: &RequestFacts,
    ) -> Result<Flow, CoreError> {
        let flow = self.load(id).await?;
        if flow.flow_type == FlowType::Api && request.from_browser {
            return Err(CoreError::ApiFlowFromBrowser);
        }
        super::check_csrf(&flow, request)?;
        Ok(flow)
    }

    /// Whether the flow's lifespan is over.
    pub fn is_expired(&self, flow: &Flow) -> bool {
        flow.expires_at <= self.clock.now()
    }

    /// Saves the flow with the messages of a refused, continued or completed submission.
    pub async fn record(
        &self,
        mut flow: Flow,
        messages: Vec<FieldMessage>,
    ) -> Result<Flow, CoreError> {
        nodes::apply_messages(&mut flow.ui, messages);
        flow.updated_at = self.clock.now();
        if !self.flows.update_flow(&flow).await? {
            return Err(CoreError::FlowCompleted);
        }
        Ok(flow)
    }
}

/// The 410 for `flow`, naming its replacement when there is one.
pub fn expired(flow: &Flow, replacement: Option<&Flow>) -> CoreError {
    CoreError::FlowExpired {
        expired_at: flow.expires_at,
        use_flow_id: replacement.map(|r| r.id),
        browser: flow.flow_type == FlowType::Browser,
    }
}

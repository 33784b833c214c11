//! Self-service flows and the engine that advances them.
//!
//! A flow is a server-side state machine re-read from storage on every step, so any replica can
//! serve any step. Methods (strategies) plug in through the capability traits in [`method`];
//! the engines in [`login`], [`registration`], [`settings`], [`recovery`] and [`verification`] own everything around a method: expiry, the
//! caller's session, node order, single use, sessions and hooks. See
//! `docs/design/strategies.md`.

pub mod errors;
pub mod exchange;
pub mod hooks;
pub mod keeper;
pub mod login;
pub mod method;
pub mod nodes;
pub mod profile;
pub mod recovery;
pub mod registration;
pub mod settings;
mod traits_form;
pub mod verification;
pub mod webhook;

use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::session::Aal;
use clavis_types::ui::UiContainer;
use clavis_types::{IdentityId, SessionId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// Which self-service flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowKind {
    Login,
    Registration,
    Settings,
    Recovery,
    Verification,
}

impl FlowKind {
    /// The stored and path name.
    pub fn as_str(&self) -> &'static str {
        match self {
            FlowKind::Login => "login",
            FlowKind::Registration => "registration",
            FlowKind::Settings => "settings",
            FlowKind::Recovery => "recovery",
            FlowKind::Verification => "verification",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Login,
            Self::Registration,
            Self::Settings,
            Self::Recovery,
            Self::Verification,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }
}

/// Where a flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowState {
    ChooseMethod,
    SentEmail,
    PassedChallenge,
    ShowForm,
    Success,
}

impl FlowState {
    /// The stored and wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            FlowState::ChooseMethod => "choose_method",
            FlowState::SentEmail => "sent_email",
            FlowState::PassedChallenge => "passed_challenge",
            FlowState::ShowForm => "show_form",
            FlowState::Success => "success",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::ChooseMethod,
            Self::SentEmail,
            Self::PassedChallenge,
            Self::ShowForm,
            Self::Success,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }

    /// Whether the flow is finished and may not be submitted again.
    pub fn is_terminal(&self) -> bool {
        matches!(self, FlowState::PassedChallenge | FlowState::Success)
    }
}

/// A self-service flow as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub id: FlowId,
    pub kind: FlowKind,
    pub flow_type: FlowType,
    pub state: FlowState,
    /// The identity a flow is about (settings, step-up login).
    pub identity_id: Option<IdentityId>,
    pub session_id: Option<SessionId>,
    pub request_url: String,
    pub return_to: Option<String>,
    pub requested_aal: Aal,
    pub refresh: bool,
    pub ui: UiContainer,
    /// The method that handled the last submission.
    pub active: Option<String>,
    /// Each method's private state, by method id. Read and written only through [`Step`].
    pub strategy_state: BTreeMap<String, Value>,
    pub csrf_token_digest: Option<String>,
    pub transient_payload: Option<Value>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Flow {
    /// Whether the flow takes no more submissions. Settings flows stay open after a successful
    /// update, so the form can be used again; every other kind is single-use.
    pub fn is_finished(&self) -> bool {
        self.kind != FlowKind::Settings && self.state.is_terminal()
    }
}

/// A method's private state inside a flow: typed here, JSON only at the store boundary.
pub trait StrategyState: Serialize + DeserializeOwned {
    /// The method the state belongs to.
    const METHOD: &'static str;
}

/// What a method may touch of the flow it is handling.
pub struct Step<'a> {
    flow: &'a mut Flow,
}

impl<'a> Step<'a> {
    /// Wraps a flow for one method call.
    pub fn new(flow: &'a mut Flow) -> Self {
        Self { flow }
    }

    /// The flow, read-only.
    pub fn flow(&self) -> &Flow {
        self.flow
    }

    /// This method's state, if it stored one (unreadable state counts as none).
    pub fn state<S: StrategyState>(&self) -> Option<S> {
        self.flow
            .strategy_state
            .get(S::METHOD)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Replaces this method's state.
    pub fn set_state<S: StrategyState>(&mut self, state: &S) -> Result<(), StorageError> {
        let value =
            serde_json::to_value(state).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        self.flow.strategy_state.insert(S::METHOD.to_owned(), value);
        Ok(())
    }

    /// Drops this method's state.
    pub fn clear_state<S: StrategyState>(&mut self) {
        self.flow.strategy_state.remove(S::METHOD);
    }
}

/// The storage flows need.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Stores a new flow.
    async fn insert_flow(&self, flow: &Flow) -> Result<(), StorageError>;
    /// Reads a flow.
    async fn get_flow(&self, id: FlowId) -> Result<Option<Flow>, StorageError>;
    /// Writes a flow's mutable parts (ui, state, method state, active method) unless it is
    /// finished ([`Flow::is_finished`]); false when it was.
    async fn update_flow(&self, flow: &Flow) -> Result<bool, StorageError>;
    /// Moves a non-terminal flow to `state` in one conditional write; false when another
    /// request got there first. This is what makes a flow single-use.
    async fn finish_flow(
        &self,
        id: FlowId,
        state: FlowState,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    /// Undoes [`FlowStore::finish_flow`] when the work it guarded failed.
    async fn reopen_flow(
        &self,
        id: FlowId,
        state: FlowState,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;
}

/// What the HTTP layer observed about a submission.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// The request carries an `Origin` header or cookies: it came from a browser.
    pub from_browser: bool,
    /// Where it came from, for the session's device list.
    pub device: crate::session::DeviceInfo,
    /// The CSRF token from the (verified) CSRF cookie, if the request carried one.
    pub csrf_cookie: Option<crate::secret::BearerToken>,
    /// The CSRF token the form field `csrf_token` or the `X-CSRF-Token` header carried.
    pub csrf_submitted: Option<String>,
    /// The submission's URL, method and harmless headers (never cookies or credentials), as
    /// web hooks receive them.
    pub request_url: String,
    pub request_method: String,
    pub request_headers: BTreeMap<String, String>,
}

/// Browser flows are bound to the CSRF cookie of the browser that created them: the cookie's
/// token must match the flow, and the submission must repeat it.
pub fn check_csrf(flow: &Flow, request: &RequestFacts) -> Result<(), crate::CoreError> {
    if flow.flow_type != FlowType::Browser {
        return Ok(());
    }
    let violation = |reason: &str| crate::CoreError::CsrfViolation(reason.to_owned());
    let cookie = request
        .csrf_cookie
        .as_ref()
        .ok_or_else(|| violation("the CSRF cookie is missing or invalid"))?;
    let expected = flow
        .csrf_token_digest
        .as_deref()
        .ok_or_else(|| violation("the flow has no CSRF binding"))?;
    if !crate::secret::constant_time_eq(cookie.digest().as_str().as_bytes(), expected.as_bytes()) {
        return Err(violation("the CSRF cookie belongs to another flow"));
    }
    let submitted = request
        .csrf_submitted
        .as_deref()
        .ok_or_else(|| violation("the csrf_token field is missing"))?;
    if !crate::secret::constant_time_eq(submitted.as_bytes(), cookie.expose().as_bytes()) {
        return Err(violation(
            "the csrf_token field does not match the CSRF cookie",
        ));
    }
    Ok(())
}

/// Reading a browser flow needs the CSRF cookie it is bound to.
pub fn check_csrf_cookie(
    flow: &Flow,
    cookie: Option<&crate::secret::BearerToken>,
) -> Result<(), crate::CoreError> {
    if flow.flow_type != FlowType::Browser {
        return Ok(());
    }
    let matches = match (cookie, flow.csrf_token_digest.as_deref()) {
        (Some(cookie), Some(expected)) => crate::secret::constant_time_eq(
            cookie.digest().as_str().as_bytes(),
            expected.as_bytes(),
        ),
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(crate::CoreError::CsrfViolation(
            "the CSRF cookie is missing or belongs to another flow".to_owned(),
        ))
    }
}

/// Clavis' own pages a flow may return to, below the public base URL: the self-service
/// endpoints and the device-approval page (which sends a browser to sign in first).
const CLAVIS_RETURN_PATHS: &[&str] = &[
    "self-service/",
    "index.php/login/v2/flow/",
    "login/v2/flow/",
];

/// Flow policy from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSettings {
    /// Where clients reach the public API (ends with `/`); forms post there.
    pub public_base_url: String,
    pub lifespan: chrono::TimeDelta,
    /// Where browsers go after a flow without `return_to`; its origin is always allowed.
    pub default_return_url: String,
    /// `selfservice.allowed_return_urls`: a `return_to` must start with one of these.
    pub allowed_return_urls: Vec<String>,
}

impl FlowSettings {
    /// Whether `return_to` may be used: same origin as the default return URL, one of Clavis'
    /// own self-service endpoints or its device-approval page, or under one of the allowed URLs (same scheme, host and port,
    /// and a path below the allowed path).
    pub fn return_to_allowed(&self, return_to: &str) -> bool {
        let Some(target) = Origin::parse(return_to) else {
            return false;
        };
        if let Some(public) = Origin::parse(&self.public_base_url)
            && public.scheme_host == target.scheme_host
            && CLAVIS_RETURN_PATHS
                .iter()
                .any(|own| target.path.starts_with(&format!("{}{own}", public.path)))
        {
            return true;
        }
        let default_origin = Origin::parse(&self.default_return_url);
        if default_origin
            .as_ref()
            .is_some_and(|d| d.scheme_host == target.scheme_host)
        {
            return true;
        }
        self.allowed_return_urls
            .iter()
            .filter_map(|a| Origin::parse(a))
            .any(|allowed| {
                allowed.scheme_host == target.scheme_host
                    && target.path.starts_with(allowed.path.trim_end_matches('/'))
            })
    }

    /// `<public>/self-service/<kind>?flow=<id>`.
    pub fn action_url(&self, kind: FlowKind, id: FlowId) -> String {
        format!(
            "{}self-service/{}?flow={}",
            self.public_base_url,
            kind.as_str(),
            id
        )
    }
}

/// The scheme, host, port and path of an absolute http(s) URL, compared case-insensitively.
struct Origin {
    scheme_host: String,
    path: String,
}

impl Origin {
    fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.is_empty() || authority.contains('@') || authority.contains('\\') {
            return None;
        }
        let path_end = rest[end..].find(['?', '#']).map_or(rest.len(), |i| end + i);
        let path = if end < path_end {
            rest[end..path_end].to_owned()
        } else {
            "/".to_owned()
        };
        Some(Self {
            scheme_host: format!("{scheme}://{}", authority.to_ascii_lowercase()),
            path,
        })
    }
}

#[cfg(test)]
mod return_to_tests {
    use super::FlowSettings;

    fn settings(allowed: &[&str]) -> FlowSettings {
        FlowSettings {
            public_base_url: "http://127.0.0.1:4433/".into(),
            lifespan: chrono::TimeDelta::hours(1),
            default_return_url: "https://app.example.org/home".into(),
            allowed_return_urls: allowed.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn default_origin_and_allowed_prefixes_pass() {
        let s = settings(&["https://shop.example.org/account"]);
        assert!(s.return_to_allowed("https://app.example.org/anything?x=1"));
        assert!(s.return_to_allowed("https://shop.example.org/account/orders"));
        assert!(s.return_to_allowed("HTTPS://SHOP.example.org/account"));
        assert!(
            s.return_to_allowed("http://127.0.0.1:4433/self-service/settings/browser?return_to=x")
        );
        assert!(s.return_to_allowed("http://127.0.0.1:4433/index.php/login/v2/flow/abc"));
        assert!(s.return_to_allowed("http://127.0.0.1:4433/login/v2/flow/abc"));
    }

    #[test]
    fn foreign_hosts_paths_and_schemes_fail() {
        let s = settings(&["https://shop.example.org/account"]);
        assert!(!s.return_to_allowed("https://evil.example.net/"));
        assert!(!s.return_to_allowed("https://shop.example.org/admin"));
        assert!(!s.return_to_allowed("https://app.example.org@evil.example.net/"));
        assert!(!s.return_to_allowed("javascript:alert(1)"));
        assert!(!s.return_to_allowed("//evil.example.net/"));
        assert!(
            !s.return_to_allowed("http://127.0.0.1:4433/admin/identities"),
            "only the self-service endpoints of the public URL"
        );
        assert!(
            !s.return_to_allowed("http://app.example.org/"),
            "the scheme is part of the origin"
        );
    }
}

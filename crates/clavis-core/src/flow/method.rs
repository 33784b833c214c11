//! The strategy interface: what an authentication method implements to take part in flows.
//!
//! A method returns an [`Outcome`] and never touches HTTP, cookies or sessions; the engines
//! decide what an outcome means for the flow and the caller.

use super::Step;
use crate::error::CoreError;
use crate::identity::{CredentialKind, Identity, IdentityChange, IdentitySchema, TraitsExtract};
use crate::session::Authenticated;
use async_trait::async_trait;
use clavis_types::IdentityId;
use clavis_types::flow::FlowType;
use clavis_types::session::Aal;
use clavis_types::ui::{Message, Node, NodeGroup};
use serde_json::Value;

/// Every method has an id (the `method` field of a submission) and a node group.
pub trait Method: Send + Sync {
    /// The id a submission's `method` field names (`password`, `code`, ...).
    fn id(&self) -> &'static str;
    /// The node group its nodes belong to.
    fn group(&self) -> NodeGroup;
}

/// A message for one node (by name) or for the whole form (`node: None`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMessage {
    pub node: Option<String>,
    pub message: Message,
}

impl FieldMessage {
    /// A message shown next to the node named `node`.
    pub fn on(node: &str, message: Message) -> Self {
        Self {
            node: Some(node.to_owned()),
            message,
        }
    }

    /// A message for the whole form.
    pub fn global(message: Message) -> Self {
        Self {
            node: None,
            message,
        }
    }
}

/// What a method answers for one submission.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The flow goes on: replace this method's nodes, show these messages.
    Continue {
        nodes: Vec<Node>,
        messages: Vec<FieldMessage>,
    },
    /// A login (or step-up) succeeded for this identity with a factor of this level; the engine
    /// records it as an authentication method stamped with its clock. The identity is the one
    /// the method checked the factor against (read for this submission, or the session's), so
    /// the engine does not read it again.
    Authenticated {
        identity: Box<Identity>,
        aal: Aal,
        provider: Option<String>,
        /// Credentials to rewrite on the way (a password hash upgraded to the current
        /// algorithm); the engine stores it, and a failure to store it does not fail the login.
        upgrade: Option<IdentityChange>,
    },
    /// A registration may create an identity with these credentials (traits come from the
    /// engine, which validated them).
    Registered {
        credentials: Vec<(CredentialKind, Value)>,
    },
    /// A settings submission changes the identity (traits, credentials); the engine validates
    /// and stores the change. `completed` names the assurance level of a factor the caller just
    /// proved while enrolling it (a confirmed TOTP code); the engine adds it to the session.
    Updated {
        change: IdentityChange,
        completed: Option<Aal>,
    },
    /// Leave to an external provider.
    Redirect { url: String },
    /// The submission is refused; the messages are rendered into the flow (400).
    Rejected { messages: Vec<FieldMessage> },
}

/// What a login method knows about the flow it serves.
#[derive(Debug, Clone, Copy)]
pub struct LoginContext<'a> {
    pub flow_type: FlowType,
    pub requested_aal: Aal,
    pub refresh: bool,
    /// The caller's session on refresh or step-up.
    pub session: Option<&'a Authenticated>,
}

impl LoginContext<'_> {
    /// Whether the flow asks for a second factor from a caller whose identity holds a `kind`
    /// credential: when a second-factor method offers its nodes.
    pub fn steps_up_with(&self, kind: CredentialKind) -> bool {
        self.requested_aal >= Aal::Aal2
            && self
                .session
                .is_some_and(|s| s.identity.credentials.contains_key(&kind))
    }
}

/// A method that can log people in.
#[async_trait]
pub trait LoginMethod: Method {
    /// Nodes for a new login flow, or none when the method does not apply to it.
    async fn login_nodes(&self, ctx: &LoginContext<'_>) -> Result<Vec<Node>, CoreError>;
    /// The assurance level a login with this method would give `identity`, or `None` when the
    /// identity has no credential for it. The highest of these is the identity's "highest
    /// available" level (`required_aal: highest_available`).
    fn available_aal(&self, _identity: &Identity) -> Option<Aal> {
        None
    }
    /// Handles a submission whose `method` names this method.
    async fn login(
        &self,
        ctx: &LoginContext<'_>,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError>;
}

/// What a registration method knows about the flow it serves.
#[derive(Debug, Clone, Copy)]
pub struct RegistrationContext<'a> {
    pub flow_type: FlowType,
    /// The submitted traits, already valid against the identity schema.
    pub traits: &'a Value,
    /// Identifiers and addresses the schema derives from them.
    pub extract: &'a TraitsExtract,
}

/// A method that can register people.
#[async_trait]
pub trait RegistrationMethod: Method {
    /// Nodes for a new registration flow (besides the trait fields, which the engine adds).
    async fn registration_nodes(&self, flow_type: FlowType) -> Result<Vec<Node>, CoreError>;
    /// Handles a submission whose `method` names this method.
    async fn register(
        &self,
        ctx: &RegistrationContext<'_>,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError>;
}

/// What a settings method knows about the flow it serves.
#[derive(Debug, Clone, Copy)]
pub struct SettingsContext<'a> {
    pub flow_type: FlowType,
    /// The caller, whose identity the flow changes.
    pub caller: &'a Authenticated,
    /// The identity's schema.
    pub schema: &'a IdentitySchema,
}

/// A method whose credentials (or traits) users manage themselves in the settings flow.
#[async_trait]
pub trait SettingsMethod: Method {
    /// Nodes for the identity's settings form, showing its current state. A method that shows
    /// something it must remember until the next submission (a TOTP secret to confirm) keeps
    /// it in its private state through `step`.
    async fn settings_nodes(
        &self,
        ctx: &SettingsContext<'_>,
        step: &mut Step<'_>,
    ) -> Result<Vec<Node>, CoreError>;
    /// Whether this submission needs a recently authenticated session
    /// (`privileged_session_max_age`). Checked before [`SettingsMethod::update`] runs.
    fn needs_privileged_session(&self, _ctx: &SettingsContext<'_>, _body: &Value) -> bool {
        true
    }
    /// Handles a submission whose `method` names this method.
    async fn update(
        &self,
        ctx: &SettingsContext<'_>,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError>;
}

/// What a recovery or verification method answers for one submission: the caller proves
/// control of an address by answering a challenge sent to it.
#[derive(Debug, Clone, PartialEq)]
pub enum ChallengeOutcome {
    /// The flow goes on (answered 200): a challenge was sent, or a wrong answer was given.
    /// `nodes` replaces this method's nodes when set; the flow moves to `state`.
    Continue {
        nodes: Option<Vec<Node>>,
        messages: Vec<FieldMessage>,
        state: super::FlowState,
    },
    /// The caller proved control of `address`, which belongs to `identity`.
    Passed {
        identity: IdentityId,
        address: String,
    },
    /// The submission is malformed (answered 400 with these messages).
    Rejected { messages: Vec<FieldMessage> },
}

/// A method that lets people who lost their credentials back into their account.
#[async_trait]
pub trait RecoveryMethod: Method {
    /// Nodes for a new recovery flow.
    async fn recovery_nodes(&self, flow_type: FlowType) -> Result<Vec<Node>, CoreError>;
    /// Handles a submission whose `method` names this method.
    async fn recover(
        &self,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<ChallengeOutcome, CoreError>;
}

/// A method that proves an identity's address (verification).
#[async_trait]
pub trait VerificationMethod: Method {
    /// Nodes for a new verification flow.
    async fn verification_nodes(&self, flow_type: FlowType) -> Result<Vec<Node>, CoreError>;
    /// Handles a submission whose `method` names this method.
    async fn verify(
        &self,
        step: &mut Step<'_>,
        body: &Value,
    ) -> Result<ChallengeOutcome, CoreError>;
    /// Sends a challenge for `address` of `identity` into a new flow without a submission
    /// (after registration); returns the nodes that take the answer.
    async fn send_to(
        &self,
        step: &mut Step<'_>,
        identity: &Identity,
        address: &str,
    ) -> Result<Vec<Node>, CoreError>;
}

/// The methods in force, in the configured order. Built once by the composition root.
#[derive(Clone, Default)]
pub struct MethodRegistry {
    login: Vec<std::sync::Arc<dyn LoginMethod>>,
    registration: Vec<std::sync::Arc<dyn RegistrationMethod>>,
    settings: Vec<std::sync::Arc<dyn SettingsMethod>>,
    recovery: Vec<std::sync::Arc<dyn RecoveryMethod>>,
    verification: Vec<std::sync::Arc<dyn VerificationMethod>>,
    import: Vec<std::sync::Arc<dyn crate::identity::admin::CredentialImport>>,
}

/// Two methods claimed one id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the method `{0}` is registered twice for {1}")]
pub struct DuplicateMethod(pub String, pub &'static str);

impl MethodRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a login method after those already added.
    pub fn login(
        mut self,
        method: std::sync::Arc<dyn LoginMethod>,
    ) -> Result<Self, DuplicateMethod> {
        if self.login.iter().any(|m| m.id() == method.id()) {
            return Err(DuplicateMethod(method.id().to_owned(), "login"));
        }
        self.login.push(method);
        Ok(self)
    }

    /// Adds a registration method after those already added.
    pub fn registration(
        mut self,
        method: std::sync::Arc<dyn RegistrationMethod>,
    ) -> Result<Self, DuplicateMethod> {
        if self.registration.iter().any(|m| m.id() == method.id()) {
            return Err(DuplicateMethod(method.id().to_owned(), "registration"));
        }
        self.registration.push(method);
        Ok(self)
    }

    /// Adds a settings method after those already added.
    pub fn settings(
        mut self,
        method: std::sync::Arc<dyn SettingsMethod>,
    ) -> Result<Self, DuplicateMethod> {
        if self.settings.iter().any(|m| m.id() == method.id()) {
            return Err(DuplicateMethod(method.id().to_owned(), "settings"));
        }
        self.settings.push(method);
        Ok(self)
    }

    /// Adds a recovery method after those already added.
    pub fn recovery(
        mut self,
        method: std::sync::Arc<dyn RecoveryMethod>,
    ) -> Result<Self, DuplicateMethod> {
        if self.recovery.iter().any(|m| m.id() == method.id()) {
            return Err(DuplicateMethod(method.id().to_owned(), "recovery"));
        }
        self.recovery.push(method);
        Ok(self)
    }

    /// Adds a verification method after those already added.
    pub fn verification(
        mut self,
        method: std::sync::Arc<dyn VerificationMethod>,
    ) -> Result<Self, DuplicateMethod> {
        if self.verification.iter().any(|m| m.id() == method.id()) {
            return Err(DuplicateMethod(method.id().to_owned(), "verification"));
        }
        self.verification.push(method);
        Ok(self)
    }

    /// Recovery methods in order.
    pub fn recovery_methods(&self) -> &[std::sync::Arc<dyn RecoveryMethod>] {
        &self.recovery
    }

    /// Verification methods in order.
    pub fn verification_methods(&self) -> &[std::sync::Arc<dyn VerificationMethod>] {
        &self.verification
    }

    /// Adds how a method accepts credentials through the admin API (one per credential kind).
    pub fn import(
        mut self,
        importer: std::sync::Arc<dyn crate::identity::admin::CredentialImport>,
    ) -> Result<Self, DuplicateMethod> {
        if self.import.iter().any(|i| i.kind() == importer.kind()) {
            return Err(DuplicateMethod(
                importer.kind().as_str().to_owned(),
                "import",
            ));
        }
        self.import.push(importer);
        Ok(self)
    }

    /// Credential importers in order.
    pub fn importers(&self) -> &[std::sync::Arc<dyn crate::identity::admin::CredentialImport>] {
        &self.import
    }

    /// Settings methods in order.
    pub fn settings_methods(&self) -> &[std::sync::Arc<dyn SettingsMethod>] {
        &self.settings
    }

    /// Login methods in order.
    pub fn login_methods(&self) -> &[std::sync::Arc<dyn LoginMethod>] {
        &self.login
    }

    /// The highest assurance level any login method offers `identity` (aal1 when none
    /// says more).
    pub fn highest_available_aal(&self, identity: &Identity) -> Aal {
        self.login
            .iter()
            .filter_map(|m| m.available_aal(identity))
            .max()
            .unwrap_or(Aal::Aal1)
    }

    /// Registration methods in order.
    pub fn registration_methods(&self) -> &[std::sync::Arc<dyn RegistrationMethod>] {
        &self.registration
    }
}

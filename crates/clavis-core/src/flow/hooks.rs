//! After-hooks, configured as Kratos configures them: one list per flow, which a method's own
//! list replaces (no merge). The engines run them; methods never see them.

use super::method::FieldMessage;
use super::webhook::{HookFailure, IdentityPatch, Verdict, WebHook, WebHookTransport, interpret};
use crate::error::CoreError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What can run after a flow succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// Registration: sign the new identity in right away.
    Session,
    /// Login and settings: end every other session of the identity.
    RevokeActiveSessions,
    /// Call an HTTP endpoint ([`webhook`]).
    WebHook(Arc<WebHook>),
}

impl Hook {
    /// The configured name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Hook::Session => "session",
            Hook::RevokeActiveSessions => "revoke_active_sessions",
            Hook::WebHook(_) => "web_hook",
        }
    }
}

/// The after-hooks of one flow kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AfterHooks {
    /// `after.hooks`: for methods without a list of their own.
    pub default: Vec<Hook>,
    /// `after.<method>.hooks`, by method id.
    pub by_method: BTreeMap<String, Vec<Hook>>,
}

impl AfterHooks {
    /// The same hooks for every method.
    pub fn always(hooks: Vec<Hook>) -> Self {
        Self {
            default: hooks,
            by_method: BTreeMap::new(),
        }
    }

    /// The hooks in force after `method` succeeded.
    pub fn for_method(&self, method: &str) -> &[Hook] {
        self.by_method.get(method).unwrap_or(&self.default)
    }

    /// Whether `hook` runs after `method` succeeded.
    pub fn runs(&self, method: &str, hook: Hook) -> bool {
        self.for_method(method).contains(&hook)
    }

    /// The web hooks in force after `method` succeeded, in configured order.
    pub fn web_hooks(&self, method: &str) -> impl Iterator<Item = &Arc<WebHook>> {
        self.for_method(method)
            .iter()
            .filter_map(|hook| match hook {
                Hook::WebHook(web) => Some(web),
                _ => None,
            })
    }
}

/// The after-hooks of one flow kind together with the means to call web hooks.
#[derive(Clone)]
pub struct FlowHooks {
    after: AfterHooks,
    transport: Option<Arc<dyn WebHookTransport>>,
}

/// What the screening web hooks decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Screening {
    /// Go on, with the changes the hooks asked for.
    Proceed(IdentityPatch),
    /// Stop and show these messages in the form.
    Interrupt(Vec<FieldMessage>),
}

impl FlowHooks {
    /// Hooks that may include web hooks, delivered by `transport`.
    pub fn new(after: AfterHooks, transport: Arc<dyn WebHookTransport>) -> Self {
        Self {
            after,
            transport: Some(transport),
        }
    }

    /// Hooks without web hooks (a configured web hook then fails the flow as an internal
    /// error).
    pub fn without_web_hooks(after: AfterHooks) -> Self {
        Self {
            after,
            transport: None,
        }
    }

    /// Whether `hook` runs after `method` succeeded.
    pub fn runs(&self, method: &str, hook: Hook) -> bool {
        self.after.runs(method, hook)
    }

    fn transport(&self) -> Result<&Arc<dyn WebHookTransport>, CoreError> {
        self.transport.as_ref().ok_or_else(|| {
            CoreError::Internal("web hooks are configured without a transport".into())
        })
    }

    /// Runs the hooks whose answer is read (`response.parse`, `can_interrupt`), in order,
    /// before anything is stored. Each sees the identity as the earlier ones changed it; the
    /// first interruption stops the flow.
    pub async fn screen(&self, method: &str, payload: &Value) -> Result<Screening, CoreError> {
        let mut payload = payload.clone();
        let mut patch = IdentityPatch::default();
        for hook in self.after.web_hooks(method).filter(|h| h.screens()) {
            let reply = self
                .transport()?
                .deliver(hook, &payload)
                .await
                .map_err(|e| failure(HookFailure::from(e)))?;
            match interpret(hook, &reply).map_err(failure)? {
                Verdict::Interrupt(messages) => return Ok(Screening::Interrupt(messages)),
                Verdict::Proceed(next) => {
                    next.apply_to_payload(&mut payload);
                    patch.merge(next);
                }
            }
        }
        Ok(Screening::Proceed(patch))
    }

    /// Runs the hooks that are awaited but not read, after the change was stored; the first
    /// failure fails the request.
    pub async fn notify(&self, method: &str, payload: &Value) -> Result<(), CoreError> {
        for hook in self
            .after
            .web_hooks(method)
            .filter(|h| !h.ignore && !h.screens())
        {
            let reply = self
                .transport()?
                .deliver(hook, payload)
                .await
                .map_err(|e| failure(HookFailure::from(e)))?;
            interpret(hook, &reply).map_err(failure)?;
        }
        Ok(())
    }

    /// Sends the fire-and-forget hooks (`response.ignore`) once the flow succeeded.
    pub fn dispatch(&self, method: &str, payload: &Value) {
        let mut ignored = self.after.web_hooks(method).filter(|h| h.ignore).peekable();
        if ignored.peek().is_none() {
            return;
        }
        let Ok(transport) = self.transport() else {
            tracing::error!("web hooks are configured without a transport");
            return;
        };
        for hook in ignored {
            transport.dispatch(hook.clone(), payload.clone());
        }
    }

    /// Whether any web hook runs after `method`, so the engine builds a payload only then.
    pub fn has_web_hooks(&self, method: &str) -> bool {
        self.after.web_hooks(method).next().is_some()
    }
}

fn failure(failure: HookFailure) -> CoreError {
    match failure {
        HookFailure::BadAnswer(reason) => CoreError::WebHookFailed(reason),
        HookFailure::Timeout => CoreError::WebHookTimeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_list_replaces_the_default() {
        let mut hooks = AfterHooks::always(vec![Hook::RevokeActiveSessions]);
        hooks.by_method.insert("code".into(), Vec::new());
        assert!(hooks.runs("password", Hook::RevokeActiveSessions));
        assert!(!hooks.runs("code", Hook::RevokeActiveSessions));
    }
}

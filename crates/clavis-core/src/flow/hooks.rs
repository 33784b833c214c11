//! After-hooks, configured as Kratos configures them: one list per flow, which a method's own
//! list replaces (no merge). The engines run them; methods never see them.

use std::collections::BTreeMap;

/// What can run after a flow succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    /// Registration: sign the new identity in right away.
    Session,
    /// Login: end every other session of the identity.
    RevokeActiveSessions,
}

impl Hook {
    /// The configured name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Hook::Session => "session",
            Hook::RevokeActiveSessions => "revoke_active_sessions",
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

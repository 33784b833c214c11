//! Whether a session is strong enough: `session.whoami.required_aal` and
//! `selfservice.flows.settings.required_aal`.
//!
//! `aal1` accepts any session. `highest_available` accepts a session only when it reached the
//! highest level the identity's credentials offer, so an identity that enrolled a second factor
//! must present it; what each method offers comes from the method registry, never from a list
//! of credential kinds kept here.

use crate::error::CoreError;
use crate::flow::method::MethodRegistry;
use crate::session::Authenticated;

/// A configured assurance requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequiredAal {
    /// Any session counts.
    Aal1,
    /// The session must reach the highest level the identity can reach.
    #[default]
    HighestAvailable,
}

/// Whether `who` satisfies `required`, given the methods in force.
pub fn satisfies(methods: &MethodRegistry, required: RequiredAal, who: &Authenticated) -> bool {
    match required {
        RequiredAal::Aal1 => true,
        RequiredAal::HighestAvailable => {
            who.session.aal >= methods.highest_available_aal(&who.identity)
        }
    }
}

/// The `session.whoami.required_aal` rule, for every place that answers "who is this?".
#[derive(Clone)]
pub struct AssurancePolicy {
    methods: MethodRegistry,
    whoami: RequiredAal,
}

impl AssurancePolicy {
    /// The rule over the methods in force.
    pub fn new(methods: MethodRegistry, whoami: RequiredAal) -> Self {
        Self { methods, whoami }
    }

    /// Refuses a session below `session.whoami.required_aal` with [`CoreError::Aal2Required`].
    pub fn check_whoami(&self, who: &Authenticated) -> Result<(), CoreError> {
        if satisfies(&self.methods, self.whoami, who) {
            Ok(())
        } else {
            Err(CoreError::Aal2Required)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Step;
    use crate::flow::method::{LoginContext, LoginMethod, Method, Outcome};
    use crate::identity::{Credential, CredentialKind, Identity};
    use crate::session::Session;
    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use clavis_types::identity::IdentityState;
    use clavis_types::session::Aal;
    use clavis_types::ui::{Node, NodeGroup};
    use clavis_types::{IdentityId, SessionId};
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    /// A second factor available to identities holding a TOTP credential.
    struct SecondFactor;

    impl Method for SecondFactor {
        fn id(&self) -> &'static str {
            "second"
        }
        fn group(&self) -> NodeGroup {
            NodeGroup::Totp
        }
    }

    #[async_trait]
    impl LoginMethod for SecondFactor {
        async fn login_nodes(&self, _: &LoginContext<'_>) -> Result<Vec<Node>, CoreError> {
            Ok(Vec::new())
        }
        async fn login(
            &self,
            _: &LoginContext<'_>,
            _: &mut Step<'_>,
            _: &Value,
        ) -> Result<Outcome, CoreError> {
            Ok(Outcome::Rejected {
                messages: Vec::new(),
            })
        }
        fn available_aal(&self, identity: &Identity) -> Option<Aal> {
            identity
                .credentials
                .contains_key(&CredentialKind::Totp)
                .then_some(Aal::Aal2)
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn identity_with(kinds: &[CredentialKind]) -> Identity {
        let credentials: BTreeMap<_, _> = kinds
            .iter()
            .map(|kind| {
                let credential = Credential {
                    kind: *kind,
                    identifiers: Vec::new(),
                    config: Value::Null.into(),
                    version: 0,
                    created_at: at(),
                    updated_at: at(),
                };
                (*kind, credential)
            })
            .collect();
        Identity {
            id: IdentityId(uuid::Uuid::nil()),
            schema_id: "default".to_owned(),
            state: IdentityState::Active,
            state_changed_at: None,
            traits: Value::Null,
            metadata_public: None,
            metadata_admin: None,
            external_id: None,
            verifiable_addresses: Vec::new(),
            recovery_addresses: Vec::new(),
            credentials,
            created_at: at(),
            updated_at: at(),
        }
    }

    fn session_at(aal: Aal) -> Session {
        Session {
            id: SessionId(uuid::Uuid::nil()),
            identity_id: IdentityId(uuid::Uuid::nil()),
            active: true,
            aal,
            authentication_methods: Vec::new(),
            issued_at: at(),
            authenticated_at: at(),
            expires_at: at(),
            devices: Vec::new(),
        }
    }

    fn policy(required: RequiredAal) -> AssurancePolicy {
        let methods = MethodRegistry::new().login(Arc::new(SecondFactor));
        AssurancePolicy::new(methods.unwrap_or_default(), required)
    }

    #[test]
    fn highest_available_refuses_aal1_session_of_identity_with_second_factor() {
        let who = Authenticated {
            session: session_at(Aal::Aal1),
            identity: identity_with(&[CredentialKind::Password, CredentialKind::Totp]),
            client: None,
        };
        assert!(matches!(
            policy(RequiredAal::HighestAvailable).check_whoami(&who),
            Err(CoreError::Aal2Required)
        ));
        assert!(policy(RequiredAal::Aal1).check_whoami(&who).is_ok());
    }

    #[test]
    fn highest_available_accepts_aal1_session_without_second_factor_and_aal2_sessions() {
        let plain = Authenticated {
            session: session_at(Aal::Aal1),
            identity: identity_with(&[CredentialKind::Password]),
            client: None,
        };
        assert!(
            policy(RequiredAal::HighestAvailable)
                .check_whoami(&plain)
                .is_ok()
        );
        let strong = Authenticated {
            session: session_at(Aal::Aal2),
            identity: identity_with(&[CredentialKind::Password, CredentialKind::Totp]),
            client: None,
        };
        assert!(
            policy(RequiredAal::HighestAvailable)
                .check_whoami(&strong)
                .is_ok()
        );
    }
}

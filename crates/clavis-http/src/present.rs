//! Domain values in Kratos' wire format.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clavis_core::identity::Identity;
use clavis_core::session::Session;
use clavis_types::identity as wire_identity;
use clavis_types::session as wire_session;
use url::Url;

/// `<public base URL>/schemas/<base64url(schema id)>`, as Kratos builds `schema_url`.
pub fn schema_url(public_base_url: &Url, schema_id: &str) -> String {
    let encoded = URL_SAFE_NO_PAD.encode(schema_id.as_bytes());
    match public_base_url.join(&format!("schemas/{encoded}")) {
        Ok(url) => url.to_string(),
        Err(_) => format!("{public_base_url}schemas/{encoded}"),
    }
}

/// The public view of an identity: no credentials, no admin metadata.
pub fn identity(identity: &Identity, public_base_url: &Url) -> wire_identity::Identity {
    wire_identity::Identity {
        id: identity.id,
        schema_id: identity.schema_id.clone(),
        schema_url: schema_url(public_base_url, &identity.schema_id),
        state: identity.state,
        state_changed_at: identity.state_changed_at,
        traits: identity.traits.clone(),
        verifiable_addresses: identity
            .verifiable_addresses
            .iter()
            .map(|a| wire_identity::VerifiableAddress {
                id: a.id,
                value: a.value.clone(),
                verified: a.verified,
                via: a.via.as_str().to_owned(),
                status: a.status.as_str().to_owned(),
                verified_at: a.verified_at,
                created_at: a.created_at,
                updated_at: a.updated_at,
            })
            .collect(),
        recovery_addresses: identity
            .recovery_addresses
            .iter()
            .map(|a| wire_identity::RecoveryAddress {
                id: a.id,
                value: a.value.clone(),
                via: a.via.as_str().to_owned(),
                created_at: a.created_at,
                updated_at: a.updated_at,
            })
            .collect(),
        metadata_public: identity.metadata_public.clone(),
        organization_id: None,
        created_at: identity.created_at,
        updated_at: identity.updated_at,
    }
}

/// A session with (or without) its identity; `active` is judged at `now`.
pub fn session(
    session: &Session,
    owner: Option<&Identity>,
    public_base_url: &Url,
    now: chrono::DateTime<chrono::Utc>,
) -> wire_session::Session {
    wire_session::Session {
        id: session.id,
        active: session.is_usable(now) && owner.is_none_or(Identity::is_active),
        expires_at: session.expires_at,
        authenticated_at: session.authenticated_at,
        authenticator_assurance_level: session.aal,
        authentication_methods: session.authentication_methods.clone(),
        issued_at: session.issued_at,
        identity: owner.map(|i| identity(i, public_base_url)),
        devices: session
            .devices
            .iter()
            .map(|d| wire_session::SessionDevice {
                id: d.id,
                ip_address: d.ip_address.clone(),
                user_agent: d.user_agent.clone(),
                location: d.location.clone(),
            })
            .collect(),
        client: None,
    }
}

/// The caller's session as `whoami` answers it: with the app it authenticated as, if any.
pub fn caller_session(
    caller: &clavis_core::session::Authenticated,
    public_base_url: &Url,
    now: chrono::DateTime<chrono::Utc>,
) -> wire_session::Session {
    let mut wire = session(
        &caller.session,
        Some(&caller.identity),
        public_base_url,
        now,
    );
    wire.client = caller.client.as_ref().map(|g| wire_session::SessionClient {
        id: g.id,
        kind: g.kind.as_str().to_owned(),
        name: g.client_name.clone(),
    });
    wire
}

/// A per-client grant as `GET /sessions/apps` lists it.
pub fn client_app(
    grant: &clavis_core::grant::ClientGrant,
    caller: &clavis_core::session::Authenticated,
) -> wire_session::ClientApp {
    wire_session::ClientApp {
        id: grant.id,
        kind: grant.kind.as_str().to_owned(),
        name: grant.client_name.clone(),
        created_at: grant.created_at,
        last_used_at: grant.last_used_at,
        last_ip: grant.last_ip.clone(),
        user_agent: grant.user_agent.clone(),
        current: caller.client.as_ref().is_some_and(|c| c.id == grant.id),
    }
}

/// A login flow as `loginFlow`.
pub fn login_flow(flow: clavis_core::flow::Flow) -> clavis_types::flow::LoginFlow {
    clavis_types::flow::LoginFlow {
        id: flow.id.as_uuid(),
        flow_type: flow.flow_type,
        expires_at: flow.expires_at,
        issued_at: flow.issued_at,
        request_url: flow.request_url,
        return_to: flow.return_to,
        active: flow.active,
        ui: flow.ui,
        created_at: flow.issued_at,
        updated_at: flow.updated_at,
        refresh: flow.refresh,
        requested_aal: flow.requested_aal,
        state: flow.state.as_str().to_owned(),
        transient_payload: flow.transient_payload,
        session_token_exchange_code: None,
    }
}

/// A registration flow as `registrationFlow`.
pub fn registration_flow(flow: clavis_core::flow::Flow) -> clavis_types::flow::RegistrationFlow {
    clavis_types::flow::RegistrationFlow {
        id: flow.id.as_uuid(),
        flow_type: flow.flow_type,
        expires_at: flow.expires_at,
        issued_at: flow.issued_at,
        request_url: flow.request_url,
        return_to: flow.return_to,
        active: flow.active,
        ui: flow.ui,
        state: flow.state.as_str().to_owned(),
        transient_payload: flow.transient_payload,
        session_token_exchange_code: None,
    }
}

/// A settings flow as `settingsFlow`, with the identity it changes.
pub fn settings_flow(
    flow: &clavis_core::flow::Flow,
    owner: &Identity,
    public_base_url: &Url,
    continue_with: Vec<clavis_types::flow::ContinueWith>,
) -> clavis_types::flow::SettingsFlow {
    clavis_types::flow::SettingsFlow {
        id: flow.id.as_uuid(),
        flow_type: flow.flow_type,
        expires_at: flow.expires_at,
        issued_at: flow.issued_at,
        request_url: flow.request_url.clone(),
        return_to: flow.return_to.clone(),
        active: flow.active.clone(),
        ui: flow.ui.clone(),
        identity: identity(owner, public_base_url),
        state: flow.state.as_str().to_owned(),
        continue_with,
        transient_payload: flow.transient_payload.clone(),
    }
}

/// A recovery flow as `recoveryFlow`.
pub fn recovery_flow(
    flow: &clavis_core::flow::Flow,
    continue_with: Vec<clavis_types::flow::ContinueWith>,
) -> clavis_types::flow::RecoveryFlow {
    clavis_types::flow::RecoveryFlow {
        id: flow.id.as_uuid(),
        flow_type: flow.flow_type,
        expires_at: flow.expires_at,
        issued_at: flow.issued_at,
        request_url: flow.request_url.clone(),
        return_to: flow.return_to.clone(),
        active: flow.active.clone(),
        ui: flow.ui.clone(),
        state: flow.state.as_str().to_owned(),
        continue_with,
        transient_payload: flow.transient_payload.clone(),
    }
}

/// A verification flow as `verificationFlow`.
pub fn verification_flow(flow: &clavis_core::flow::Flow) -> clavis_types::flow::VerificationFlow {
    clavis_types::flow::VerificationFlow {
        id: flow.id.as_uuid(),
        flow_type: flow.flow_type,
        expires_at: flow.expires_at,
        issued_at: flow.issued_at,
        request_url: flow.request_url.clone(),
        return_to: flow.return_to.clone(),
        active: flow.active.clone(),
        ui: flow.ui.clone(),
        state: flow.state.as_str().to_owned(),
        transient_payload: flow.transient_payload.clone(),
    }
}

/// `show_verification_ui` entries for verification flows started after registration; browser
/// flows name their page.
pub fn verification_continues(
    started: &[clavis_core::flow::verification::StartedVerification],
    ui_page: &Url,
) -> Vec<clavis_types::flow::ContinueWith> {
    started
        .iter()
        .map(|s| clavis_types::flow::ContinueWith::ShowVerificationUi {
            flow: clavis_types::flow::ContinueWithVerificationFlow {
                id: s.flow.id.as_uuid(),
                verifiable_address: s.address.clone(),
                url: (s.flow.flow_type == clavis_types::flow::FlowType::Browser)
                    .then(|| crate::browser::ui_with_flow(ui_page, s.flow.id)),
            },
        })
        .collect()
}

/// Which credentials an admin answer shows (metadata only, never secrets).
pub enum CredentialView {
    /// Every credential the identity has.
    All,
    /// Only these types (`include_credential=`); none when empty.
    Only(std::collections::BTreeSet<String>),
}

/// An identity on the admin API: the public view plus `metadata_admin`, `external_id` and the
/// credentials' types, identifiers, versions and times.
pub fn admin_identity(
    identity: &Identity,
    public_base_url: &Url,
    view: &CredentialView,
) -> clavis_types::admin::AdminIdentity {
    let shown = |kind: &str| match view {
        CredentialView::All => true,
        CredentialView::Only(kinds) => kinds.contains(kind),
    };
    let credentials: std::collections::BTreeMap<_, _> = identity
        .credentials
        .values()
        .filter(|c| shown(c.kind.as_str()))
        .map(|c| {
            (
                c.kind.as_str().to_owned(),
                clavis_types::admin::IdentityCredential {
                    kind: c.kind.as_str().to_owned(),
                    identifiers: c.identifiers.clone(),
                    config: serde_json::json!({}),
                    version: c.version,
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                },
            )
        })
        .collect();
    clavis_types::admin::AdminIdentity {
        identity: self::identity(identity, public_base_url),
        metadata_admin: identity.metadata_admin.clone(),
        external_id: identity.external_id.clone(),
        credentials: match view {
            CredentialView::Only(kinds) if kinds.is_empty() => None,
            _ => Some(credentials),
        },
    }
}

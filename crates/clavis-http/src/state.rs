//! What every handler can reach: the core services and the HTTP-level settings.

use clavis_core::cookie::CookieSigner;
use clavis_core::courier::MessageStore;
use clavis_core::device::DeviceAuthorizations;
use clavis_core::flow::errors::FlowErrors;
use clavis_core::flow::exchange::TokenExchanges;
use clavis_core::flow::login::LoginEngine;
use clavis_core::flow::recovery::RecoveryEngine;
use clavis_core::flow::registration::RegistrationEngine;
use clavis_core::flow::settings::SettingsEngine;
use clavis_core::flow::verification::VerificationEngine;
use clavis_core::grant::ClientGrants;
use clavis_core::health::Readiness;
use clavis_core::identity::IdentityService;
use clavis_core::identity::admin::IdentityAdmin;
use clavis_core::rate_limit::{Limit, RateLimiter};
use clavis_core::secret::TokenDigest;
use clavis_core::session::SessionService;
use clavis_core::session::admin::SessionAdmin;
use clavis_core::session::assurance::AssurancePolicy;
use clavis_core::{Clock, Rng};
use std::sync::Arc;
use url::Url;

/// Shared handler state; cloned cheaply into every worker.
#[derive(Clone)]
pub struct HttpState {
    pub identities: IdentityService,
    pub sessions: SessionService,
    pub identity_admin: IdentityAdmin,
    pub session_admin: SessionAdmin,
    pub login: LoginEngine,
    pub registration: RegistrationEngine,
    pub settings_flows: SettingsEngine,
    /// Recovery flows, when `selfservice.flows.recovery` is on.
    pub recovery: Option<RecoveryEngine>,
    /// Verification flows, when `selfservice.flows.verification` is on.
    pub verification: Option<VerificationEngine>,
    /// The courier's outbox, for the admin API.
    pub courier_messages: Arc<dyn MessageStore>,
    /// Device authorizations (Login Flow v2) and the per-client grants they mint.
    pub devices: DeviceAuthorizations,
    pub grants: ClientGrants,
    /// Counts requests to the public endpoints anyone may call (starting and polling a device
    /// login), shared by every replica through storage.
    pub rate_limiter: RateLimiter,
    /// `session.whoami.required_aal`.
    pub assurance: AssurancePolicy,
    pub flow_errors: FlowErrors,
    pub exchanges: TokenExchanges,
    pub readiness: Arc<dyn Readiness>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
    pub cookie_signer: CookieSigner,
    pub renderer: clavis_render::Renderer,
    pub settings: Arc<HttpSettings>,
}

/// `native_apps.rate_limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceLoginLimits {
    pub init: Limit,
    pub poll: Limit,
}

/// HTTP-level settings derived from the configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Where clients reach the public API (ends with `/`).
    pub public_base_url: Url,
    /// Where operators reach the admin API (ends with `/`).
    pub admin_base_url: Url,
    /// Digests of the admin API keys; empty leaves the admin API open.
    pub admin_api_keys: Vec<TokenDigest>,
    pub session_cookie: CookieSettings,
    pub cors: CorsSettings,
    pub ui: UiUrls,
    /// The `form-action` sources of the UI pages' `Content-Security-Policy`: where their forms
    /// post and where those posts may redirect.
    pub ui_form_action: String,
    pub version: String,
    /// Limits per client address on starting and polling a device login.
    pub device_login_limits: DeviceLoginLimits,
}

/// `SameSite` attribute of the cookies Clavis sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

/// How the session cookie is named and scoped.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    pub name: String,
    pub domain: Option<String>,
    pub path: String,
    pub same_site: SameSite,
    pub secure: bool,
    pub persistent: bool,
}

/// Cross-origin access to the public listener.
#[derive(Debug, Clone, Default)]
pub struct CorsSettings {
    pub enabled: bool,
    /// Exact origins, or `*` for any.
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub exposed_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<usize>,
}

/// Where browsers are sent: the UI pages that render flows, and the default destination.
#[derive(Debug, Clone)]
pub struct UiUrls {
    pub login: Url,
    pub registration: Url,
    pub settings: Url,
    pub error: Url,
    pub recovery: Url,
    pub verification: Url,
    pub default_return: Url,
}

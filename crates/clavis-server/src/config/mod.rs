//! The configuration: one YAML file (`clavis.yaml`), `CLAVIS_*` environment variables (`__`
//! separates nesting levels) and command-line flags, merged in that order over built-in
//! defaults and parsed once, at start-up, into the typed structs below. Unknown keys are
//! refused with the key and its source named.

mod bytes;
mod duration;
mod load;
mod schemas;

pub use bytes::ByteSize;
pub use duration::GoDuration;
pub use load::{ConfigError, ConfigSources, Loaded, Overrides, load};
pub use schemas::{SchemaSourceError, load_schema_documents};

use chrono::TimeDelta;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// The whole configuration, as written by the operator.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the data lives: `memory`, `sqlite://PATH?mode=rwc` or `postgres://...`.
    pub dsn: Option<String>,
    /// Development mode: generated secrets, SQLite in `./clavis-data/`, cookies without `Secure`.
    pub dev: bool,
    pub serve: Serve,
    pub log: Log,
    pub secrets: Secrets,
    pub identity: IdentityConfig,
    pub session: SessionConfig,
    pub hashers: Hashers,
    pub selfservice: SelfService,
    pub ui: UiConfig,
    pub native_apps: NativeApps,
    pub courier: CourierConfig,
}

/// `courier`: how mail (recovery and verification codes) leaves Clavis.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CourierConfig {
    pub smtp: SmtpConfig,
    /// Delivery attempts per message before it is abandoned.
    pub message_retries: u32,
    pub worker: CourierWorker,
}

impl Default for CourierConfig {
    fn default() -> Self {
        Self {
            smtp: SmtpConfig::default(),
            message_retries: 5,
            worker: CourierWorker::default(),
        }
    }
}

/// `courier.smtp`, with Kratos' names.
#[derive(Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// `smtp://user:password@host:587/` (STARTTLS), `smtps://host:465/` (TLS),
    /// `?disable_starttls=true` for a plain local relay, `?skip_ssl_verify=true` to accept any
    /// certificate. Unset in `--dev`: mail is printed to the log.
    pub connection_uri: Option<String>,
    /// The sender address; defaults to `no-reply@<public host>`.
    pub from_address: Option<String>,
    /// The sender's display name.
    pub from_name: Option<String>,
}

impl std::fmt::Debug for SmtpConfig {
    // The connection URI may carry the relay's password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field(
                "connection_uri",
                &self.connection_uri.as_ref().map(|_| "<set>"),
            )
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .finish()
    }
}

/// `courier.worker`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CourierWorker {
    /// How often the outbox is looked at when no new mail wakes the worker.
    pub pull_wait: GoDuration,
}

impl Default for CourierWorker {
    fn default() -> Self {
        Self {
            pull_wait: GoDuration(TimeDelta::seconds(1)),
        }
    }
}

/// `native_apps`: desktop and mobile clients that sign in through the browser (Nextcloud's
/// Login Flow v2) and hold app passwords.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NativeApps {
    pub rate_limits: NativeAppRateLimits,
    /// Whether changing the password revokes every app password but the one making the
    /// change (Nextcloud keeps them; a password change after a compromise should not).
    pub revoke_app_passwords_on_password_change: bool,
}

impl Default for NativeApps {
    fn default() -> Self {
        Self {
            rate_limits: NativeAppRateLimits::default(),
            revoke_app_passwords_on_password_change: true,
        }
    }
}

/// `native_apps.rate_limits`: requests per minute and client address; 0 turns a limit off.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct NativeAppRateLimits {
    /// Starting a login (`POST /index.php/login/v2`).
    pub init_per_minute: u32,
    /// Polling for its result (`POST /index.php/login/v2/poll`); clients poll about once a
    /// second.
    pub poll_per_minute: u32,
}

impl Default for NativeAppRateLimits {
    fn default() -> Self {
        Self {
            init_per_minute: 20,
            poll_per_minute: 240,
        }
    }
}

/// `ui`: Clavis' own pages.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// A directory whose files replace the embedded ones of the same path under
    /// `ui-templates/` (`pages/login.html`, `locales/de.json`, …).
    pub templates_dir: Option<std::path::PathBuf>,
}

/// `serve`: the two listeners.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Serve {
    pub public: PublicListener,
    pub admin: AdminListener,
}

/// `serve.public`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PublicListener {
    pub host: String,
    pub port: u16,
    /// The URL clients use to reach the public API; defaults to `http://<host>:<port>/`.
    pub base_url: Option<url::Url>,
    pub cors: Cors,
}

impl Default for PublicListener {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 4433,
            base_url: None,
            cors: Cors::default(),
        }
    }
}

/// `serve.admin`.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminListener {
    pub host: String,
    pub port: u16,
    /// The URL operators use to reach the admin API; defaults to `http://<host>:<port>/`.
    pub base_url: Option<url::Url>,
    /// Keys the admin API accepts as `Authorization: Bearer <key>`: each the key itself, or
    /// `sha256:<hex digest of the key>`. Empty leaves the admin API open (as Kratos).
    #[serde(deserialize_with = "string_list")]
    pub api_keys: Vec<String>,
}

impl std::fmt::Debug for AdminListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminListener")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("base_url", &self.base_url)
            .field("api_keys", &format_args!("{} entries", self.api_keys.len()))
            .finish()
    }
}

/// The prefix of an admin API key given as its digest.
pub const API_KEY_DIGEST_PREFIX: &str = "sha256:";

/// The shortest admin API key accepted.
pub const MIN_API_KEY_LEN: usize = 16;

impl AdminListener {
    /// The SHA-256 digests of the configured keys, as the admin listener compares them.
    pub fn api_key_digests(&self) -> Vec<clavis_core::secret::TokenDigest> {
        self.api_keys
            .iter()
            .map(|key| match key.strip_prefix(API_KEY_DIGEST_PREFIX) {
                Some(hex) => {
                    clavis_core::secret::TokenDigest::from_stored(hex.to_ascii_lowercase())
                }
                None => clavis_core::secret::TokenDigest::of(key.as_bytes()),
            })
            .collect()
    }
}

impl Default for AdminListener {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 4434,
            base_url: None,
            api_keys: Vec::new(),
        }
    }
}

/// `serve.public.cors`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Cors {
    pub enabled: bool,
    #[serde(deserialize_with = "string_list")]
    pub allowed_origins: Vec<String>,
    #[serde(deserialize_with = "string_list")]
    pub allowed_methods: Vec<String>,
    #[serde(deserialize_with = "string_list")]
    pub allowed_headers: Vec<String>,
    #[serde(deserialize_with = "string_list")]
    pub exposed_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<usize>,
}

impl Default for Cors {
    fn default() -> Self {
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Self {
            enabled: false,
            allowed_origins: Vec::new(),
            allowed_methods: list(&["GET", "POST", "PUT", "PATCH", "DELETE"]),
            allowed_headers: list(&[
                "Authorization",
                "Content-Type",
                "X-Session-Token",
                "X-CSRF-Token",
            ]),
            exposed_headers: list(&["Content-Type", "Set-Cookie"]),
            allow_credentials: true,
            max_age: Some(0),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `log`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// A tracing filter: `info`, `debug`, `clavis_http=debug,info`, ...
    pub level: String,
    pub format: LogFormat,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// `secrets`: lists whose first entry signs or encrypts and whose every entry verifies.
#[derive(Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Secrets {
    #[serde(deserialize_with = "string_list")]
    pub cookie: Vec<String>,
    #[serde(deserialize_with = "string_list")]
    pub cipher: Vec<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Secrets {{ cookie: {} entries, cipher: {} entries }}",
            self.cookie.len(),
            self.cipher.len()
        )
    }
}

/// Secrets shorter than this are refused (Kratos' minimum).
pub const MIN_SECRET_LEN: usize = 16;

/// `identity`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    pub default_schema_id: String,
    /// Empty means the shipped default schema, with id `default`.
    pub schemas: Vec<SchemaSource>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            default_schema_id: clavis_core::identity::DEFAULT_SCHEMA_ID.to_owned(),
            schemas: Vec::new(),
        }
    }
}

/// One entry of `identity.schemas`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SchemaSource {
    pub id: String,
    /// `file://PATH` or `base64://DOCUMENT`.
    pub url: String,
}

/// `session`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub lifespan: GoDuration,
    pub cookie: SessionCookie,
    pub whoami: WhoamiConfig,
    pub cache: SessionCacheConfig,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            lifespan: GoDuration(TimeDelta::hours(24)),
            cookie: SessionCookie::default(),
            whoami: WhoamiConfig::default(),
            cache: SessionCacheConfig::default(),
        }
    }
}

/// `session.cache`: each node remembers recently checked session tokens for `ttl`, so
/// session checks do not read the database every time. Changes made on the same node apply
/// at once; changes made on another replica apply after at most `ttl`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionCacheConfig {
    pub enabled: bool,
    pub ttl: GoDuration,
    /// The most tokens remembered at once.
    pub capacity: usize,
}

impl Default for SessionCacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl: GoDuration(TimeDelta::seconds(5)),
            capacity: 10_000,
        }
    }
}

impl SessionCacheConfig {
    /// The cache these settings describe (one per process, shared by every service).
    pub fn to_core(&self) -> clavis_core::session::cache::SessionCache {
        use clavis_core::session::cache::{SessionCache, SessionCacheSettings};
        if !self.enabled {
            return SessionCache::disabled();
        }
        SessionCache::new(SessionCacheSettings {
            ttl: self.ttl.0,
            capacity: self.capacity,
        })
    }
}

/// `session.whoami`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WhoamiConfig {
    /// The level `/sessions/whoami` (and the default UI's account page) asks for.
    pub required_aal: RequiredAal,
}

/// `SameSite` as written in the configuration.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum SameSite {
    Strict,
    #[default]
    Lax,
    None,
}

/// `session.cookie`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionCookie {
    pub name: String,
    pub domain: Option<String>,
    pub path: String,
    pub same_site: SameSite,
    pub persistent: bool,
}

impl Default for SessionCookie {
    fn default() -> Self {
        Self {
            name: "clavis_session".to_owned(),
            domain: None,
            path: "/".to_owned(),
            same_site: SameSite::Lax,
            persistent: true,
        }
    }
}

/// `hashers`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Hashers {
    pub argon2: Argon2,
}

/// `hashers.argon2`: defaults are OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2 {
    pub memory: ByteSize,
    pub iterations: u32,
    pub parallelism: u32,
    /// How many hashes may run at once; the default is one per core.
    pub max_concurrent: Option<usize>,
}

impl Default for Argon2 {
    fn default() -> Self {
        Self {
            memory: ByteSize(19 * 1024 * 1024),
            iterations: 2,
            parallelism: 1,
            max_concurrent: None,
        }
    }
}

/// `selfservice`: the self-service flows.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SelfService {
    /// Where browsers go after a flow without `return_to`; defaults to `<public>/ui/welcome`.
    pub default_browser_return_url: Option<url::Url>,
    /// `return_to` must share the default return URL's origin or start with one of these.
    #[serde(deserialize_with = "string_list")]
    pub allowed_return_urls: Vec<String>,
    pub flows: Flows,
    pub methods: Methods,
}

/// `selfservice.methods`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Methods {
    pub password: PasswordMethodConfig,
    pub totp: TotpMethodConfig,
    pub lookup_secret: LookupSecretMethodConfig,
    pub code: CodeMethodConfig,
}

/// `selfservice.methods.code`: one-time codes by e-mail for recovery and verification. On by
/// default; it only acts in the flows that are enabled.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CodeMethodConfig {
    pub enabled: bool,
    pub config: CodeConfig,
}

impl Default for CodeMethodConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            config: CodeConfig::default(),
        }
    }
}

/// `selfservice.methods.code.config`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CodeConfig {
    /// Answers allowed per code before it stops working.
    pub max_submissions: u32,
}

impl Default for CodeConfig {
    fn default() -> Self {
        Self { max_submissions: 5 }
    }
}

/// `selfservice.methods.totp`: authenticator-app codes as a second factor. On by default: it
/// changes nothing for identities that do not enrol.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TotpMethodConfig {
    pub enabled: bool,
    pub config: TotpConfig,
}

impl Default for TotpMethodConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            config: TotpConfig::default(),
        }
    }
}

/// `selfservice.methods.totp.config`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TotpConfig {
    /// The name authenticator apps show; defaults to the public base URL's host.
    pub issuer: Option<String>,
}

/// `selfservice.methods.lookup_secret`: single-use backup codes. On by default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LookupSecretMethodConfig {
    pub enabled: bool,
}

impl Default for LookupSecretMethodConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// `required_aal`: `aal1` accepts any session; `highest_available` (the default) asks for the
/// second factor from identities that have one.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum RequiredAal {
    Aal1,
    #[default]
    HighestAvailable,
}

impl RequiredAal {
    /// The core's rule.
    pub fn to_core(self) -> clavis_core::session::assurance::RequiredAal {
        match self {
            RequiredAal::Aal1 => clavis_core::session::assurance::RequiredAal::Aal1,
            RequiredAal::HighestAvailable => {
                clavis_core::session::assurance::RequiredAal::HighestAvailable
            }
        }
    }
}

/// `selfservice.methods.password`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordMethodConfig {
    /// Off: no password nodes in any flow, and password submissions are refused.
    pub enabled: bool,
    pub config: PasswordPolicyConfig,
}

impl Default for PasswordMethodConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            config: PasswordPolicyConfig::default(),
        }
    }
}

/// `selfservice.methods.password.config`, with Kratos' names.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicyConfig {
    /// At least 6 (Kratos' floor); NIST 800-63B asks for 8.
    pub min_password_length: usize,
    /// Refuse passwords too close to an identifier (4000031).
    pub identifier_similarity_check_enabled: bool,
    /// Refuse passwords on the embedded list of breached passwords (4000034). The list ships
    /// with Clavis: nothing is sent over the network.
    pub haveibeenpwned_enabled: bool,
}

impl Default for PasswordPolicyConfig {
    fn default() -> Self {
        Self {
            min_password_length: 8,
            identifier_similarity_check_enabled: true,
            haveibeenpwned_enabled: true,
        }
    }
}

/// Kratos' floor for `min_password_length`.
pub const MIN_PASSWORD_LENGTH_FLOOR: usize = 6;

/// `selfservice.flows`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Flows {
    pub login: LoginFlowConfig,
    pub registration: RegistrationFlowConfig,
    pub settings: SettingsFlowConfig,
    pub error: ErrorFlowConfig,
    pub recovery: RecoveryFlowConfig,
    pub verification: VerificationFlowConfig,
}

/// `selfservice.flows.recovery`: people who lost their credentials get back in with a code
/// sent to a recovery address.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryFlowConfig {
    /// Unset: on in `--dev`, off otherwise (it sends mail, so `courier.smtp` must be set).
    pub enabled: Option<bool>,
    pub lifespan: GoDuration,
    /// The page that renders recovery flows; defaults to `<public>/ui/recovery`.
    pub ui_url: Option<url::Url>,
    /// The recovery method; only `code`.
    #[serde(rename = "use")]
    pub method: ChallengeMethod,
    /// Whether an address that belongs to no account is told someone tried to recover it.
    pub notify_unknown_recipients: bool,
}

impl Default for RecoveryFlowConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            lifespan: GoDuration(TimeDelta::hours(1)),
            ui_url: None,
            method: ChallengeMethod::Code,
            notify_unknown_recipients: false,
        }
    }
}

/// `selfservice.flows.verification`: an identity proves its e-mail address with a code (or
/// the link carrying it); a new identity is sent one at registration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VerificationFlowConfig {
    /// Unset: on in `--dev`, off otherwise (it sends mail, so `courier.smtp` must be set).
    pub enabled: Option<bool>,
    pub lifespan: GoDuration,
    /// The page that renders verification flows; defaults to `<public>/ui/verification`.
    pub ui_url: Option<url::Url>,
    /// The verification method; only `code`.
    #[serde(rename = "use")]
    pub method: ChallengeMethod,
    /// Whether an address that belongs to no account is told someone tried to verify it.
    pub notify_unknown_recipients: bool,
}

impl Default for VerificationFlowConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            lifespan: GoDuration(TimeDelta::hours(1)),
            ui_url: None,
            method: ChallengeMethod::Code,
            notify_unknown_recipients: false,
        }
    }
}

/// How recovery and verification prove an address. Kratos' `link` method is not offered:
/// a code works when the mail is read on another device than the form.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeMethod {
    #[default]
    Code,
}

/// `selfservice.flows.settings`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SettingsFlowConfig {
    pub lifespan: GoDuration,
    /// The page that renders settings flows; defaults to `<public>/ui/settings`.
    pub ui_url: Option<url::Url>,
    /// How long after signing in a session may change the password or login identifiers.
    pub privileged_session_max_age: GoDuration,
    /// Hooks after a successful change (`revoke_active_sessions`, `web_hook`).
    pub after: AfterHooks,
    /// The session level the settings flow asks for.
    pub required_aal: RequiredAal,
}

impl Default for SettingsFlowConfig {
    fn default() -> Self {
        Self {
            lifespan: GoDuration(TimeDelta::hours(1)),
            ui_url: None,
            privileged_session_max_age: GoDuration(TimeDelta::minutes(15)),
            after: AfterHooks::default(),
            required_aal: RequiredAal::default(),
        }
    }
}

/// `selfservice.flows.error`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ErrorFlowConfig {
    /// The page that shows errors; defaults to `<public>/ui/error`.
    pub ui_url: Option<url::Url>,
}

/// `selfservice.flows.login`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoginFlowConfig {
    pub lifespan: GoDuration,
    /// The page that renders login flows; defaults to `<public>/ui/login`.
    pub ui_url: Option<url::Url>,
    /// Hooks after a successful login (`revoke_active_sessions`, `web_hook`).
    pub after: AfterHooks,
}

impl Default for LoginFlowConfig {
    fn default() -> Self {
        Self {
            lifespan: GoDuration(TimeDelta::hours(1)),
            ui_url: None,
            after: AfterHooks::default(),
        }
    }
}

/// `selfservice.flows.registration`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationFlowConfig {
    pub lifespan: GoDuration,
    /// The page that renders registration flows; defaults to `<public>/ui/registration`.
    pub ui_url: Option<url::Url>,
    /// Hooks after a successful registration; unset means `[session]` in `--dev`, none otherwise.
    pub after: Option<AfterHooks>,
}

impl Default for RegistrationFlowConfig {
    fn default() -> Self {
        Self {
            lifespan: GoDuration(TimeDelta::hours(1)),
            ui_url: None,
            after: None,
        }
    }
}

/// `after: {hooks: [...], <method>: {hooks: [...]}}`: a method's own list replaces the
/// flow's list.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct AfterHooks {
    pub hooks: Vec<Hook>,
    /// Lists of single methods, by method id (`password`, `code`, ...).
    #[serde(flatten)]
    pub methods: BTreeMap<String, MethodHooks>,
}

/// `after.<method>`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MethodHooks {
    pub hooks: Vec<Hook>,
}

/// One hook entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    pub hook: HookName,
    /// The hook's settings; only `web_hook` has (and needs) them.
    #[serde(default)]
    pub config: Option<WebHookConfig>,
}

impl Hook {
    /// A hook without settings.
    pub fn named(hook: HookName) -> Self {
        Self { hook, config: None }
    }
}

/// The hooks Clavis knows.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HookName {
    /// Registration: sign the new identity in right away.
    Session,
    /// Login and settings: end every other session of the identity.
    RevokeActiveSessions,
    /// Call an HTTP endpoint with the flow and the identity.
    WebHook,
}

impl HookName {
    fn as_str(self) -> &'static str {
        match self {
            HookName::Session => "session",
            HookName::RevokeActiveSessions => "revoke_active_sessions",
            HookName::WebHook => "web_hook",
        }
    }
}

/// `config` of a `web_hook`, as Kratos spells it, plus `timeout` and `retries`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebHookConfig {
    pub url: String,
    #[serde(default = "WebHookConfig::default_method")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub auth: Option<WebHookAuthConfig>,
    #[serde(default)]
    pub response: WebHookResponseConfig,
    /// An error answer with `messages` stops the flow and shows them in the form.
    #[serde(default)]
    pub can_interrupt: bool,
    /// The deadline for the whole delivery, retries included.
    #[serde(default = "WebHookConfig::default_timeout")]
    pub timeout: GoDuration,
    /// Repeats while the receiver cannot be reached or answers 429, 502, 503 or 504.
    #[serde(default = "WebHookConfig::default_retries")]
    pub retries: u32,
    /// Kratos' Jsonnet body template; refused, because Clavis always sends the hook context.
    #[serde(default)]
    pub body: Option<String>,
    /// Accepted for Kratos configurations; Clavis emits no analytics.
    #[serde(default)]
    pub emit_analytics_event: Option<bool>,
}

impl WebHookConfig {
    fn default_method() -> String {
        "POST".to_owned()
    }

    fn default_timeout() -> GoDuration {
        GoDuration(TimeDelta::seconds(5))
    }

    fn default_retries() -> u32 {
        2
    }

    fn to_core(&self) -> clavis_core::flow::webhook::WebHook {
        use clavis_core::flow::webhook::{WebHook, WebHookAuth};
        WebHook {
            url: self.url.clone(),
            method: self.method.to_ascii_uppercase(),
            headers: self.headers.clone(),
            auth: self.auth.as_ref().map(|auth| match auth {
                WebHookAuthConfig::ApiKey(key) => WebHookAuth::ApiKey {
                    name: key.name.clone(),
                    value: key.value.clone(),
                    in_cookie: key.location == ApiKeyLocation::Cookie,
                },
                WebHookAuthConfig::BasicAuth(basic) => WebHookAuth::Basic {
                    user: basic.user.clone(),
                    password: basic.password.clone(),
                },
            }),
            ignore: self.response.ignore,
            parse: self.response.parse,
            can_interrupt: self.can_interrupt,
            timeout: self.timeout.0.to_std().unwrap_or_default(),
            retries: self.retries,
        }
    }
}

/// `response` of a `web_hook`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WebHookResponseConfig {
    /// Send in the background and do not wait for the answer.
    pub ignore: bool,
    /// A 200 answer `{"identity": {...}}` changes the identity before it is stored
    /// (registration and settings).
    pub parse: bool,
}

/// `auth` of a `web_hook`: `{type: api_key|basic_auth, config: {...}}`.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(tag = "type", content = "config", rename_all = "snake_case")]
pub enum WebHookAuthConfig {
    ApiKey(ApiKeyAuth),
    BasicAuth(BasicAuth),
}

impl std::fmt::Debug for WebHookAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebHookAuthConfig::ApiKey(key) => write!(f, "ApiKey({}, {:?})", key.name, key.location),
            WebHookAuthConfig::BasicAuth(basic) => write!(f, "BasicAuth({})", basic.user),
        }
    }
}

/// An API key sent with every call.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyAuth {
    pub name: String,
    pub value: String,
    #[serde(rename = "in", default)]
    pub location: ApiKeyLocation,
}

/// Where an API key goes.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyLocation {
    #[default]
    Header,
    Cookie,
}

/// HTTP basic authentication.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub user: String,
    pub password: String,
}

/// The method ids a per-method hook list may name.
const METHOD_IDS: &[&str] = &[
    "password",
    "profile",
    "code",
    "totp",
    "lookup_secret",
    "webauthn",
    "passkey",
    "oidc",
];

impl AfterHooks {
    /// The hooks in the engine's terms.
    pub fn to_core(&self) -> clavis_core::flow::hooks::AfterHooks {
        let list = |hooks: &[Hook]| hooks.iter().filter_map(Hook::to_core).collect();
        clavis_core::flow::hooks::AfterHooks {
            default: list(&self.hooks),
            by_method: self
                .methods
                .iter()
                .map(|(method, m)| (method.clone(), list(&m.hooks)))
                .collect(),
        }
    }

    /// Refuses unknown method names, hooks that do not belong to the flow at `key` and
    /// unusable web hooks.
    fn validate(
        &self,
        key: &str,
        allowed: &[HookName],
        parse_allowed: bool,
    ) -> Result<(), ConfigError> {
        if let Some(method) = self
            .methods
            .keys()
            .find(|m| !METHOD_IDS.contains(&m.as_str()))
        {
            return Err(ConfigError::Invalid {
                key: format!("{key}.{method}"),
                problem: format!("is no method; expected one of {}", METHOD_IDS.join(", ")),
            });
        }
        let lists = std::iter::once((key.to_owned(), &self.hooks)).chain(
            self.methods
                .iter()
                .map(|(method, m)| (format!("{key}.{method}"), &m.hooks)),
        );
        for (at, hooks) in lists {
            for (index, hook) in hooks.iter().enumerate() {
                let here = format!("{at}.hooks.{index}");
                if !allowed.contains(&hook.hook) {
                    return Err(ConfigError::Invalid {
                        key: format!("{at}.hooks"),
                        problem: format!("`{}` cannot run here", hook.hook.as_str()),
                    });
                }
                hook.validate(&here, parse_allowed)?;
            }
        }
        Ok(())
    }
}

impl Hook {
    fn to_core(&self) -> Option<clavis_core::flow::hooks::Hook> {
        use clavis_core::flow::hooks::Hook as Core;
        Some(match self.hook {
            HookName::Session => Core::Session,
            HookName::RevokeActiveSessions => Core::RevokeActiveSessions,
            HookName::WebHook => {
                Core::WebHook(std::sync::Arc::new(self.config.as_ref()?.to_core()))
            }
        })
    }

    fn validate(&self, key: &str, parse_allowed: bool) -> Result<(), ConfigError> {
        let invalid = |key: String, problem: &str| {
            Err(ConfigError::Invalid {
                key,
                problem: problem.to_owned(),
            })
        };
        let config = match (self.hook, &self.config) {
            (HookName::WebHook, Some(config)) => config,
            (HookName::WebHook, None) => {
                return invalid(
                    format!("{key}.config"),
                    "a web_hook needs a `config` with a `url`",
                );
            }
            (_, Some(_)) => {
                return invalid(format!("{key}.config"), "only web_hook takes a `config`");
            }
            (_, None) => return Ok(()),
        };
        let at = |field: &str| format!("{key}.config.{field}");
        if config.body.is_some() {
            return invalid(
                at("body"),
                "Jsonnet bodies are not supported; Clavis sends the hook context (flow, identity, request) as JSON",
            );
        }
        if config.response.ignore && (config.response.parse || config.can_interrupt) {
            return invalid(
                at("response.ignore"),
                "a hook whose answer is ignored cannot parse it or interrupt the flow",
            );
        }
        if config.response.parse && !parse_allowed {
            return invalid(
                at("response.parse"),
                "only registration and settings hooks can change the identity",
            );
        }
        if config.timeout.0 <= TimeDelta::zero() {
            return invalid(at("timeout"), "must be longer than zero");
        }
        clavis_webhook::HttpWebHooks::check(&config.to_core()).map_err(|problem| {
            ConfigError::Invalid {
                key: format!("{key}.config"),
                problem,
            }
        })
    }
}

impl Config {
    /// The hooks after registration: as configured, else `[session]` in `--dev` and none
    /// otherwise.
    pub fn registration_after_hooks(&self) -> clavis_core::flow::hooks::AfterHooks {
        match &self.selfservice.flows.registration.after {
            Some(after) => after.to_core(),
            None if self.dev => clavis_core::flow::hooks::AfterHooks::always(vec![
                clavis_core::flow::hooks::Hook::Session,
            ]),
            None => clavis_core::flow::hooks::AfterHooks::default(),
        }
    }

    /// Whether recovery flows are on: as configured, else on in `--dev` only.
    pub fn recovery_enabled(&self) -> bool {
        self.selfservice.flows.recovery.enabled.unwrap_or(self.dev)
            && self.selfservice.methods.code.enabled
    }

    /// Whether verification flows are on: as configured, else on in `--dev` only.
    pub fn verification_enabled(&self) -> bool {
        self.selfservice
            .flows
            .verification
            .enabled
            .unwrap_or(self.dev)
            && self.selfservice.methods.code.enabled
    }

    /// What serving needs beyond [`Config::validate`]: a cookie secret (generated in `--dev`).
    pub fn validate_for_serve(&self) -> Result<(), ConfigError> {
        if !self.dev
            && self.courier.smtp.connection_uri.is_none()
            && (self.recovery_enabled() || self.verification_enabled())
        {
            return Err(ConfigError::Invalid {
                key: "courier.smtp.connection_uri".to_owned(),
                problem: "is not set, and recovery or verification must send mail (set it, or turn selfservice.flows.recovery/verification off)".to_owned(),
            });
        }
        if !self.dev && self.secrets.cookie.is_empty() {
            return Err(ConfigError::Invalid {
                key: "secrets.cookie".to_owned(),
                problem:
                    "at least one secret of 16 or more characters is required (or run with --dev)"
                        .to_owned(),
            });
        }
        Ok(())
    }

    /// Rules serde cannot express; the first broken one is reported.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: String| {
            Err(ConfigError::Invalid {
                key: key.to_owned(),
                problem,
            })
        };
        for (key, list) in [
            ("secrets.cookie", &self.secrets.cookie),
            ("secrets.cipher", &self.secrets.cipher),
        ] {
            if let Some(short) = list.iter().position(|s| s.len() < MIN_SECRET_LEN) {
                return invalid(
                    key,
                    format!("entry {short} is shorter than {MIN_SECRET_LEN} characters"),
                );
            }
        }
        for (index, key) in self.serve.admin.api_keys.iter().enumerate() {
            let problem = match key.strip_prefix(API_KEY_DIGEST_PREFIX) {
                Some(hex) if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Some("a digest must be `sha256:` and 64 hexadecimal characters")
                }
                Some(_) => None,
                None if key.len() < MIN_API_KEY_LEN => {
                    Some("a key must have 16 or more characters")
                }
                None => None,
            };
            if let Some(problem) = problem {
                return invalid("serve.admin.api_keys", format!("entry {index}: {problem}"));
            }
        }
        let flows = &self.selfservice.flows;
        flows.login.after.validate(
            "selfservice.flows.login.after",
            &[HookName::RevokeActiveSessions, HookName::WebHook],
            false,
        )?;
        if let Some(after) = &flows.registration.after {
            after.validate(
                "selfservice.flows.registration.after",
                &[HookName::Session, HookName::WebHook],
                true,
            )?;
        }
        flows.settings.after.validate(
            "selfservice.flows.settings.after",
            &[HookName::RevokeActiveSessions, HookName::WebHook],
            true,
        )?;
        let min_password = self.selfservice.methods.password.config.min_password_length;
        if min_password < MIN_PASSWORD_LENGTH_FLOOR {
            return invalid(
                "selfservice.methods.password.config.min_password_length",
                format!("must be at least {MIN_PASSWORD_LENGTH_FLOOR}"),
            );
        }
        for (key, duration) in [
            ("session.lifespan", &self.session.lifespan),
            ("selfservice.flows.login.lifespan", &flows.login.lifespan),
            (
                "selfservice.flows.registration.lifespan",
                &flows.registration.lifespan,
            ),
            (
                "selfservice.flows.settings.lifespan",
                &flows.settings.lifespan,
            ),
        ] {
            if duration.0 <= TimeDelta::zero() {
                return invalid(key, "must be longer than zero".to_owned());
            }
        }
        if self.session.cookie.name.is_empty()
            || !self
                .session
                .cookie
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return invalid(
                "session.cookie.name",
                "must be letters, digits, `_` or `-`".to_owned(),
            );
        }
        let argon = &self.hashers.argon2;
        if argon.memory.0 < 8 * 1024 * u64::from(argon.parallelism.max(1)) {
            return invalid(
                "hashers.argon2.memory",
                "must be at least 8 KiB per lane".to_owned(),
            );
        }
        if argon.iterations == 0 || argon.parallelism == 0 {
            return invalid(
                "hashers.argon2",
                "iterations and parallelism must be at least 1".to_owned(),
            );
        }
        if self.identity.schemas.is_empty()
            && self.identity.default_schema_id != clavis_core::identity::DEFAULT_SCHEMA_ID
        {
            return invalid(
                "identity.default_schema_id",
                format!(
                    "`{}` names no schema; configure identity.schemas",
                    self.identity.default_schema_id
                ),
            );
        }
        Ok(())
    }
}

/// A list given either as a YAML sequence or as one comma-separated string (handy in
/// environment variables: `CLAVIS_SECRETS__COOKIE=new-secret,old-secret`).
fn string_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        One(String),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::List(list) => list,
        Raw::One(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
mod tests;

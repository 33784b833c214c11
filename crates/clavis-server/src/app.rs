//! Building and starting a server from a configuration.

use crate::config::{Config, ConfigError, SameSite, SchemaSourceError, load_schema_documents};
use clavis_core::background::{Background, Task};
use clavis_core::cipher::Cipher;
use clavis_core::cookie::CookieSigner;
use clavis_core::courier::Courier;
use clavis_core::device::DeviceAuthorizations;
use clavis_core::flow::FlowSettings;
use clavis_core::flow::errors::FlowErrors;
use clavis_core::flow::exchange::TokenExchanges;
use clavis_core::flow::hooks::FlowHooks;
use clavis_core::flow::login::LoginEngine;
use clavis_core::flow::method::{DuplicateMethod, MethodRegistry};
use clavis_core::flow::profile::ProfileMethod;
use clavis_core::flow::recovery::RecoveryEngine;
use clavis_core::flow::registration::{RegistrationEngine, RegistrationSettings};
use clavis_core::flow::settings::{SettingsEngine, SettingsPolicy};
use clavis_core::flow::verification::VerificationEngine;
use clavis_core::flow::webhook::WebHookTransport;
use clavis_core::grant::ClientGrants;
use clavis_core::identity::admin::IdentityAdmin;
use clavis_core::identity::{IdentityService, SchemaError, SchemaRegistry};
use clavis_core::rate_limit::{Limit, RateLimiter};
use clavis_core::session::admin::SessionAdmin;
use clavis_core::session::assurance::AssurancePolicy;
use clavis_core::session::{SessionService, SessionSettings};
use clavis_core::{Clock, OsRng, Rng, SystemClock};
use clavis_courier::{DispatchPolicy, Dispatcher, LogTransport, Outbox, SmtpTransport, Transport};
use clavis_http::{
    CookieSettings, CorsSettings, DeviceLoginLimits, HttpSettings, HttpState, UiUrls,
};
use clavis_store::{ConnectError, Database, Store};
use clavis_strategy_code::{CodeDeps, CodeMethod, CodePolicy};
use clavis_strategy_lookup::{LookupSecretDeps, LookupSecretMethod};
use clavis_strategy_password::{
    Argon2Params, PasswordDeps, PasswordHasher, PasswordMethod, PasswordPolicy,
};
use clavis_strategy_totp::{TotpDeps, TotpMethod};
use clavis_webhook::HttpWebHooks;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use url::Url;

/// The version every listener reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The domain's background work (session cache refreshes): run on the runtime of the thread
/// that starts it (a listener's worker, so the work stays on the thread whose memory and caches
/// it uses), or on the server's main runtime when started elsewhere.
struct TokioBackground(tokio::runtime::Handle);

impl Background for TokioBackground {
    fn spawn(&self, task: Task) {
        let runtime = tokio::runtime::Handle::try_current().unwrap_or_else(|_| self.0.clone());
        drop(runtime.spawn(task));
    }
}

/// Time and randomness for the server; tests inject a fake clock.
#[derive(Clone)]
pub struct Runtime {
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
    /// Worker threads per listener; `None` uses one per core.
    pub workers: Option<usize>,
}

impl Default for Runtime {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRng),
            workers: None,
        }
    }
}

/// Why the server did not start. Each message is one sentence an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    SchemaSource(#[from] SchemaSourceError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Database(#[from] ConnectError),
    #[error("the database schema is not up to date ({0} pending); run `clavis migrate` first")]
    PendingMigrations(String),
    #[error("cannot listen on {addr} ({key}): {reason}")]
    Bind {
        key: &'static str,
        addr: String,
        reason: String,
    },
    #[error(transparent)]
    Methods(#[from] DuplicateMethod),
    #[error("configuration key `hashers.argon2` is invalid: {0}")]
    Hasher(String),
    #[error("cannot start the {0} listener: {1}")]
    Listener(&'static str, String),
}

/// The core services, for the composition root and for test fixtures.
#[derive(Clone)]
pub struct Services {
    /// Device authorizations (approved through the browser page by people).
    pub devices: DeviceAuthorizations,
    pub grants: ClientGrants,
    /// Session-token exchanges (completed by methods that finish API flows in a browser).
    pub exchanges: TokenExchanges,
    pub identities: IdentityService,
    /// Login flows, as the HTTP layer drives them (benchmarks start flows through it).
    pub login: LoginEngine,
    pub sessions: SessionService,
    pub cookie_signer: CookieSigner,
}

/// A started server.
pub struct Running {
    pub public_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub public_base_url: Url,
    pub admin_base_url: Url,
    pub services: Services,
    public: actix_web::dev::ServerHandle,
    admin: actix_web::dev::ServerHandle,
    /// The courier's dispatcher and the SQLite log's checkpoints, stopped with the listeners.
    workers: Vec<tokio::task::AbortHandle>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Stops both listeners; `graceful` lets in-flight requests finish.
    pub async fn stop(&self, graceful: bool) {
        tokio::join!(self.public.stop(graceful), self.admin.stop(graceful));
        for worker in &self.workers {
            worker.abort();
        }
    }

    /// Waits until both listeners have stopped.
    pub async fn wait(self) -> std::io::Result<()> {
        for task in self.tasks {
            task.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    }
}

/// Opens the database, builds the services and starts both listeners.
pub async fn start(config: Config, runtime: Runtime) -> Result<Running, StartError> {
    let dsn = config.dsn.clone().ok_or_else(|| ConfigError::Invalid {
        key: "dsn".to_owned(),
        problem: "is not set; set it in clavis.yaml or CLAVIS_DSN, or use `clavis serve --dev`"
            .to_owned(),
    })?;
    let schemas = Arc::new(SchemaRegistry::new(
        &config.identity.default_schema_id,
        load_schema_documents(&config.identity)?,
    )?);
    let database = Database::connect(&dsn).await?;
    if config.dev {
        database.migrate().await?;
    } else {
        let status = database.migration_status().await?;
        if !status.pending.is_empty() {
            return Err(StartError::PendingMigrations(status.pending.join(", ")));
        }
    }
    let public_listener = bind(
        "serve.public.port",
        &config.serve.public.host,
        config.serve.public.port,
    )?;
    let admin_listener = bind(
        "serve.admin.port",
        &config.serve.admin.host,
        config.serve.admin.port,
    )?;
    let public_addr = local_addr(&public_listener)?;
    let admin_addr = local_addr(&admin_listener)?;
    let public_base_url = base_url(
        "serve.public.base_url",
        config.serve.public.base_url.as_ref(),
        public_addr,
    )?;
    let admin_base_url = base_url(
        "serve.admin.base_url",
        config.serve.admin.base_url.as_ref(),
        admin_addr,
    )?;

    let store = Arc::new(Store::new(database.connection.clone()));
    let cookie_signer = CookieSigner::new(
        config
            .secrets
            .cookie
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
    )
    .map_err(|_| ConfigError::Invalid {
        key: "secrets.cookie".to_owned(),
        problem: "at least one secret is required".to_owned(),
    })?;
    let session_cache = config.session.cache.to_core();
    let identities = IdentityService::new(
        schemas,
        store.clone(),
        runtime.clock.clone(),
        runtime.rng.clone(),
    )
    .with_session_cache(session_cache.clone());
    let grants = ClientGrants::new(store.clone(), runtime.clock.clone(), runtime.rng.clone());
    let sessions = SessionService::new(
        store.clone(),
        store.clone(),
        runtime.clock.clone(),
        runtime.rng.clone(),
        SessionSettings {
            lifespan: config.session.lifespan.0,
        },
    )
    .with_client_grants(grants.clone())
    .with_cache(
        session_cache.clone(),
        Arc::new(TokioBackground(tokio::runtime::Handle::current())),
    );
    let ui = ui_urls(&config, &public_base_url)?;
    let flow_settings = |lifespan: chrono::TimeDelta| FlowSettings {
        public_base_url: public_base_url.to_string(),
        lifespan,
        default_return_url: ui.default_return.to_string(),
        allowed_return_urls: config.selfservice.allowed_return_urls.clone(),
    };
    let renderer =
        clavis_render::Renderer::new(config.ui.templates_dir.as_deref()).map_err(|e| {
            ConfigError::Invalid {
                key: "ui.templates_dir".to_owned(),
                problem: e.to_string(),
            }
        })?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let courier: Arc<dyn Courier> = Arc::new(Outbox::new(
        renderer.clone(),
        store.clone(),
        runtime.clock.clone(),
        runtime.rng.clone(),
        wake.clone(),
    ));
    let dispatcher = Dispatcher::new(
        store.clone(),
        transport(&config, &public_base_url)?,
        runtime.clock.clone(),
        runtime.rng.clone(),
        wake,
        DispatchPolicy {
            max_attempts: config.courier.message_retries.max(1),
            poll_interval: config
                .courier
                .worker
                .pull_wait
                .0
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(1)),
            ..DispatchPolicy::default()
        },
    );
    let methods = methods(
        &config,
        store.clone(),
        runtime.clone(),
        public_base_url.host_str().unwrap_or("Clavis"),
        courier,
    )?;
    let web_hooks: Arc<dyn WebHookTransport> =
        Arc::new(HttpWebHooks::new().map_err(|problem| ConfigError::Invalid {
            key: "selfservice.flows".to_owned(),
            problem,
        })?);
    let hooks =
        |after: clavis_core::flow::hooks::AfterHooks| FlowHooks::new(after, web_hooks.clone());
    let login = LoginEngine::new(
        methods.clone(),
        store.clone(),
        identities.clone(),
        sessions.clone(),
        runtime.clock.clone(),
        runtime.rng.clone(),
        flow_settings(config.selfservice.flows.login.lifespan.0),
        hooks(config.selfservice.flows.login.after.to_core()),
    );
    let settings_flows = SettingsEngine::new(
        methods.clone(),
        store.clone(),
        identities.clone(),
        sessions.clone(),
        runtime.clock.clone(),
        runtime.rng.clone(),
        flow_settings(config.selfservice.flows.settings.lifespan.0),
        SettingsPolicy {
            privileged_session_max_age: config
                .selfservice
                .flows
                .settings
                .privileged_session_max_age
                .0,
            after: hooks(config.selfservice.flows.settings.after.to_core()),
            required_aal: config.selfservice.flows.settings.required_aal.to_core(),
        },
    );
    let settings_flows = if config.native_apps.revoke_app_passwords_on_password_change {
        settings_flows.revoking_grants_on_new_password(grants.clone())
    } else {
        settings_flows
    };
    let assurance = AssurancePolicy::new(
        methods.clone(),
        config.session.whoami.required_aal.to_core(),
    );
    let devices = DeviceAuthorizations::new(
        store.clone(),
        grants.clone(),
        runtime.clock.clone(),
        runtime.rng.clone(),
    );
    let recovery = config.recovery_enabled().then(|| {
        RecoveryEngine::new(
            methods.clone(),
            store.clone(),
            identities.clone(),
            sessions.clone(),
            settings_flows.clone(),
            runtime.clock.clone(),
            runtime.rng.clone(),
            flow_settings(config.selfservice.flows.recovery.lifespan.0),
        )
    });
    let verification = config.verification_enabled().then(|| {
        VerificationEngine::new(
            methods.clone(),
            store.clone(),
            identities.clone(),
            runtime.clock.clone(),
            runtime.rng.clone(),
            flow_settings(config.selfservice.flows.verification.lifespan.0),
        )
    });
    let registration = RegistrationEngine::new(
        methods.clone(),
        store.clone(),
        identities.clone(),
        sessions.clone(),
        runtime.clock.clone(),
        runtime.rng.clone(),
        flow_settings(config.selfservice.flows.registration.lifespan.0),
        RegistrationSettings {
            after: hooks(config.registration_after_hooks()),
        },
    );
    let registration = match &verification {
        Some(verification) => registration.verifying_new_addresses(verification.clone()),
        None => registration,
    };
    let identity_admin = IdentityAdmin::new(
        identities.clone(),
        store.clone(),
        methods.importers().to_vec(),
    );
    let session_admin = SessionAdmin::new(
        store.clone(),
        runtime.clock.clone(),
        SessionSettings {
            lifespan: config.session.lifespan.0,
        },
    )
    .with_cache(session_cache);
    let exchanges = TokenExchanges::new(
        store.clone(),
        sessions.clone(),
        runtime.clock.clone(),
        runtime.rng.clone(),
    );
    let services = Services {
        devices: devices.clone(),
        grants: grants.clone(),
        exchanges: exchanges.clone(),
        identities: identities.clone(),
        login: login.clone(),
        sessions: sessions.clone(),
        cookie_signer: cookie_signer.clone(),
    };
    let settings = Arc::new(http_settings(
        &config,
        &public_base_url,
        &admin_base_url,
        ui,
    ));
    let state = HttpState {
        identities,
        sessions,
        identity_admin,
        session_admin,
        login,
        registration,
        settings_flows,
        recovery,
        verification,
        courier_messages: store.clone(),
        assurance,
        devices,
        grants,
        rate_limiter: RateLimiter::new(store.clone(), runtime.clock.clone()),
        flow_errors: FlowErrors::new(store.clone(), runtime.clock.clone(), runtime.rng.clone()),
        exchanges: exchanges.clone(),
        readiness: Arc::new(database),
        clock: runtime.clock.clone(),
        rng: runtime.rng.clone(),
        cookie_signer,
        renderer,
        settings,
    };
    let workers = runtime
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let public = clavis_http::public_server(state.clone(), public_listener, workers)
        .map_err(|e| StartError::Listener("public", e.to_string()))?;
    let admin = clavis_http::admin_server(state, admin_listener, workers)
        .map_err(|e| StartError::Listener("admin", e.to_string()))?;
    let (public_handle, admin_handle) = (public.handle(), admin.handle());
    let mut workers = vec![tokio::spawn(dispatcher.run()).abort_handle()];
    if let Some(checkpoints) = store.wal_checkpoints() {
        workers.push(tokio::spawn(checkpoints).abort_handle());
    }
    Ok(Running {
        public_addr,
        admin_addr,
        public_base_url,
        admin_base_url,
        services,
        public: public_handle,
        admin: admin_handle,
        workers,
        tasks: vec![tokio::spawn(public), tokio::spawn(admin)],
    })
}

/// The methods in force, in the order their nodes appear and submissions are matched.
fn methods(
    config: &Config,
    store: Arc<Store>,
    runtime: Runtime,
    public_host: &str,
    courier: Arc<dyn Courier>,
) -> Result<MethodRegistry, StartError> {
    let rng = runtime.rng.clone();
    let argon = &config.hashers.argon2;
    let params = Argon2Params {
        memory_kib: u32::try_from(argon.memory.0 / 1024).unwrap_or(u32::MAX),
        iterations: argon.iterations,
        parallelism: argon.parallelism,
    };
    let concurrency = argon
        .max_concurrent
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let hasher = PasswordHasher::new(params, concurrency, rng)
        .map_err(|e| StartError::Hasher(e.to_string()))?;
    let password_config = &config.selfservice.methods.password;
    let rules = &password_config.config;
    let password = Arc::new(PasswordMethod::new(PasswordDeps {
        lookup: store.clone(),
        hasher: Arc::new(hasher),
        policy: PasswordPolicy {
            min_length: rules.min_password_length,
            identifier_similarity_check: rules.identifier_similarity_check_enabled,
            breached_check: rules.haveibeenpwned_enabled,
            ..PasswordPolicy::default()
        },
    }));
    let mut registry = MethodRegistry::new().settings(Arc::new(ProfileMethod))?;
    if password_config.enabled {
        registry = registry
            .login(password.clone())?
            .registration(password.clone())?
            .settings(password.clone())?
            .import(password)?;
    }
    // Second factors seal their secrets with `secrets.cipher`, or the cookie secrets when no
    // cipher secret is configured (under a different key derivation).
    let cipher_secrets = if config.secrets.cipher.is_empty() {
        &config.secrets.cookie
    } else {
        &config.secrets.cipher
    };
    let cipher = Cipher::new(cipher_secrets);
    let totp_config = &config.selfservice.methods.totp;
    if totp_config.enabled {
        let totp = Arc::new(TotpMethod::new(TotpDeps {
            uses: store.clone(),
            cipher: cipher.clone(),
            clock: runtime.clock.clone(),
            rng: runtime.rng.clone(),
            issuer: totp_config
                .config
                .issuer
                .clone()
                .unwrap_or_else(|| public_host.to_owned()),
        }));
        registry = registry.login(totp.clone())?.settings(totp)?;
    }
    if config.selfservice.methods.lookup_secret.enabled {
        let lookup = Arc::new(LookupSecretMethod::new(LookupSecretDeps {
            uses: store.clone(),
            cipher: cipher.clone(),
            clock: runtime.clock.clone(),
            rng: runtime.rng.clone(),
        }));
        registry = registry.login(lookup.clone())?.settings(lookup)?;
    }
    let code = Arc::new(CodeMethod::new(
        CodeDeps {
            addresses: store.clone(),
            courier,
            attempts: store,
            cipher,
            clock: runtime.clock.clone(),
            rng: runtime.rng.clone(),
        },
        CodePolicy {
            max_submissions: config.selfservice.methods.code.config.max_submissions,
            notify_unknown_recovery: config.selfservice.flows.recovery.notify_unknown_recipients,
            notify_unknown_verification: config
                .selfservice
                .flows
                .verification
                .notify_unknown_recipients,
        },
    ));
    if config.recovery_enabled() {
        registry = registry.recovery(code.clone())?;
    }
    if config.verification_enabled() {
        registry = registry.verification(code)?;
    }
    Ok(registry)
}

/// Where mail goes: the configured SMTP relay, else the log (development).
fn transport(config: &Config, public: &Url) -> Result<Arc<dyn Transport>, StartError> {
    let smtp = &config.courier.smtp;
    let Some(uri) = &smtp.connection_uri else {
        return Ok(Arc::new(LogTransport));
    };
    let from = smtp
        .from_address
        .clone()
        .unwrap_or_else(|| format!("no-reply@{}", public.host_str().unwrap_or("localhost")));
    let transport = SmtpTransport::new(uri, &from, smtp.from_name.as_deref()).map_err(|e| {
        ConfigError::Invalid {
            key: "courier.smtp".to_owned(),
            problem: e.to_string(),
        }
    })?;
    Ok(Arc::new(transport))
}

fn bind(key: &'static str, host: &str, port: u16) -> Result<TcpListener, StartError> {
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    TcpListener::bind(&addr).map_err(|e| StartError::Bind {
        key,
        addr,
        reason: bind_reason(&e),
    })
}

fn bind_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "the address is already in use by another program".to_owned()
        }
        std::io::ErrorKind::AddrNotAvailable => "this machine has no such address".to_owned(),
        std::io::ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need privileges)".to_owned()
        }
        _ => error.to_string(),
    }
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|e| StartError::Listener("bound", e.to_string()))
}

fn base_url(
    key: &'static str,
    configured: Option<&Url>,
    addr: SocketAddr,
) -> Result<Url, StartError> {
    if let Some(url) = configured {
        let mut url = url.clone();
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        return Ok(url);
    }
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    };
    Url::parse(&format!("http://{host}:{}/", addr.port())).map_err(|e| {
        ConfigError::Invalid {
            key: key.to_owned(),
            problem: e.to_string(),
        }
        .into()
    })
}

/// The UI pages flows are rendered on; by default the ones Clavis serves under `/ui/`.
fn ui_urls(config: &Config, public: &Url) -> Result<UiUrls, StartError> {
    let page = |configured: Option<&Url>, key: &str, path: &str| -> Result<Url, StartError> {
        match configured {
            Some(url) => Ok(url.clone()),
            None => public.join(path).map_err(|e| {
                ConfigError::Invalid {
                    key: key.to_owned(),
                    problem: e.to_string(),
                }
                .into()
            }),
        }
    };
    let flows = &config.selfservice.flows;
    Ok(UiUrls {
        login: page(
            flows.login.ui_url.as_ref(),
            "selfservice.flows.login.ui_url",
            "ui/login",
        )?,
        registration: page(
            flows.registration.ui_url.as_ref(),
            "selfservice.flows.registration.ui_url",
            "ui/registration",
        )?,
        settings: page(
            flows.settings.ui_url.as_ref(),
            "selfservice.flows.settings.ui_url",
            "ui/settings",
        )?,
        error: page(
            flows.error.ui_url.as_ref(),
            "selfservice.flows.error.ui_url",
            "ui/error",
        )?,
        recovery: page(
            flows.recovery.ui_url.as_ref(),
            "selfservice.flows.recovery.ui_url",
            "ui/recovery",
        )?,
        verification: page(
            flows.verification.ui_url.as_ref(),
            "selfservice.flows.verification.ui_url",
            "ui/verification",
        )?,
        default_return: page(
            config.selfservice.default_browser_return_url.as_ref(),
            "selfservice.default_browser_return_url",
            "ui/welcome",
        )?,
    })
}

fn http_settings(config: &Config, public: &Url, admin: &Url, ui: UiUrls) -> HttpSettings {
    let cookie = &config.session.cookie;
    let cors = &config.serve.public.cors;
    HttpSettings {
        public_base_url: public.clone(),
        admin_base_url: admin.clone(),
        admin_api_keys: config.serve.admin.api_key_digests(),
        session_cookie: CookieSettings {
            name: cookie.name.clone(),
            domain: cookie.domain.clone(),
            path: cookie.path.clone(),
            same_site: match cookie.same_site {
                SameSite::Strict => clavis_http::SameSite::Strict,
                SameSite::Lax => clavis_http::SameSite::Lax,
                SameSite::None => clavis_http::SameSite::None,
            },
            secure: !(config.dev && public.scheme() == "http"),
            persistent: cookie.persistent,
        },
        cors: CorsSettings {
            enabled: cors.enabled,
            allowed_origins: cors.allowed_origins.clone(),
            allowed_methods: cors.allowed_methods.clone(),
            allowed_headers: cors.allowed_headers.clone(),
            exposed_headers: cors.exposed_headers.clone(),
            allow_credentials: cors.allow_credentials,
            max_age: cors.max_age,
        },
        ui_form_action: form_action_sources(config, public, &ui),
        ui,
        version: VERSION.to_owned(),
        device_login_limits: DeviceLoginLimits {
            init: Limit::per_minute(config.native_apps.rate_limits.init_per_minute),
            poll: Limit::per_minute(config.native_apps.rate_limits.poll_per_minute),
        },
    }
}

/// The origins the UI's forms may post to and be redirected to: Clavis itself, the UI pages,
/// the default return URL and every allowed `return_to`.
fn form_action_sources(config: &Config, public: &Url, ui: &UiUrls) -> String {
    let mut origins: Vec<String> = vec!["'self'".to_owned()];
    let urls = [
        public,
        &ui.login,
        &ui.registration,
        &ui.settings,
        &ui.error,
        &ui.recovery,
        &ui.verification,
        &ui.default_return,
    ]
    .into_iter()
    .cloned()
    .chain(
        config
            .selfservice
            .allowed_return_urls
            .iter()
            .filter_map(|u| Url::parse(u).ok()),
    );
    for url in urls {
        let origin = url.origin().ascii_serialization();
        if origin != "null" && !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    origins.join(" ")
}

//! The in-process test harness: boots the real Clavis server (the same composition root as the
//! binary) on port 0, with a database of its own and a fake clock, and offers fixtures for
//! identities and sessions.
//!
//! Every test runs on SQLite; [`db_tests!`] runs it again on PostgreSQL when
//! `CLAVIS_TEST_DATABASE_URL` names a server. Nothing here is used outside tests.

mod clock;
mod mail;
mod receiver;

pub use clavis_core::Clock;
pub use clavis_core::device::FrontEnd;
pub use clavis_core::secret::BearerToken;
pub use clavis_server::StartError;
pub use clavis_server::config::{AfterHooks, Config, Hook, HookName, RequiredAal, SchemaSource};
pub use clavis_store::testing::{Engine, POSTGRES_ENV, TestDatabase};
pub use clock::FakeClock;
pub use mail::{MailSink, SentMail};
pub use receiver::{HookReceiver, Received, Reply};

use clavis_core::identity::{CredentialKind, Identity, NewIdentity};
use clavis_core::session::{DeviceInfo, Session};
use clavis_core::{CoreError, OsRng};
use clavis_server::app::{Running, Runtime, Services};
use clavis_types::identity::IdentityState;
use clavis_types::session::{Aal, AuthenticationMethod};
use serde_json::{Value, json};
use std::sync::Arc;
use url::Url;

/// The target of the `rel="next"` entry of a `Link` header, if there is one.
pub use clavis_server::admin_cli::next_page as next_link;

/// A running server and the handles a test needs around it.
pub struct TestServer {
    pub engine: Engine,
    pub clock: Arc<FakeClock>,
    pub database: TestDatabase,
    /// Where the server's mail goes (over SMTP).
    pub mail: MailSink,
    running: Running,
    http: reqwest::Client,
}

/// The cookie secret test servers sign with.
pub const TEST_COOKIE_SECRET: &str = "test-cookie-secret-0123456789";

/// The admin API key test servers require.
pub const TEST_ADMIN_KEY: &str = "test-admin-key-0123456789";

/// The configuration a test server starts from: its database, ports 0, a known cookie secret.
pub fn test_config(database: &TestDatabase) -> Config {
    // Development mode on plain http: cookies without `Secure`, so a cookie jar sends them back.
    let mut config = Config {
        dev: true,
        dsn: Some(database.dsn().to_owned()),
        ..Config::default()
    };
    config.serve.public.port = 0;
    config.serve.admin.port = 0;
    config.secrets.cookie = vec![TEST_COOKIE_SECRET.to_owned()];
    config.secrets.cipher = vec!["test-cipher-secret-0123456789".to_owned()];
    config.serve.admin.api_keys = vec![TEST_ADMIN_KEY.to_owned()];
    config.log.level = "warn".to_owned();
    // Cheap hashes keep tests fast; production costs are exercised by the benchmarks.
    config.hashers.argon2.memory = clavis_server::config::ByteSize(64 * 1024);
    config.hashers.argon2.iterations = 1;
    config.selfservice.flows.registration.after = Some(clavis_server::config::AfterHooks {
        hooks: vec![clavis_server::config::Hook::named(
            clavis_server::config::HookName::Session,
        )],
        methods: Default::default(),
    });
    config
}

impl TestServer {
    /// A server on `engine` with the test configuration, or `None` when the engine is not
    /// available (PostgreSQL without `CLAVIS_TEST_DATABASE_URL`).
    pub async fn start(engine: Engine) -> Option<Self> {
        match Self::start_with(engine, |_| {}).await {
            Some(Ok(server)) => Some(server),
            Some(Err(error)) => fail(&format!("the test server did not start: {error}")),
            None => None,
        }
    }

    /// Like [`TestServer::start`], with the configuration adjusted first; start-up errors are
    /// returned, so tests can check them.
    pub async fn start_with(
        engine: Engine,
        configure: impl FnOnce(&mut Config),
    ) -> Option<Result<Self, StartError>> {
        let database = TestDatabase::create(engine).await?;
        let mail = MailSink::start().await;
        let mut config = test_config(&database);
        config.courier.smtp.connection_uri = Some(mail.connection_uri());
        config.courier.smtp.from_address = Some("accounts@clavis.test".to_owned());
        config.courier.worker.pull_wait =
            clavis_server::config::GoDuration(chrono::TimeDelta::milliseconds(200));
        configure(&mut config);
        let clock = Arc::new(FakeClock::default());
        let runtime = Runtime {
            clock: clock.clone(),
            rng: Arc::new(OsRng),
            workers: Some(1),
        };
        let running = match clavis_server::start(config, runtime).await {
            Ok(running) => running,
            Err(error) => return Some(Err(error)),
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| fail(&format!("cannot build an HTTP client: {e}")));
        Some(Ok(Self {
            engine,
            clock,
            database,
            mail,
            running,
            http,
        }))
    }

    /// A URL on the public listener.
    pub fn url(&self, path: &str) -> Url {
        join(&self.running.public_base_url, path)
    }

    /// A URL on the admin listener.
    pub fn admin_url(&self, path: &str) -> Url {
        join(&self.running.admin_base_url, path)
    }

    /// A request to the admin listener carrying the test admin API key.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.admin_url(path))
            .bearer_auth(TEST_ADMIN_KEY)
    }

    /// An HTTP client that does not follow redirects and keeps no cookies.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A browser-like client: it keeps cookies and does not follow redirects.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap_or_else(|e| fail(&format!("cannot build an HTTP client: {e}")))
    }

    /// The server's core services, for fixtures.
    pub fn services(&self) -> &Services {
        &self.running.services
    }

    /// Creates an active identity with the default schema and this e-mail address.
    pub async fn create_identity(&self, email: &str) -> Identity {
        self.create_identity_from(json!({ "email": email }), IdentityState::Active)
            .await
            .unwrap_or_else(|e| fail(&format!("cannot create identity {email}: {e}")))
    }

    /// Creates an identity from raw traits, returning the domain's verdict.
    pub async fn create_identity_from(
        &self,
        traits: Value,
        state: IdentityState,
    ) -> Result<Identity, CoreError> {
        self.services()
            .identities
            .create(NewIdentity {
                schema_id: None,
                traits,
                state,
                metadata_public: None,
                metadata_admin: None,
                credentials: Vec::new(),
                external_id: None,
                address_claims: Vec::new(),
            })
            .await
    }

    /// Creates an identity whose password credential holds `hash` (argon2 or bcrypt), as an
    /// import from another system would.
    pub async fn create_identity_with_password_hash(&self, email: &str, hash: &str) -> Identity {
        self.services()
            .identities
            .create(NewIdentity {
                schema_id: None,
                traits: json!({ "email": email }),
                state: IdentityState::Active,
                metadata_public: None,
                metadata_admin: None,
                credentials: vec![(
                    CredentialKind::Password,
                    json!({"v": "1", "hashed_password": hash}),
                )],
                external_id: None,
                address_claims: Vec::new(),
            })
            .await
            .unwrap_or_else(|e| fail(&format!("cannot create identity {email}: {e}")))
    }

    /// The stored password hash of an identity, if it has a password.
    pub async fn password_hash(&self, identity: &Identity) -> Option<String> {
        let stored = self
            .services()
            .identities
            .get(identity.id)
            .await
            .unwrap_or_else(|e| fail(&format!("cannot read identity {}: {e}", identity.id)));
        stored
            .credentials
            .get(&CredentialKind::Password)
            .and_then(|c| c.config.read())
            .and_then(|config| config["hashed_password"].as_str().map(str::to_owned))
    }

    /// Issues an aal1 password session for `identity`; returns the session and its token.
    pub async fn issue_session(&self, identity: &Identity) -> (Session, String) {
        let method = AuthenticationMethod {
            method: "password".to_owned(),
            aal: Aal::Aal1,
            completed_at: clavis_core::Clock::now(self.clock.as_ref()),
            provider: None,
        };
        let device = DeviceInfo {
            ip_address: Some("192.0.2.10".to_owned()),
            user_agent: Some("clavis-testkit".to_owned()),
        };
        let (session, token) = self
            .services()
            .sessions
            .issue(identity, vec![method], device)
            .await
            .unwrap_or_else(|e| fail(&format!("cannot issue a session: {e}")));
        (session, token.expose().to_owned())
    }

    /// `name=value` for a `Cookie` header carrying `token` as the signed session cookie.
    pub fn session_cookie(&self, token: &str) -> String {
        let signed = self
            .services()
            .cookie_signer
            .sign("session", &clavis_core::secret::BearerToken::new(token));
        format!("clavis_session={signed}")
    }

    /// Stops the listeners and waits for them.
    pub async fn stop(self) {
        self.running.stop(false).await;
        let _ = self.running.wait().await;
    }
}

fn join(base: &Url, path: &str) -> Url {
    base.join(path.trim_start_matches('/'))
        .unwrap_or_else(|e| fail(&format!("bad test path {path}: {e}")))
}

#[allow(clippy::panic)] // test support: a broken fixture must fail the test loudly
fn fail(message: &str) -> ! {
    panic!("{message}")
}

/// Runs `test` against a fresh server on `engine`; on PostgreSQL without a configured server
/// it says so and returns.
pub async fn run<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    match TestServer::start(engine).await {
        Some(server) => test(server).await,
        None => eprintln!("skipped on PostgreSQL: {POSTGRES_ENV} is not set"),
    }
}

/// Declares each named `async fn(TestServer)` as two tests, `<name>::sqlite` and
/// `<name>::postgres`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    $crate::run($crate::Engine::Sqlite, super::$name).await
                }
                #[tokio::test]
                async fn postgres() {
                    $crate::run($crate::Engine::Postgres, super::$name).await
                }
            }
        )*
    };
}

/// Like [`db_tests!`], for tests that start their own server: each named
/// `async fn(Engine)` becomes `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::Engine::Sqlite).await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::Engine::Postgres).await
                }
            }
        )*
    };
}

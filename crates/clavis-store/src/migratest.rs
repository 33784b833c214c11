//! Migration replay: after each migration, seed rows written with that migration's schema
//! (plain SQL, as an older Clavis would have written them) are inserted; once every migration
//! has run, each seeded row is read back with today's entities and converted to the domain.

use crate::Store;
use crate::connect::Database;
use crate::testing::{Engine, POSTGRES_ENV};
use clavis_core::identity::{CredentialKind, IdentityStore};
use clavis_core::secret::TokenDigest;
use clavis_core::session::SessionStore;
use clavis_migrations::{Migrator, MigratorTrait};
use clavis_types::IdentityId;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Seed SQL for each migration, by migration name. Every migration gets an entry.
fn seeds(engine: Engine) -> Vec<(&'static str, Vec<String>)> {
    let uuid = |u: &str| match engine {
        Engine::Sqlite => format!("X'{}'", u.replace('-', "")),
        Engine::Postgres => format!("'{u}'"),
    };
    let identity = uuid("0e0e0e0e-0000-4000-8000-000000000001");
    let credential = uuid("0e0e0e0e-0000-4000-8000-000000000002");
    let session = uuid("0e0e0e0e-0000-4000-8000-000000000003");
    let ts = "'2026-11-22 10:00:00+00:00'";
    vec![
        (
            "m20261122_000001_identities_sessions_flows",
            vec![
                format!(
                    "INSERT INTO identities (id, schema_id, state, state_changed_at, traits, metadata_public, metadata_admin, external_id, created_at, updated_at) \
                 VALUES ({identity}, 'default', 'active', {ts}, '{{\"email\":\"seed@example.org\"}}', NULL, '{{\"note\":1}}', NULL, {ts}, {ts})"
                ),
                format!(
                    "INSERT INTO identity_credentials (id, identity_id, kind, config, version, created_at, updated_at) \
                 VALUES ({credential}, {identity}, 'password', '{{\"v\":1}}', 1, {ts}, {ts})"
                ),
                format!(
                    "INSERT INTO identity_credential_identifiers (id, credential_id, kind, identifier, created_at) \
                 VALUES ({}, {credential}, 'password', 'seed@example.org', {ts})",
                    uuid("0e0e0e0e-0000-4000-8000-000000000004")
                ),
                format!(
                    "INSERT INTO identity_verifiable_addresses (id, identity_id, via, value, verified, verified_at, status, created_at, updated_at) \
                 VALUES ({}, {identity}, 'email', 'seed@example.org', false, NULL, 'pending', {ts}, {ts})",
                    uuid("0e0e0e0e-0000-4000-8000-000000000005")
                ),
                format!(
                    "INSERT INTO identity_recovery_addresses (id, identity_id, via, value, created_at, updated_at) \
                 VALUES ({}, {identity}, 'email', 'seed@example.org', {ts}, {ts})",
                    uuid("0e0e0e0e-0000-4000-8000-000000000006")
                ),
                format!(
                    "INSERT INTO sessions (id, identity_id, token_digest, active, aal, authentication_methods, issued_at, authenticated_at, expires_at, created_at, updated_at) \
                 VALUES ({session}, {identity}, '{}', true, 'aal1', '[{{\"method\":\"password\",\"aal\":\"aal1\",\"completed_at\":\"2026-11-22T10:00:00Z\"}}]', {ts}, {ts}, {ts}, {ts}, {ts})",
                    TokenDigest::of(b"seed-token").as_str()
                ),
                format!(
                    "INSERT INTO session_devices (id, session_id, ip_address, user_agent, location, created_at) \
                 VALUES ({}, {session}, '198.51.100.7', 'seed-agent', NULL, {ts})",
                    uuid("0e0e0e0e-0000-4000-8000-000000000007")
                ),
                format!(
                    "INSERT INTO selfservice_flows (id, kind, flow_type, state, identity_id, session_id, request_url, return_to, requested_aal, refresh, ui, strategy_state, csrf_token_digest, transient_payload, issued_at, expires_at, created_at, updated_at) \
                 VALUES ({}, 'login', 'api', 'choose_method', NULL, NULL, 'http://127.0.0.1/self-service/login/api', NULL, 'aal1', false, \
                 '{{\"action\":\"http://127.0.0.1/self-service/login?flow=seed\",\"method\":\"POST\",\"nodes\":[],\"messages\":[{{\"id\":4000006,\"text\":\"seed\",\"type\":\"error\"}}]}}', \
                 '{{}}', NULL, NULL, {ts}, {ts}, {ts}, {ts})",
                    uuid("0e0e0e0e-0000-4000-8000-000000000008")
                ),
            ],
        ),
        (
            "m20261122_000002_flow_active_method",
            vec![format!(
                "UPDATE selfservice_flows SET active_method = 'password' WHERE id = {}",
                uuid("0e0e0e0e-0000-4000-8000-000000000008")
            )],
        ),
        (
            "m20261122_000003_session_logout_token",
            vec![format!(
                "UPDATE sessions SET logout_token_digest = '{}' WHERE id = {session}",
                TokenDigest::of(b"seed-logout").as_str()
            )],
        ),
        (
            "m20261122_000004_errors_token_exchanges",
            vec![
                format!(
                    "INSERT INTO selfservice_errors (id, error, created_at, updated_at) \
                 VALUES ({}, '{{\"code\":500,\"message\":\"seed\"}}', {ts}, {ts})",
                    uuid("0e0e0e0e-0000-4000-8000-000000000009")
                ),
                format!(
                    "INSERT INTO session_token_exchanges (id, flow_id, init_code_digest, return_to_code_digest, session_id, created_at, updated_at) \
                 VALUES ({}, {}, '{}', '{}', {session}, {ts}, {ts})",
                    uuid("0e0e0e0e-0000-4000-8000-00000000000a"),
                    uuid("0e0e0e0e-0000-4000-8000-000000000008"),
                    TokenDigest::of(b"seed-init").as_str(),
                    TokenDigest::of(b"seed-return").as_str()
                ),
            ],
        ),
        (
            "m20261122_000005_identity_external_id",
            vec![format!(
                "UPDATE identities SET external_id = 'seed-external' WHERE id = {}",
                uuid("0e0e0e0e-0000-4000-8000-000000000001")
            )],
        ),
        (
            "m20261122_000006_credential_uses",
            vec![format!(
                "INSERT INTO identity_credential_uses (identity_id, kind, use_key, used_at) \
                 VALUES ({identity}, 'lookup_secret', 'seedgen:3', {ts})"
            )],
        ),
        (
            "m20261122_000007_device_authorizations_grants",
            vec![
                format!(
                    "INSERT INTO device_authorizations (id, front_end, state, poll_digest, login_digest, client_name, request_ip, identity_id, created_at, expires_at, decided_at) \
                     VALUES ({}, 'nextcloud_login_flow_v2', 'approved', '{}', '{}', 'seed client', '192.0.2.9', {identity}, {ts}, {ts}, {ts})",
                    uuid("0e0e0e0e-0000-4000-8000-000000000011"),
                    TokenDigest::of(b"seed-poll").as_str(),
                    TokenDigest::of(b"seed-login").as_str()
                ),
                format!(
                    "INSERT INTO client_grants (id, identity_id, kind, client_name, secret_digest, created_at, last_used_at, last_ip, user_agent, revoked_at) \
                     VALUES ({}, {identity}, 'app_password', 'seed client', '{}', {ts}, NULL, '192.0.2.9', NULL, NULL)",
                    uuid("0e0e0e0e-0000-4000-8000-000000000012"),
                    TokenDigest::of(b"seed-app-password").as_str()
                ),
            ],
        ),
        (
            "m20261122_000008_grant_assurance_rate_limits",
            vec![
                format!(
                    "UPDATE device_authorizations SET approved_aal = 'aal2' WHERE id = {}",
                    uuid("0e0e0e0e-0000-4000-8000-000000000011")
                ),
                // Window starts are keys: written as the store writes them (RFC 3339), so
                // SQLite's text comparison finds the row again.
                "INSERT INTO rate_limit_hits (bucket, window_start, hits) \
                 VALUES ('seed:192.0.2.9', '2026-11-22T10:00:00+00:00', 3)"
                    .to_owned(),
            ],
        ),
        // Indexes only: the rows seeded so far are read back through them.
        ("m20261122_000009_identity_child_indexes", Vec::new()),
        (
            "m20261122_000010_courier_messages",
            vec![format!(
                "INSERT INTO courier_messages (id, status, recipient, subject, body, body_html, template_type, send_count, dispatches, created_at, updated_at) \
                 VALUES ({}, 'queued', 'seed@example.org', 'Seed subject', 'seed body', '<p>seed body</p>', 'recovery_code_valid', 1, \
                 '[{{\"id\":\"0e0e0e0e-0000-4000-8000-000000000013\",\"status\":\"failed\",\"error\":\"relay down\",\"created_at\":\"2026-11-22T10:00:00Z\"}}]', {ts}, {ts})",
                uuid("0e0e0e0e-0000-4000-8000-000000000014")
            )],
        ),
        // A column type only: the flow seeded with the first migration is read back as text.
        ("m20261123_000011_flow_ui_text", Vec::new()),
    ]
}

async fn replay(db: &Database, engine: Engine) {
    let seeds = seeds(engine);
    let migrations = Migrator::migrations();
    assert_eq!(
        seeds.len(),
        migrations.len(),
        "every migration needs seed rows in migratest.rs"
    );
    for (migration, (name, statements)) in migrations.iter().zip(&seeds) {
        assert_eq!(
            migration.name(),
            *name,
            "seed rows are listed in migration order"
        );
        Migrator::up(&db.connection, Some(1)).await.unwrap();
        for sql in statements {
            db.connection
                .execute_unprepared(sql)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
        }
    }
    assert!(db.migration_status().await.unwrap().pending.is_empty());

    let store = Store::new(db.connection.clone());
    let id = IdentityId(Uuid::parse_str("0e0e0e0e-0000-4000-8000-000000000001").unwrap());
    let identity = store
        .get_identity(id)
        .await
        .unwrap()
        .expect("seeded identity");
    assert_eq!(identity.traits["email"], "seed@example.org");
    assert_eq!(identity.external_id.as_deref(), Some("seed-external"));
    assert_eq!(
        identity.metadata_admin,
        Some(serde_json::json!({"note": 1}))
    );
    assert_eq!(
        identity.credentials[&CredentialKind::Password].identifiers,
        vec!["seed@example.org"]
    );
    assert_eq!(identity.verifiable_addresses.len(), 1);
    assert_eq!(identity.recovery_addresses.len(), 1);
    let session = store
        .find_session_by_token(&TokenDigest::of(b"seed-token"))
        .await
        .unwrap()
        .expect("seeded session");
    assert_eq!(session.identity_id, id);
    assert_eq!(session.authentication_methods[0].method, "password");
    assert_eq!(session.devices[0].user_agent.as_deref(), Some("seed-agent"));
    let by_logout = store
        .find_session_by_logout_token(&TokenDigest::of(b"seed-logout"))
        .await
        .unwrap();
    assert_eq!(by_logout.map(|s| s.id), Some(session.id));
    let flows = crate::entity::selfservice_flows::Entity::find()
        .all(&db.connection)
        .await
        .unwrap();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].kind, "login");
    assert_eq!(flows[0].active_method.as_deref(), Some("password"));
    use clavis_core::flow::FlowStore;
    let flow = store
        .get_flow(clavis_types::id::FlowId(flows[0].id))
        .await
        .unwrap()
        .expect("seeded flow");
    assert_eq!(
        flow.ui.action,
        "http://127.0.0.1/self-service/login?flow=seed"
    );
    assert_eq!(flow.ui.messages[0].id, 4000006);
    use clavis_core::flow::errors::FlowErrorStore;
    use clavis_core::flow::exchange::ExchangeStore;
    let error = store
        .get_flow_error(Uuid::parse_str("0e0e0e0e-0000-4000-8000-000000000009").unwrap())
        .await
        .unwrap()
        .expect("seeded error");
    assert_eq!(error.error["code"], 500);
    let exchanged = store
        .take_exchange(
            &TokenDigest::of(b"seed-init"),
            &TokenDigest::of(b"seed-return"),
        )
        .await
        .unwrap();
    assert_eq!(exchanged, Some(session.id));
    use clavis_core::identity::uses::SecretUses;
    let uses = store
        .list_uses(identity.id, CredentialKind::LookupSecret, "seedgen:")
        .await
        .unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0].key, "seedgen:3");
    let again = store
        .record_use(
            identity.id,
            CredentialKind::LookupSecret,
            "seedgen:3",
            uses[0].used_at,
        )
        .await
        .unwrap();
    assert!(!again, "a use recorded before the upgrade still counts");
    use clavis_core::device::{DeviceAuthorizationStore, DeviceState};
    use clavis_core::grant::GrantStore;
    let flow = store
        .find_device_authorization_by_poll(&TokenDigest::of(b"seed-poll"))
        .await
        .unwrap()
        .expect("seeded device authorization");
    assert_eq!(flow.state, DeviceState::Approved);
    assert_eq!(flow.identity_id, Some(identity.id));
    assert_eq!(flow.approved_aal, Some(clavis_types::session::Aal::Aal2));
    assert!(store.consume_device_authorization(flow.id).await.unwrap());
    let grant = store
        .find_grant_by_secret(&TokenDigest::of(b"seed-app-password"))
        .await
        .unwrap()
        .expect("seeded grant");
    assert_eq!(grant.client_name, "seed client");
    assert_eq!(
        grant.aal,
        clavis_types::session::Aal::Aal1,
        "grants from before assurance levels were kept count as aal1"
    );
    assert_eq!(store.list_grants(identity.id).await.unwrap().len(), 1);
    use clavis_core::rate_limit::RateLimitStore;
    let window: chrono::DateTime<chrono::Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
    assert_eq!(
        store.hit("seed:192.0.2.9", window, window).await.unwrap(),
        4,
        "a window counted before the upgrade goes on counting"
    );
    use clavis_core::courier::MessageStore;
    let now: chrono::DateTime<chrono::Utc> = "2026-11-22T11:00:00Z".parse().unwrap();
    let claimed = store.claim_messages(10, now, now).await.unwrap();
    assert_eq!(claimed.len(), 1, "a queued seed message is claimed");
    assert_eq!(claimed[0].subject, "Seed subject");
    assert_eq!(claimed[0].send_count, 1);
    assert_eq!(
        claimed[0].dispatches[0].error.as_deref(),
        Some("relay down")
    );
}

use sea_orm::EntityTrait;

#[tokio::test]
async fn migrations_replay_seed_rows_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(&format!(
        "sqlite://{}/replay.sqlite?mode=rwc",
        dir.path().display()
    ))
    .await
    .unwrap();
    replay(&db, Engine::Sqlite).await;
}

#[tokio::test]
async fn migrations_replay_seed_rows_on_postgres() {
    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        eprintln!("{POSTGRES_ENV} is not set; the PostgreSQL replay runs in CI");
        return;
    };
    let name = format!("clavis_replay_{}", Uuid::new_v4().simple());
    let admin = Database::connect(&base).await.unwrap();
    admin
        .connection
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    let db = Database::connect(url.as_str()).await.unwrap();
    replay(&db, Engine::Postgres).await;
    db.connection.close_by_ref().await.ok();
    admin
        .connection
        .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
}

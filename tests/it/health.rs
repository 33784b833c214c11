//! Health, version, the body limit, uncacheable GETs, request ids, unknown paths, CORS.

use clavis_testkit::{Engine, TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    health_both_listeners_ready_and_alive,
    health_ready_pending_migrations_answers_503,
    version_both_listeners_reports_crate_version,
    get_answers_are_never_cacheable,
    request_id_is_echoed_or_generated,
    unknown_path_answers_404_envelope,
    body_over_limit_answers_413_envelope,
);

async fn health_both_listeners_ready_and_alive(srv: TestServer) {
    for base in [srv.url("/"), srv.admin_url("/")] {
        for path in ["health/alive", "health/ready"] {
            let response = srv
                .http()
                .get(base.join(path).unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{base}{path}");
            assert_eq!(
                response.json::<Value>().await.unwrap(),
                json!({"status": "ok"})
            );
        }
    }
    let admin_prefixed = srv
        .http()
        .get(srv.admin_url("/admin/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin_prefixed.status(), StatusCode::OK);
    srv.stop().await;
}

async fn health_ready_pending_migrations_answers_503(srv: TestServer) {
    // Set-up under HTTP: forget the applied migrations, as if Clavis had been pointed at a
    // database nobody migrated.
    srv.database.execute("DROP TABLE seaql_migrations").await;
    let response = srv
        .http()
        .get(srv.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"]["migrations"]
            .as_str()
            .unwrap()
            .contains("pending"),
        "{body}"
    );
    let alive = srv
        .http()
        .get(srv.url("/health/alive"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        alive.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
    srv.stop().await;
}

async fn version_both_listeners_reports_crate_version(srv: TestServer) {
    for url in [srv.url("/version"), srv.admin_url("/version")] {
        let body: Value = srv
            .http()
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body, json!({"version": env!("CARGO_PKG_VERSION")}));
    }
    srv.stop().await;
}

async fn get_answers_are_never_cacheable(srv: TestServer) {
    for url in [
        srv.url("/health/alive"),
        srv.url("/sessions/whoami"),
        srv.url("/schemas"),
        srv.admin_url("/version"),
    ] {
        let response = srv.http().get(url.clone()).send().await.unwrap();
        assert_eq!(
            response.headers()["cache-control"],
            "private, no-cache, no-store, must-revalidate",
            "{url}"
        );
    }
    let post = srv
        .http()
        .post(srv.url("/sessions/whoami"))
        .send()
        .await
        .unwrap();
    assert!(
        post.headers().get("cache-control").is_none(),
        "only GET answers are marked"
    );
    srv.stop().await;
}

async fn request_id_is_echoed_or_generated(srv: TestServer) {
    let echoed = srv
        .http()
        .get(srv.url("/health/alive"))
        .header("X-Request-Id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-123");
    let generated = srv
        .http()
        .get(srv.url("/health/alive"))
        .send()
        .await
        .unwrap();
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let hostile = srv
        .http()
        .get(srv.url("/health/alive"))
        .header("X-Request-Id", "a b")
        .send()
        .await
        .unwrap();
    assert_ne!(hostile.headers()["x-request-id"], "a b");
    srv.stop().await;
}

async fn unknown_path_answers_404_envelope(srv: TestServer) {
    for url in [srv.url("/no/such/path"), srv.admin_url("/no/such/path")] {
        let response = srv
            .http()
            .get(url)
            .bearer_auth(clavis_testkit::TEST_ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], 404);
        assert_eq!(body["error"]["status"], "Not Found");
        assert!(body["error"]["message"].is_string());
    }
    srv.stop().await;
}

async fn body_over_limit_answers_413_envelope(srv: TestServer) {
    let body = vec![b'a'; 5 * 1024 * 1024 + 1];
    let response = srv
        .http()
        .post(srv.url("/sessions/whoami"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let envelope: Value = response.json().await.unwrap();
    assert_eq!(envelope["error"]["code"], 413);
    let at_limit = srv
        .http()
        .post(srv.url("/sessions/whoami"))
        .body(vec![b'a'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(
        at_limit.status(),
        StatusCode::UNAUTHORIZED,
        "small bodies pass the limit"
    );
    srv.stop().await;
}

#[tokio::test]
async fn cors_enabled_allows_configured_origin_only() {
    let srv = TestServer::start_with(Engine::Sqlite, |config| {
        config.serve.public.cors.enabled = true;
        config.serve.public.cors.allowed_origins = vec!["https://app.example.org".to_owned()];
    })
    .await
    .unwrap()
    .unwrap();
    let preflight = |origin: &'static str| {
        srv.http()
            .request(reqwest::Method::OPTIONS, srv.url("/sessions/whoami"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "x-session-token")
            .send()
    };
    let allowed = preflight("https://app.example.org").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    srv.stop().await;
}

#[tokio::test]
async fn cors_disabled_adds_no_headers() {
    let srv = TestServer::start(Engine::Sqlite).await.unwrap();
    let response = srv
        .http()
        .get(srv.url("/health/alive"))
        .header("Origin", "https://app.example.org")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    srv.stop().await;
}

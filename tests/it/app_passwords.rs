//! App passwords: the per-client credential a Login Flow v2 approval yields. It authenticates
//! as HTTP Basic (login name and app password), bearer token or `X-Session-Token`; its owner
//! lists, renames and revokes it (API and account page); a revoked one stops working at once; a
//! new password revokes them; starting and polling logins is rate-limited per address.

use crate::device_approval::{approve_as, init, poll};
use crate::settings::{login, settings_flow, token_of, update};
use crate::ui::{PASSWORD, attribute, open};
use base64::Engine as _;
use chrono::TimeDelta;
use clavis_testkit::{Engine, TestServer, db_tests, engine_tests};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};

db_tests!(
    app_password_authenticates_as_basic_bearer_and_session_token,
    app_passwords_are_listed_renamed_and_revoked_at_once,
    app_passwords_are_revoked_by_a_new_password,
    app_passwords_show_and_revoke_on_the_account_page,
);

engine_tests!(
    app_passwords_survive_a_new_password_when_configured,
    login_flow_v2_init_and_poll_are_rate_limited_per_address,
);

/// `Basic <base64 of login:password>`.
pub fn basic(login: &str, password: &str) -> String {
    let pair = format!("{login}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn status_and_body(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn whoami(srv: &TestServer, header: (&str, &str)) -> (StatusCode, Value) {
    status_and_body(
        srv.http()
            .get(srv.url("/sessions/whoami"))
            .header(header.0, header.1),
    )
    .await
}

fn app_password(credentials: &Value) -> String {
    credentials["appPassword"].as_str().unwrap().to_owned()
}

async fn app_password_authenticates_as_basic_bearer_and_session_token(srv: TestServer) {
    let flow = init(&srv, "Nextcloud Desktop").await;
    let credentials = approve_as(&srv, &flow, "basic@example.org").await;
    let secret = app_password(&credentials);
    let login_name = credentials["loginName"].as_str().unwrap();
    let basic_header = basic(login_name, &secret);
    let bearer_header = format!("Bearer {secret}");
    for header in [
        ("Authorization", basic_header.as_str()),
        ("Authorization", bearer_header.as_str()),
        ("X-Session-Token", secret.as_str()),
    ] {
        let (status, session) = whoami(&srv, header).await;
        assert_eq!(status, StatusCode::OK, "{header:?}: {session}");
        assert_eq!(session["identity"]["traits"]["email"], "basic@example.org");
        assert_eq!(session["client"]["name"], "Nextcloud Desktop");
        assert_eq!(session["client"]["kind"], "app_password");
        assert_eq!(
            session["authentication_methods"][0]["method"],
            "app_password"
        );
    }
    let upper = basic("BASIC@example.org", &secret);
    assert_eq!(
        whoami(&srv, ("Authorization", &upper)).await.0,
        StatusCode::OK,
        "login names compare without case"
    );
    let other_name = basic("mallory@example.org", &secret);
    let real_password = basic(login_name, PASSWORD);
    let unknown = basic(login_name, &"A".repeat(72));
    let garbage = "Basic !!!".to_owned();
    for header in [&other_name, &real_password, &unknown, &garbage] {
        let (status, body) = whoami(&srv, ("Authorization", header)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}: {body}");
        assert_eq!(body["error"]["id"], "session_inactive");
    }
    assert_eq!(
        whoami(&srv, ("Authorization", "Basic Og==")).await.0,
        StatusCode::UNAUTHORIZED,
        "empty Basic credentials are no credentials"
    );
}

async fn app_passwords_are_listed_renamed_and_revoked_at_once(srv: TestServer) {
    let first = approve_as(&srv, &init(&srv, "Laptop").await, "owner@example.org").await;
    let first = app_password(&first);
    // A second app for the same account, approved in a fresh browser.
    let browser = srv.browser();
    let flow = init(&srv, "Phone").await;
    let (_, _, login_page) = open(&browser, flow["login"].as_str().unwrap()).await;
    let (_, _, page) = crate::ui::submit(
        &browser,
        &login_page,
        "password",
        &[
            ("identifier", "owner@example.org"),
            ("password", PASSWORD),
            ("method", "password"),
        ],
    )
    .await;
    crate::device_approval::decide(&browser, &page, "approve").await;
    let second = app_password(&poll(&srv, &flow).await.1);

    let bearer = |secret: &str| format!("Bearer {secret}");
    let (status, apps) = status_and_body(
        srv.http()
            .get(srv.url("/sessions/apps"))
            .header("Authorization", bearer(&first))
            .header("User-Agent", "sync-client/3.1"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{apps}");
    let apps = apps.as_array().unwrap().clone();
    assert_eq!(apps.len(), 2);
    let laptop = apps.iter().find(|a| a["name"] == "Laptop").unwrap();
    assert_eq!(laptop["current"], true);
    assert_eq!(laptop["user_agent"], "sync-client/3.1", "the use is noted");
    assert_eq!(laptop["last_ip"], "127.0.0.1");
    assert!(laptop["last_used_at"].is_string());
    assert!(laptop.get("secret_digest").is_none());
    let phone = apps.iter().find(|a| a["name"] == "Phone").unwrap();
    assert_eq!(phone["current"], false);
    let phone_id = phone["id"].as_str().unwrap();

    let (status, renamed) = status_and_body(
        srv.http()
            .patch(srv.url(&format!("/sessions/apps/{phone_id}")))
            .header("Authorization", bearer(&first))
            .json(&json!({"name": "  Ada's phone "})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "Ada's phone");

    // Another identity cannot touch them.
    let stranger = token_of(&crate::native::register(&srv, "x@example.org", PASSWORD).await);
    let response = srv
        .http()
        .delete(srv.url(&format!("/sessions/apps/{phone_id}")))
        .header("X-Session-Token", &stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &second)).await.0,
        StatusCode::OK
    );

    let response = srv
        .http()
        .delete(srv.url(&format!("/sessions/apps/{phone_id}")))
        .header("Authorization", bearer(&first))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &second)).await.0,
        StatusCode::UNAUTHORIZED,
        "revoked at once"
    );
    let response = srv
        .http()
        .delete(srv.url("/sessions/apps/not-a-uuid"))
        .header("Authorization", bearer(&first))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Revoking "all others" keeps the one the request is made with.
    let third = approve_as(&srv, &init(&srv, "Tablet").await, "third@example.org").await;
    let (status, count) = status_and_body(
        srv.http()
            .delete(srv.url("/sessions/apps"))
            .header("Authorization", bearer(&first)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        count,
        json!({"count": 0}),
        "nothing else of this owner is left"
    );
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &first)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &app_password(&third)))
            .await
            .0,
        StatusCode::OK,
        "another owner's app is untouched"
    );
}

/// An app password and a native session for one new identity.
async fn app_and_session(srv: &TestServer, email: &str) -> (String, String) {
    let credentials = approve_as(srv, &init(srv, "Desktop").await, email).await;
    let (status, answer) = login(srv, email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (app_password(&credentials), token_of(&answer))
}

async fn change_password(srv: &TestServer, token: &str) {
    let flow = settings_flow(srv, token).await;
    let (status, answer) = update(
        srv,
        &flow,
        token,
        &json!({"method": "password", "password": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn app_passwords_are_revoked_by_a_new_password(srv: TestServer) {
    let (app, session) = app_and_session(&srv, "rotate@example.org").await;
    let flow = settings_flow(&srv, &session).await;
    // A profile change leaves app passwords alone.
    let (status, answer) = update(
        &srv,
        &flow,
        &session,
        &json!({"method": "profile", "traits": {"email": "rotate@example.org"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &app)).await.0,
        StatusCode::OK
    );
    change_password(&srv, &session).await;
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &app)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn app_passwords_survive_a_new_password_when_configured(engine: Engine) {
    let Some(srv) = TestServer::start_with(engine, |config| {
        config.native_apps.revoke_app_passwords_on_password_change = false;
    })
    .await
    else {
        return;
    };
    let srv = srv.unwrap();
    let (app, session) = app_and_session(&srv, "keep@example.org").await;
    change_password(&srv, &session).await;
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &app)).await.0,
        StatusCode::OK
    );
    srv.stop().await;
}

async fn app_passwords_show_and_revoke_on_the_account_page(srv: TestServer) {
    let browser = srv.browser();
    crate::ui::register(&srv, &browser, "page@example.org").await;
    let flow = init(&srv, "Nextcloud Desktop").await;
    let (_, _, page) = open(&browser, flow["login"].as_str().unwrap()).await;
    crate::device_approval::decide(&browser, &page, "approve").await;
    let app = app_password(&poll(&srv, &flow).await.1);

    let (_, status, welcome) = open(&browser, srv.url("/ui/welcome").as_str()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(welcome.contains(r#"data-testid="app-name">Nextcloud Desktop<"#));
    let revoke = srv.url("/ui/welcome/apps/revoke");
    let grant = attribute(&welcome, "name=\"grant_id\"", "value");
    let response = browser
        .post(revoke.clone())
        .form(&[("grant_id", grant.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &app)).await.0,
        StatusCode::OK
    );
    let rename = srv.url("/ui/welcome/apps/rename");
    let csrf = attribute(&welcome, "name=\"csrf_token\"", "value");
    let response = browser
        .post(rename)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("grant_id", grant.as_str()),
            ("name", "Work laptop"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, _, welcome) = open(&browser, srv.url("/ui/welcome").as_str()).await;
    assert!(welcome.contains(r#"data-testid="app-name">Work laptop<"#));
    let response = browser
        .post(revoke)
        .form(&[("csrf_token", csrf.as_str()), ("grant_id", "all")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        whoami(&srv, ("X-Session-Token", &app)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, _, welcome) = open(&browser, srv.url("/ui/welcome").as_str()).await;
    assert!(welcome.contains(r#"data-testid="apps-none""#));
}

async fn login_flow_v2_init_and_poll_are_rate_limited_per_address(engine: Engine) {
    let Some(srv) = TestServer::start_with(engine, |config| {
        config.native_apps.rate_limits.init_per_minute = 2;
        config.native_apps.rate_limits.poll_per_minute = 3;
    })
    .await
    else {
        return;
    };
    let srv = srv.unwrap();
    let flow = init(&srv, "Desktop").await;
    init(&srv, "Desktop").await;
    let response = srv.http().post(srv.url("/login/v2")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    for _ in 0..3 {
        assert_eq!(poll(&srv, &flow).await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(poll(&srv, &flow).await.0, StatusCode::TOO_MANY_REQUESTS);
    srv.clock.advance(TimeDelta::minutes(1));
    assert_eq!(poll(&srv, &flow).await.0, StatusCode::NOT_FOUND);
    init(&srv, "Desktop").await;

    // Trading a password for an app password counts too: no free password guessing.
    let guess = basic("someone@example.org", "guess");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = srv
            .http()
            .get(srv.url("/ocs/v2.php/core/getapppassword"))
            .header("Authorization", &guess)
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    srv.stop().await;
}

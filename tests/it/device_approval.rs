//! The device-approval page behind Login Flow v2's `login` URL, driven as a browser without
//! JavaScript drives it: sign-in first when there is no session, the facts a phished person
//! needs (unverified name, request address, who is signed in), Approve and Deny with the CSRF
//! token, recent authentication, and the browser session that exists only for the approval.

use crate::browser::whoami_status;
use crate::ui::{PASSWORD, attribute, open, register, submit};
use chrono::TimeDelta;
use clavis_testkit::{TestServer, db_tests};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

db_tests!(
    device_approval_without_session_signs_in_approves_and_ends_that_session,
    device_approval_keeps_an_existing_session_and_deny_closes_the_flow,
    device_approval_needs_authentication_within_thirty_minutes,
    device_approval_refuses_missing_or_wrong_csrf_and_unknown_decisions,
    device_approval_flags_a_request_from_another_address,
    device_approval_unknown_expired_or_decided_tokens_answer_404,
);

/// Starts a flow as a desktop client named `client` would.
pub async fn init(srv: &TestServer, client: &str) -> Value {
    let response = srv
        .http()
        .post(srv.url("/index.php/login/v2"))
        .header("User-Agent", client)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Polls once: the status and body.
pub async fn poll(srv: &TestServer, flow: &Value) -> (StatusCode, Value) {
    let response = srv
        .http()
        .post(srv.url("/index.php/login/v2/poll"))
        .form(&[("token", flow["poll"]["token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Posts the approval page's decision form with `decision`.
pub async fn decide(browser: &Client, page: &str, decision: &str) -> (StatusCode, String) {
    let action = attribute(page, "data-testid=\"device-approve\"", "name");
    assert_eq!(action, "decision");
    let form_action = attribute(page, "method=\"post\" action=", "action");
    let csrf = attribute(page, "name=\"csrf_token\"", "value");
    let response = browser
        .post(&form_action)
        .form(&[("csrf_token", csrf.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// Signs in on the login page `page` (the page a redirect led to) and follows the redirects.
async fn sign_in(browser: &Client, page: &str, email: &str) -> (String, StatusCode, String) {
    submit(
        browser,
        page,
        "password",
        &[
            ("identifier", email),
            ("password", PASSWORD),
            ("method", "password"),
        ],
    )
    .await
}

/// Approves `flow` for a new identity `email`, signing in on the page: the poll's answer.
pub async fn approve_as(srv: &TestServer, flow: &Value, email: &str) -> Value {
    let browser = srv.browser();
    register(srv, &browser, email).await;
    let (_, status, page) = open(&browser, flow["login"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, done) = decide(&browser, &page, "approve").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (status, credentials) = poll(srv, flow).await;
    assert_eq!(status, StatusCode::OK, "{credentials}");
    credentials
}

async fn device_approval_without_session_signs_in_approves_and_ends_that_session(srv: TestServer) {
    crate::native::register(&srv, "desk@example.org", PASSWORD).await;
    let flow = init(&srv, "Nextcloud Desktop (Linux)").await;
    let browser = srv.browser();
    let (url, status, login_page) = open(&browser, flow["login"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(url.contains("/ui/login?flow="), "sent to sign in: {url}");
    let (url, status, page) = sign_in(&browser, &login_page, "desk@example.org").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(url, flow["login"].as_str().unwrap(), "back on the page");
    assert!(page.contains("Nextcloud Desktop (Linux)"));
    assert!(page.contains(r#"data-testid="device-unverified""#));
    assert!(page.contains(r#"data-testid="device-ip-same""#));
    assert!(page.contains("desk@example.org"));
    assert!(page.contains(r#"data-testid="device-warning""#));
    assert_eq!(poll(&srv, &flow).await.0, StatusCode::NOT_FOUND);

    let (status, done) = decide(&browser, &page, "approve").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains(r#"data-testid="device-approved""#));
    assert_eq!(
        whoami_status(&srv, &browser).await,
        StatusCode::UNAUTHORIZED,
        "the session made only to approve ends with the approval"
    );
    let (status, credentials) = poll(&srv, &flow).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(credentials["loginName"], "desk@example.org");
    assert_eq!(poll(&srv, &flow).await, (StatusCode::NOT_FOUND, json!([])));
}

async fn device_approval_keeps_an_existing_session_and_deny_closes_the_flow(srv: TestServer) {
    let browser = srv.browser();
    register(&srv, &browser, "kept@example.org").await;
    let approved = init(&srv, "Phone").await;
    let (url, status, page) = open(&browser, approved["login"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(url, approved["login"].as_str().unwrap(), "no detour");
    let (status, _) = decide(&browser, &page, "approve").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        whoami_status(&srv, &browser).await,
        StatusCode::OK,
        "a session that existed before stays"
    );

    let denied = init(&srv, "Phisher's script").await;
    let (_, _, page) = open(&browser, denied["login"].as_str().unwrap()).await;
    let (status, done) = decide(&browser, &page, "deny").await;
    assert_eq!(status, StatusCode::OK);
    assert!(done.contains(r#"data-testid="device-denied""#));
    srv.clock.advance(TimeDelta::minutes(5));
    assert_eq!(
        poll(&srv, &denied).await,
        (StatusCode::NOT_FOUND, json!([]))
    );
    assert_eq!(whoami_status(&srv, &browser).await, StatusCode::OK);
}

async fn device_approval_needs_authentication_within_thirty_minutes(srv: TestServer) {
    let browser = srv.browser();
    register(&srv, &browser, "stale@example.org").await;
    srv.clock.advance(TimeDelta::minutes(29));
    let flow = init(&srv, "Desktop").await;
    let (_, status, page) = open(&browser, flow["login"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "signed in 29 minutes ago: {page}");
    srv.clock.advance(TimeDelta::minutes(2));

    // The page opened before is posted too late: sign in again first.
    let (status, _) = decide(&browser, &page, "approve").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(poll(&srv, &flow).await.0, StatusCode::NOT_FOUND);
    let response = browser
        .get(flow["login"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("refresh=true"), "{location}");

    let (url, _, login_page) = open(&browser, &location).await;
    assert!(url.contains("/ui/login"), "{url}");
    let (url, status, page) = sign_in(&browser, &login_page, "stale@example.org").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(url, flow["login"].as_str().unwrap());
    let (status, _) = decide(&browser, &page, "approve").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(poll(&srv, &flow).await.0, StatusCode::OK);
    assert_eq!(
        whoami_status(&srv, &browser).await,
        StatusCode::OK,
        "signing in again keeps the session the browser had"
    );
}

async fn device_approval_refuses_missing_or_wrong_csrf_and_unknown_decisions(srv: TestServer) {
    let browser = srv.browser();
    register(&srv, &browser, "csrf@example.org").await;
    let flow = init(&srv, "Desktop").await;
    let (_, _, page) = open(&browser, flow["login"].as_str().unwrap()).await;
    let action = flow["login"].as_str().unwrap();
    let csrf = attribute(&page, "name=\"csrf_token\"", "value");
    for body in [
        vec![("decision", "approve")],
        vec![("csrf_token", "forged"), ("decision", "approve")],
    ] {
        let response = browser.post(action).form(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let html = response.text().await.unwrap();
        assert!(html.contains("security_csrf_violation"), "{html}");
    }
    let response = browser
        .post(action)
        .form(&[("csrf_token", csrf.as_str()), ("decision", "maybe")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = browser
        .post(action)
        .header("Content-Type", "application/json")
        .body("{garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(poll(&srv, &flow).await.0, StatusCode::NOT_FOUND);
    // Nothing was lost: the real form still works.
    let (status, _) = decide(&browser, &page, "approve").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(poll(&srv, &flow).await.0, StatusCode::OK);
}

async fn device_approval_flags_a_request_from_another_address(srv: TestServer) {
    let browser = srv.browser();
    register(&srv, &browser, "victim@example.org").await;
    let started = srv
        .services()
        .devices
        .start(
            clavis_testkit::FrontEnd::NextcloudLoginFlowV2,
            "Nextcloud Desktop",
            Some("203.0.113.9".to_owned()),
        )
        .await
        .unwrap();
    let url = srv.url(&format!(
        "/index.php/login/v2/flow/{}",
        started.login_token.expose()
    ));
    let (_, status, page) = open(&browser, url.as_str()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"data-testid="device-ip-differs""#),
        "{page}"
    );
    assert!(page.contains("203.0.113.9"));
    assert!(!page.contains("device-ip-same"));
}

async fn device_approval_unknown_expired_or_decided_tokens_answer_404(srv: TestServer) {
    let browser = srv.browser();
    register(&srv, &browser, "late@example.org").await;
    let unknown = srv.url(&format!("/login/v2/flow/{}", "x".repeat(128)));
    let (_, status, page) = open(&browser, unknown.as_str()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Start the login from the app again"));

    let flow = init(&srv, "Desktop").await;
    let (_, _, page) = open(&browser, flow["login"].as_str().unwrap()).await;
    let (status, _) = decide(&browser, &page, "approve").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = decide(&browser, &page, "deny").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "decided once");
    assert_eq!(poll(&srv, &flow).await.0, StatusCode::OK, "still approved");

    // Two decisions racing from two tabs: one wins, the other finds the request answered.
    let raced = init(&srv, "Desktop").await;
    let (_, _, page) = open(&browser, raced["login"].as_str().unwrap()).await;
    let (approve, deny) = tokio::join!(
        decide(&browser, &page, "approve"),
        decide(&browser, &page, "deny")
    );
    let mut statuses = [approve.0, deny.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::NOT_FOUND]);
    let collected = poll(&srv, &raced).await.0;
    if approve.0 == StatusCode::OK {
        assert_eq!(collected, StatusCode::OK);
    } else {
        assert_eq!(collected, StatusCode::NOT_FOUND);
    }

    let expired = init(&srv, "Desktop").await;
    srv.clock.advance(TimeDelta::minutes(20));
    let (_, status, _) = open(&browser, expired["login"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

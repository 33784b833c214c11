//! Nextcloud's Login Flow v2 on the wire: init and poll under both path spellings, `404 []`
//! for everything but the one collection after approval, expiry, denial, racing polls. The
//! decisions are made on the approval page, which has its own tests.

use chrono::TimeDelta;
use clavis_testkit::{BearerToken, TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    login_flow_v2_init_answers_tokens_and_urls_like_nextcloud,
    login_flow_v2_poll_is_404_until_approved_then_200_exactly_once,
    login_flow_v2_concurrent_polls_after_approval_yield_one_200,
    login_flow_v2_denied_or_expired_flows_never_yield_credentials,
    login_flow_v2_unknown_malformed_and_garbage_polls_answer_404_empty_list,
);

async fn init(srv: &TestServer, path: &str) -> Value {
    let response = srv
        .http()
        .post(srv.url(path))
        .header("User-Agent", "Nextcloud Desktop (test)")
        .header("OCS-APIRequest", "true")
        .header("Authorization", "Basic Og==")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn poll(srv: &TestServer, path: &str, token: &str) -> (StatusCode, Value) {
    let response = srv
        .http()
        .post(srv.url(path))
        .header("OCS-APIRequest", "true")
        .header("Authorization", "Basic Og==")
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn login_token(flow: &Value) -> String {
    flow["login"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// Approves the flow on its page as a new identity `email`, or denies it (as another new
/// identity) when `email` is `None`.
async fn decide(srv: &TestServer, flow: &Value, email: Option<&str>) {
    let browser = srv.browser();
    let (who, decision) = match email {
        Some(email) => (email.to_owned(), "approve"),
        None => (
            format!("deny-{}@example.org", &login_token(flow)[..8]),
            "deny",
        ),
    };
    crate::ui::register(srv, &browser, &who).await;
    let (_, status, page) = crate::ui::open(&browser, flow["login"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, done) = crate::device_approval::decide(&browser, &page, decision).await;
    assert_eq!(status, StatusCode::OK, "{done}");
}

async fn login_flow_v2_init_answers_tokens_and_urls_like_nextcloud(srv: TestServer) {
    for path in ["/index.php/login/v2", "/login/v2"] {
        let flow = init(&srv, path).await;
        let token = flow["poll"]["token"].as_str().unwrap();
        assert_eq!(token.len(), 128);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
        let base = srv.url("/").to_string();
        assert_eq!(
            flow["poll"]["endpoint"],
            format!("{base}index.php/login/v2/poll")
        );
        let login = flow["login"].as_str().unwrap();
        assert!(
            login.starts_with(&format!("{base}index.php/login/v2/flow/")),
            "{login}"
        );
        assert_eq!(login_token(&flow).len(), 128);
        assert_ne!(login_token(&flow), token);
    }
}

async fn login_flow_v2_poll_is_404_until_approved_then_200_exactly_once(srv: TestServer) {
    let flow = init(&srv, "/index.php/login/v2").await;
    let token = flow["poll"]["token"].as_str().unwrap();
    assert_eq!(
        poll(&srv, "/index.php/login/v2/poll", token).await,
        (StatusCode::NOT_FOUND, json!([]))
    );
    decide(&srv, &flow, Some("nc@example.org")).await;
    let (status, credentials) = poll(&srv, "/login/v2/poll", token).await;
    assert_eq!(status, StatusCode::OK, "{credentials}");
    assert_eq!(credentials["loginName"], "nc@example.org");
    assert_eq!(
        credentials["server"],
        srv.url("/").to_string().trim_end_matches('/')
    );
    let password = credentials["appPassword"].as_str().unwrap();
    assert_eq!(password.len(), 72);
    assert_eq!(credentials.as_object().unwrap().len(), 3);
    assert_eq!(
        poll(&srv, "/index.php/login/v2/poll", token).await,
        (StatusCode::NOT_FOUND, json!([]))
    );
    let grant = srv
        .services()
        .grants
        .authenticate(&BearerToken::new(password))
        .await
        .unwrap();
    assert_eq!(grant.client_name, "Nextcloud Desktop (test)");
}

async fn login_flow_v2_concurrent_polls_after_approval_yield_one_200(srv: TestServer) {
    let flow = init(&srv, "/index.php/login/v2").await;
    let token = flow["poll"]["token"].as_str().unwrap();
    decide(&srv, &flow, Some("race@example.org")).await;
    let (a, b) = tokio::join!(
        poll(&srv, "/index.php/login/v2/poll", token),
        poll(&srv, "/index.php/login/v2/poll", token)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::NOT_FOUND]);
}

async fn login_flow_v2_denied_or_expired_flows_never_yield_credentials(srv: TestServer) {
    let denied = init(&srv, "/index.php/login/v2").await;
    decide(&srv, &denied, None).await;
    let token = denied["poll"]["token"].as_str().unwrap();
    assert_eq!(
        poll(&srv, "/index.php/login/v2/poll", token).await.0,
        StatusCode::NOT_FOUND
    );

    let late = init(&srv, "/index.php/login/v2").await;
    decide(&srv, &late, Some("late@example.org")).await;
    srv.clock.advance(TimeDelta::minutes(20));
    let token = late["poll"]["token"].as_str().unwrap();
    assert_eq!(
        poll(&srv, "/index.php/login/v2/poll", token).await,
        (StatusCode::NOT_FOUND, json!([]))
    );
}

async fn login_flow_v2_unknown_malformed_and_garbage_polls_answer_404_empty_list(srv: TestServer) {
    let unknown = "a".repeat(128);
    for token in ["", "short", unknown.as_str()] {
        assert_eq!(
            poll(&srv, "/index.php/login/v2/poll", token).await,
            (StatusCode::NOT_FOUND, json!([]))
        );
    }
    let flow = init(&srv, "/login/v2").await;
    decide(&srv, &flow, Some("json@example.org")).await;
    let response = srv
        .http()
        .post(srv.url("/index.php/login/v2/poll"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));
    let response = srv
        .http()
        .post(srv.url("/index.php/login/v2/poll"))
        .json(&json!({"token": flow["poll"]["token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "a JSON token works too");
}

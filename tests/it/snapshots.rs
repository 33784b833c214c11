//! The JSON of every flow kind, pinned with insta snapshots (`tests/it/snapshots/`), with
//! volatile values (ids, times, ports, tokens) replaced by placeholders. A change to the wire
//! format shows up as a snapshot diff to review (`cargo insta review`).

use crate::native::{create_flow, node, register, submit};
use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

db_tests!(flow_json_matches_the_snapshots);

/// Replaces what differs between runs: the server's address, ids, times, tokens.
fn stable(srv: &TestServer, value: &Value) -> Value {
    let base = srv.url("/").to_string();
    let text = value.to_string().replace(&base, "http://clavis.test/");
    let mut value: Value = serde_json::from_str(&text).unwrap();
    scrub(&mut value);
    value
}

const VOLATILE: &[&str] = &[
    "id",
    "expires_at",
    "issued_at",
    "created_at",
    "updated_at",
    "authenticated_at",
    "completed_at",
    "state_changed_at",
    "session_token",
    "logout_token",
    "ory_session_token",
    "src",
    "secret",
];

/// Messages whose text is a generated secret (the TOTP seed).
const SECRET_TEXTS: &[u64] = &[1050006];

fn scrub(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if VOLATILE.contains(&key.as_str()) && (inner.is_string()) {
                    *inner = Value::String(format!("[{key}]"));
                } else {
                    scrub(inner);
                }
            }
            if map
                .get("id")
                .and_then(Value::as_u64)
                .is_some_and(|id| SECRET_TEXTS.contains(&id))
            {
                map.insert("text".to_owned(), Value::String("[secret]".to_owned()));
            }
            scrub_csrf(map);
            for key in ["action", "request_url", "logout_url", "schema_url"] {
                if let Some(Value::String(url)) = map.get_mut(key) {
                    *url = flow_param_scrubbed(url);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

/// The CSRF node's value is a random token.
fn scrub_csrf(map: &mut Map<String, Value>) {
    let is_csrf = map
        .get("name")
        .is_some_and(|n| n == "csrf_token" && map.contains_key("value"));
    if is_csrf {
        map.insert("value".to_owned(), json!("[csrf_token]"));
    }
}

fn flow_param_scrubbed(url: &str) -> String {
    match url.split_once("flow=") {
        Some((head, _)) => format!("{head}flow=[id]"),
        None => match url.split_once("token=") {
            Some((head, _)) => format!("{head}token=[logout_token]"),
            None => url.to_owned(),
        },
    }
}

async fn flow_json_matches_the_snapshots(srv: TestServer) {
    let login = create_flow(&srv, "login").await;
    insta::assert_json_snapshot!("login_api_flow", stable(&srv, &login));

    let registration = create_flow(&srv, "registration").await;
    insta::assert_json_snapshot!("registration_api_flow", stable(&srv, &registration));

    let (status, refused) = submit(
        &srv,
        &registration,
        &json!({"method": "password", "password": "short", "traits": {"email": "snap@example.org"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("registration_api_refused", stable(&srv, &refused));

    let registered = register(&srv, "snap@example.org", "correct horse battery").await;
    insta::assert_json_snapshot!("registration_api_success", stable(&srv, &registered));
    let token = registered["session_token"].as_str().unwrap();

    let (status, wrong) = submit(
        &srv,
        &login,
        &json!({"method": "password", "identifier": "snap@example.org", "password": "not it at all"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("login_api_refused", stable(&srv, &wrong));

    let settings: Value = srv
        .http()
        .get(srv.url("/self-service/settings/api"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("settings_api_flow", stable(&srv, &settings));

    let recovery = create_flow(&srv, "recovery").await;
    insta::assert_json_snapshot!("recovery_api_flow", stable(&srv, &recovery));
    let (status, sent) = submit(
        &srv,
        &recovery,
        &json!({"method": "code", "email": "snap@example.org"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("recovery_api_sent", stable(&srv, &sent));

    let verification = create_flow(&srv, "verification").await;
    insta::assert_json_snapshot!("verification_api_flow", stable(&srv, &verification));

    let browser = srv.browser();
    let login_browser: Value = browser
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(node(&login_browser, "csrf_token").is_object());
    insta::assert_json_snapshot!("login_browser_flow", stable(&srv, &login_browser));

    let error = srv
        .http()
        .get(srv.url("/self-service/login/api?aal=aal2"))
        .send()
        .await
        .unwrap();
    let error: Value = error.json().await.unwrap();
    insta::assert_json_snapshot!("error_session_aal1_required", stable(&srv, &error));
    srv.stop().await;
}

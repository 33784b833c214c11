//! Backup codes (lookup secrets): generate, confirm, reveal, regenerate and disable in settings;
//! single use at aal2 login, even for two requests racing with one code.

use crate::mfa::{PASSWORD, password_login, step_up, step_up_flow};
use crate::native::{node, node_message_ids, register, whoami};
use crate::settings::{settings_flow, update};
use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    lookup_api_codes_are_shown_once_and_confirm_makes_session_aal2,
    lookup_code_logs_in_once_then_answers_4000012,
    lookup_wrong_code_answers_4000016_and_missing_codes_4000014,
    lookup_reveal_shows_use_times_and_never_the_codes,
    lookup_concurrent_submits_of_one_code_exactly_one_wins,
    lookup_regenerate_invalidates_old_codes_and_disable_removes_them,
);

/// The entries of the `lookup_secret_codes` node: (message id, text).
fn code_entries(flow: &Value) -> Vec<(u64, String)> {
    let list = flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["id"] == "lookup_secret_codes")
        .unwrap_or_else(|| panic!("no lookup_secret_codes in {flow}"));
    assert_eq!(list["attributes"]["text"]["id"], 1050015);
    list["attributes"]["text"]["context"]["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_u64().unwrap(),
                m["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Registers `email`, generates and confirms backup codes; returns the token and the codes.
async fn with_codes(srv: &TestServer, email: &str) -> (String, Vec<String>) {
    let registered = register(srv, email, PASSWORD).await;
    let token = registered["session_token"].as_str().unwrap().to_owned();
    let codes = generate_and_confirm(srv, &token).await;
    (token, codes)
}

async fn generate_and_confirm(srv: &TestServer, token: &str) -> Vec<String> {
    let flow = settings_flow(srv, token).await;
    let (status, shown) = update(
        srv,
        &flow,
        token,
        &json!({"method": "lookup_secret", "lookup_secret_regenerate": true}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the flow goes on: {shown}");
    let codes: Vec<String> = code_entries(&shown)
        .into_iter()
        .map(|(id, text)| {
            assert_eq!(id, 1050009);
            text
        })
        .collect();
    assert_eq!(codes.len(), 12);
    assert_eq!(
        node(&shown, "lookup_secret_confirm")["attributes"]["value"],
        "true"
    );
    let (status, saved) = update(
        srv,
        &shown,
        token,
        &json!({"method": "lookup_secret", "lookup_secret_confirm": "true"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    codes
}

async fn lookup_api_codes_are_shown_once_and_confirm_makes_session_aal2(srv: TestServer) {
    let (token, codes) = with_codes(&srv, "codes@example.org").await;
    let (status, session) = whoami(&srv, &token).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["authenticator_assurance_level"], "aal2");
    let flow = settings_flow(&srv, &token).await;
    for name in [
        "lookup_secret_reveal",
        "lookup_secret_regenerate",
        "lookup_secret_disable",
    ] {
        assert_eq!(node(&flow, name)["attributes"]["type"], "submit");
    }
    let text = flow.to_string();
    assert!(
        codes.iter().all(|c| !text.contains(c.as_str())),
        "codes are never shown again"
    );
}

async fn lookup_code_logs_in_once_then_answers_4000012(srv: TestServer) {
    let (_, codes) = with_codes(&srv, "once@example.org").await;
    let first = password_login(&srv, "once@example.org").await;
    let flow = step_up_flow(&srv, &first).await;
    assert_eq!(node(&flow, "lookup_secret")["attributes"]["required"], true);
    let typed = format!(" {} ", codes[3].to_uppercase());
    let (status, body) = step_up(
        &srv,
        &flow,
        &first,
        &json!({"method": "lookup_secret", "lookup_secret": typed}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["session"]["authenticator_assurance_level"], "aal2");
    let second = password_login(&srv, "once@example.org").await;
    let flow = step_up_flow(&srv, &second).await;
    let (status, body) = step_up(
        &srv,
        &flow,
        &second,
        &json!({"method": "lookup_secret", "lookup_secret": codes[3]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(node_message_ids(&body, "lookup_secret"), [4000012]);
    let (status, _) = step_up(
        &srv,
        &flow,
        &second,
        &json!({"method": "lookup_secret", "lookup_secret": codes[4]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "another code still works");
}

async fn lookup_wrong_code_answers_4000016_and_missing_codes_4000014(srv: TestServer) {
    with_codes(&srv, "wrongcode@example.org").await;
    let token = password_login(&srv, "wrongcode@example.org").await;
    let flow = step_up_flow(&srv, &token).await;
    let (status, body) = step_up(
        &srv,
        &flow,
        &token,
        &json!({"method": "lookup_secret", "lookup_secret": "zzzzzzzz"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(node_message_ids(&body, "lookup_secret"), [4000016]);

    let registered = register(&srv, "nocodes@example.org", PASSWORD).await;
    let plain = registered["session_token"].as_str().unwrap();
    let flow = settings_flow(&srv, plain).await;
    let (status, body) = update(
        &srv,
        &flow,
        plain,
        &json!({"method": "lookup_secret", "lookup_secret_reveal": true}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(crate::native::ui_message_ids(&body), [4000014]);
}

async fn lookup_reveal_shows_use_times_and_never_the_codes(srv: TestServer) {
    let (token, codes) = with_codes(&srv, "reveal@example.org").await;
    let other = password_login(&srv, "reveal@example.org").await;
    let flow = step_up_flow(&srv, &other).await;
    let (status, _) = step_up(
        &srv,
        &flow,
        &other,
        &json!({"method": "lookup_secret", "lookup_secret": codes[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let flow = settings_flow(&srv, &token).await;
    let (status, revealed) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "lookup_secret", "lookup_secret_reveal": true}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{revealed}");
    let entries = code_entries(&revealed);
    assert_eq!(entries.len(), 12);
    assert_eq!(entries[0].0, 1050014);
    assert!(
        entries[0].1.starts_with("Secret was used at "),
        "{:?}",
        entries[0]
    );
    assert!(
        entries[1..]
            .iter()
            .all(|(id, text)| *id == 1050009 && text == "unused")
    );
    let text = revealed.to_string();
    assert!(codes.iter().all(|c| !text.contains(c.as_str())));
}

async fn lookup_concurrent_submits_of_one_code_exactly_one_wins(srv: TestServer) {
    let (_, codes) = with_codes(&srv, "racecodes@example.org").await;
    let (a, b) = (
        password_login(&srv, "racecodes@example.org").await,
        password_login(&srv, "racecodes@example.org").await,
    );
    let (flow_a, flow_b) = (step_up_flow(&srv, &a).await, step_up_flow(&srv, &b).await);
    let body = json!({"method": "lookup_secret", "lookup_secret": codes[7]});
    let ((status_a, _), (status_b, _)) = tokio::join!(
        step_up(&srv, &flow_a, &a, &body),
        step_up(&srv, &flow_b, &b, &body)
    );
    let mut statuses = [status_a, status_b];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
}

async fn lookup_regenerate_invalidates_old_codes_and_disable_removes_them(srv: TestServer) {
    let (token, old) = with_codes(&srv, "regen@example.org").await;
    let new = generate_and_confirm(&srv, &token).await;
    let other = password_login(&srv, "regen@example.org").await;
    let flow = step_up_flow(&srv, &other).await;
    let (status, body) = step_up(
        &srv,
        &flow,
        &other,
        &json!({"method": "lookup_secret", "lookup_secret": old[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(node_message_ids(&body, "lookup_secret"), [4000016]);
    let (status, _) = step_up(
        &srv,
        &flow,
        &other,
        &json!({"method": "lookup_secret", "lookup_secret": new[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let flow = settings_flow(&srv, &token).await;
    let (status, body) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "lookup_secret", "lookup_secret_disable": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        node(&body, "lookup_secret_regenerate")["attributes"]["type"],
        "submit"
    );
    let fresh = password_login(&srv, "regen@example.org").await;
    let (status, _) = whoami(&srv, &fresh).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "without a second factor aal1 suffices"
    );
}

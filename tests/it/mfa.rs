//! Second factors with TOTP: enrolment in settings, aal2 step-up logins, replay and skew
//! rules, `required_aal` for whoami and settings, and the browser and single-page transports.
//! Codes are computed here from the secret the flow shows, by an RFC 6238 implementation of
//! the test's own.

use crate::native::{create_flow, node, node_message_ids, register, ui_message_ids, whoami};
use crate::settings::{settings_flow, update};
use chrono::TimeDelta;
use clavis_testkit::{TestServer, db_tests};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    totp_api_enrolment_with_valid_code_makes_session_aal2,
    totp_api_enrolment_with_wrong_code_answers_4000008_and_saves_nothing,
    totp_api_step_up_keeps_session_id_and_reaches_aal2,
    totp_code_used_once_is_refused_the_second_time,
    totp_accepts_one_step_of_skew_and_refuses_two,
    totp_concurrent_submits_of_one_code_exactly_one_wins,
    totp_unlink_removes_the_factor_and_aal1_suffices_again,
    totp_removed_by_an_operator_lets_aal1_sessions_through,
    totp_secret_is_sealed_at_rest,
    aal2_login_without_session_answers_401_session_aal1_required,
    whoami_and_settings_require_aal2_under_highest_available_only,
    totp_browser_login_goes_through_step_up_and_gets_aal2_cookie,
    totp_spa_login_answers_redirect_to_step_up,
);

pub(crate) const PASSWORD: &str = "correct horse battery";

/// RFC 4648 Base32 without padding.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let value = ALPHABET.iter().position(|&a| a == c).expect("base32") as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// RFC 6238 (HMAC-SHA1, 30 s, 6 digits) at `unix`.
pub(crate) fn totp(secret_base32: &str, unix: i64) -> String {
    let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&base32_decode(secret_base32))
        .expect("any key length");
    mac.update(&((unix / 30) as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

pub(crate) fn now(srv: &TestServer) -> i64 {
    use clavis_testkit::Clock;
    srv.clock.now().timestamp()
}

/// The secret a settings flow offers for enrolment.
pub(crate) fn offered_secret(flow: &Value) -> String {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["id"] == "totp_secret_key")
        .and_then(|n| n["attributes"]["text"]["context"]["secret"].as_str())
        .unwrap_or_else(|| panic!("no totp_secret_key in {flow}"))
        .to_owned()
}

/// Registers `email` and enrols TOTP through the API; returns the session token and secret.
pub(crate) async fn enrolled(srv: &TestServer, email: &str) -> (String, String) {
    let registered = register(srv, email, PASSWORD).await;
    let token = registered["session_token"].as_str().unwrap().to_owned();
    let flow = settings_flow(srv, &token).await;
    let secret = offered_secret(&flow);
    let code = totp(&secret, now(srv));
    let (status, body) = update(
        srv,
        &flow,
        &token,
        &json!({"method": "totp", "totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (token, secret)
}

/// A fresh aal1 session of `email` through the native password login.
pub(crate) async fn password_login(srv: &TestServer, email: &str) -> String {
    let flow = create_flow(srv, "login").await;
    let (status, body) = crate::native::submit(
        srv,
        &flow,
        &json!({"method": "password", "identifier": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["session"]["authenticator_assurance_level"], "aal1");
    body["session_token"].as_str().unwrap().to_owned()
}

/// An aal2 login flow for the holder of `token`.
pub(crate) async fn step_up_flow(srv: &TestServer, token: &str) -> Value {
    let response = srv
        .http()
        .get(srv.url("/self-service/login/api?aal=aal2"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Submits `body` to an aal2 flow with the caller's token.
pub(crate) async fn step_up(
    srv: &TestServer,
    flow: &Value,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let response = srv
        .http()
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("X-Session-Token", token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn methods(session: &Value) -> Vec<(String, String)> {
    session["authentication_methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["method"].as_str().unwrap().to_owned(),
                m["aal"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn totp_api_enrolment_with_valid_code_makes_session_aal2(srv: TestServer) {
    let (token, _) = enrolled(&srv, "enrol@example.org").await;
    let (status, session) = whoami(&srv, &token).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["authenticator_assurance_level"], "aal2");
    assert_eq!(
        methods(&session),
        [
            ("password".to_owned(), "aal1".to_owned()),
            ("totp".to_owned(), "aal2".to_owned())
        ]
    );
    let flow = settings_flow(&srv, &token).await;
    assert_eq!(node(&flow, "totp_unlink")["attributes"]["value"], "true");
    assert!(
        !flow.to_string().contains("totp_secret_key"),
        "an enrolled identity is not offered a new secret"
    );
}

async fn totp_api_enrolment_with_wrong_code_answers_4000008_and_saves_nothing(srv: TestServer) {
    let registered = register(&srv, "wrong@example.org", PASSWORD).await;
    let token = registered["session_token"].as_str().unwrap();
    let flow = settings_flow(&srv, token).await;
    let secret = offered_secret(&flow);
    let wrong = totp(&secret, now(&srv) - 300);
    let (status, body) = update(
        &srv,
        &flow,
        token,
        &json!({"method": "totp", "totp_code": wrong}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(node_message_ids(&body, "totp_code"), [4000008]);
    let (status, body) = update(
        &srv,
        &flow,
        token,
        &json!({"method": "totp", "totp_code": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(node_message_ids(&body, "totp_code"), [4000002]);
    let (_, session) = whoami(&srv, token).await;
    assert_eq!(session["authenticator_assurance_level"], "aal1");
    let fresh = settings_flow(&srv, token).await;
    assert_ne!(
        offered_secret(&fresh),
        secret,
        "every flow offers a new secret"
    );
}

async fn totp_api_step_up_keeps_session_id_and_reaches_aal2(srv: TestServer) {
    let (_, secret) = enrolled(&srv, "stepup@example.org").await;
    srv.clock.advance(TimeDelta::seconds(60));
    let token = password_login(&srv, "stepup@example.org").await;
    let (status, refused) = whoami(&srv, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["id"], "session_aal2_required");
    let redirect = refused["redirect_browser_to"].as_str().unwrap();
    assert!(
        redirect.contains("/self-service/login/browser?aal=aal2"),
        "{redirect}"
    );
    let id_before = srv
        .http()
        .get(srv.url("/sessions/whoami"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(id_before.status(), StatusCode::FORBIDDEN);

    let flow = step_up_flow(&srv, &token).await;
    assert_eq!(flow["requested_aal"], "aal2");
    assert_eq!(ui_message_ids(&flow), [1010004]);
    assert_eq!(node(&flow, "totp_code")["attributes"]["required"], true);
    assert!(
        !flow.to_string().contains("\"password\""),
        "no first-factor nodes on an aal2 flow: {flow}"
    );
    let (status, wrong) = step_up(
        &srv,
        &flow,
        &token,
        &json!({"method": "totp", "totp_code": "000000"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ui_message_ids(&wrong), [4000008]);
    let code = totp(&secret, now(&srv));
    let (status, done) = step_up(
        &srv,
        &flow,
        &token,
        &json!({"method": "totp", "totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["session"]["authenticator_assurance_level"], "aal2");
    assert_eq!(
        done["session_token"],
        token.as_str(),
        "the caller keeps its token"
    );
    let (status, session) = whoami(&srv, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["id"], done["session"]["id"]);
    assert_eq!(
        methods(&session),
        [
            ("password".to_owned(), "aal1".to_owned()),
            ("totp".to_owned(), "aal2".to_owned())
        ]
    );
}

async fn totp_code_used_once_is_refused_the_second_time(srv: TestServer) {
    let (_, secret) = enrolled(&srv, "replay@example.org").await;
    // The code that confirmed the enrolment is spent for its time step.
    let first = password_login(&srv, "replay@example.org").await;
    let flow = step_up_flow(&srv, &first).await;
    let spent = totp(&secret, now(&srv));
    let (status, body) = step_up(
        &srv,
        &flow,
        &first,
        &json!({"method": "totp", "totp_code": spent}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(ui_message_ids(&body), [4000008]);

    srv.clock.advance(TimeDelta::seconds(30));
    let code = totp(&secret, now(&srv));
    let (status, body) = step_up(
        &srv,
        &flow,
        &first,
        &json!({"method": "totp", "totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = password_login(&srv, "replay@example.org").await;
    let flow = step_up_flow(&srv, &second).await;
    let (status, body) = step_up(
        &srv,
        &flow,
        &second,
        &json!({"method": "totp", "totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(ui_message_ids(&body), [4000008]);
}

async fn totp_accepts_one_step_of_skew_and_refuses_two(srv: TestServer) {
    let (_, secret) = enrolled(&srv, "skew@example.org").await;
    srv.clock.advance(TimeDelta::seconds(300));
    let token = password_login(&srv, "skew@example.org").await;
    let flow = step_up_flow(&srv, &token).await;
    let two_behind = totp(&secret, now(&srv) - 60);
    let (status, _) = step_up(
        &srv,
        &flow,
        &token,
        &json!({"method": "totp", "totp_code": two_behind}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let two_ahead = totp(&secret, now(&srv) + 60);
    let (status, _) = step_up(
        &srv,
        &flow,
        &token,
        &json!({"method": "totp", "totp_code": two_ahead}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let one_behind = totp(&secret, now(&srv) - 30);
    let (status, body) = step_up(
        &srv,
        &flow,
        &token,
        &json!({"method": "totp", "totp_code": one_behind}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn totp_concurrent_submits_of_one_code_exactly_one_wins(srv: TestServer) {
    let (_, secret) = enrolled(&srv, "race@example.org").await;
    srv.clock.advance(TimeDelta::seconds(30));
    let (a, b) = (
        password_login(&srv, "race@example.org").await,
        password_login(&srv, "race@example.org").await,
    );
    let (flow_a, flow_b) = (step_up_flow(&srv, &a).await, step_up_flow(&srv, &b).await);
    let code = totp(&secret, now(&srv));
    let body = json!({"method": "totp", "totp_code": code});
    let ((status_a, _), (status_b, _)) = tokio::join!(
        step_up(&srv, &flow_a, &a, &body),
        step_up(&srv, &flow_b, &b, &body)
    );
    let mut statuses = [status_a, status_b];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
}

async fn totp_unlink_removes_the_factor_and_aal1_suffices_again(srv: TestServer) {
    let (token, _) = enrolled(&srv, "unlink@example.org").await;
    let flow = settings_flow(&srv, &token).await;
    let (status, body) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "totp", "totp_unlink": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(node(&body, "totp_code")["attributes"]["name"], "totp_code");
    let fresh = password_login(&srv, "unlink@example.org").await;
    let (status, session) = whoami(&srv, &fresh).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["authenticator_assurance_level"], "aal1");
}

async fn totp_removed_by_an_operator_lets_aal1_sessions_through(srv: TestServer) {
    let (token, _) = enrolled(&srv, "lostphone@example.org").await;
    let (_, session) = whoami(&srv, &token).await;
    let id = session["identity"]["id"].as_str().unwrap().to_owned();
    let fresh = password_login(&srv, "lostphone@example.org").await;
    assert_eq!(whoami(&srv, &fresh).await.0, StatusCode::FORBIDDEN);
    let response = srv
        .admin(
            reqwest::Method::DELETE,
            &format!("/admin/identities/{id}/credentials/totp"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(whoami(&srv, &fresh).await.0, StatusCode::OK);
}

async fn totp_secret_is_sealed_at_rest(srv: TestServer) {
    let (token, secret) = enrolled(&srv, "sealed@example.org").await;
    let (_, session) = whoami(&srv, &token).await;
    let id = uuid::Uuid::parse_str(session["identity"]["id"].as_str().unwrap()).unwrap();
    let identity = srv
        .services()
        .identities
        .get(clavis_types::IdentityId(id))
        .await
        .unwrap();
    let stored = identity
        .credentials
        .values()
        .find(|c| c.kind.as_str() == "totp")
        .expect("a totp credential")
        .config
        .read()
        .expect("read in full")
        .to_string();
    assert!(stored.contains("xc1:"), "{stored}");
    assert!(!stored.contains(&secret), "the seed is not stored readable");
    let raw = String::from_utf8_lossy(&base32_decode(&secret)).to_string();
    assert!(!stored.contains(&raw));
    let (status, admin) = {
        let response = srv
            .admin(reqwest::Method::GET, &format!("/admin/identities/{id}"))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert_eq!(admin["credentials"]["totp"]["config"], json!({}));
}

async fn aal2_login_without_session_answers_401_session_aal1_required(srv: TestServer) {
    for path in [
        "/self-service/login/api?aal=aal2",
        "/self-service/login/browser?aal=aal2",
    ] {
        let response = srv
            .http()
            .get(srv.url(path))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["id"], "session_aal1_required", "{path}");
    }
}

async fn whoami_and_settings_require_aal2_under_highest_available_only(srv: TestServer) {
    enrolled(&srv, "policy@example.org").await;
    let token = password_login(&srv, "policy@example.org").await;
    let response = srv
        .http()
        .get(srv.url("/self-service/settings/api"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["id"], "session_aal2_required");
    assert!(
        body["redirect_browser_to"]
            .as_str()
            .unwrap()
            .contains("aal=aal2")
    );
    // A browser asking for a settings page is sent to the step-up login.
    let response = srv
        .http()
        .get(srv.url("/self-service/settings/browser"))
        .header("Cookie", srv.session_cookie(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("/self-service/login/browser?aal=aal2&return_to="),
        "{location}"
    );

    let relaxed = TestServer::start_with(srv.engine, |config| {
        config.session.whoami.required_aal = clavis_testkit::RequiredAal::Aal1;
        config.selfservice.flows.settings.required_aal = clavis_testkit::RequiredAal::Aal1;
    })
    .await
    .unwrap()
    .unwrap();
    enrolled(&relaxed, "relaxed@example.org").await;
    let token = password_login(&relaxed, "relaxed@example.org").await;
    let (status, session) = whoami(&relaxed, &token).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["authenticator_assurance_level"], "aal1");
    settings_flow(&relaxed, &token).await;
    relaxed.stop().await;
}

async fn totp_browser_login_goes_through_step_up_and_gets_aal2_cookie(srv: TestServer) {
    let (_, secret) = enrolled(&srv, "browser2fa@example.org").await;
    srv.clock.advance(TimeDelta::seconds(30));
    let browser = srv.browser();
    let flow: Value = browser
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = node(&flow, "csrf_token")["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("method", "password"),
            ("identifier", "browser2fa@example.org"),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains("/self-service/login/browser?aal=aal2&return_to="),
        "{location}"
    );

    let response = browser.get(&location).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let ui = response.headers()["location"].to_str().unwrap().to_owned();
    let flow_id = ui.split("flow=").nth(1).unwrap().to_owned();
    let flow: Value = browser
        .get(srv.url(&format!("/self-service/login/flows?id={flow_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flow["requested_aal"], "aal2");
    let csrf = node(&flow, "csrf_token")["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = totp(&secret, now(&srv));
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("method", "totp"),
            ("totp_code", &code),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = response.headers()["location"].to_str().unwrap();
    assert!(!back.contains("aal=aal2"), "{back}");
    let session: Value = browser
        .get(srv.url("/sessions/whoami"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        session["authenticator_assurance_level"], "aal2",
        "{session}"
    );
}

async fn totp_spa_login_answers_redirect_to_step_up(srv: TestServer) {
    enrolled(&srv, "spa2fa@example.org").await;
    let browser = srv.browser();
    let flow: Value = browser
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = node(&flow, "csrf_token")["attributes"]["value"].clone();
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(
            &json!({"method": "password", "identifier": "spa2fa@example.org",
                      "password": PASSWORD, "csrf_token": csrf}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["session"]["authenticator_assurance_level"], "aal1");
    let next = body["continue_with"][0]["redirect_browser_to"]
        .as_str()
        .unwrap();
    assert!(
        next.contains("/self-service/login/browser?aal=aal2"),
        "{next}"
    );
}

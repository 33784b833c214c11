//! Settings flows: profile and password methods, privileged sessions, ownership, and the
//! native, browser and single-page transports.

use crate::native::{
    create_flow, node, node_message_ids, register, submit, ui_message_ids, whoami,
};
use chrono::TimeDelta;
use clavis_testkit::{TestServer, db_tests};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

db_tests!(
    settings_api_flow_shows_profile_and_password_of_the_caller,
    settings_without_session_answers_401_or_redirects_to_login,
    settings_api_password_change_takes_effect_at_once,
    settings_api_old_session_needs_refresh_then_succeeds,
    settings_api_password_policy_and_same_password_answer_400,
    settings_api_profile_update_keeps_address_verification_and_needs_no_privilege,
    settings_api_identifier_change_is_privileged_and_conflicts_answer_4000007,
    settings_api_invalid_traits_answer_400_with_node_messages,
    settings_api_unknown_method_answers_4010004,
    settings_flow_of_another_identity_answers_security_identity_mismatch,
    settings_api_expired_flow_answers_410_with_replacement,
    settings_browser_form_changes_password_and_returns_to_the_ui,
    settings_browser_old_session_redirects_to_refresh_login,
    settings_browser_without_csrf_answers_403,
    settings_spa_answers_json_with_redirect_browser_to,
);

const PASSWORD: &str = "correct horse battery";

pub(crate) async fn settings_flow(srv: &TestServer, token: &str) -> Value {
    let response = srv
        .http()
        .get(srv.url("/self-service/settings/api"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

pub(crate) async fn update(
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

pub(crate) async fn login(
    srv: &TestServer,
    identifier: &str,
    password: &str,
) -> (StatusCode, Value) {
    let flow = create_flow(srv, "login").await;
    submit(
        srv,
        &flow,
        &json!({"method": "password", "identifier": identifier, "password": password}),
    )
    .await
}

pub(crate) fn token_of(answer: &Value) -> String {
    answer["session_token"].as_str().unwrap().to_owned()
}

async fn settings_api_flow_shows_profile_and_password_of_the_caller(srv: TestServer) {
    let token = token_of(&register(&srv, "profile@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &token).await;
    assert_eq!(flow["type"], "api");
    assert_eq!(flow["state"], "show_form");
    assert_eq!(flow["identity"]["traits"]["email"], "profile@example.org");
    assert!(
        flow["identity"].get("credentials").is_none(),
        "never credentials"
    );
    let nodes: Vec<(String, String)> = flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let key = n["attributes"]["name"]
                .as_str()
                .or(n["attributes"]["id"].as_str());
            (
                n["group"].as_str().unwrap().to_owned(),
                key.unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("profile", "traits.email"),
        ("profile", "traits.name.first"),
        ("profile", "traits.name.last"),
        ("profile", "method"),
        ("password", "password"),
        ("password", "method"),
        ("totp", "totp_qr"),
        ("totp", "totp_secret_key"),
        ("totp", "totp_code"),
        ("totp", "method"),
        ("lookup_secret", "lookup_secret_regenerate"),
    ];
    assert_eq!(nodes, expected.map(|(g, n)| (g.to_owned(), n.to_owned())));
    assert_eq!(
        node(&flow, "traits.email")["attributes"]["value"],
        "profile@example.org"
    );
    assert_eq!(
        node(&flow, "password")["attributes"]["autocomplete"],
        "new-password"
    );
    assert!(
        flow["ui"]["action"]
            .as_str()
            .unwrap()
            .contains("/self-service/settings?flow="),
        "{flow}"
    );
    srv.stop().await;
}

async fn settings_without_session_answers_401_or_redirects_to_login(srv: TestServer) {
    for path in [
        "/self-service/settings/api",
        "/self-service/settings/browser",
    ] {
        let response = srv
            .http()
            .get(srv.url(path))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["id"], "session_inactive", "{path}");
    }
    let response = srv
        .browser()
        .get(srv.url("/self-service/settings/browser"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = response.headers()["location"].to_str().unwrap();
    let login = srv.url("/self-service/login/browser?return_to=");
    assert!(target.starts_with(login.as_str()), "{target}");
    assert!(target.contains("settings%2Fbrowser"), "{target}");
    // The login flow accepts that return_to: it is one of Clavis' own endpoints.
    let follow = srv
        .browser()
        .get(target)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(follow.status(), StatusCode::OK);
    srv.stop().await;
}

async fn settings_api_password_change_takes_effect_at_once(srv: TestServer) {
    let token = token_of(&register(&srv, "change@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &token).await;
    let (status, answer) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "password", "password": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["state"], "success");
    assert_eq!(answer["active"], "password");
    assert_eq!(ui_message_ids(&answer), [1050001]);
    let (old, _) = login(&srv, "change@example.org", PASSWORD).await;
    assert_eq!(old, StatusCode::BAD_REQUEST, "the old password");
    let (new, _) = login(&srv, "change@example.org", "a brand new passphrase").await;
    assert_eq!(new, StatusCode::OK, "the new password");
    // The flow stays usable after success: a second change works too.
    let (status, answer) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "password", "password": "yet another passphrase"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    srv.stop().await;
}

async fn settings_api_old_session_needs_refresh_then_succeeds(srv: TestServer) {
    let registered = register(&srv, "stale@example.org", PASSWORD).await;
    let token = token_of(&registered);
    let flow = settings_flow(&srv, &token).await;
    srv.clock.advance(TimeDelta::minutes(16));
    let body = json!({"method": "password", "password": "a brand new passphrase"});
    let (status, error) = update(&srv, &flow, &token, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"]["id"], "session_refresh_required");
    let redirect = error["redirect_browser_to"].as_str().unwrap();
    assert!(
        redirect.starts_with(srv.url("/self-service/login/browser?refresh=true").as_str()),
        "{redirect}"
    );
    assert!(
        redirect.contains(flow["id"].as_str().unwrap()),
        "returns to the flow: {redirect}"
    );
    let (still, _) = login(&srv, "stale@example.org", "a brand new passphrase").await;
    assert_eq!(still, StatusCode::BAD_REQUEST, "nothing changed");

    let refresh = srv
        .http()
        .get(srv.url("/self-service/login/api?refresh=true"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    let refresh: Value = refresh.json().await.unwrap();
    let action = refresh["ui"]["action"].as_str().unwrap();
    let refreshed: Value = srv
        .http()
        .post(action)
        .header("X-Session-Token", &token)
        .json(
            &json!({"method": "password", "identifier": "stale@example.org", "password": PASSWORD}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["session_token"], token, "{refreshed}");
    assert_eq!(refreshed["session"]["id"], registered["session"]["id"]);

    let (status, answer) = update(&srv, &flow, &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (new, _) = login(&srv, "stale@example.org", "a brand new passphrase").await;
    assert_eq!(new, StatusCode::OK);
    srv.stop().await;
}

async fn settings_api_password_policy_and_same_password_answer_400(srv: TestServer) {
    let token = token_of(&register(&srv, "policy@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &token).await;
    for (password, id) in [
        ("", 4000002),
        ("short", 4000032),
        ("policy@example.org", 4000031),
        (PASSWORD, 4000039),
    ] {
        let (status, answer) = update(
            &srv,
            &flow,
            &token,
            &json!({"method": "password", "password": password}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{password}: {answer}");
        assert_eq!(answer["state"], "show_form");
        let mut ids = node_message_ids(&answer, "password");
        ids.extend(ui_message_ids(&answer));
        assert_eq!(ids, [id], "{password}: {answer}");
    }
    let (status, _) = login(&srv, "policy@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the password is unchanged");
    srv.stop().await;
}

async fn settings_api_profile_update_keeps_address_verification_and_needs_no_privilege(
    srv: TestServer,
) {
    let token = token_of(&register(&srv, "names@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &token).await;
    srv.clock.advance(TimeDelta::minutes(30));
    let (status, answer) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "profile", "traits": {"email": "names@example.org", "name": {"first": "Ada", "last": "Lovelace"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["identity"]["traits"]["name"]["first"], "Ada");
    assert_eq!(
        node(&answer, "traits.name.last")["attributes"]["value"],
        "Lovelace"
    );
    let (_, me) = whoami(&srv, &token).await;
    assert_eq!(me["identity"]["traits"]["name"]["last"], "Lovelace");
    assert_eq!(
        me["identity"]["verifiable_addresses"][0]["value"],
        "names@example.org"
    );
    srv.stop().await;
}

async fn settings_api_identifier_change_is_privileged_and_conflicts_answer_4000007(
    srv: TestServer,
) {
    register(&srv, "taken@example.org", PASSWORD).await;
    let token = token_of(&register(&srv, "mover@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &token).await;
    let (status, answer) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "profile", "traits": {"email": "taken@example.org"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(ui_message_ids(&answer), [4000007]);

    let (status, answer) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "profile", "traits": {"email": "Moved@Example.org"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = login(&srv, "moved@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the new address is the identifier");
    let (status, _) = login(&srv, "mover@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the old one is gone");

    srv.clock.advance(TimeDelta::minutes(16));
    let (status, error) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "profile", "traits": {"email": "again@example.org"}}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"]["id"], "session_refresh_required");
    srv.stop().await;
}

async fn settings_api_invalid_traits_answer_400_with_node_messages(srv: TestServer) {
    let token = token_of(&register(&srv, "valid@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &token).await;
    let (status, answer) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "profile", "traits": {"name": {"first": "No mail"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(node_message_ids(&answer, "traits.email"), [4000002]);
    assert_eq!(
        node(&answer, "traits.name.first")["attributes"]["value"],
        "No mail",
        "the form keeps what was typed"
    );
    let (_, me) = whoami(&srv, &token).await;
    assert_eq!(me["identity"]["traits"]["email"], "valid@example.org");
    srv.stop().await;
}

async fn settings_api_unknown_method_answers_4010004(srv: TestServer) {
    let token = token_of(&register(&srv, "method@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &token).await;
    let (status, answer) = update(&srv, &flow, &token, &json!({"method": "carrier-pigeon"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ui_message_ids(&answer), [4010004]);
    srv.stop().await;
}

async fn settings_flow_of_another_identity_answers_security_identity_mismatch(srv: TestServer) {
    let owner = token_of(&register(&srv, "owner@example.org", PASSWORD).await);
    let intruder = token_of(&register(&srv, "intruder@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &owner).await;
    let read = srv
        .http()
        .get(srv.url(&format!(
            "/self-service/settings/flows?id={}",
            flow["id"].as_str().unwrap()
        )))
        .header("X-Session-Token", &intruder)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::FORBIDDEN);
    let error: Value = read.json().await.unwrap();
    assert_eq!(error["error"]["id"], "security_identity_mismatch");
    let (status, error) = update(
        &srv,
        &flow,
        &intruder,
        &json!({"method": "password", "password": "taken over passphrase"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error["error"]["id"], "security_identity_mismatch");
    let (status, _) = login(&srv, "owner@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn settings_api_expired_flow_answers_410_with_replacement(srv: TestServer) {
    let token = token_of(&register(&srv, "late@example.org", PASSWORD).await);
    let flow = settings_flow(&srv, &token).await;
    srv.clock.advance(TimeDelta::minutes(61));
    let (status, error) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "profile", "traits": {"email": "late@example.org"}}),
    )
    .await;
    assert_eq!(status, StatusCode::GONE, "{error}");
    assert_eq!(error["error"]["id"], "self_service_flow_expired");
    let replacement = error["use_flow_id"].as_str().unwrap();
    assert_ne!(replacement, flow["id"].as_str().unwrap());
    let read = srv
        .http()
        .get(srv.url(&format!("/self-service/settings/flows?id={replacement}")))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    srv.stop().await;
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// A browser signed in through a registration form; returns it with its settings flow.
async fn signed_in_browser(srv: &TestServer, email: &str) -> (Client, Value) {
    register(srv, email, PASSWORD).await;
    let browser = srv.browser();
    let start = browser
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let flow: Value = start.json().await.unwrap();
    let csrf = node(&flow, "csrf_token")["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("identifier", email),
            ("password", PASSWORD),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let start = browser
        .get(srv.url("/self-service/settings/browser"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let target = location(&start);
    assert!(
        target.starts_with(srv.url("/ui/settings?flow=").as_str()),
        "{target}"
    );
    let id = target.rsplit('=').next().unwrap().to_owned();
    let flow: Value = browser
        .get(srv.url(&format!("/self-service/settings/flows?id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flow["type"], "browser");
    (browser, flow)
}

fn csrf(flow: &Value) -> String {
    node(flow, "csrf_token")["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn settings_browser_form_changes_password_and_returns_to_the_ui(srv: TestServer) {
    let (browser, flow) = signed_in_browser(&srv, "form-settings@example.org").await;
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf(&flow).as_str()),
            ("password", "a brand new passphrase"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    assert_eq!(
        target,
        format!(
            "{}?flow={}",
            srv.url("/ui/settings"),
            flow["id"].as_str().unwrap()
        )
    );
    let (status, _) = login(&srv, "form-settings@example.org", "a brand new passphrase").await;
    assert_eq!(status, StatusCode::OK);

    let refused = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf(&flow).as_str()),
            ("password", "short"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SEE_OTHER, "back to the form");
    let again: Value = browser
        .get(srv.url(&format!(
            "/self-service/settings/flows?id={}",
            flow["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(node_message_ids(&again, "password"), [4000032]);
    srv.stop().await;
}

async fn settings_browser_old_session_redirects_to_refresh_login(srv: TestServer) {
    let (browser, flow) = signed_in_browser(&srv, "refresh-form@example.org").await;
    srv.clock.advance(TimeDelta::minutes(20));
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf(&flow).as_str()),
            ("password", "a brand new passphrase"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    assert!(
        target.starts_with(srv.url("/self-service/login/browser?refresh=true").as_str()),
        "{target}"
    );
    let login = browser
        .get(&target)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK, "the refresh login starts");
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["refresh"], true);
    assert!(
        login["return_to"]
            .as_str()
            .unwrap()
            .contains(flow["id"].as_str().unwrap())
    );
    srv.stop().await;
}

async fn settings_browser_without_csrf_answers_403(srv: TestServer) {
    let (browser, flow) = signed_in_browser(&srv, "csrf-settings@example.org").await;
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .form(&[
            ("password", "a brand new passphrase"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["id"], "security_csrf_violation");
    let (status, _) = login(&srv, "csrf-settings@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn settings_spa_answers_json_with_redirect_browser_to(srv: TestServer) {
    let (browser, flow) = signed_in_browser(&srv, "spa-settings@example.org").await;
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("X-CSRF-Token", csrf(&flow))
        .json(&json!({"method": "profile", "traits": {"email": "spa-settings@example.org", "name": {"first": "Spa"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["state"], "success");
    assert_eq!(answer["continue_with"][0]["action"], "redirect_browser_to");
    assert!(
        answer["continue_with"][0]["redirect_browser_to"]
            .as_str()
            .unwrap()
            .starts_with(srv.url("/ui/settings?flow=").as_str())
    );
    srv.stop().await;
}

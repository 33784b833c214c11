//! Native login with the password method.

use crate::native::{create_flow, node, register, submit, ui_message_ids, whoami};
use chrono::TimeDelta;
use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    login_api_flow_has_kratos_nodes_in_order,
    login_api_flow_ids_follow_their_creation_time,
    login_api_password_answers_session_and_token,
    login_api_identifier_is_case_insensitive,
    login_api_wrong_password_answers_4000006_and_keeps_identifier,
    login_api_unknown_identifier_answers_the_same_4000006,
    login_api_missing_fields_answer_4000002,
    login_api_with_session_answers_session_already_available_unless_refresh,
    login_api_aal2_without_session_answers_401_aal1_required,
    login_api_invalid_aal_answers_400,
    login_api_expired_flow_answers_410_with_replacement,
    login_api_concurrent_submits_issue_one_session,
    login_api_completed_flow_cannot_be_replayed,
    login_api_upgrades_imported_bcrypt_hash_to_argon2id,
);

fn credentials(identifier: &str, password: &str) -> Value {
    json!({"method": "password", "identifier": identifier, "password": password})
}

async fn login_api_flow_has_kratos_nodes_in_order(srv: TestServer) {
    let flow = create_flow(&srv, "login").await;
    assert_eq!(flow["type"], "api");
    assert_eq!(flow["state"], "choose_method");
    assert_eq!(flow["requested_aal"], "aal1");
    assert_eq!(flow["refresh"], false);
    let nodes: Vec<(String, String)> = flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["group"].as_str().unwrap().to_owned(),
                n["attributes"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("default", "identifier"),
        ("password", "password"),
        ("password", "method"),
    ];
    assert_eq!(nodes, expected.map(|(g, n)| (g.to_owned(), n.to_owned())));
    assert_eq!(node(&flow, "identifier")["meta"]["label"]["id"], 1070004);
    assert_eq!(
        node(&flow, "password")["attributes"]["autocomplete"],
        "current-password"
    );
    assert_eq!(node(&flow, "method")["meta"]["label"]["id"], 1010022);
    srv.stop().await;
}

async fn login_api_flow_ids_follow_their_creation_time(srv: TestServer) {
    let id_of = |flow: &Value| uuid::Uuid::parse_str(flow["id"].as_str().unwrap()).unwrap();
    let first = create_flow(&srv, "login").await;
    srv.clock.advance(TimeDelta::milliseconds(5));
    let second = create_flow(&srv, "login").await;
    let (first_id, second_id) = (id_of(&first), id_of(&second));
    assert_eq!(first_id.get_version_num(), 7, "time-ordered ids");
    assert!(
        second_id > first_id,
        "a later flow sorts after an earlier one"
    );
    let issued: chrono::DateTime<chrono::Utc> =
        first["issued_at"].as_str().unwrap().parse().unwrap();
    let (seconds, nanos) = first_id.get_timestamp().unwrap().to_unix();
    assert_eq!(
        (seconds, nanos / 1_000_000),
        (issued.timestamp() as u64, issued.timestamp_subsec_millis()),
        "the id carries the flow's creation millisecond"
    );
    srv.stop().await;
}

async fn login_api_password_answers_session_and_token(srv: TestServer) {
    let registered = register(&srv, "login@example.org", "correct horse battery").await;
    let flow = create_flow(&srv, "login").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &credentials("login@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let token = answer["session_token"].as_str().unwrap();
    assert_ne!(
        token,
        registered["session_token"].as_str().unwrap(),
        "each login is a new session"
    );
    assert_eq!(answer["session"]["authenticator_assurance_level"], "aal1");
    assert_eq!(
        answer["session"]["authentication_methods"][0]["method"],
        "password"
    );
    assert_eq!(
        answer["session"]["identity"]["id"],
        registered["identity"]["id"]
    );
    assert_eq!(answer["continue_with"][0]["ory_session_token"], token);
    let (status, me) = whoami(&srv, token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["id"], answer["session"]["id"]);
    srv.stop().await;
}

async fn login_api_identifier_is_case_insensitive(srv: TestServer) {
    register(&srv, "mixed@example.org", "correct horse battery").await;
    let flow = create_flow(&srv, "login").await;
    let (status, _) = submit(
        &srv,
        &flow,
        &credentials("  MIXED@Example.ORG ", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn login_api_wrong_password_answers_4000006_and_keeps_identifier(srv: TestServer) {
    register(&srv, "wrong@example.org", "correct horse battery").await;
    let flow = create_flow(&srv, "login").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &credentials("wrong@example.org", "incorrect horse"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ui_message_ids(&answer), [4000006]);
    assert_eq!(answer["active"], "password");
    assert_eq!(
        node(&answer, "identifier")["attributes"]["value"],
        "wrong@example.org"
    );
    assert!(
        node(&answer, "password")["attributes"]
            .get("value")
            .is_none()
    );
    // The same flow accepts the right password afterwards.
    let (status, _) = submit(
        &srv,
        &flow,
        &credentials("wrong@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn login_api_unknown_identifier_answers_the_same_4000006(srv: TestServer) {
    let flow = create_flow(&srv, "login").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &credentials("nobody@example.org", "whatever password"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ui_message_ids(&answer), [4000006]);
    srv.stop().await;
}

async fn login_api_missing_fields_answer_4000002(srv: TestServer) {
    let flow = create_flow(&srv, "login").await;
    let (status, answer) = submit(&srv, &flow, &json!({"method": "password"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for name in ["identifier", "password"] {
        let ids: Vec<u64> = node(&answer, name)["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["id"].as_u64())
            .collect();
        assert_eq!(ids, [4000002], "{name}");
    }
    srv.stop().await;
}

async fn login_api_with_session_answers_session_already_available_unless_refresh(srv: TestServer) {
    let registered = register(&srv, "again@example.org", "correct horse battery").await;
    let token = registered["session_token"].as_str().unwrap();
    let plain = srv
        .http()
        .get(srv.url("/self-service/login/api"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
    let error: Value = plain.json().await.unwrap();
    assert_eq!(error["error"]["id"], "session_already_available");
    let refresh = srv
        .http()
        .get(srv.url("/self-service/login/api?refresh=true"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), StatusCode::OK);
    let flow: Value = refresh.json().await.unwrap();
    assert_eq!(flow["refresh"], true);
    assert_eq!(node(&flow, "identifier")["attributes"]["type"], "hidden");
    assert_eq!(
        node(&flow, "identifier")["attributes"]["value"],
        "again@example.org"
    );
    assert_eq!(node(&flow, "method")["meta"]["label"]["id"], 1010001);
    srv.stop().await;
}

async fn login_api_aal2_without_session_answers_401_aal1_required(srv: TestServer) {
    let response = srv
        .http()
        .get(srv.url("/self-service/login/api?aal=aal2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["id"], "session_aal1_required");
    srv.stop().await;
}

async fn login_api_invalid_aal_answers_400(srv: TestServer) {
    let response = srv
        .http()
        .get(srv.url("/self-service/login/api?aal=aal9"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    srv.stop().await;
}

async fn login_api_expired_flow_answers_410_with_replacement(srv: TestServer) {
    register(&srv, "expiry@example.org", "correct horse battery").await;
    let flow = create_flow(&srv, "login").await;
    srv.clock
        .advance(TimeDelta::hours(1) + TimeDelta::seconds(1));
    let (status, answer) = submit(
        &srv,
        &flow,
        &credentials("expiry@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(answer["error"]["id"], "self_service_flow_expired");
    assert!(answer["expired_at"].is_string());
    let replacement = answer["use_flow_id"].as_str().unwrap();
    let fresh: Value = srv
        .http()
        .get(srv.url(&format!("/self-service/login/flows?id={replacement}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, _) = submit(
        &srv,
        &fresh,
        &credentials("expiry@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn login_api_concurrent_submits_issue_one_session(srv: TestServer) {
    register(&srv, "race@example.org", "correct horse battery").await;
    let flow = create_flow(&srv, "login").await;
    let body = credentials("race@example.org", "correct horse battery");
    let attempts = (0..4).map(|_| submit(&srv, &flow, &body));
    let results = futures_util::future::join_all(attempts).await;
    let tokens: Vec<&str> = results
        .iter()
        .filter_map(|(_, answer)| answer["session_token"].as_str())
        .collect();
    assert_eq!(tokens.len(), 1, "{results:?}");
    srv.stop().await;
}

async fn login_api_completed_flow_cannot_be_replayed(srv: TestServer) {
    register(&srv, "replay@example.org", "correct horse battery").await;
    let flow = create_flow(&srv, "login").await;
    let body = credentials("replay@example.org", "correct horse battery");
    let (status, _) = submit(&srv, &flow, &body).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = submit(&srv, &flow, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer.get("session_token").is_none());
    srv.stop().await;
}

async fn login_api_upgrades_imported_bcrypt_hash_to_argon2id(srv: TestServer) {
    let hash = bcrypt::hash("imported passphrase", 4).unwrap();
    let identity = srv
        .create_identity_with_password_hash("imported@example.org", &hash)
        .await;
    let flow = create_flow(&srv, "login").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &credentials("imported@example.org", "imported passphrase"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let upgraded = srv.password_hash(&identity).await.unwrap();
    assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
    let flow = create_flow(&srv, "login").await;
    let (status, _) = submit(
        &srv,
        &flow,
        &credentials("imported@example.org", "imported passphrase"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the upgraded hash verifies");
    let current = srv.password_hash(&identity).await.unwrap();
    assert_eq!(current, upgraded, "a current hash is left alone");
    srv.stop().await;
}

mod login_revoke_active_sessions_hook_ends_other_sessions {
    #[tokio::test]
    async fn sqlite() {
        super::revoke_active_sessions_hook(clavis_testkit::Engine::Sqlite).await;
    }
    #[tokio::test]
    async fn postgres() {
        super::revoke_active_sessions_hook(clavis_testkit::Engine::Postgres).await;
    }
}

async fn revoke_active_sessions_hook(engine: clavis_testkit::Engine) {
    use clavis_testkit::{AfterHooks, Hook, HookName};
    let Some(started) = TestServer::start_with(engine, |config| {
        config.selfservice.flows.login.after = AfterHooks {
            hooks: vec![Hook::named(HookName::RevokeActiveSessions)],
            methods: Default::default(),
        };
    })
    .await
    else {
        return;
    };
    let srv = started.unwrap();
    let registered = register(&srv, "single@example.org", "correct horse battery").await;
    let first = registered["session_token"].as_str().unwrap().to_owned();
    let flow = create_flow(&srv, "login").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &credentials("single@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let second = answer["session_token"].as_str().unwrap();
    assert_eq!(whoami(&srv, second).await.0, StatusCode::OK);
    assert_eq!(
        whoami(&srv, &first).await.0,
        StatusCode::UNAUTHORIZED,
        "the earlier session was revoked"
    );
    srv.stop().await;
}

//! Native registration with the password method.

use crate::native::{
    create_flow, node, node_message_ids, register, submit, ui_message_ids, whoami,
};
use chrono::TimeDelta;
use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    registration_api_flow_has_trait_and_password_nodes,
    registration_api_password_creates_identity_and_session,
    registration_api_missing_email_answers_400_with_4000002,
    registration_api_invalid_email_answers_400_on_the_field,
    registration_api_short_password_answers_400_with_4000032_and_keeps_traits,
    registration_api_password_like_identifier_answers_4000031,
    registration_api_breached_password_answers_4000034,
    registration_api_duplicate_email_answers_400_with_4000007,
    registration_api_unknown_method_answers_4010003,
    registration_api_with_origin_header_is_refused,
    registration_api_with_session_answers_session_already_available,
    registration_api_expired_flow_answers_410_with_replacement,
    registration_api_completed_flow_cannot_be_replayed,
    registration_api_concurrent_submits_create_one_identity,
    registration_api_form_encoded_body_is_accepted,
    registration_api_bad_bodies_and_ids_are_refused,
);

fn body(email: &str, password: &str) -> Value {
    json!({"method": "password", "password": password, "traits": {"email": email}})
}

async fn registration_api_flow_has_trait_and_password_nodes(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    assert_eq!(flow["type"], "api");
    assert_eq!(flow["state"], "choose_method");
    let id = flow["id"].as_str().unwrap();
    assert_eq!(
        flow["ui"]["action"],
        srv.url(&format!("/self-service/registration?flow={id}"))
            .as_str()
    );
    assert_eq!(flow["ui"]["method"], "POST");
    let names: Vec<&str> = flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["attributes"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "traits.email",
            "traits.name.first",
            "traits.name.last",
            "password",
            "method"
        ]
    );
    let email = node(&flow, "traits.email");
    assert_eq!(email["attributes"]["type"], "email");
    assert_eq!(email["attributes"]["required"], true);
    assert_eq!(email["meta"]["label"]["id"], 1070002);
    assert_eq!(
        node(&flow, "password")["attributes"]["autocomplete"],
        "new-password"
    );
    assert_eq!(node(&flow, "method")["attributes"]["value"], "password");
    assert_eq!(node(&flow, "method")["meta"]["label"]["id"], 1040001);
    let fetched: Value = srv
        .http()
        .get(srv.url(&format!("/self-service/registration/flows?id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, flow);
    srv.stop().await;
}

async fn registration_api_password_creates_identity_and_session(srv: TestServer) {
    let answer = register(&srv, "New@Example.org", "correct horse battery staple").await;
    assert_eq!(answer["identity"]["traits"]["email"], "New@Example.org");
    assert_eq!(
        answer["identity"]["verifiable_addresses"][0]["value"],
        "new@example.org"
    );
    let token = answer["session_token"].as_str().unwrap();
    assert!(token.starts_with("clv_st_"));
    assert_eq!(
        answer["continue_with"][0]["action"],
        "set_ory_session_token"
    );
    assert_eq!(answer["continue_with"][0]["ory_session_token"], token);
    assert_eq!(
        answer["session"]["authentication_methods"][0]["method"],
        "password"
    );
    let (status, me) = whoami(&srv, token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["identity"]["id"], answer["identity"]["id"]);
    assert!(
        !answer.to_string().contains("correct horse"),
        "the password is never echoed"
    );
    srv.stop().await;
}

async fn registration_api_missing_email_answers_400_with_4000002(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &json!({"method": "password", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["id"], flow["id"]);
    assert_eq!(node_message_ids(&answer, "traits.email"), [4000002]);
    srv.stop().await;
}

async fn registration_api_invalid_email_answers_400_on_the_field(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let (status, answer) =
        submit(&srv, &flow, &body("not-an-email", "correct horse battery")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(node_message_ids(&answer, "traits.email").len(), 1);
    assert_eq!(
        node(&answer, "traits.email")["attributes"]["value"],
        "not-an-email"
    );
    srv.stop().await;
}

async fn registration_api_short_password_answers_400_with_4000032_and_keeps_traits(
    srv: TestServer,
) {
    let flow = create_flow(&srv, "registration").await;
    let (status, answer) = submit(&srv, &flow, &body("short@example.org", "1234567")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(node_message_ids(&answer, "password"), [4000032]);
    assert_eq!(
        node(&answer, "traits.email")["attributes"]["value"],
        "short@example.org"
    );
    assert!(
        node(&answer, "password")["attributes"]
            .get("value")
            .is_none(),
        "passwords are never echoed"
    );
    // The flow stays usable after a refusal.
    let (status, _) = submit(&srv, &flow, &body("short@example.org", "long enough now")).await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn registration_api_password_like_identifier_answers_4000031(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &body("alice.wonder@example.org", "alice.wonder@example"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(node_message_ids(&answer, "password"), [4000031]);
    srv.stop().await;
}

async fn registration_api_breached_password_answers_4000034(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    for common in ["iloveyou", "Password1", "qwertyuiop"] {
        let (status, answer) = submit(&srv, &flow, &body("breach@example.org", common)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{common}");
        assert_eq!(node_message_ids(&answer, "password"), [4000034], "{common}");
    }
    srv.stop().await;
}

async fn registration_api_duplicate_email_answers_400_with_4000007(srv: TestServer) {
    register(&srv, "taken@example.org", "correct horse battery").await;
    let flow = create_flow(&srv, "registration").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &body("TAKEN@example.org", "another fine password"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(ui_message_ids(&answer), [4000007]);
    assert_eq!(answer["state"], "choose_method", "the flow can be retried");
    let (status, _) = submit(
        &srv,
        &flow,
        &body("free@example.org", "another fine password"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn registration_api_unknown_method_answers_4010003(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let (status, answer) = submit(
        &srv,
        &flow,
        &json!({"method": "carrier-pigeon", "traits": {"email": "a@example.org"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ui_message_ids(&answer), [4010003]);
    srv.stop().await;
}

async fn registration_api_with_origin_header_is_refused(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let action = flow["ui"]["action"].as_str().unwrap();
    for (header, value) in [("Origin", "https://evil.example"), ("Cookie", "tracking=1")] {
        let response = srv
            .http()
            .post(action)
            .header(header, value)
            .json(&body("origin@example.org", "correct horse battery"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{header}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], 400);
    }
    let cdn_cookie = srv
        .http()
        .post(action)
        .header("Cookie", "__cf_bm=1")
        .json(&body("origin@example.org", "correct horse battery"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        cdn_cookie.status(),
        StatusCode::OK,
        "CDN cookies do not count"
    );
    srv.stop().await;
}

async fn registration_api_with_session_answers_session_already_available(srv: TestServer) {
    let answer = register(&srv, "signed-in@example.org", "correct horse battery").await;
    let token = answer["session_token"].as_str().unwrap();
    let response = srv
        .http()
        .get(srv.url("/self-service/registration/api"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["id"], "session_already_available");
    srv.stop().await;
}

async fn registration_api_expired_flow_answers_410_with_replacement(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    srv.clock.advance(TimeDelta::hours(1));
    let (status, answer) = submit(
        &srv,
        &flow,
        &body("late@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(answer["error"]["id"], "self_service_flow_expired");
    let replacement = answer["use_flow_id"].as_str().unwrap();
    assert_ne!(replacement, flow["id"].as_str().unwrap());
    let fresh: Value = srv
        .http()
        .get(srv.url(&format!(
            "/self-service/registration/flows?id={replacement}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, _) = submit(
        &srv,
        &fresh,
        &body("late@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let stale = srv
        .http()
        .get(srv.url(&format!(
            "/self-service/registration/flows?id={}",
            flow["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::GONE);
    srv.stop().await;
}

async fn registration_api_completed_flow_cannot_be_replayed(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let (status, _) = submit(
        &srv,
        &flow,
        &body("once@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = submit(
        &srv,
        &flow,
        &body("twice@example.org", "correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], 400, "{answer}");
    srv.stop().await;
}

async fn registration_api_concurrent_submits_create_one_identity(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let attempts = (0..4).map(|i| {
        let flow = flow.clone();
        let srv = &srv;
        async move {
            submit(
                srv,
                &flow,
                &body(&format!("racer{i}@example.org"), "correct horse battery"),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let winners = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(winners, 1, "{results:?}");
    srv.stop().await;
}

async fn registration_api_form_encoded_body_is_accepted(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let action = flow["ui"]["action"].as_str().unwrap();
    let response = srv
        .http()
        .post(action)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("method=password&password=correct+horse+battery&traits.email=form%40example.org&traits.name.first=Ada")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["identity"]["traits"],
        json!({"email": "form@example.org", "name": {"first": "Ada"}})
    );
    srv.stop().await;
}

async fn registration_api_bad_bodies_and_ids_are_refused(srv: TestServer) {
    let flow = create_flow(&srv, "registration").await;
    let action = flow["ui"]["action"].as_str().unwrap();
    let garbage = srv
        .http()
        .post(action)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let xml = srv
        .http()
        .post(action)
        .header("Content-Type", "application/xml")
        .body("<a/>")
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let unknown = srv
        .http()
        .post(srv.url(&format!(
            "/self-service/registration?flow={}",
            uuid::Uuid::new_v4()
        )))
        .json(&body("x@example.org", "correct horse battery"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let malformed = srv
        .http()
        .post(srv.url("/self-service/registration?flow=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let missing = srv
        .http()
        .post(srv.url("/self-service/registration"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    // The flow is untouched by all of that.
    let (status, _) = submit(&srv, &flow, &body("x@example.org", "correct horse battery")).await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

#[tokio::test]
async fn password_policy_follows_selfservice_methods_password_config() {
    let srv = TestServer::start_with(clavis_testkit::Engine::Sqlite, |config| {
        let rules = &mut config.selfservice.methods.password.config;
        rules.min_password_length = 12;
        rules.identifier_similarity_check_enabled = false;
        rules.haveibeenpwned_enabled = false;
    })
    .await
    .unwrap()
    .unwrap();
    let flow = create_flow(&srv, "registration").await;
    let (status, refused) = submit(&srv, &flow, &body("long@example.org", "ten chars!")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(node_message_ids(&refused, "password"), vec![4000032]);
    let message = &node(&refused, "password")["messages"][0];
    assert_eq!(message["context"]["min_length"], 12);
    // Both checks are off: an address-like password and a common one are accepted.
    let (status, done) = submit(
        &srv,
        &flow,
        &body("alice.wonder@example.org", "alice.wonder@example"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    register(&srv, "common@example.org", "qwertyuiopasdfgh").await;
}

#[tokio::test]
async fn the_password_method_can_be_turned_off() {
    let srv = TestServer::start_with(clavis_testkit::Engine::Sqlite, |config| {
        config.selfservice.methods.password.enabled = false;
    })
    .await
    .unwrap()
    .unwrap();
    for kind in ["login", "registration"] {
        let flow = create_flow(&srv, kind).await;
        let names: Vec<&str> = flow["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["attributes"]["name"].as_str())
            .collect();
        assert!(!names.contains(&"password"), "{kind}: {names:?}");
    }
    let flow = create_flow(&srv, "registration").await;
    let (status, refused) = submit(&srv, &flow, &body("off@example.org", PASSWORD_OK)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ui_message_ids(&refused), vec![4010003]);
}

const PASSWORD_OK: &str = "correct horse battery";

//! The `web_hook` hook against a real HTTP receiver: what it is sent, interruptions with form
//! messages, identity changes (`response.parse`), failures (502), timeouts (504), retries and
//! fire-and-forget delivery, in registration, login and settings.

use crate::native::{create_flow, node_message_ids, register, submit, ui_message_ids, whoami};
use crate::settings::{settings_flow, update};
use clavis_testkit::{AfterHooks, Engine, HookReceiver, Reply, TestServer, engine_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

engine_tests!(
    registration_web_hook_receives_the_new_identity_and_the_flow,
    registration_web_hook_interrupts_with_messages_and_the_flow_stays_usable,
    registration_web_hook_parse_changes_traits_and_metadata_before_saving,
    registration_web_hook_error_answers_502_and_timeout_504,
    web_hook_retries_busy_receivers_then_gives_up,
    web_hook_fire_and_forget_does_not_wait_or_fail,
    login_web_hook_interrupts_without_a_session,
    settings_web_hook_parse_sets_metadata_and_revoke_ends_other_sessions,
);

const PASSWORD: &str = "correct horse battery";

/// Starts a server whose `flow` after-hooks are `after` (YAML-shaped JSON).
async fn server(engine: Engine, flow: &str, after: Value) -> Option<TestServer> {
    let after: AfterHooks = serde_json::from_value(after).unwrap();
    let flow = flow.to_owned();
    let started = TestServer::start_with(engine, move |config| {
        let flows = &mut config.selfservice.flows;
        match flow.as_str() {
            "registration" => flows.registration.after = Some(after),
            "login" => flows.login.after = after,
            "settings" => flows.settings.after = after,
            other => panic!("no flow {other}"),
        }
    })
    .await?;
    Some(started.unwrap())
}

/// A server whose registrations run `hook`, then the `session` hook.
async fn registration_server(engine: Engine, hook: Value) -> Option<TestServer> {
    server(
        engine,
        "registration",
        json!({"hooks": [hook, {"hook": "session"}]}),
    )
    .await
}

fn web_hook(receiver: &HookReceiver, config: Value) -> Value {
    let mut hook = json!({"hook": "web_hook", "config": {"url": receiver.url("/hook")}});
    for (key, value) in config.as_object().unwrap() {
        hook["config"][key] = value.clone();
    }
    hook
}

fn registration_body(email: &str) -> Value {
    json!({"method": "password", "password": PASSWORD, "traits": {"email": email}})
}

async fn registration_web_hook_receives_the_new_identity_and_the_flow(engine: Engine) {
    let receiver = HookReceiver::start().await;
    let hook = web_hook(
        &receiver,
        json!({"auth": {"type": "basic_auth", "config": {"user": "clavis", "password": "hook-secret"}},
               "headers": {"X-Tenant": "blue"}}),
    );
    let Some(srv) = server(
        engine,
        "registration",
        json!({"password": {"hooks": [hook, {"hook": "session"}]}}),
    )
    .await
    else {
        return;
    };
    let flow = create_flow(&srv, "registration").await;
    let response = srv
        .http()
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("User-Agent", "hook-test-agent")
        .header("Authorization", "Bearer must-not-travel")
        .json(&registration_body("hooked@example.org"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let registered: Value = response.json().await.unwrap();
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let call = &received[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, "/hook");
    assert_eq!(call.headers["content-type"], "application/json");
    assert_eq!(call.headers["x-tenant"], "blue");
    assert_eq!(
        call.headers["authorization"],
        "Basic Y2xhdmlzOmhvb2stc2VjcmV0"
    );
    let body = &call.body;
    assert_eq!(body["identity"]["id"], registered["identity"]["id"]);
    assert_eq!(body["identity"]["traits"]["email"], "hooked@example.org");
    assert!(body["identity"].get("credentials").is_none());
    assert_eq!(body["flow"]["id"], flow["id"]);
    assert_eq!(body["flow"]["type"], "api");
    assert_eq!(body["request_method"], "POST");
    assert!(
        body["request_url"]
            .as_str()
            .unwrap()
            .contains("/self-service/registration?flow=")
    );
    assert_eq!(body["request_headers"]["user-agent"], "hook-test-agent");
    assert!(body["request_headers"].get("authorization").is_none());
    let text = body.to_string();
    assert!(!text.contains(PASSWORD), "the password reached the hook");
    assert!(!text.contains("csrf_token"));
    assert!(!text.contains("must-not-travel"));
}

const INTERRUPT: &str = r##"{"messages":[{"instance_ptr":"#/traits/email","messages":[{"id":4000001,"text":"Only company addresses may register.","type":"error","context":{"reason":"domain"}}]}]}"##;

async fn registration_web_hook_interrupts_with_messages_and_the_flow_stays_usable(engine: Engine) {
    let receiver = HookReceiver::start().await;
    receiver.script([Reply::new(403, INTERRUPT)]);
    let hook = web_hook(&receiver, json!({"can_interrupt": true}));
    let Some(srv) = registration_server(engine, hook).await else {
        return;
    };
    let flow = create_flow(&srv, "registration").await;
    let (status, refused) = submit(&srv, &flow, &registration_body("outsider@example.org")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(node_message_ids(&refused, "traits.email"), vec![4000001]);
    let message = &crate::native::node(&refused, "traits.email")["messages"][0];
    assert_eq!(message["text"], "Only company addresses may register.");
    assert_eq!(message["context"]["reason"], "domain");
    assert_eq!(refused["state"], "choose_method");
    // Nothing was created, and the same flow goes through once the hook agrees.
    let (status, done) = submit(&srv, &flow, &registration_body("outsider@example.org")).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["identity"]["traits"]["email"], "outsider@example.org");
    assert_eq!(receiver.received().len(), 2);
}

async fn registration_web_hook_parse_changes_traits_and_metadata_before_saving(engine: Engine) {
    let receiver = HookReceiver::start().await;
    receiver.script([Reply::new(
        200,
        json!({"identity": {
            "traits": {"email": "renamed@example.org", "name": {"first": "Ada"}},
            "metadata_public": {"plan": "pro"},
        }})
        .to_string(),
    )]);
    let hook = web_hook(&receiver, json!({"response": {"parse": true}}));
    let Some(srv) = registration_server(engine, hook).await else {
        return;
    };
    let registered = register(&srv, "original@example.org", PASSWORD).await;
    assert_eq!(
        registered["identity"]["traits"]["email"],
        "renamed@example.org"
    );
    assert_eq!(registered["identity"]["traits"]["name"]["first"], "Ada");
    assert_eq!(registered["identity"]["metadata_public"]["plan"], "pro");
    // The hook saw the identity before it existed.
    let seen = &receiver.received()[0].body["identity"];
    assert_eq!(seen["id"], Value::Null);
    assert_eq!(seen["traits"]["email"], "original@example.org");
    // The changed trait is the login identifier.
    let flow = create_flow(&srv, "login").await;
    let login =
        json!({"method": "password", "identifier": "renamed@example.org", "password": PASSWORD});
    assert_eq!(submit(&srv, &flow, &login).await.0, StatusCode::OK);

    // Traits a hook breaks are refused like submitted ones, and nothing is stored.
    receiver.script([Reply::new(
        200,
        r#"{"identity":{"traits":{"email":"not-an-address"}}}"#,
    )]);
    let flow = create_flow(&srv, "registration").await;
    let (status, refused) = submit(&srv, &flow, &registration_body("second@example.org")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        !node_message_ids(&refused, "traits.email").is_empty(),
        "{refused}"
    );
    let (status, done) = submit(&srv, &flow, &registration_body("second@example.org")).await;
    assert_eq!(status, StatusCode::OK, "{done}");
}

async fn registration_web_hook_error_answers_502_and_timeout_504(engine: Engine) {
    let receiver = HookReceiver::start().await;
    let notifying = web_hook(&receiver, json!({"retries": 0}));
    let screening = web_hook(
        &receiver,
        json!({"can_interrupt": true, "timeout": "300ms", "retries": 0}),
    );
    let Some(srv) = server(
        engine,
        "registration",
        json!({"password": {"hooks": [screening, notifying, {"hook": "session"}]}}),
    )
    .await
    else {
        return;
    };
    // The screening hook answers 500 without messages: the flow fails with 502, nothing stored.
    receiver.script([Reply::new(500, "boom")]);
    let flow = create_flow(&srv, "registration").await;
    let (status, error) = submit(&srv, &flow, &registration_body("gateway@example.org")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    assert_eq!(error["error"]["code"], 502);
    assert_eq!(
        error["error"]["reason"],
        "web hook failed with status code 500"
    );
    // Too slow: 504, and still nothing stored.
    receiver.script([Reply::new(204, "").after(Duration::from_secs(3))]);
    let (status, error) = submit(&srv, &flow, &registration_body("gateway@example.org")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{error}");
    assert_eq!(error["error"]["code"], 504);
    // Both agree now: registered.
    let (status, done) = submit(&srv, &flow, &registration_body("gateway@example.org")).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["session_token"].is_string());
}

async fn web_hook_retries_busy_receivers_then_gives_up(engine: Engine) {
    let receiver = HookReceiver::start().await;
    let hook = web_hook(&receiver, json!({"retries": 2}));
    let Some(srv) = registration_server(engine, hook).await else {
        return;
    };
    receiver.script([Reply::new(503, ""), Reply::new(429, "")]);
    register(&srv, "patient@example.org", PASSWORD).await;
    assert_eq!(receiver.received().len(), 3);
    // Three busy answers use up the two retries: 502. A 500 is not retried.
    receiver.script([
        Reply::new(503, ""),
        Reply::new(503, ""),
        Reply::new(503, ""),
    ]);
    let flow = create_flow(&srv, "registration").await;
    let (status, _) = submit(&srv, &flow, &registration_body("busy@example.org")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(receiver.received().len(), 6);
    receiver.script([Reply::new(500, "")]);
    let flow = create_flow(&srv, "registration").await;
    let (status, _) = submit(&srv, &flow, &registration_body("broken@example.org")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(receiver.received().len(), 7);
}

async fn web_hook_fire_and_forget_does_not_wait_or_fail(engine: Engine) {
    let receiver = HookReceiver::start().await;
    receiver.script([Reply::new(500, "").after(Duration::from_secs(1))]);
    let hook = web_hook(
        &receiver,
        json!({"response": {"ignore": true},
               "auth": {"type": "api_key", "config": {"name": "hook_key", "value": "k-123", "in": "cookie"}}}),
    );
    let Some(srv) = server(
        engine,
        "registration",
        json!({"hooks": [{"hook": "session"}, hook]}),
    )
    .await
    else {
        return;
    };
    let registered = register(&srv, "quiet@example.org", PASSWORD).await;
    assert!(registered["session_token"].is_string());
    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["cookie"], "hook_key=k-123");
    assert_eq!(
        received[0].body["identity"]["traits"]["email"],
        "quiet@example.org"
    );
}

async fn login_web_hook_interrupts_without_a_session(engine: Engine) {
    let receiver = HookReceiver::start().await;
    let hook = web_hook(
        &receiver,
        json!({"can_interrupt": true,
               "auth": {"type": "api_key", "config": {"name": "X-Hook-Key", "value": "k-456"}}}),
    );
    let Some(srv) = server(engine, "login", json!({"hooks": [hook]})).await else {
        return;
    };
    let registered = register(&srv, "blocked@example.org", PASSWORD).await;
    receiver.script([Reply::new(
        400,
        r##"{"messages":[{"instance_ptr":"#","messages":[{"id":4000001,"text":"Your account is on hold."}]}]}"##,
    )]);
    let flow = create_flow(&srv, "login").await;
    let body =
        json!({"method": "password", "identifier": "blocked@example.org", "password": PASSWORD});
    let (status, refused) = submit(&srv, &flow, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(ui_message_ids(&refused), vec![4000001]);
    assert!(refused.get("session_token").is_none());
    let call = &receiver.received()[0];
    assert_eq!(call.headers["x-hook-key"], "k-456");
    assert_eq!(call.body["identity"]["id"], registered["identity"]["id"]);
    assert_eq!(call.body["flow"]["kind"], "login");
    let (status, done) = submit(&srv, &flow, &body).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (status, _) = whoami(&srv, done["session_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

async fn settings_web_hook_parse_sets_metadata_and_revoke_ends_other_sessions(engine: Engine) {
    let receiver = HookReceiver::start().await;
    let hook = web_hook(&receiver, json!({"response": {"parse": true}}));
    let Some(srv) = server(
        engine,
        "settings",
        json!({"profile": {"hooks": [hook]}, "password": {"hooks": [{"hook": "revoke_active_sessions"}]}}),
    )
    .await
    else {
        return;
    };
    let identity = srv.create_identity("settled@example.org").await;
    let (_, token) = srv.issue_session(&identity).await;
    let (_, other) = srv.issue_session(&identity).await;
    receiver.script([Reply::new(
        200,
        r#"{"identity":{"metadata_public":{"tier":"gold"}}}"#,
    )]);
    let flow = settings_flow(&srv, &token).await;
    let (status, updated) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "profile", "traits": {"email": "settled@example.org", "name": {"first": "Grace"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["identity"]["metadata_public"]["tier"], "gold");
    let seen = &receiver.received()[0].body["identity"];
    assert_eq!(
        seen["traits"]["name"]["first"], "Grace",
        "the hook sees the new traits"
    );
    // The profile change revoked nothing; the password change ends the other session.
    assert_eq!(whoami(&srv, &other).await.0, StatusCode::OK);
    let (status, _) = update(
        &srv,
        &flow,
        &token,
        &json!({"method": "password", "password": "another fine passphrase"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(whoami(&srv, &other).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::OK);
    assert_eq!(
        receiver.received().len(),
        1,
        "the password list has no web hook"
    );
}

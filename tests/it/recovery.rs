//! Recovery flows with the code method: codes by mail (through a real SMTP exchange), wrong,
//! exhausted and replayed codes, unknown addresses, the session and settings flow a recovery
//! ends in, and the native, browser and single-page transports.

use crate::browser::{csrf, location, post_form, start};
use crate::native::{create_flow, node, register, submit, ui_message_ids, whoami};
use chrono::TimeDelta;
use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    recovery_api_code_signs_in_and_opens_a_settings_flow,
    recovery_api_wrong_code_answers_200_with_4060006,
    recovery_code_stops_working_after_max_submissions,
    recovery_unknown_address_answers_alike_and_sends_nothing,
    recovery_resend_replaces_the_code,
    recovery_code_is_single_use_under_concurrent_submits,
    recovery_marks_the_address_verified,
    recovery_with_a_session_answers_session_already_available,
    recovery_expired_flow_answers_410_with_replacement,
    recovery_browser_form_signs_in_and_redirects_to_settings,
    recovery_browser_without_csrf_answers_403,
    recovery_spa_answers_422_browser_location_change_required,
    recovery_malformed_submissions_answer_400,
    recovery_disabled_answers_404,
    recovery_of_an_identity_with_a_second_factor_asks_for_it_before_settings,
    recovery_of_a_disabled_identity_answers_4010011_without_a_session,
);

const PASSWORD: &str = "correct horse battery";

/// The subject of recovery mail.
pub(crate) const RECOVERY_SUBJECT: &str = "Recover access to your account";

/// The code of the `n`th recovery mail to `email`.
pub(crate) async fn recovery_code(srv: &TestServer, email: &str, n: usize) -> String {
    srv.mail
        .nth(email, RECOVERY_SUBJECT, n)
        .await
        .code()
        .expect("a six-digit code in the mail")
}

/// A recovery API flow that sent a code to `email`; returns the flow after sending.
pub(crate) async fn sent(srv: &TestServer, email: &str) -> Value {
    let flow = create_flow(srv, "recovery").await;
    let (status, body) = submit(srv, &flow, &json!({"method": "code", "email": email})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn recovery_api_code_signs_in_and_opens_a_settings_flow(srv: TestServer) {
    register(&srv, "lost@example.org", PASSWORD).await;
    let flow = create_flow(&srv, "recovery").await;
    assert_eq!(flow["state"], "choose_method");
    assert_eq!(node(&flow, "email")["attributes"]["type"], "email");
    assert_eq!(node(&flow, "email")["meta"]["label"]["id"], 1070007);
    assert_eq!(node(&flow, "method")["attributes"]["value"], "code");

    let (status, after_send) = submit(
        &srv,
        &flow,
        &json!({"method": "code", "email": "Lost@Example.org"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after_send}");
    assert_eq!(after_send["state"], "sent_email");
    assert_eq!(after_send["active"], "code");
    assert_eq!(ui_message_ids(&after_send), [1060003]);
    assert_eq!(node(&after_send, "code")["meta"]["label"]["id"], 1070010);
    let names: Vec<&str> = after_send["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["attributes"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["code", "method", "method", "email"],
        "the resend button comes last"
    );

    let code = recovery_code(&srv, "lost@example.org", 1).await;
    let (status, done) = submit(&srv, &after_send, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "passed_challenge");
    let continue_with = done["continue_with"].as_array().unwrap();
    assert_eq!(continue_with[0]["action"], "set_ory_session_token");
    assert_eq!(continue_with[1]["action"], "show_settings_ui");
    let token = continue_with[0]["ory_session_token"].as_str().unwrap();
    let settings_id = continue_with[1]["flow"]["id"].as_str().unwrap();

    let (_, whoami) = whoami(&srv, token).await;
    assert_eq!(whoami["identity"]["traits"]["email"], "lost@example.org");
    assert_eq!(
        whoami["authentication_methods"][0]["method"],
        "code_recovery"
    );
    assert_eq!(whoami["authenticator_assurance_level"], "aal1");

    let settings: Value = srv
        .http()
        .get(srv.url(&format!("/self-service/settings/flows?id={settings_id}")))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ui_message_ids(&settings), [1060001]);
    // The fresh session may set a new password at once (no refresh login).
    let (status, changed) = crate::settings::update(
        &srv,
        &settings,
        token,
        &json!({"method": "password", "password": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let (status, _) =
        crate::settings::login(&srv, "lost@example.org", "a brand new passphrase").await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn recovery_api_wrong_code_answers_200_with_4060006(srv: TestServer) {
    register(&srv, "typo@example.org", PASSWORD).await;
    let flow = sent(&srv, "typo@example.org").await;
    let code = recovery_code(&srv, "typo@example.org", 1).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let (status, body) = submit(&srv, &flow, &json!({"method": "code", "code": wrong})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "sent_email");
    assert_eq!(ui_message_ids(&body), [4060006]);
    let (status, body) = submit(&srv, &flow, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["state"], "passed_challenge",
        "a typo does not burn the code"
    );
    srv.stop().await;
}

async fn recovery_code_stops_working_after_max_submissions(srv: TestServer) {
    register(&srv, "guess@example.org", PASSWORD).await;
    let flow = sent(&srv, "guess@example.org").await;
    let code = recovery_code(&srv, "guess@example.org", 1).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        let (status, body) = submit(&srv, &flow, &json!({"method": "code", "code": wrong})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ui_message_ids(&body), [4060006]);
    }
    let (status, body) = submit(&srv, &flow, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["state"], "sent_email",
        "the sixth answer is refused: {body}"
    );
    assert_eq!(ui_message_ids(&body), [4060006]);
    srv.stop().await;
}

async fn recovery_unknown_address_answers_alike_and_sends_nothing(srv: TestServer) {
    register(&srv, "known@example.org", PASSWORD).await;
    let unknown = sent(&srv, "nobody@example.org").await;
    let known = sent(&srv, "known@example.org").await;
    assert_eq!(unknown["state"], known["state"]);
    assert_eq!(ui_message_ids(&unknown), ui_message_ids(&known));
    let strip = |flow: &Value| -> Vec<Value> {
        flow["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let mut n = n.clone();
                n["attributes"]["value"] = Value::Null;
                n
            })
            .collect()
    };
    assert_eq!(strip(&unknown), strip(&known), "same form either way");
    // Mail is delivered in order: once the known address has its mail, the unknown one would
    // have had its own.
    recovery_code(&srv, "known@example.org", 1).await;
    assert!(srv.mail.to("nobody@example.org").is_empty());
    let (status, body) = submit(&srv, &unknown, &json!({"method": "code", "code": "123456"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ui_message_ids(&body), [4060006]);
    srv.stop().await;
}

async fn recovery_resend_replaces_the_code(srv: TestServer) {
    register(&srv, "twice@example.org", PASSWORD).await;
    let flow = sent(&srv, "twice@example.org").await;
    let first = recovery_code(&srv, "twice@example.org", 1).await;
    let resend = node(&flow, "email")["attributes"]["value"].clone();
    assert_eq!(resend, "twice@example.org");
    let (status, _) = submit(&srv, &flow, &json!({"method": "code", "email": resend})).await;
    assert_eq!(status, StatusCode::OK);
    let second = recovery_code(&srv, "twice@example.org", 2).await;
    if first != second {
        let (_, body) = submit(&srv, &flow, &json!({"method": "code", "code": first})).await;
        assert_eq!(
            ui_message_ids(&body),
            [4060006],
            "the first code is replaced"
        );
    }
    let (_, body) = submit(&srv, &flow, &json!({"method": "code", "code": second})).await;
    assert_eq!(body["state"], "passed_challenge");
    srv.stop().await;
}

async fn recovery_code_is_single_use_under_concurrent_submits(srv: TestServer) {
    register(&srv, "race@example.org", PASSWORD).await;
    let flow = sent(&srv, "race@example.org").await;
    let code = recovery_code(&srv, "race@example.org", 1).await;
    let body = json!({"method": "code", "code": code});
    let answers = futures_util::future::join_all((0..4).map(|_| submit(&srv, &flow, &body))).await;
    let won = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::OK && b["state"] == "passed_challenge")
        .count();
    assert_eq!(won, 1, "{answers:?}");
    let (status, again) = submit(&srv, &flow, &body).await;
    assert_ne!(status, StatusCode::OK, "{again}");
    let sessions: Value = srv
        .admin(reqwest::Method::GET, "/admin/sessions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recovered = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["authentication_methods"][0]["method"] == "code_recovery")
        .count();
    assert_eq!(recovered, 1);
    srv.stop().await;
}

async fn recovery_marks_the_address_verified(srv: TestServer) {
    let registered = register(&srv, "proven@example.org", PASSWORD).await;
    assert_eq!(
        registered["identity"]["verifiable_addresses"][0]["verified"],
        false
    );
    let flow = sent(&srv, "proven@example.org").await;
    let code = recovery_code(&srv, "proven@example.org", 1).await;
    let (_, done) = submit(&srv, &flow, &json!({"method": "code", "code": code})).await;
    let token = done["continue_with"][0]["ory_session_token"]
        .as_str()
        .unwrap();
    let (_, whoami) = whoami(&srv, token).await;
    let address = &whoami["identity"]["verifiable_addresses"][0];
    assert_eq!(address["verified"], true);
    assert_eq!(address["status"], "completed");
    srv.stop().await;
}

async fn recovery_with_a_session_answers_session_already_available(srv: TestServer) {
    let registered = register(&srv, "here@example.org", PASSWORD).await;
    let token = registered["session_token"].as_str().unwrap();
    let response = srv
        .http()
        .get(srv.url("/self-service/recovery/api"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["id"], "session_already_available");
    srv.stop().await;
}

async fn recovery_expired_flow_answers_410_with_replacement(srv: TestServer) {
    register(&srv, "late@example.org", PASSWORD).await;
    let flow = sent(&srv, "late@example.org").await;
    let code = recovery_code(&srv, "late@example.org", 1).await;
    srv.clock.advance(TimeDelta::minutes(61));
    let (status, body) = submit(&srv, &flow, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["id"], "self_service_flow_expired");
    assert!(body["use_flow_id"].is_string(), "{body}");
    srv.stop().await;
}

async fn recovery_browser_form_signs_in_and_redirects_to_settings(srv: TestServer) {
    register(&srv, "form-lost@example.org", PASSWORD).await;
    let browser = srv.browser();
    let login = start(&srv, &browser, "login", "").await;
    let login_page = browser
        .get(srv.url(&format!("/ui/login?flow={}", login["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        login_page.contains("recovery&#x2f;browser\" data-testid=\"forgot\""),
        "the login page links to recovery: {login_page}"
    );
    let flow = start(&srv, &browser, "recovery", "").await;
    let response = post_form(
        &browser,
        &flow,
        &[
            ("csrf_token", csrf(&flow).as_str()),
            ("email", "form-lost@example.org"),
            ("method", "code"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = location(&response);
    assert!(
        page.starts_with(srv.url("/ui/recovery?flow=").as_str()),
        "{page}"
    );
    let html = browser
        .get(&page)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"code\""), "the page asks for the code");
    let code = recovery_code(&srv, "form-lost@example.org", 1).await;
    let response = post_form(
        &browser,
        &flow,
        &[
            ("csrf_token", csrf(&flow).as_str()),
            ("code", code.as_str()),
            ("method", "code"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let settings = location(&response);
    assert!(
        settings.starts_with(srv.url("/ui/settings?flow=").as_str()),
        "{settings}"
    );
    assert_eq!(
        crate::browser::whoami_status(&srv, &browser).await,
        StatusCode::OK
    );
    let page = browser.get(&settings).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("You successfully recovered your account")
    );
    srv.stop().await;
}

async fn recovery_browser_without_csrf_answers_403(srv: TestServer) {
    let browser = srv.browser();
    let flow = start(&srv, &browser, "recovery", "").await;
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "code", "email": "x@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["id"], "security_csrf_violation");
    srv.stop().await;
}

async fn recovery_spa_answers_422_browser_location_change_required(srv: TestServer) {
    register(&srv, "spa-lost@example.org", PASSWORD).await;
    let browser = srv.browser();
    let created = browser
        .get(srv.url("/self-service/recovery/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let flow: Value = created.json().await.unwrap();
    let send = |body: Value| {
        browser
            .post(flow["ui"]["action"].as_str().unwrap())
            .header("Accept", "application/json")
            .json(&body)
            .send()
    };
    let response =
        send(json!({"method": "code", "email": "spa-lost@example.org", "csrf_token": csrf(&flow)}))
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let code = recovery_code(&srv, "spa-lost@example.org", 1).await;
    let response = send(json!({"method": "code", "code": code, "csrf_token": csrf(&flow)}))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["id"], "browser_location_change_required");
    let target = body["redirect_browser_to"].as_str().unwrap();
    assert!(
        target.starts_with(srv.url("/ui/settings?flow=").as_str()),
        "{body}"
    );
    assert_eq!(
        crate::browser::whoami_status(&srv, &browser).await,
        StatusCode::OK
    );
    srv.stop().await;
}

async fn recovery_malformed_submissions_answer_400(srv: TestServer) {
    let flow = create_flow(&srv, "recovery").await;
    let (status, body) = submit(&srv, &flow, &json!({"method": "code"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(crate::native::node_message_ids(&body, "email"), [4000002]);
    let (status, body) = submit(
        &srv,
        &flow,
        &json!({"method": "code", "email": "not-an-address"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(crate::native::node_message_ids(&body, "email"), [4000001]);
    let (status, body) = submit(&srv, &flow, &json!({"method": "link", "email": "a@b.c"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ui_message_ids(&body), [4010005]);
    let garbage = srv
        .http()
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    srv.stop().await;
}

async fn recovery_disabled_answers_404(srv: TestServer) {
    let engine = srv.engine;
    srv.stop().await;
    let Some(Ok(srv)) = TestServer::start_with(engine, |config| {
        config.selfservice.flows.recovery.enabled = Some(false);
    })
    .await
    else {
        panic!("the server did not start");
    };
    let response = srv
        .http()
        .get(srv.url("/self-service/recovery/api"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let browser = srv.browser();
    let flow = start(&srv, &browser, "login", "").await;
    let page = browser
        .get(srv.url(&format!("/ui/login?flow={}", flow["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"identifier\""));
    assert!(
        !page.contains("data-testid=\"forgot\""),
        "no recovery link while recovery is off"
    );
    srv.stop().await;
}

async fn recovery_of_an_identity_with_a_second_factor_asks_for_it_before_settings(srv: TestServer) {
    crate::mfa::enrolled(&srv, "second@example.org").await;
    let flow = sent(&srv, "second@example.org").await;
    let code = recovery_code(&srv, "second@example.org", 1).await;
    let (status, done) = submit(&srv, &flow, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let actions: Vec<&str> = done["continue_with"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["set_ory_session_token"],
        "no settings flow before the second factor"
    );

    let browser = srv.browser();
    let flow = start(&srv, &browser, "recovery", "").await;
    post_form(
        &browser,
        &flow,
        &[
            ("csrf_token", csrf(&flow).as_str()),
            ("email", "second@example.org"),
            ("method", "code"),
        ],
    )
    .await;
    let code = recovery_code(&srv, "second@example.org", 2).await;
    let response = post_form(
        &browser,
        &flow,
        &[
            ("csrf_token", csrf(&flow).as_str()),
            ("code", code.as_str()),
            ("method", "code"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    assert!(
        target.starts_with(srv.url("/self-service/login/browser?aal=aal2").as_str())
            && target.contains("return_to="),
        "{target}"
    );
    srv.stop().await;
}

async fn recovery_of_a_disabled_identity_answers_4010011_without_a_session(srv: TestServer) {
    srv.create_identity_from(
        json!({"email": "disabled@example.org"}),
        clavis_types::identity::IdentityState::Inactive,
    )
    .await
    .unwrap();
    let flow = sent(&srv, "disabled@example.org").await;
    let code = recovery_code(&srv, "disabled@example.org", 1).await;
    let (status, body) = submit(&srv, &flow, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(ui_message_ids(&body), [4010011]);
    assert!(body["continue_with"].is_null(), "no session: {body}");
    srv.stop().await;
}

//! Verification flows with the code method: the code a new identity is sent at registration,
//! codes asked for later, the link in the mail (opened in any browser), wrong and replayed
//! codes; and the courier's outbox behind them (admin API, retries).

use crate::browser::{csrf, location, post_form, start};
use crate::native::{create_flow, register, submit, ui_message_ids, whoami};
use clavis_testkit::{TestServer, db_tests};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

db_tests!(
    verification_starts_at_registration_and_the_code_verifies,
    verification_link_verifies_in_another_browser_once,
    verification_wrong_code_answers_200_with_4070006,
    verification_unknown_address_is_told_only_when_configured,
    courier_admin_lists_messages_with_filters_and_pages,
    courier_failed_delivery_is_retried_then_abandoned,
);

const PASSWORD: &str = "correct horse battery";
const VERIFY_SUBJECT: &str = "Please verify your email address";

async fn whoami_address(srv: &TestServer, token: &str) -> Value {
    let (_, whoami) = whoami(srv, token).await;
    whoami["identity"]["verifiable_addresses"][0].clone()
}

async fn verification_starts_at_registration_and_the_code_verifies(srv: TestServer) {
    let registered = register(&srv, "fresh@example.org", PASSWORD).await;
    let token = registered["session_token"].as_str().unwrap();
    let show = registered["continue_with"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "show_verification_ui")
        .unwrap_or_else(|| panic!("no show_verification_ui in {registered}"));
    assert_eq!(show["flow"]["verifiable_address"], "fresh@example.org");
    let id = show["flow"]["id"].as_str().unwrap();
    let flow: Value = srv
        .http()
        .get(srv.url(&format!("/self-service/verification/flows?id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flow["state"], "sent_email");
    assert_eq!(ui_message_ids(&flow), [1080003]);
    assert_eq!(whoami_address(&srv, token).await["verified"], false);

    let mail = srv.mail.nth("fresh@example.org", VERIFY_SUBJECT, 1).await;
    let code = mail.code().unwrap();
    assert!(
        mail.link(&format!("flow={id}&code={code}")).is_some(),
        "{}",
        mail.text
    );
    let (status, done) = submit(&srv, &flow, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "passed_challenge");
    assert_eq!(ui_message_ids(&done), [1080002]);
    assert_eq!(done["ui"]["nodes"][0]["attributes"]["id"], "continue");
    let address = whoami_address(&srv, token).await;
    assert_eq!(address["verified"], true);
    assert_eq!(address["status"], "completed");
    let (status, again) = submit(&srv, &flow, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    srv.stop().await;
}

async fn verification_link_verifies_in_another_browser_once(srv: TestServer) {
    let registered = register(&srv, "linked@example.org", PASSWORD).await;
    let token = registered["session_token"].as_str().unwrap();
    let asking = srv.browser();
    let flow = start(&srv, &asking, "verification", "").await;
    let response = post_form(
        &asking,
        &flow,
        &[
            ("csrf_token", csrf(&flow).as_str()),
            ("email", "linked@example.org"),
            ("method", "code"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id = flow["id"].as_str().unwrap();
    let mail = srv.mail.nth("linked@example.org", VERIFY_SUBJECT, 2).await;
    let link = mail.link(&format!("flow={id}")).unwrap();

    let elsewhere = srv.browser();
    let clicked = elsewhere.get(&link).send().await.unwrap();
    assert_eq!(clicked.status(), StatusCode::SEE_OTHER);
    let page_url = location(&clicked);
    assert_eq!(
        page_url,
        format!("{}?flow={id}", srv.url("/ui/verification"))
    );
    let page = elsewhere.get(&page_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("You successfully verified your email address.")
    );
    assert_eq!(whoami_address(&srv, token).await["verified"], true);

    let replayed = elsewhere.get(&link).send().await.unwrap();
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    assert!(location(&replayed).starts_with(srv.url("/ui/error?id=").as_str()));
    srv.stop().await;
}

async fn verification_wrong_code_answers_200_with_4070006(srv: TestServer) {
    register(&srv, "wrong@example.org", PASSWORD).await;
    let flow = create_flow(&srv, "verification").await;
    let (status, sent) = submit(
        &srv,
        &flow,
        &json!({"method": "code", "email": "wrong@example.org"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sent["state"], "sent_email");
    let code = srv
        .mail
        .nth("wrong@example.org", VERIFY_SUBJECT, 2)
        .await
        .code()
        .unwrap();
    let wrong = if code == "999999" { "999998" } else { "999999" };
    let (status, body) = submit(&srv, &sent, &json!({"method": "code", "code": wrong})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ui_message_ids(&body), [4070006]);
    // A recovery code can never pass as a verification code, even for the same flow id.
    let (status, body) = submit(&srv, &sent, &json!({"method": "code", "code": code})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["state"], "passed_challenge");
    srv.stop().await;
}

async fn verification_unknown_address_is_told_only_when_configured(srv: TestServer) {
    let engine = srv.engine;
    srv.stop().await;
    let Some(Ok(srv)) = TestServer::start_with(engine, |config| {
        config
            .selfservice
            .flows
            .verification
            .notify_unknown_recipients = true;
    })
    .await
    else {
        panic!("the server did not start");
    };
    let flow = create_flow(&srv, "verification").await;
    let (status, body) = submit(
        &srv,
        &flow,
        &json!({"method": "code", "email": "stranger@example.org"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ui_message_ids(&body), [1080003]);
    let told = srv
        .mail
        .nth(
            "stranger@example.org",
            "Someone tried to verify this email address",
            1,
        )
        .await;
    assert_eq!(told.code(), None, "no code for an address of no account");
    srv.stop().await;
}

async fn courier_admin_lists_messages_with_filters_and_pages(srv: TestServer) {
    register(&srv, "first@example.org", PASSWORD).await;
    srv.clock.advance(chrono::TimeDelta::seconds(1));
    register(&srv, "second@example.org", PASSWORD).await;
    srv.mail.nth("second@example.org", VERIFY_SUBJECT, 1).await;
    srv.mail.nth("first@example.org", VERIFY_SUBJECT, 1).await;
    // Delivery is recorded right after the relay accepts, so wait for both to be marked sent.
    let mut sent = Value::Null;
    for _ in 0..100 {
        let (_, body, _) = list(&srv, "?status=sent").await;
        if body.as_array().is_some_and(|a| a.len() == 2) {
            sent = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sent = sent.as_array().expect("both messages marked sent");
    assert_eq!(sent[0]["recipient"], "second@example.org", "newest first");
    assert_eq!(sent[0]["template_type"], "verification_code_valid");
    assert_eq!(sent[0]["send_count"], 1);
    assert_eq!(sent[0]["dispatches"][0]["status"], "success");
    let (_, only, _) = list(&srv, "?recipient=first@example.org").await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    let (_, page, link) = list(&srv, "?page_size=1").await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert!(link.unwrap().contains("rel=\"next\""));
    let id = sent[1]["id"].as_str().unwrap();
    let (status, one, _) = list_one(&srv, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["recipient"], "first@example.org");
    let (status, _, _) = list(&srv, "?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = list_one(&srv, "00000000-0000-4000-8000-000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    srv.stop().await;
}

async fn list(srv: &TestServer, query: &str) -> (StatusCode, Value, Option<String>) {
    let response = srv
        .admin(Method::GET, &format!("/admin/courier/messages{query}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let link = response
        .headers()
        .get("link")
        .map(|l| l.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap(), link)
}

async fn list_one(srv: &TestServer, id: &str) -> (StatusCode, Value, Option<String>) {
    let response = srv
        .admin(Method::GET, &format!("/admin/courier/messages/{id}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap(), None)
}

async fn courier_failed_delivery_is_retried_then_abandoned(srv: TestServer) {
    let engine = srv.engine;
    srv.stop().await;
    // A port nobody listens on: bound, read and released again.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let Some(Ok(srv)) = TestServer::start_with(engine, |config| {
        config.courier.smtp.connection_uri =
            Some(format!("smtp://127.0.0.1:{port}/?disable_starttls=true"));
        config.courier.message_retries = 2;
    })
    .await
    else {
        panic!("the server did not start");
    };
    register(&srv, "unreachable@example.org", PASSWORD).await;
    let mut message = Value::Null;
    for _ in 0..100 {
        let list: Value = srv
            .admin(Method::GET, "/admin/courier/messages?status=abandoned")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(first) = list.as_array().and_then(|a| a.first()) {
            message = first.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(message["status"], "abandoned", "{message}");
    assert_eq!(message["send_count"], 2);
    let dispatches = message["dispatches"].as_array().unwrap();
    assert_eq!(dispatches.len(), 2);
    assert!(
        dispatches
            .iter()
            .all(|d| d["status"] == "failed" && d["error"]["message"].is_string())
    );
    srv.stop().await;
}

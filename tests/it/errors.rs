//! Self-service errors of plain browser forms: kept, shown through the error page, readable by
//! id; and the session-token exchange of native apps.

use crate::browser::error_page;
use crate::native::{create_flow, register};
use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::Value;

db_tests!(
    browser_init_errors_go_to_the_error_page_and_json_gets_them_directly,
    unknown_or_malformed_error_ids_answer_404,
    token_exchange_code_is_issued_once_and_redeemed_once,
    token_exchange_refuses_missing_and_wrong_codes,
);

async fn browser_init_errors_go_to_the_error_page_and_json_gets_them_directly(srv: TestServer) {
    let forbidden = "/self-service/login/browser?return_to=https://evil.example.net/";
    let response = srv
        .browser()
        .get(srv.url(forbidden))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    let kept = error_page(&srv, response).await;
    assert_eq!(kept["error"]["id"], "self_service_flow_return_to_forbidden");
    assert_eq!(kept["error"]["code"], 400);
    assert!(kept["created_at"].is_string() && kept["updated_at"].is_string());

    let response = srv
        .browser()
        .get(srv.url(forbidden))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error["error"]["id"],
        "self_service_flow_return_to_forbidden"
    );
    srv.stop().await;
}

async fn unknown_or_malformed_error_ids_answer_404(srv: TestServer) {
    for id in ["0e0e0e0e-0000-4000-8000-000000000000", "not-a-uuid"] {
        let response = srv
            .http()
            .get(srv.url(&format!("/self-service/errors?id={id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
    }
    let response = srv
        .http()
        .get(srv.url("/self-service/errors"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    srv.stop().await;
}

async fn exchange(srv: &TestServer, init: &str, back: &str) -> reqwest::Response {
    srv.http()
        .get(srv.url("/sessions/token-exchange"))
        .query(&[("init_code", init), ("return_to_code", back)])
        .send()
        .await
        .unwrap()
}

async fn token_exchange_code_is_issued_once_and_redeemed_once(srv: TestServer) {
    let registered = register(&srv, "exchange@example.org", "correct horse battery").await;
    let created: Value = srv
        .http()
        .get(
            srv.url("/self-service/login/api?return_session_token_exchange_code=true&refresh=true"),
        )
        .header(
            "X-Session-Token",
            registered["session_token"].as_str().unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let init = created["session_token_exchange_code"].as_str().unwrap();
    assert_eq!(init.len(), 64);
    assert!(init.bytes().all(|b| b.is_ascii_alphanumeric()));
    let read: Value = srv
        .http()
        .get(srv.url(&format!(
            "/self-service/login/flows?id={}",
            created["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        read.get("session_token_exchange_code").is_none(),
        "the code is shown once"
    );
    let plain = create_flow(&srv, "registration").await;
    assert!(plain.get("session_token_exchange_code").is_none());

    // Before a session is attached the codes lead nowhere.
    assert_eq!(
        exchange(&srv, init, "anything").await.status(),
        StatusCode::NOT_FOUND
    );

    // A method that finishes the flow in a browser attaches the session.
    let flow_id = uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
    let session_id = uuid::Uuid::parse_str(registered["session"]["id"].as_str().unwrap()).unwrap();
    let back = srv
        .services()
        .exchanges
        .complete(flow_id.into(), session_id.into())
        .await
        .unwrap()
        .expect("the flow has an open exchange");
    // Two apps racing with the same codes: exactly one gets the session.
    let (first, second) = tokio::join!(
        exchange(&srv, init, back.expose()),
        exchange(&srv, init, back.expose())
    );
    let (response, loser) = if first.status() == StatusCode::OK {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(loser.status(), StatusCode::NOT_FOUND, "redeemed once");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["session"]["id"], registered["session"]["id"]);
    assert_eq!(
        answer["session"]["identity"]["traits"]["email"],
        "exchange@example.org"
    );
    let token = answer["session_token"].as_str().unwrap();
    assert!(token.starts_with("clv_st_"));
    let (status, _) = crate::native::whoami(&srv, token).await;
    assert_eq!(status, StatusCode::OK, "the minted token works");

    assert_eq!(
        exchange(&srv, init, back.expose()).await.status(),
        StatusCode::NOT_FOUND,
        "redeemed once"
    );
    srv.stop().await;
}

async fn token_exchange_refuses_missing_and_wrong_codes(srv: TestServer) {
    let response = srv
        .http()
        .get(srv.url("/sessions/token-exchange?init_code=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        exchange(&srv, "wrong", "codes").await.status(),
        StatusCode::NOT_FOUND
    );
    let browser_flow = srv
        .browser()
        .get(srv.url("/self-service/login/browser?return_session_token_exchange_code=true"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let browser_flow: Value = browser_flow.json().await.unwrap();
    assert!(
        browser_flow.get("session_token_exchange_code").is_none(),
        "only API flows exchange tokens"
    );
    srv.stop().await;
}

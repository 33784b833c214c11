//! Native logout.

use crate::native::{register, whoami};
use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    logout_api_revokes_the_session_once,
    logout_api_bad_requests_are_refused
);

async fn logout_api_revokes_the_session_once(srv: TestServer) {
    let answer = register(&srv, "bye@example.org", "correct horse battery").await;
    let token = answer["session_token"].as_str().unwrap();
    let logout = || {
        srv.http()
            .delete(srv.url("/self-service/logout/api"))
            .json(&json!({"session_token": token}))
            .send()
    };
    assert_eq!(logout().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(whoami(&srv, token).await.0, StatusCode::UNAUTHORIZED);
    let again = logout().await.unwrap();
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    let error: Value = again.json().await.unwrap();
    assert_eq!(error["error"]["code"], 403);
    srv.stop().await;
}

async fn logout_api_bad_requests_are_refused(srv: TestServer) {
    let url = srv.url("/self-service/logout/api");
    let missing = srv
        .http()
        .delete(url.clone())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let unknown = srv
        .http()
        .delete(url.clone())
        .json(&json!({"session_token": "clv_st_unknown"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::FORBIDDEN);
    let garbage = srv
        .http()
        .delete(url)
        .header("Content-Type", "application/json")
        .body("[1,2")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    srv.stop().await;
}

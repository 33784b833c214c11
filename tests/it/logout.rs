//! Logout for native apps and browsers.

use crate::native::{register, whoami};
use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

db_tests!(
    logout_api_revokes_the_session_once,
    logout_api_bad_requests_are_refused,
    logout_browser_url_ends_the_session_and_clears_the_cookie,
    logout_browser_needs_a_session_and_an_allowed_return_to,
    logout_browser_token_is_single_use_and_replaced_by_newer_ones,
);

/// A browser signed in through a registration form; returns the client.
async fn signed_in_browser(srv: &TestServer, email: &str) -> reqwest::Client {
    let browser = srv.browser();
    let flow: Value = browser
        .get(srv.url("/self-service/registration/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = crate::native::node(&flow, "csrf_token")["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("traits.email", email),
            ("password", "correct horse battery"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    browser
}

async fn logout_flow(
    srv: &TestServer,
    browser: &reqwest::Client,
    query: &str,
) -> reqwest::Response {
    browser
        .get(srv.url(&format!("/self-service/logout/browser{query}")))
        .send()
        .await
        .unwrap()
}

async fn logout_browser_url_ends_the_session_and_clears_the_cookie(srv: TestServer) {
    let browser = signed_in_browser(&srv, "leaving@example.org").await;
    let response = logout_flow(&srv, &browser, "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let flow: Value = response.json().await.unwrap();
    let token = flow["logout_token"].as_str().unwrap();
    assert!(token.starts_with("clv_lo_"));
    assert_eq!(
        flow["logout_url"],
        srv.url(&format!("/self-service/logout?token={token}"))
            .as_str()
    );
    let response = browser
        .get(flow["logout_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        srv.url("/ui/welcome").as_str()
    );
    let cleared = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("clavis_session="));
    assert!(cleared.unwrap().contains("Max-Age=0"));
    let whoami = browser
        .get(srv.url("/sessions/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(whoami.status(), StatusCode::UNAUTHORIZED);
    srv.stop().await;
}

async fn logout_browser_needs_a_session_and_an_allowed_return_to(srv: TestServer) {
    let stranger = logout_flow(&srv, &srv.browser(), "").await;
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    let browser = signed_in_browser(&srv, "returning@example.org").await;
    let foreign = logout_flow(
        &srv,
        &browser,
        "?return_to=https%3A%2F%2Fevil.example.net%2F",
    )
    .await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    let error: Value = foreign.json().await.unwrap();
    assert_eq!(
        error["error"]["id"],
        "self_service_flow_return_to_forbidden"
    );
    let target = srv.url("/ui/login");
    let escaped = target.as_str().replace(':', "%3A").replace('/', "%2F");
    let allowed: Value = logout_flow(&srv, &browser, &format!("?return_to={escaped}"))
        .await
        .json()
        .await
        .unwrap();
    let response = browser
        .get(allowed["logout_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], target.as_str());
    srv.stop().await;
}

async fn logout_browser_token_is_single_use_and_replaced_by_newer_ones(srv: TestServer) {
    let browser = signed_in_browser(&srv, "tokens@example.org").await;
    let first: Value = logout_flow(&srv, &browser, "").await.json().await.unwrap();
    let second: Value = logout_flow(&srv, &browser, "").await.json().await.unwrap();
    let stale = srv
        .http()
        .get(first["logout_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.status(),
        StatusCode::FORBIDDEN,
        "an older logout URL no longer works"
    );
    let spa = srv
        .http()
        .get(second["logout_url"].as_str().unwrap())
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(spa.status(), StatusCode::NO_CONTENT);
    let replay = srv
        .http()
        .get(second["logout_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::FORBIDDEN);
    let missing = srv
        .http()
        .get(srv.url("/self-service/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    srv.stop().await;
}

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

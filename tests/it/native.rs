//! Helpers for native (API) self-service flows.

use clavis_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Creates an API flow of `kind` and returns its JSON.
pub async fn create_flow(srv: &TestServer, kind: &str) -> Value {
    let response = srv
        .http()
        .get(srv.url(&format!("/self-service/{kind}/api")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "creating a {kind} flow");
    response.json().await.unwrap()
}

/// Submits `body` as JSON to a flow's `ui.action`.
pub async fn submit(srv: &TestServer, flow: &Value, body: &Value) -> (StatusCode, Value) {
    let action = flow["ui"]["action"].as_str().unwrap();
    let response = srv.http().post(action).json(body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Registers `email` with `password` through a native registration flow; returns the answer.
pub async fn register(srv: &TestServer, email: &str, password: &str) -> Value {
    let flow = create_flow(srv, "registration").await;
    let (status, body) = submit(
        srv,
        &flow,
        &json!({"method": "password", "password": password, "traits": {"email": email}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The ids of the form-level messages of a flow.
pub fn ui_message_ids(flow: &Value) -> Vec<u64> {
    flow["ui"]["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["id"].as_u64()).collect())
        .unwrap_or_default()
}

/// The node named `name`.
pub fn node<'a>(flow: &'a Value, name: &str) -> &'a Value {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == name)
        .unwrap_or_else(|| panic!("no node {name} in {flow}"))
}

/// The message ids on the node named `name`.
pub fn node_message_ids(flow: &Value, name: &str) -> Vec<u64> {
    node(flow, name)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_u64())
        .collect()
}

/// `GET /sessions/whoami` with a session token.
pub async fn whoami(srv: &TestServer, token: &str) -> (StatusCode, Value) {
    let response = srv
        .http()
        .get(srv.url("/sessions/whoami"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

//! `docs/api/openapi.json` describes Clavis' own endpoints (Login Flow v2, the approval page,
//! Devices & apps, OCS): every operation it lists is served, under the method it names.

use clavis_testkit::{TestServer, db_tests};
use reqwest::{Method, StatusCode};
use serde_json::Value;

db_tests!(openapi_document_lists_only_served_operations);

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api/openapi.json");
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Whether an answer is the fallback for paths no route claims (a 404 without a reason) or a
/// method the route does not take.
async fn unrouted(response: reqwest::Response) -> bool {
    let status = response.status();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        return true;
    }
    if status != StatusCode::NOT_FOUND {
        return false;
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["error"]["message"] == "The requested resource could not be found"
        && body["error"]["reason"].is_null()
}

async fn openapi_document_lists_only_served_operations(srv: TestServer) {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 16, "{}", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{token}", &"x".repeat(128))
            .replace("{id}", "0e0e0e0e-0000-4000-8000-000000000001");
        for (method, operation) in item.as_object().unwrap() {
            assert!(operation["operationId"].is_string(), "{method} {path}");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = srv
                .http()
                .request(method.clone(), srv.url(&concrete))
                .send()
                .await
                .unwrap();
            assert!(!unrouted(response).await, "{method} {path} is not served");
            operations += 1;
        }
    }
    assert!(operations >= 20, "{operations}");
    // The check can fail: a path nobody serves is caught.
    let response = srv
        .http()
        .get(srv.url("/ocs/v2.php/core/nothing"))
        .send()
        .await
        .unwrap();
    assert!(unrouted(response).await);
}

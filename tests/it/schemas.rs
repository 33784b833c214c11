//! `GET /schemas`, `GET /schemas/{id}` and the admin listener's redirect to them.

use clavis_testkit::{TestServer, db_tests};
use reqwest::StatusCode;
use serde_json::Value;

db_tests!(
    schemas_list_contains_default_schema,
    schemas_get_by_id_and_by_base64url_id,
    schemas_get_unknown_answers_404_envelope,
    schemas_on_admin_port_redirect_to_public,
    identity_schema_url_resolves_to_its_schema,
);

async fn schemas_list_contains_default_schema(srv: TestServer) {
    let response = srv.http().get(srv.url("/schemas")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "default");
    assert_eq!(
        list[0]["schema"]["properties"]["traits"]["properties"]["email"]["ory.sh/kratos"]["credentials"]
            ["password"]["identifier"],
        true
    );
    srv.stop().await;
}

async fn schemas_get_by_id_and_by_base64url_id(srv: TestServer) {
    let plain: Value = srv
        .http()
        .get(srv.url("/schemas/default"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain["$id"], "clavis://identity-schemas/default");
    // base64url("default") without padding, as Kratos puts it into `schema_url`.
    let encoded: Value = srv
        .http()
        .get(srv.url("/schemas/ZGVmYXVsdA"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain, encoded);
    srv.stop().await;
}

async fn schemas_get_unknown_answers_404_envelope(srv: TestServer) {
    let response = srv
        .http()
        .get(srv.url("/schemas/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 404);
    assert!(body["error"]["reason"].as_str().unwrap().contains("nope"));
    srv.stop().await;
}

async fn schemas_on_admin_port_redirect_to_public(srv: TestServer) {
    let response = srv
        .http()
        .get(srv.admin_url("/admin/schemas/default"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        response.headers()["location"],
        srv.url("/schemas/default").as_str()
    );
    srv.stop().await;
}

async fn identity_schema_url_resolves_to_its_schema(srv: TestServer) {
    let identity = srv.create_identity("schema-url@example.org").await;
    let (_, token) = srv.issue_session(&identity).await;
    let whoami: Value = srv
        .http()
        .get(srv.url("/sessions/whoami"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schema_url = whoami["identity"]["schema_url"].as_str().unwrap();
    assert_eq!(schema_url, srv.url("/schemas/ZGVmYXVsdA").as_str());
    let schema: Value = srv
        .http()
        .get(schema_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(schema["$id"], "clavis://identity-schemas/default");
    srv.stop().await;
}

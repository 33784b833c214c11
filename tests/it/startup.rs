//! Start-up refuses configurations it cannot serve, with a message that names the problem.

use clavis_testkit::{Engine, TestServer};

#[tokio::test]
async fn startup_invalid_identity_schema_is_refused_with_reason() {
    use base64::Engine as _;
    let broken = r#"{"type": "object", "properties": {"name": {"type": "string"}}}"#;
    let result = TestServer::start_with(Engine::Sqlite, |config| {
        config.identity.default_schema_id = "broken".to_owned();
        config.identity.schemas = vec![clavis_testkit::SchemaSource {
            id: "broken".to_owned(),
            url: format!(
                "base64://{}",
                base64::engine::general_purpose::STANDARD.encode(broken)
            ),
        }];
    })
    .await
    .unwrap();
    let Err(error) = result else {
        panic!("a schema without traits must be refused")
    };
    let message = error.to_string();
    assert!(
        message.contains("identity schema `broken` is invalid"),
        "{message}"
    );
    assert!(message.contains("traits"), "{message}");
}

#[tokio::test]
async fn startup_configured_schemas_are_served() {
    use base64::Engine as _;
    let custom = clavis_core_schema();
    let result = TestServer::start_with(Engine::Sqlite, |config| {
        config.identity.default_schema_id = "customer".to_owned();
        config.identity.schemas = vec![clavis_testkit::SchemaSource {
            id: "customer".to_owned(),
            url: format!(
                "base64://{}",
                base64::engine::general_purpose::STANDARD.encode(&custom)
            ),
        }];
    })
    .await
    .unwrap();
    let srv = result.unwrap();
    let list: serde_json::Value = srv
        .http()
        .get(srv.url("/schemas"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["id"], "customer");
    let created = srv
        .create_identity_from(
            serde_json::json!({"username": "x"}),
            clavis_types::identity::IdentityState::Active,
        )
        .await;
    assert!(created.is_ok(), "{created:?}");
    let refused = srv
        .create_identity_from(
            serde_json::json!({"username": 7}),
            clavis_types::identity::IdentityState::Active,
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("identity schema"), "{refused}");
    srv.stop().await;
}

fn clavis_core_schema() -> String {
    serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"traits": {"type": "object", "properties": {
            "username": {"type": "string", "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}
        }, "required": ["username"]}}
    })
    .to_string()
}

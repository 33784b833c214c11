use super::*;
use crate::identity::CredentialKind;
use serde_json::json;

fn schema_with_traits(traits: Value) -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": { "traits": traits }
    })
}

#[test]
fn builtin_default_schema_compiles() {
    let registry = SchemaRegistry::builtin().unwrap();
    assert_eq!(registry.default_id(), "default");
    assert!(registry.get("default").is_some());
}

#[test]
fn default_schema_derives_identifier_and_addresses_normalised() {
    let registry = SchemaRegistry::builtin().unwrap();
    let extract = registry
        .get("default")
        .unwrap()
        .validate_traits(&json!({"email": "Alice@Example.ORG", "name": {"first": "Alice"}}))
        .unwrap();
    assert_eq!(
        extract.identifiers.get(&CredentialKind::Password),
        Some(&vec!["alice@example.org".to_owned()])
    );
    assert_eq!(
        extract.verifiable_addresses,
        vec![(AddressVia::Email, "alice@example.org".to_owned())]
    );
    assert_eq!(
        extract.recovery_addresses,
        vec![(AddressVia::Email, "alice@example.org".to_owned())]
    );
}

#[test]
fn default_schema_rejects_bad_email_missing_email_and_unknown_trait() {
    let registry = SchemaRegistry::builtin().unwrap();
    let schema = registry.get("default").unwrap();
    let bad_format = schema
        .validate_traits(&json!({"email": "not-an-email"}))
        .unwrap_err();
    assert_eq!(bad_format[0].pointer, "/traits/email");
    let missing = schema.validate_traits(&json!({})).unwrap_err();
    assert_eq!(missing[0].pointer, "/traits");
    assert!(missing[0].message.contains("email"), "{missing:?}");
    let unknown = schema
        .validate_traits(&json!({"email": "a@b.co", "nickname": "x"}))
        .unwrap_err();
    assert!(unknown[0].message.contains("nickname"), "{unknown:?}");
}

#[test]
fn schema_without_traits_fails_the_meta_schema() {
    let raw = json!({"type": "object", "properties": {"name": {"type": "string"}}});
    let err = SchemaRegistry::new("x", vec![("x".into(), raw)]).unwrap_err();
    match err {
        SchemaError::Invalid { id, problems } => {
            assert_eq!(id, "x");
            assert!(problems.contains("traits"), "{problems}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn verification_on_a_trait_without_known_format_fails_the_meta_schema() {
    let raw = schema_with_traits(json!({
        "type": "object",
        "properties": {"email": {"type": "string", "format": "uri", "ory.sh/kratos": {"verification": {"via": "email"}}}}
    }));
    assert!(matches!(
        SchemaRegistry::new("x", vec![("x".into(), raw)]),
        Err(SchemaError::Invalid { .. })
    ));
}

#[test]
fn unknown_extension_key_fails_the_meta_schema() {
    let raw = schema_with_traits(json!({
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email", "ory.sh/kratos": {"credentials": {"pasword": {"identifier": true}}}}}
    }));
    assert!(matches!(
        SchemaRegistry::new("x", vec![("x".into(), raw)]),
        Err(SchemaError::Invalid { .. })
    ));
}

#[test]
fn remote_ref_is_refused_offline() {
    let raw = schema_with_traits(json!({
        "type": "object",
        "properties": {"email": {"$ref": "https://example.invalid/email.json"}}
    }));
    assert!(matches!(
        SchemaRegistry::new("x", vec![("x".into(), raw)]),
        Err(SchemaError::Invalid { .. })
    ));
}

#[test]
fn duplicate_ids_and_unknown_default_are_refused() {
    let raw: Value = serde_json::from_str(DEFAULT_SCHEMA).unwrap();
    assert_eq!(
        SchemaRegistry::new(
            "a",
            vec![("a".into(), raw.clone()), ("a".into(), raw.clone())]
        )
        .unwrap_err(),
        SchemaError::Duplicate("a".into())
    );
    assert_eq!(
        SchemaRegistry::new("b", vec![("a".into(), raw)]).unwrap_err(),
        SchemaError::UnknownDefault("b".into())
    );
}

#[test]
fn local_refs_and_arrays_are_followed_for_addresses() {
    let raw = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {
            "email": {"type": "string", "format": "email",
                      "ory.sh/kratos": {"recovery": {"via": "email"}, "credentials": {"password": {"identifier": true}}}}
        },
        "type": "object",
        "properties": {"traits": {"type": "object", "properties": {
            "emails": {"type": "array", "items": {"$ref": "#/definitions/email"}}
        }}}
    });
    let registry = SchemaRegistry::new("x", vec![("x".into(), raw)]).unwrap();
    let extract = registry
        .get("x")
        .unwrap()
        .validate_traits(&json!({"emails": ["A@x.io", "b@x.io", "a@x.io"]}))
        .unwrap();
    assert_eq!(
        extract.identifiers.get(&CredentialKind::Password),
        Some(&vec!["a@x.io".to_owned(), "b@x.io".to_owned()])
    );
    assert_eq!(extract.recovery_addresses.len(), 2);
}

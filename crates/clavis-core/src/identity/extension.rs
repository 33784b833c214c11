//! The `ory.sh/kratos` extension: which trait values are credential identifiers, verifiable
//! addresses and recovery addresses.

use super::CredentialKind;
use serde_json::Value;
use std::collections::BTreeMap;

/// How an address is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressVia {
    Email,
    Sms,
}

impl AddressVia {
    /// The stored and wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            AddressVia::Email => "email",
            AddressVia::Sms => "sms",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

/// What the extension derives from a set of traits. Values are normalised (trimmed, and e-mail
/// addresses lowercased) and deduplicated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraitsExtract {
    pub identifiers: BTreeMap<CredentialKind, Vec<String>>,
    pub verifiable_addresses: Vec<(AddressVia, String)>,
    pub recovery_addresses: Vec<(AddressVia, String)>,
}

impl TraitsExtract {
    fn push_identifier(&mut self, kind: CredentialKind, value: String) {
        let list = self.identifiers.entry(kind).or_default();
        if !list.contains(&value) {
            list.push(value);
        }
    }
}

fn push_address(list: &mut Vec<(AddressVia, String)>, via: AddressVia, value: String) {
    if !list
        .iter()
        .any(|(v, existing)| *v == via && *existing == value)
    {
        list.push((via, value));
    }
}

/// Walks `traits` alongside the schema's `properties.traits` and collects what the extension
/// marks. Local `$ref`s (`#/...`) are followed; the traits are assumed to have passed validation.
pub fn extract(schema: &Value, traits: &Value) -> TraitsExtract {
    let mut out = TraitsExtract::default();
    if let Some(node) = schema.pointer("/properties/traits") {
        walk(schema, node, traits, &mut out, 0);
    }
    out
}

const MAX_DEPTH: usize = 32;

fn walk(root: &Value, node: &Value, value: &Value, out: &mut TraitsExtract, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let node = resolve(root, node);
    if let (Some(ext), Some(text)) = (node.get("ory.sh/kratos"), value.as_str()) {
        let normalised = normalise(node, text);
        apply(ext, normalised, out);
    }
    if let (Some(properties), Some(object)) = (
        node.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for (name, child) in properties {
            if let Some(child_value) = object.get(name) {
                walk(root, child, child_value, out, depth + 1);
            }
        }
    }
    if let (Some(items), Some(array)) = (node.get("items"), value.as_array()) {
        for element in array {
            walk(root, items, element, out, depth + 1);
        }
    }
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut current = node;
    for _ in 0..MAX_DEPTH {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => match root.pointer(pointer) {
                Some(target) => current = target,
                None => return current,
            },
            None => return current,
        }
    }
    current
}

fn normalise(node: &Value, text: &str) -> String {
    let trimmed = text.trim();
    if node.get("format").and_then(Value::as_str) == Some("email") {
        trimmed.to_lowercase()
    } else {
        trimmed.to_owned()
    }
}

fn apply(ext: &Value, value: String, out: &mut TraitsExtract) {
    let flag = |path: &str| ext.pointer(path).and_then(Value::as_bool).unwrap_or(false);
    let via = |path: &str| {
        ext.pointer(path)
            .and_then(Value::as_str)
            .and_then(AddressVia::parse)
    };
    if flag("/credentials/password/identifier") {
        out.push_identifier(CredentialKind::Password, value.clone());
    }
    if flag("/credentials/webauthn/identifier") {
        out.push_identifier(CredentialKind::Webauthn, value.clone());
    }
    if flag("/credentials/code/identifier") {
        out.push_identifier(CredentialKind::Code, value.clone());
    }
    if let Some(via) = via("/verification/via") {
        push_address(&mut out.verifiable_addresses, via, value.clone());
    }
    if let Some(via) = via("/recovery/via") {
        push_address(&mut out.recovery_addresses, via, value);
    }
}

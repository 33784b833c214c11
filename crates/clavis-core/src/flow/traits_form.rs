//! Trait fields of registration (and later settings) forms, generated from the identity
//! schema, and schema violations turned into messages on those fields.

use super::method::FieldMessage;
use crate::identity::{IdentitySchema, TraitViolation};
use clavis_types::message;
use clavis_types::ui::{Attributes, InputType, Message, Node, NodeGroup};
use serde_json::Value;

/// One input per leaf trait, named `traits.<path>`, in schema order.
pub fn trait_nodes(schema: &IdentitySchema, values: Option<&Value>) -> Vec<Node> {
    let mut out = Vec::new();
    if let Some(traits) = schema.raw().pointer("/properties/traits") {
        walk(schema.raw(), traits, "traits", false, values, &mut out, 0);
    }
    out
}

fn walk(
    root: &Value,
    node: &Value,
    name: &str,
    required: bool,
    values: Option<&Value>,
    out: &mut Vec<Node>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    let node = resolve(root, node);
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        let required_list: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (key, child) in properties {
            let child_name = format!("{name}.{key}");
            let child_value = values.and_then(|v| v.get(key));
            walk(
                root,
                child,
                &child_name,
                required_list.contains(&key.as_str()),
                child_value,
                out,
                depth + 1,
            );
        }
        return;
    }
    if name == "traits" {
        return;
    }
    out.push(leaf(node, name, required, values));
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => root.pointer(pointer).unwrap_or(node),
        None => node,
    }
}

fn leaf(schema: &Value, name: &str, required: bool, value: Option<&Value>) -> Node {
    let format = schema.get("format").and_then(Value::as_str);
    let kind = schema.get("type").and_then(Value::as_str);
    let (input_type, autocomplete) = match (kind, format) {
        (_, Some("email")) => (InputType::Email, Some("email")),
        (_, Some("tel")) => (InputType::Tel, Some("tel")),
        (_, Some("date")) => (InputType::Date, None),
        (_, Some("date-time")) => (InputType::DatetimeLocal, None),
        (_, Some("uri")) => (InputType::Url, None),
        (Some("number" | "integer"), _) => (InputType::Number, None),
        (Some("boolean"), _) => (InputType::Checkbox, None),
        _ => (InputType::Text, None),
    };
    let mut node = Node::input(NodeGroup::Default, name, input_type);
    if required {
        node = node.required();
    }
    if let Some(hint) = autocomplete {
        node = node.autocomplete(hint);
    }
    if let Some(title) = schema.get("title").and_then(Value::as_str) {
        node = node.label(message::label_generated(title, name));
    }
    if let Attributes::Input(attributes) = &mut node.attributes {
        attributes.options = schema.get("enum").and_then(Value::as_array).map(|values| {
            values
                .iter()
                .take(500)
                .map(|v| serde_json::json!({ "value": v }))
                .collect()
        });
        attributes.disabled = schema
            .get("disableFormField")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let Some(v) = value.filter(|v| !v.is_null()) {
            attributes.value = Some(v.clone());
        }
    }
    node
}

/// A violation as a message on the field it concerns (`/traits/email` → `traits.email`).
pub fn violation_message(violation: &TraitViolation) -> FieldMessage {
    let base = violation.pointer.trim_start_matches('/').replace('/', ".");
    match &violation.missing_property {
        Some(property) => {
            let node = if base.is_empty() {
                property.clone()
            } else {
                format!("{base}.{property}")
            };
            FieldMessage::on(&node, message::required(property))
        }
        None => FieldMessage::on(&base, Message::error(4000001, violation.message.clone())),
    }
}

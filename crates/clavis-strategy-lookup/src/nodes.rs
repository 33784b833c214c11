//! The lookup-secret method's UI nodes, named and labelled as Kratos names them.

use clavis_types::message;
use clavis_types::ui::{InputType, Message, Node, NodeGroup};
use serde_json::json;

fn button(name: &str, label: Message) -> Node {
    Node::input(NodeGroup::LookupSecret, name, InputType::Submit)
        .with_value(json!("true"))
        .label(label)
}

/// The code field and submit button of an aal2 login.
pub fn login() -> Vec<Node> {
    vec![
        Node::input(NodeGroup::LookupSecret, "lookup_secret", InputType::Text)
            .required()
            .autocomplete("off")
            .label(message::label_lookup_secret()),
        Node::input(NodeGroup::LookupSecret, "method", InputType::Submit)
            .with_value(json!("lookup_secret"))
            .label(message::login_with_lookup_secret()),
    ]
}

/// Settings of an identity without codes.
pub fn offer() -> Vec<Node> {
    vec![button(
        "lookup_secret_regenerate",
        message::settings_regenerate_lookup(),
    )]
}

/// Settings of an identity with codes.
pub fn manage() -> Vec<Node> {
    vec![
        button("lookup_secret_reveal", message::settings_reveal_lookup()),
        button(
            "lookup_secret_regenerate",
            message::settings_regenerate_lookup(),
        ),
        button("lookup_secret_disable", message::settings_disable_lookup()),
    ]
}

/// The list of codes (or of their states).
fn list(entries: &[Message]) -> Node {
    Node::text(
        NodeGroup::LookupSecret,
        "lookup_secret_codes",
        message::settings_lookup_secret_list(entries),
    )
    .label(message::settings_lookup_secret_label())
}

/// New codes, shown once, with the button that saves them.
pub fn confirm(codes: &[String]) -> Vec<Node> {
    let entries: Vec<Message> = codes
        .iter()
        .map(|c| message::settings_lookup_secret(c))
        .collect();
    vec![
        list(&entries),
        button("lookup_secret_confirm", message::settings_confirm_lookup()),
    ]
}

/// The state of each saved code, with the other actions.
pub fn revealed(entries: &[Message]) -> Vec<Node> {
    let mut nodes = vec![list(entries)];
    nodes.extend(
        manage()
            .into_iter()
            .filter(|n| n.key() != "lookup_secret_reveal"),
    );
    nodes
}

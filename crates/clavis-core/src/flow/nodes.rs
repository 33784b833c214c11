//! Node bookkeeping shared by every flow kind: Kratos' node order, the CSRF node, replacing a
//! method's nodes, and attaching messages to nodes.

use super::method::FieldMessage;
use clavis_types::ui::{InputType, Message, Node, NodeGroup, UiContainer};

/// Kratos' group order for forms (login lists `oidc` first; settings lists `profile` right
/// after the CSRF node); groups not listed sort after, in enum order.
const LOGIN_GROUP_ORDER: &[NodeGroup] = &[
    NodeGroup::Oidc,
    NodeGroup::Default,
    NodeGroup::Profile,
    NodeGroup::Webauthn,
    NodeGroup::Passkey,
    NodeGroup::Code,
    NodeGroup::Password,
    NodeGroup::Totp,
    NodeGroup::LookupSecret,
];

fn group_rank(group: NodeGroup) -> usize {
    LOGIN_GROUP_ORDER
        .iter()
        .position(|g| *g == group)
        .unwrap_or(LOGIN_GROUP_ORDER.len() + group as usize)
}

fn name_rank(node: &Node) -> usize {
    let submit = matches!(
        &node.attributes,
        clavis_types::ui::Attributes::Input(a) if a.input_type == InputType::Submit
    );
    match node.key() {
        "csrf_token" => 0,
        "identifier" => 1,
        "password" => 2,
        "method" => 4,
        // A code form's "resend" button (an `email` submit) follows the form's own submit
        // button, so Enter in the code field submits the code.
        "email" if submit => 5,
        _ => 3,
    }
}

/// Sorts nodes as Kratos does: by group, then `csrf_token`, `identifier`, `password` first
/// and `method` last within a group. The sort is stable, so trait fields keep schema order.
pub fn sort(nodes: &mut [Node]) {
    nodes.sort_by_key(|n| (group_rank(n.group), name_rank(n)));
}

/// The hidden `csrf_token` input of browser flows.
pub fn csrf_node(token: &str) -> Node {
    Node::input(NodeGroup::Default, "csrf_token", InputType::Hidden)
        .with_value(serde_json::Value::String(token.to_owned()))
        .required()
}

/// Replaces every node of `group` with `nodes`.
pub fn replace_group(ui: &mut UiContainer, group: NodeGroup, nodes: Vec<Node>) {
    ui.nodes.retain(|n| n.group != group);
    ui.nodes.extend(nodes);
    sort(&mut ui.nodes);
}

/// Clears earlier messages, then attaches `messages`: to their node when it exists, else to the
/// form. A message for a node that does not exist goes to the form, so nothing is lost.
pub fn apply_messages(ui: &mut UiContainer, messages: Vec<FieldMessage>) {
    ui.messages.clear();
    for node in &mut ui.nodes {
        node.messages.clear();
    }
    for FieldMessage { node, message } in messages {
        let target = node
            .as_deref()
            .and_then(|name| ui.nodes.iter_mut().find(|n| n.key() == name));
        match target {
            Some(n) => n.messages.push(message),
            None => ui.messages.push(message),
        }
    }
}

/// Sets the submitted value of an input (so a re-rendered form keeps what the user typed).
pub fn set_value(ui: &mut UiContainer, name: &str, value: serde_json::Value) {
    if let Some(node) = ui.nodes.iter_mut().find(|n| n.key() == name) {
        *node = node.clone().with_value(value);
    }
}

/// A message for the whole form.
pub fn global(message: Message) -> FieldMessage {
    FieldMessage::global(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_order_matches_kratos() {
        let mut nodes = vec![
            Node::input(NodeGroup::Password, "method", InputType::Submit),
            Node::input(NodeGroup::Password, "password", InputType::Password),
            Node::input(NodeGroup::Default, "identifier", InputType::Text),
            csrf_node("t"),
            Node::input(NodeGroup::Oidc, "provider", InputType::Submit),
        ];
        sort(&mut nodes);
        let keys: Vec<&str> = nodes.iter().map(Node::key).collect();
        assert_eq!(
            keys,
            ["provider", "csrf_token", "identifier", "password", "method"]
        );
    }

    #[test]
    fn messages_go_to_their_node_or_the_form() {
        let mut ui = UiContainer {
            action: String::new(),
            method: "POST".into(),
            nodes: vec![Node::input(
                NodeGroup::Password,
                "password",
                InputType::Password,
            )],
            messages: vec![Message::info(1, "old")],
        };
        apply_messages(
            &mut ui,
            vec![
                FieldMessage::on("password", Message::error(4000032, "short")),
                FieldMessage::on("missing", Message::error(4000002, "x")),
            ],
        );
        assert_eq!(ui.nodes[0].messages[0].id, 4000032);
        assert_eq!(ui.messages.len(), 1);
        assert_eq!(ui.messages[0].id, 4000002);
    }
}

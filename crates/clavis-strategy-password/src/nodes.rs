//! The password method's UI nodes.

use clavis_types::message;
use clavis_types::ui::{InputType, Node, NodeGroup};
use serde_json::json;

/// `identifier`, `password` and the submit button of a login form.
pub fn login(refresh_identifier: Option<&str>) -> Vec<Node> {
    let identifier = match refresh_identifier {
        Some(value) => Node::input(NodeGroup::Default, "identifier", InputType::Hidden)
            .with_value(json!(value))
            .required(),
        None => Node::input(NodeGroup::Default, "identifier", InputType::Text)
            .with_value(json!(""))
            .required()
            .label(message::label_id()),
    };
    let submit_label = if refresh_identifier.is_some() {
        message::login()
    } else {
        message::login_with_password()
    };
    vec![
        identifier,
        Node::input(NodeGroup::Password, "password", InputType::Password)
            .required()
            .autocomplete("current-password")
            .label(message::label_password()),
        Node::input(NodeGroup::Password, "method", InputType::Submit)
            .with_value(json!("password"))
            .label(submit_label),
    ]
}

/// `password` and the submit button of a registration form.
pub fn registration() -> Vec<Node> {
    vec![
        Node::input(NodeGroup::Password, "password", InputType::Password)
            .required()
            .autocomplete("new-password")
            .label(message::label_password()),
        Node::input(NodeGroup::Password, "method", InputType::Submit)
            .with_value(json!("password"))
            .label(message::registration()),
    ]
}

/// The new `password` and the save button of a settings form.
pub fn settings() -> Vec<Node> {
    vec![
        Node::input(NodeGroup::Password, "password", InputType::Password)
            .required()
            .autocomplete("new-password")
            .label(message::label_password()),
        Node::input(NodeGroup::Password, "method", InputType::Submit)
            .with_value(json!("password"))
            .label(message::label_save()),
    ]
}

//! The code method's UI nodes, named and labelled as Kratos names them for recovery and
//! verification.

use clavis_types::message;
use clavis_types::ui::{InputType, Message, Node, NodeGroup};
use serde_json::json;

/// The address field and its submit button of a new flow.
pub fn ask_address() -> Vec<Node> {
    vec![
        Node::input(NodeGroup::Code, "email", InputType::Email)
            .required()
            .autocomplete("email")
            .label(message::label_email()),
        Node::input(NodeGroup::Code, "method", InputType::Submit)
            .with_value(json!("code"))
            .label(message::label_submit()),
    ]
}

/// The code field, its submit button and the button that sends a new code to `address`.
pub fn ask_code(code_label: Message, address: &str) -> Vec<Node> {
    vec![
        Node::input(NodeGroup::Code, "code", InputType::Text)
            .required()
            .autocomplete("one-time-code")
            .label(code_label),
        Node::input(NodeGroup::Code, "method", InputType::Hidden).with_value(json!("code")),
        Node::input(NodeGroup::Code, "method", InputType::Submit)
            .with_value(json!("code"))
            .label(message::label_continue()),
        Node::input(NodeGroup::Code, "email", InputType::Submit)
            .with_value(json!(address))
            .label(message::label_resend_code()),
    ]
}

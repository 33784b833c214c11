//! The TOTP method's UI nodes, named and labelled as Kratos names them.

use clavis_types::message;
use clavis_types::ui::{InputType, Node, NodeGroup};
use serde_json::json;

/// The code field and submit button of an aal2 login.
pub fn login() -> Vec<Node> {
    vec![
        Node::input(NodeGroup::Totp, "totp_code", InputType::Text)
            .required()
            .autocomplete("one-time-code")
            .label(message::label_totp_code()),
        Node::input(NodeGroup::Totp, "method", InputType::Submit)
            .with_value(json!("totp"))
            .label(message::login_with_totp()),
    ]
}

/// Enrolment: the QR code, the secret for typing, the code field and the submit button.
pub fn enrol(qr_data_uri: String, secret_base32: &str) -> Vec<Node> {
    vec![
        Node::img(NodeGroup::Totp, "totp_qr", qr_data_uri, 256).label(message::settings_totp_qr()),
        Node::text(
            NodeGroup::Totp,
            "totp_secret_key",
            message::settings_totp_secret(secret_base32),
        )
        .label(message::settings_totp_secret_label()),
        Node::input(NodeGroup::Totp, "totp_code", InputType::Text)
            .required()
            .autocomplete("one-time-code")
            .label(message::label_verify_code()),
        Node::input(NodeGroup::Totp, "method", InputType::Submit)
            .with_value(json!("totp"))
            .label(message::label_save()),
    ]
}

/// The unlink button of an identity that enrolled.
pub fn unlink() -> Vec<Node> {
    vec![
        Node::input(NodeGroup::Totp, "totp_unlink", InputType::Submit)
            .with_value(json!("true"))
            .label(message::settings_unlink_totp()),
    ]
}

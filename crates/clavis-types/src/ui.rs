//! The `ui` container of a flow: typed nodes, node groups and messages, serialised exactly as
//! Kratos serialises them (`attributes.node_type` mirrors `type`; `messages` and `meta` are
//! always present).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a form posts, what it contains and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiContainer {
    pub action: String,
    pub method: String,
    pub nodes: Vec<Node>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
}

/// A message for the user, identified by a stable numeric id (`text` is the English default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: u32,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
}

/// The severity of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Info,
    Error,
    Success,
}

impl Message {
    /// An informational message.
    pub fn info(id: u32, text: impl Into<String>) -> Self {
        Self {
            id,
            text: text.into(),
            kind: MessageKind::Info,
            context: None,
        }
    }

    /// A validation or failure message.
    pub fn error(id: u32, text: impl Into<String>) -> Self {
        Self {
            id,
            text: text.into(),
            kind: MessageKind::Error,
            context: None,
        }
    }

    /// A confirmation that something worked.
    pub fn success(id: u32, text: impl Into<String>) -> Self {
        Self {
            id,
            text: text.into(),
            kind: MessageKind::Success,
            context: None,
        }
    }

    /// Adds context values (placeholders for translations).
    pub fn with_context(mut self, context: Map<String, Value>) -> Self {
        self.context = Some(context);
        self
    }
}

/// The section of a form a node belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeGroup {
    Default,
    Password,
    Oidc,
    Profile,
    Link,
    Code,
    Totp,
    LookupSecret,
    Webauthn,
    Passkey,
    IdentifierFirst,
    Captcha,
}

/// One UI node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    #[serde(rename = "type")]
    pub node_type: NodeType,
    pub group: NodeGroup,
    pub attributes: Attributes,
    pub messages: Vec<Message>,
    pub meta: Meta,
}

/// The node's kind, repeated from its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeType {
    Input,
    Text,
    Img,
    A,
    Script,
    Div,
}

/// Node metadata: the label.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Message>,
}

/// A node's attributes, tagged by `node_type` (the OpenAPI discriminator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "node_type", rename_all = "snake_case")]
pub enum Attributes {
    Input(InputAttributes),
    Text(TextAttributes),
    Img(ImageAttributes),
    A(AnchorAttributes),
    Script(ScriptAttributes),
    Div(DivAttributes),
}

/// `<input>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputAttributes {
    pub name: String,
    #[serde(rename = "type")]
    pub input_type: InputType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxlength: Option<u32>,
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<Value>>,
}

/// The `type` of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputType {
    Text,
    Password,
    Number,
    Checkbox,
    Hidden,
    Email,
    Tel,
    Submit,
    Button,
    DatetimeLocal,
    Date,
    Url,
}

/// A block of text (a secret to copy, codes to keep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextAttributes {
    pub id: String,
    pub text: Message,
}

/// An image (a QR code as a data URI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageAttributes {
    pub id: String,
    pub src: String,
    pub width: u32,
    pub height: u32,
}

/// A link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnchorAttributes {
    pub id: String,
    pub href: String,
    pub title: Message,
}

/// A script the page must load (WebAuthn helpers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptAttributes {
    pub id: String,
    pub src: String,
    #[serde(rename = "async")]
    pub is_async: bool,
    pub referrerpolicy: String,
    pub crossorigin: String,
    pub integrity: String,
    #[serde(rename = "type")]
    pub script_type: String,
    pub nonce: String,
}

/// A container element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DivAttributes {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
}

impl Node {
    /// An input node.
    pub fn input(group: NodeGroup, name: impl Into<String>, input_type: InputType) -> Self {
        Self {
            node_type: NodeType::Input,
            group,
            attributes: Attributes::Input(InputAttributes {
                name: name.into(),
                input_type,
                value: None,
                required: false,
                autocomplete: None,
                pattern: None,
                maxlength: None,
                disabled: false,
                options: None,
            }),
            messages: Vec::new(),
            meta: Meta::default(),
        }
    }

    /// A text node (a secret to copy, a list of codes).
    pub fn text(group: NodeGroup, id: impl Into<String>, text: Message) -> Self {
        Self {
            node_type: NodeType::Text,
            group,
            attributes: Attributes::Text(TextAttributes {
                id: id.into(),
                text,
            }),
            messages: Vec::new(),
            meta: Meta::default(),
        }
    }

    /// An image node (a QR code as a data URI).
    pub fn img(group: NodeGroup, id: impl Into<String>, src: String, size: u32) -> Self {
        Self {
            node_type: NodeType::Img,
            group,
            attributes: Attributes::Img(ImageAttributes {
                id: id.into(),
                src,
                width: size,
                height: size,
            }),
            messages: Vec::new(),
            meta: Meta::default(),
        }
    }

    /// The node's identity: an input's name, any other node's id.
    pub fn key(&self) -> &str {
        match &self.attributes {
            Attributes::Input(a) => &a.name,
            Attributes::Text(a) => &a.id,
            Attributes::Img(a) => &a.id,
            Attributes::A(a) => &a.id,
            Attributes::Script(a) => &a.id,
            Attributes::Div(a) => &a.id,
        }
    }

    /// Sets an input's value (no effect on other nodes).
    pub fn with_value(mut self, value: Value) -> Self {
        if let Attributes::Input(a) = &mut self.attributes {
            a.value = Some(value);
        }
        self
    }

    /// Marks an input as required.
    pub fn required(mut self) -> Self {
        if let Attributes::Input(a) = &mut self.attributes {
            a.required = true;
        }
        self
    }

    /// Sets an input's autocomplete hint.
    pub fn autocomplete(mut self, hint: &str) -> Self {
        if let Attributes::Input(a) = &mut self.attributes {
            a.autocomplete = Some(hint.to_owned());
        }
        self
    }

    /// Sets the label.
    pub fn label(mut self, label: Message) -> Self {
        self.meta.label = Some(label);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_node_serialises_like_kratos() {
        let node = Node::input(NodeGroup::Password, "password", InputType::Password)
            .required()
            .autocomplete("current-password")
            .label(Message::info(1070001, "Password"));
        assert_eq!(
            serde_json::to_value(&node).unwrap(),
            json!({
                "type": "input", "group": "password",
                "attributes": {"name": "password", "type": "password", "required": true,
                               "autocomplete": "current-password", "disabled": false, "node_type": "input"},
                "messages": [],
                "meta": {"label": {"id": 1070001, "text": "Password", "type": "info"}}
            })
        );
    }

    #[test]
    fn nodes_round_trip_through_json() {
        let node =
            Node::input(NodeGroup::Default, "csrf_token", InputType::Hidden).with_value(json!("x"));
        let back: Node = serde_json::from_value(serde_json::to_value(&node).unwrap()).unwrap();
        assert_eq!(back, node);
        assert_eq!(back.key(), "csrf_token");
    }
}

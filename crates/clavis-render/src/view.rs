//! View models: what the templates see. Flow pages are built from the `ui` container alone, with
//! labels and messages already translated, so templates hold no logic beyond layout.

use crate::locale::Locales;
use clavis_types::ui::{Attributes, InputType, Message, MessageKind, Node, NodeGroup, UiContainer};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Where a page's links point.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Links {
    pub login: String,
    pub registration: String,
    pub settings: String,
    pub welcome: String,
    /// The sign-out confirmation page.
    pub logout: String,
    /// Where the account page posts "sign out this device".
    pub revoke: String,
    /// Where the account page posts the "Devices & apps" actions (`…/revoke`, `…/rename`).
    pub apps: String,
    /// Where a forgotten password is recovered; `None` while recovery is off.
    pub recovery: Option<String>,
    /// Where an address is verified; `None` while verification is off.
    pub verification: Option<String>,
}

/// The flow pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Login,
    Registration,
    Settings,
    Recovery,
    Verification,
}

impl PageKind {
    pub(crate) fn template(self) -> &'static str {
        match self {
            PageKind::Login => "pages/login.html",
            PageKind::Registration => "pages/registration.html",
            PageKind::Settings => "pages/settings.html",
            PageKind::Recovery => "pages/recovery.html",
            PageKind::Verification => "pages/verification.html",
        }
    }
}

/// A flow to render.
#[derive(Debug, Clone)]
pub struct FlowPage<'a> {
    pub kind: PageKind,
    pub ui: &'a UiContainer,
    /// A login flow that re-authenticates (`refresh=true`).
    pub refresh: bool,
    /// A login flow that asks for a second factor.
    pub second_factor: bool,
    pub links: Links,
}

impl FlowPage<'_> {
    pub(crate) fn title_key(&self) -> &'static str {
        match self.kind {
            PageKind::Login if self.second_factor => "login.aal2_title",
            PageKind::Login if self.refresh => "login.refresh_title",
            PageKind::Login => "login.title",
            PageKind::Registration => "registration.title",
            PageKind::Settings => "settings.title",
            PageKind::Recovery => "recovery.title",
            PageKind::Verification => "verification.title",
        }
    }

    pub(crate) fn view(&self, locales: &Locales, lang: &str) -> FlowView {
        let forms = forms(&self.ui.nodes);
        let multiple = forms.len() > 1 || self.kind == PageKind::Settings;
        let mut focus_taken = false;
        let forms = forms
            .into_iter()
            .map(|(group, nodes)| {
                let group_name = group_name(group);
                // Buttons such as `totp_unlink` or `lookup_secret_reveal` do not name the
                // method; the form does, as Kratos' UIs do from the node group.
                let method = (group != NodeGroup::Default
                    && !nodes.iter().any(|n| n.key() == "method"))
                .then(|| group_name.clone());
                FormView {
                    method,
                    heading: multiple
                        .then(|| locales.ui_lookup(lang, &format!("group.{group_name}")))
                        .flatten()
                        .filter(|h| !h.is_empty()),
                    nodes: nodes
                        .into_iter()
                        .map(|node| {
                            let mut view = node_view(node, &group_name, locales, lang);
                            if !focus_taken && view.focusable() && !view.messages.is_empty() {
                                view.autofocus = true;
                                focus_taken = true;
                            }
                            view
                        })
                        .collect(),
                    group: group_name,
                }
            })
            .collect();
        FlowView {
            action: self.ui.action.clone(),
            method: self.ui.method.clone(),
            messages: messages(&self.ui.messages, locales, lang),
            forms,
        }
    }
}

/// One form per method group, each with the `default` group's nodes (CSRF token, identifier,
/// traits) first; a flow with only `default` nodes is one form.
fn forms(nodes: &[Node]) -> Vec<(NodeGroup, Vec<&Node>)> {
    let shared: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.group == NodeGroup::Default)
        .collect();
    let mut groups: Vec<NodeGroup> = Vec::new();
    for node in nodes {
        if node.group != NodeGroup::Default && !groups.contains(&node.group) {
            groups.push(node.group);
        }
    }
    if groups.is_empty() {
        return vec![(NodeGroup::Default, shared)];
    }
    groups
        .into_iter()
        .map(|group| {
            let mut form = shared.clone();
            form.extend(nodes.iter().filter(|n| n.group == group));
            (group, form)
        })
        .collect()
}

fn group_name(group: NodeGroup) -> String {
    serde_json::to_value(group)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A flow as its page shows it.
#[derive(Debug, Serialize)]
pub struct FlowView {
    pub action: String,
    pub method: String,
    pub messages: Vec<MessageView>,
    pub forms: Vec<FormView>,
}

/// One `<form>`: a method group with the shared nodes.
#[derive(Debug, Serialize)]
pub struct FormView {
    pub group: String,
    /// The `method` value a form whose nodes do not carry one submits.
    pub method: Option<String>,
    pub heading: Option<String>,
    pub nodes: Vec<NodeView>,
}

/// A translated message.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: u32,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

fn messages(list: &[Message], locales: &Locales, lang: &str) -> Vec<MessageView> {
    list.iter()
        .map(|m| MessageView {
            id: m.id,
            text: locales.message(lang, m),
            kind: match m.kind {
                MessageKind::Info => "info",
                MessageKind::Error => "error",
                MessageKind::Success => "success",
            },
        })
        .collect()
}

/// A node with everything its partial needs, flattened.
#[derive(Debug, Default, Serialize)]
pub struct NodeView {
    /// `input`, `text`, `img`, `a`, `script` or `div`: selects `partials/node_<kind>.html`.
    pub kind: &'static str,
    pub name: String,
    pub dom_id: String,
    pub input_type: String,
    pub value: String,
    pub checked: bool,
    pub required: bool,
    pub autocomplete: Option<String>,
    pub maxlength: Option<u32>,
    pub pattern: Option<String>,
    pub disabled: bool,
    pub options: Vec<String>,
    pub label: Option<String>,
    pub messages: Vec<MessageView>,
    pub autofocus: bool,
    pub text: String,
    /// The entries of a text node that lists several (backup codes), translated.
    pub items: Vec<String>,
    pub src: String,
    pub width: u32,
    pub height: u32,
    pub href: String,
    pub title: String,
    #[serde(rename = "async")]
    pub is_async: bool,
    pub integrity: String,
    pub crossorigin: String,
    pub script_type: String,
    pub referrerpolicy: String,
    pub class: Option<String>,
    pub data: BTreeMap<String, String>,
}

impl NodeView {
    fn focusable(&self) -> bool {
        self.kind == "input" && !matches!(self.input_type.as_str(), "hidden" | "submit" | "button")
    }
}

/// The messages a list message carries in its `secrets` context (Kratos' 1050015).
fn list_entries(text: &Message) -> Vec<Message> {
    text.context
        .as_ref()
        .and_then(|c| c.get("secrets"))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn dom_id(group: &str, name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{group}-{cleaned}")
}

/// Flattens `node` for its partial; `form_group` keeps ids unique when shared nodes repeat.
pub(crate) fn node_view(node: &Node, form_group: &str, locales: &Locales, lang: &str) -> NodeView {
    let label = node.meta.label.as_ref().map(|l| locales.message(lang, l));
    let messages = messages(&node.messages, locales, lang);
    let base = NodeView {
        name: node.key().to_owned(),
        dom_id: dom_id(form_group, node.key()),
        label,
        messages,
        ..NodeView::default()
    };
    match &node.attributes {
        Attributes::Input(a) => NodeView {
            kind: "input",
            input_type: serde_json::to_value(a.input_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "text".to_owned()),
            value: if a.input_type == InputType::Password {
                String::new()
            } else {
                a.value.as_ref().map(plain).unwrap_or_default()
            },
            checked: a.value == Some(Value::Bool(true)),
            required: a.required,
            autocomplete: a.autocomplete.clone(),
            maxlength: a.maxlength,
            pattern: a.pattern.clone(),
            disabled: a.disabled,
            options: a.options.iter().flatten().map(plain).collect(),
            ..base
        },
        Attributes::Text(a) => NodeView {
            kind: "text",
            text: locales.message(lang, &a.text),
            items: list_entries(&a.text)
                .iter()
                .map(|m| locales.message(lang, m))
                .collect(),
            ..base
        },
        Attributes::Img(a) => NodeView {
            kind: "img",
            src: a.src.clone(),
            width: a.width,
            height: a.height,
            ..base
        },
        Attributes::A(a) => NodeView {
            kind: "a",
            href: a.href.clone(),
            title: locales.message(lang, &a.title),
            ..base
        },
        Attributes::Script(a) => NodeView {
            kind: "script",
            src: a.src.clone(),
            is_async: a.is_async,
            integrity: a.integrity.clone(),
            crossorigin: a.crossorigin.clone(),
            script_type: a.script_type.clone(),
            referrerpolicy: a.referrerpolicy.clone(),
            ..base
        },
        Attributes::Div(a) => NodeView {
            kind: "div",
            class: a.class.clone(),
            data: a
                .data
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), plain(v)))
                .collect(),
            ..base
        },
    }
}

/// What the error page shows.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub code: u16,
    pub status: String,
    pub message: String,
    pub reason: Option<String>,
    pub id: Option<String>,
}

/// The account page's data.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    /// The main identifier (usually the e-mail address).
    pub identifier: String,
    pub traits: Vec<TraitItem>,
    pub aal: String,
    pub methods: Vec<AccountMethod>,
    pub authenticated_at: String,
    pub expires_at: String,
    pub sessions: Vec<AccountSession>,
    /// The apps holding a grant (app password) for the identity.
    pub apps: Vec<AccountApp>,
    /// The identity's addresses that are not verified yet.
    pub unverified: Vec<String>,
}

/// One app holding a grant: what it calls itself, when it got access, and its last use.
#[derive(Debug, Clone, Serialize)]
pub struct AccountApp {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub last_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The device-approval page: what asks for access, from where, and who would grant it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    /// The name the client gave itself; never verified.
    pub client_name: String,
    /// When and from which address the request was made.
    pub requested_at: String,
    pub request_ip: Option<String>,
    /// The approving browser's address, and whether it differs from the request's.
    pub browser_ip: Option<String>,
    pub ip_differs: bool,
    /// Who is signed in and would grant access.
    pub signed_in_as: String,
    /// Where the decision is posted, with the CSRF token.
    pub action: String,
    pub csrf_token: String,
    /// Set once decided: the page then only says what happened.
    pub decided: Option<DeviceDecision>,
}

/// What the person decided on the approval page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceDecision {
    Approved,
    Denied,
}

/// One trait, labelled by its schema title.
#[derive(Debug, Clone, Serialize)]
pub struct TraitItem {
    pub name: String,
    pub label: String,
    pub value: String,
}

/// One completed authentication method of the session.
#[derive(Debug, Clone, Serialize)]
pub struct AccountMethod {
    pub method: String,
    pub aal: String,
    pub completed_at: String,
}

/// One active session of the identity.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSession {
    pub id: String,
    pub device: Option<String>,
    pub ip: Option<String>,
    pub authenticated_at: String,
    pub current: bool,
}

/// The sign-out confirmation: a GET form to the logout URL with its token.
#[derive(Debug, Clone, Serialize)]
pub struct LogoutView {
    pub action: String,
    pub token: String,
    pub return_to: Option<String>,
}

/// A consent or device-approval prompt: facts to show and forms of nodes to submit.
#[derive(Debug, Clone)]
pub struct Prompt<'a> {
    pub messages: Vec<Message>,
    pub facts: Vec<(String, String)>,
    pub forms: Vec<(String, &'a [Node])>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PromptView {
    messages: Vec<MessageView>,
    facts: Vec<BTreeMap<&'static str, String>>,
    forms: Vec<PromptForm>,
}

#[derive(Debug, Serialize)]
struct PromptForm {
    action: String,
    nodes: Vec<NodeView>,
}

impl Prompt<'_> {
    pub(crate) fn view(&self, locales: &Locales, lang: &str) -> PromptView {
        PromptView {
            messages: messages(&self.messages, locales, lang),
            facts: self
                .facts
                .iter()
                .map(|(label, value)| {
                    BTreeMap::from([("label", label.clone()), ("value", value.clone())])
                })
                .collect(),
            forms: self
                .forms
                .iter()
                .enumerate()
                .map(|(index, (action, nodes))| PromptForm {
                    action: action.clone(),
                    nodes: nodes
                        .iter()
                        .map(|n| node_view(n, &format!("prompt{index}"), locales, lang))
                        .collect(),
                })
                .collect(),
        }
    }
}

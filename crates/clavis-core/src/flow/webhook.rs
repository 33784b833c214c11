//! The `web_hook` hook: what is sent, when, and what an answer means.
//!
//! The engines call web hooks through [`FlowHooks`](super::hooks::FlowHooks); the HTTP delivery
//! itself (timeouts, retries, authentication, size limit) sits behind the
//! [`WebHookTransport`] port, so this module stays free of any HTTP client. A hook runs in one
//! of three slots, chosen by its configuration:
//!
//! - **screening** (`response.parse` or `can_interrupt`): before anything is stored; the answer
//!   may change the identity (`parse`) or stop the flow with messages for the form;
//! - **notification**: after the change is stored, awaited; its failure fails the request;
//! - **dispatch** (`response.ignore`): sent in the background once the flow succeeded.

use super::method::FieldMessage;
use super::{Flow, RequestFacts};
use crate::identity::Identity;
use async_trait::async_trait;
use clavis_types::ui::{Message, MessageKind};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// One configured web hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebHook {
    pub url: String,
    /// The HTTP method (`POST` unless configured).
    pub method: String,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    pub auth: Option<WebHookAuth>,
    /// `response.ignore`: send without waiting for the answer.
    pub ignore: bool,
    /// `response.parse`: the answer may change the identity before it is stored.
    pub parse: bool,
    /// `can_interrupt`: an error answer with messages stops the flow.
    pub can_interrupt: bool,
    /// The deadline for the whole delivery, retries included.
    pub timeout: Duration,
    /// How often a delivery that could not connect, or got 429, 502, 503 or 504, is repeated.
    pub retries: u32,
}

impl WebHook {
    /// Whether the engine reads the answer, so the hook runs before anything is stored.
    pub fn screens(&self) -> bool {
        !self.ignore && (self.parse || self.can_interrupt)
    }
}

/// How a web hook authenticates to its receiver.
#[derive(Clone, PartialEq, Eq)]
pub enum WebHookAuth {
    /// A key in a header or a cookie.
    ApiKey {
        name: String,
        value: String,
        in_cookie: bool,
    },
    /// HTTP basic authentication.
    Basic { user: String, password: String },
}

impl std::fmt::Debug for WebHookAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebHookAuth::ApiKey {
                name, in_cookie, ..
            } => f
                .debug_struct("ApiKey")
                .field("name", name)
                .field("in_cookie", in_cookie)
                .finish_non_exhaustive(),
            WebHookAuth::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .finish_non_exhaustive(),
        }
    }
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebHookReply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a delivery produced no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The deadline passed.
    #[error("the web hook did not answer within its timeout")]
    Timeout,
    /// No usable answer: connection refused, TLS failure, oversized answer…
    #[error("{0}")]
    Failed(String),
}

/// Delivers web hooks over HTTP.
#[async_trait]
pub trait WebHookTransport: Send + Sync {
    /// Sends `body` as JSON and returns the answer, after retries.
    async fn deliver(&self, hook: &WebHook, body: &Value) -> Result<WebHookReply, DeliveryError>;
    /// Sends `body` in the background; failures are only logged.
    fn dispatch(&self, hook: Arc<WebHook>, body: Value);
}

/// Changes a screening web hook asked for (`{"identity": {...}}` in a 200 answer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityPatch {
    pub traits: Option<Value>,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
}

impl IdentityPatch {
    /// Applies `later` on top of this patch.
    pub fn merge(&mut self, later: IdentityPatch) {
        if later.traits.is_some() {
            self.traits = later.traits;
        }
        if later.metadata_public.is_some() {
            self.metadata_public = later.metadata_public;
        }
        if later.metadata_admin.is_some() {
            self.metadata_admin = later.metadata_admin;
        }
    }

    /// Writes the patch into a payload's `identity`, so the next hook sees it.
    pub fn apply_to_payload(&self, payload: &mut Value) {
        let Some(identity) = payload.get_mut("identity").and_then(Value::as_object_mut) else {
            return;
        };
        for (key, value) in [
            ("traits", &self.traits),
            ("metadata_public", &self.metadata_public),
            ("metadata_admin", &self.metadata_admin),
        ] {
            if let Some(value) = value {
                identity.insert(key.to_owned(), value.clone());
            }
        }
    }
}

/// What a screening hook decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Go on, with these changes (possibly none).
    Proceed(IdentityPatch),
    /// Stop: show these messages in the form.
    Interrupt(Vec<FieldMessage>),
}

/// Why a web hook failed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookFailure {
    /// The receiver answered something unusable (shown as 502).
    BadAnswer(String),
    /// It did not answer in time (shown as 504).
    Timeout,
}

impl From<DeliveryError> for HookFailure {
    fn from(error: DeliveryError) -> Self {
        match error {
            DeliveryError::Timeout => HookFailure::Timeout,
            DeliveryError::Failed(reason) => HookFailure::BadAnswer(reason),
        }
    }
}

#[derive(Deserialize)]
struct InterruptBody {
    messages: Vec<NodeMessages>,
}

#[derive(Deserialize)]
struct NodeMessages {
    #[serde(default)]
    instance_ptr: String,
    #[serde(default)]
    messages: Vec<HookMessage>,
}

#[derive(Deserialize)]
struct HookMessage {
    id: u32,
    text: String,
    #[serde(rename = "type", default)]
    kind: Option<MessageKind>,
    #[serde(default)]
    context: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct ParseBody {
    identity: PatchBody,
}

#[derive(Deserialize)]
struct PatchBody {
    traits: Option<Value>,
    metadata_public: Option<Value>,
    metadata_admin: Option<Value>,
}

/// Reads the answer of a hook the engine waited for. Only screening hooks may interrupt or
/// patch; any answer of 400 or more without usable messages fails the request.
pub fn interpret(hook: &WebHook, reply: &WebHookReply) -> Result<Verdict, HookFailure> {
    match reply.status {
        200..=299 => {
            if !hook.parse || reply.body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Verdict::Proceed(IdentityPatch::default()));
            }
            let parsed: ParseBody = serde_json::from_slice(&reply.body).map_err(|e| {
                HookFailure::BadAnswer(format!(
                    "the web hook answered {} with a body that is not {{\"identity\": {{...}}}}: {e}",
                    reply.status
                ))
            })?;
            Ok(Verdict::Proceed(IdentityPatch {
                traits: parsed.identity.traits,
                metadata_public: parsed.identity.metadata_public,
                metadata_admin: parsed.identity.metadata_admin,
            }))
        }
        400.. if hook.screens() => {
            let messages = serde_json::from_slice::<InterruptBody>(&reply.body)
                .map(field_messages)
                .unwrap_or_default();
            if messages.is_empty() {
                Err(failed_status(reply.status))
            } else {
                Ok(Verdict::Interrupt(messages))
            }
        }
        status => Err(failed_status(status)),
    }
}

fn failed_status(status: u16) -> HookFailure {
    HookFailure::BadAnswer(format!("web hook failed with status code {status}"))
}

/// `#/traits/email` → the node `traits.email`; `#`, `#/` or nothing → the whole form.
fn field_messages(body: InterruptBody) -> Vec<FieldMessage> {
    body.messages
        .into_iter()
        .flat_map(|group| {
            let node = node_name(&group.instance_ptr);
            group.messages.into_iter().map(move |m| FieldMessage {
                node: node.clone(),
                message: Message {
                    id: m.id,
                    text: m.text,
                    kind: m.kind.unwrap_or(MessageKind::Error),
                    context: m.context,
                },
            })
        })
        .collect()
}

fn node_name(instance_ptr: &str) -> Option<String> {
    let path = instance_ptr.trim_start_matches('#').trim_start_matches('/');
    (!path.is_empty()).then(|| {
        path.split('/')
            .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// The JSON body of a web hook: the flow, the identity, and the request that triggered it.
pub fn payload(flow: &Flow, identity: Value, request: &RequestFacts) -> Value {
    let mut ui = serde_json::to_value(&flow.ui).unwrap_or(Value::Null);
    if let Some(nodes) = ui.get_mut("nodes").and_then(Value::as_array_mut) {
        nodes.retain(|n| n.pointer("/attributes/name") != Some(&json!("csrf_token")));
    }
    json!({
        "flow": {
            "id": flow.id,
            "type": flow.flow_type,
            "kind": flow.kind.as_str(),
            "state": flow.state.as_str(),
            "request_url": flow.request_url,
            "return_to": flow.return_to,
            "active": flow.active,
            "requested_aal": flow.requested_aal,
            "refresh": flow.refresh,
            "issued_at": flow.issued_at,
            "expires_at": flow.expires_at,
            "transient_payload": flow.transient_payload,
            "ui": ui,
        },
        "identity": identity,
        "request_url": request.request_url,
        "request_method": request.request_method,
        "request_headers": request.request_headers,
    })
}

/// A stored identity as web hooks see it: everything but credentials.
pub fn identity_json(identity: &Identity) -> Value {
    json!({
        "id": identity.id,
        "schema_id": identity.schema_id,
        "state": identity.state,
        "traits": identity.traits,
        "metadata_public": identity.metadata_public,
        "metadata_admin": identity.metadata_admin,
        "verifiable_addresses": identity.verifiable_addresses.iter().map(|a| json!({
            "value": a.value,
            "via": a.via.as_str(),
            "verified": a.verified,
            "status": a.status.as_str(),
        })).collect::<Vec<_>>(),
        "recovery_addresses": identity.recovery_addresses.iter().map(|a| json!({
            "value": a.value,
            "via": a.via.as_str(),
        })).collect::<Vec<_>>(),
        "created_at": identity.created_at,
        "updated_at": identity.updated_at,
    })
}

/// An identity about to be created, before it has an id.
pub fn new_identity_json(schema_id: &str, traits: &Value) -> Value {
    json!({
        "id": null,
        "schema_id": schema_id,
        "state": "active",
        "traits": traits,
        "metadata_public": null,
        "metadata_admin": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(parse: bool, can_interrupt: bool) -> WebHook {
        WebHook {
            url: "http://127.0.0.1:9/hook".to_owned(),
            method: "POST".to_owned(),
            headers: BTreeMap::new(),
            auth: None,
            ignore: false,
            parse,
            can_interrupt,
            timeout: Duration::from_secs(1),
            retries: 0,
        }
    }

    fn reply(status: u16, body: &str) -> WebHookReply {
        WebHookReply {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    const INTERRUPT: &str = r##"{"messages":[{"instance_ptr":"#/traits/email","messages":[{"id":4000001,"text":"not from this domain","type":"error","context":{"domain":"x"}}]},{"instance_ptr":"#/","messages":[{"id":4000002,"text":"whole form"}]}]}"##;

    #[test]
    fn an_interrupt_puts_messages_on_their_nodes() {
        let verdict = interpret(&hook(false, true), &reply(422, INTERRUPT)).unwrap();
        let Verdict::Interrupt(messages) = verdict else {
            panic!("expected an interrupt, got {verdict:?}");
        };
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].node.as_deref(), Some("traits.email"));
        assert_eq!(messages[0].message.id, 4000001);
        assert_eq!(messages[0].message.context.as_ref().unwrap()["domain"], "x");
        assert_eq!(messages[1].node, None);
        assert_eq!(messages[1].message.kind, MessageKind::Error);
    }

    #[test]
    fn a_hook_that_cannot_interrupt_fails_on_error_answers() {
        assert_eq!(
            interpret(&hook(false, false), &reply(422, INTERRUPT)),
            Err(HookFailure::BadAnswer(
                "web hook failed with status code 422".to_owned()
            ))
        );
    }

    #[test]
    fn an_error_answer_without_messages_fails_even_when_it_may_interrupt() {
        for body in ["", "oops", r#"{"messages":[]}"#] {
            assert!(matches!(
                interpret(&hook(false, true), &reply(500, body)),
                Err(HookFailure::BadAnswer(_))
            ));
        }
    }

    #[test]
    fn parse_reads_the_identity_patch() {
        let body = r#"{"identity":{"traits":{"email":"x@y.z"},"metadata_public":{"plan":"pro"}}}"#;
        let verdict = interpret(&hook(true, false), &reply(200, body)).unwrap();
        assert_eq!(
            verdict,
            Verdict::Proceed(IdentityPatch {
                traits: Some(json!({"email": "x@y.z"})),
                metadata_public: Some(json!({"plan": "pro"})),
                metadata_admin: None,
            })
        );
        assert_eq!(
            interpret(&hook(true, false), &reply(204, "")).unwrap(),
            Verdict::Proceed(IdentityPatch::default())
        );
        assert!(matches!(
            interpret(&hook(true, false), &reply(200, "[1]")),
            Err(HookFailure::BadAnswer(_))
        ));
    }

    #[test]
    fn without_parse_a_success_body_is_ignored() {
        assert_eq!(
            interpret(&hook(false, false), &reply(200, "not json")).unwrap(),
            Verdict::Proceed(IdentityPatch::default())
        );
    }

    #[test]
    fn redirects_are_failures() {
        assert!(interpret(&hook(false, true), &reply(302, "")).is_err());
    }

    #[test]
    fn instance_pointers_become_node_names() {
        assert_eq!(
            node_name("#/traits/name/first"),
            Some("traits.name.first".into())
        );
        assert_eq!(node_name("#/"), None);
        assert_eq!(node_name(""), None);
        assert_eq!(node_name("password"), Some("password".into()));
    }

    #[test]
    fn the_auth_secret_is_not_debug_printed() {
        let auth = WebHookAuth::ApiKey {
            name: "X-Key".into(),
            value: "s3cret".into(),
            in_cookie: false,
        };
        assert!(!format!("{auth:?}").contains("s3cret"));
        let basic = WebHookAuth::Basic {
            user: "u".into(),
            password: "pw-s3cret".into(),
        };
        assert!(!format!("{basic:?}").contains("s3cret"));
    }
}

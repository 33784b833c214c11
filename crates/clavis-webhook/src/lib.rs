//! Delivers web hooks over HTTP for the engine's [`WebHookTransport`] port.
//!
//! One delivery is one JSON request, repeated with exponential back-off while the receiver
//! cannot be reached or answers 429, 502, 503 or 504, until the hook's `retries` are used up;
//! the hook's `timeout` bounds the whole delivery, retries included. Answers are read up to
//! [`MAX_ANSWER_BYTES`]. Redirects are not followed. Nothing of the request or the answer is
//! logged except the status, and error texts never carry the URL (it may hold a secret).

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clavis_core::flow::webhook::{
    DeliveryError, WebHook, WebHookAuth, WebHookReply, WebHookTransport,
};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The largest answer read (as Kratos: 5 MB).
pub const MAX_ANSWER_BYTES: usize = 5 * 1024 * 1024;

/// The first pause between attempts; each further pause doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Statuses that say "try again later".
const RETRY_STATUSES: [u16; 4] = [429, 502, 503, 504];

/// The HTTP client behind web hooks.
#[derive(Clone)]
pub struct HttpWebHooks {
    client: reqwest::Client,
}

/// Why one attempt failed.
enum AttemptError {
    /// Worth repeating: the receiver could not be reached.
    Transient(String),
    /// Not worth repeating.
    Final(String),
}

impl HttpWebHooks {
    /// A client that follows no redirects.
    pub fn new() -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("clavis-webhook/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the web hook HTTP client: {e}"))?;
        Ok(Self { client })
    }

    /// Refuses a hook that could never be delivered: an unusable URL, method or header.
    pub fn check(hook: &WebHook) -> Result<(), String> {
        let url = url::Url::parse(&hook.url).map_err(|e| format!("`url`: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("`url` must be an http or https URL".to_owned());
        }
        reqwest::Method::from_bytes(hook.method.as_bytes())
            .map_err(|_| format!("`method`: `{}` is no HTTP method", hook.method))?;
        for (name, value) in &hook.headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`headers`: `{name}` is no header name"))?;
            reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| format!("`headers.{name}`: the value is not a valid header value"))?;
        }
        if let Some(WebHookAuth::ApiKey {
            name,
            in_cookie: false,
            ..
        }) = &hook.auth
        {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`auth.config.name`: `{name}` is no header name"))?;
        }
        Ok(())
    }

    async fn attempts(&self, hook: &WebHook, body: &Value) -> Result<WebHookReply, DeliveryError> {
        let mut pause = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            let outcome = self.attempt(hook, body).await;
            let again = match &outcome {
                Ok(reply) => RETRY_STATUSES.contains(&reply.status),
                Err(AttemptError::Transient(_)) => true,
                Err(AttemptError::Final(_)) => false,
            };
            if !again || attempt >= hook.retries {
                return outcome.map_err(|e| match e {
                    AttemptError::Transient(reason) | AttemptError::Final(reason) => {
                        DeliveryError::Failed(reason)
                    }
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_BACKOFF);
            attempt += 1;
        }
    }

    async fn attempt(&self, hook: &WebHook, body: &Value) -> Result<WebHookReply, AttemptError> {
        let method = reqwest::Method::from_bytes(hook.method.as_bytes())
            .map_err(|_| AttemptError::Final(format!("`{}` is no HTTP method", hook.method)))?;
        let mut request = self.client.request(method, &hook.url).json(body);
        for (name, value) in &hook.headers {
            request = request.header(name, value);
        }
        request = match &hook.auth {
            None => request,
            Some(WebHookAuth::ApiKey {
                name,
                value,
                in_cookie: false,
            }) => request.header(name, value),
            Some(WebHookAuth::ApiKey {
                name,
                value,
                in_cookie: true,
            }) => request.header(reqwest::header::COOKIE, format!("{name}={value}")),
            Some(WebHookAuth::Basic { user, password }) => request.header(
                reqwest::header::AUTHORIZATION,
                format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
            ),
        };
        let mut response = request.send().await.map_err(|e| {
            let transient = e.is_connect() || e.is_timeout() || e.is_request();
            let reason = format!("the web hook could not be delivered: {}", e.without_url());
            if transient {
                AttemptError::Transient(reason)
            } else {
                AttemptError::Final(reason)
            }
        })?;
        let status = response.status().as_u16();
        let mut answer = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if answer.len() + chunk.len() > MAX_ANSWER_BYTES {
                        return Err(AttemptError::Final(format!(
                            "the web hook answered more than {MAX_ANSWER_BYTES} bytes"
                        )));
                    }
                    answer.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(AttemptError::Transient(format!(
                        "the web hook's answer broke off: {}",
                        e.without_url()
                    )));
                }
            }
        }
        Ok(WebHookReply {
            status,
            body: answer,
        })
    }
}

#[async_trait]
impl WebHookTransport for HttpWebHooks {
    async fn deliver(&self, hook: &WebHook, body: &Value) -> Result<WebHookReply, DeliveryError> {
        tokio::time::timeout(hook.timeout, self.attempts(hook, body))
            .await
            .unwrap_or(Err(DeliveryError::Timeout))
    }

    fn dispatch(&self, hook: Arc<WebHook>, body: Value) {
        let this = self.clone();
        tokio::spawn(async move {
            match this.deliver(&hook, &body).await {
                Ok(reply) if reply.status < 400 => {}
                Ok(reply) => tracing::warn!(
                    status = reply.status,
                    "a fire-and-forget web hook answered with an error"
                ),
                Err(error) => tracing::warn!(%error, "a fire-and-forget web hook failed"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn hook(url: &str) -> WebHook {
        WebHook {
            url: url.to_owned(),
            method: "POST".to_owned(),
            headers: BTreeMap::new(),
            auth: None,
            ignore: false,
            parse: false,
            can_interrupt: false,
            timeout: Duration::from_secs(1),
            retries: 0,
        }
    }

    #[test]
    fn check_refuses_what_could_never_be_sent() {
        assert!(HttpWebHooks::check(&hook("https://hooks.example/x")).is_ok());
        assert!(HttpWebHooks::check(&hook("ftp://hooks.example/x")).is_err());
        assert!(HttpWebHooks::check(&hook("not a url")).is_err());
        let mut bad_method = hook("https://hooks.example/x");
        bad_method.method = "PO ST".to_owned();
        assert!(HttpWebHooks::check(&bad_method).is_err());
        let mut bad_header = hook("https://hooks.example/x");
        bad_header
            .headers
            .insert("X Bad".to_owned(), "v".to_owned());
        assert!(HttpWebHooks::check(&bad_header).is_err());
    }

    #[tokio::test]
    async fn an_unreachable_receiver_fails_after_its_retries() {
        // Port 9 on loopback: nothing listens there, so every attempt is refused at once.
        let mut unreachable = hook("http://127.0.0.1:9/hook");
        unreachable.retries = 2;
        let transport = HttpWebHooks::new().unwrap();
        let result = transport
            .deliver(&unreachable, &serde_json::json!({}))
            .await;
        let Err(DeliveryError::Failed(reason)) = result else {
            panic!("expected a failed delivery, got {result:?}");
        };
        assert!(!reason.contains("127.0.0.1"), "the URL leaked: {reason}");
    }
}

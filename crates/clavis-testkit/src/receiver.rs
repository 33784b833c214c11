//! A web hook receiver for tests: a real HTTP server on a free loopback port that records every
//! request and answers from a script (then `204 No Content`).

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Reply {
    /// Answers `status` with `body` (JSON when it parses as JSON) at once.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// The same answer, after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`Null` when it was not JSON).
    pub body: Value,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    received: Vec<Received>,
}

/// A running receiver; it stops when dropped.
pub struct HookReceiver {
    base: String,
    script: Arc<Mutex<Script>>,
    handle: actix_web::dev::ServerHandle,
}

fn lock(script: &Mutex<Script>) -> MutexGuard<'_, Script> {
    script
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    script: web::Data<Arc<Mutex<Script>>>,
) -> HttpResponse {
    let reply = {
        let mut script = lock(&script);
        script.received.push(Received {
            method: req.method().as_str().to_owned(),
            path: req.path().to_owned(),
            headers: req
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        script.replies.pop_front()
    };
    let reply = reply.unwrap_or_else(|| Reply::new(204, ""));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = actix_web::http::StatusCode::from_u16(reply.status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type("application/json")
        .body(reply.body)
}

impl HookReceiver {
    /// Starts a receiver on `127.0.0.1` and a free port.
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let data = web::Data::new(script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap_or_else(|e| crate::fail(&format!("the hook receiver cannot bind: {e}")));
        let port = server
            .addrs()
            .first()
            .map(|a| a.port())
            .unwrap_or_else(|| crate::fail("the hook receiver has no address"));
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base: format!("http://127.0.0.1:{port}"),
            script,
            handle,
        }
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Queues answers for the next requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.script).replies.extend(replies);
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.script).received.clone()
    }

    /// Waits until `count` requests arrived, for up to ten seconds.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

impl Drop for HookReceiver {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stopping needs the runtime; after it is gone the server is gone anyway.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { handle.stop(false).await });
        }
    }
}

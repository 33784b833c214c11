//! Fills a running Clavis with identities (through the admin API, with one precomputed
//! argon2id hash so seeding costs no hashing) and sessions (through real API logins, so each
//! one costs exactly what a user's login costs).

use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};

/// Why seeding stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{what} answered {status}: {body}")]
    Refused {
        what: &'static str,
        status: u16,
        body: String,
    },
    #[error("the login flow has no id")]
    NoFlowId,
    #[error("the login answered without a session token")]
    NoSessionToken,
    #[error("a cookie secret is required")]
    NoCookieSecret,
}

/// The address of seeded identity `n`.
pub fn email(n: usize) -> String {
    format!("bench-{n}@example.org")
}

async fn checked(what: &'static str, response: reqwest::Response) -> Result<Value, SeedError> {
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        return Err(SeedError::Refused {
            what,
            status: status.as_u16(),
            body,
        });
    }
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Creates identities `0..count` with the password whose argon2id PHC string is `hash`.
pub async fn identities(
    client: &reqwest::Client,
    admin: &str,
    admin_key: Option<&str>,
    count: usize,
    hash: &str,
    concurrency: usize,
) -> Result<(), SeedError> {
    let url = format!("{}/admin/identities", admin.trim_end_matches('/'));
    stream::iter(0..count)
        .map(|n| {
            let body = json!({
                "schema_id": "default",
                "traits": { "email": email(n) },
                "credentials": { "password": { "config": { "hashed_password": hash } } },
            });
            let mut request = client.post(&url).json(&body);
            if let Some(key) = admin_key {
                request = request.bearer_auth(key);
            }
            let request = request.send();
            async move { checked("POST /admin/identities", request.await?).await }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Logs identity `n` in through an API login flow; returns its session token.
pub async fn login(
    client: &reqwest::Client,
    public: &str,
    identifier: &str,
    password: &str,
) -> Result<String, SeedError> {
    let base = public.trim_end_matches('/');
    let flow = checked(
        "GET /self-service/login/api",
        client
            .get(format!("{base}/self-service/login/api"))
            .send()
            .await?,
    )
    .await?;
    let id = flow["id"].as_str().ok_or(SeedError::NoFlowId)?;
    let done = checked(
        "POST /self-service/login",
        client
            .post(format!("{base}/self-service/login?flow={id}"))
            .json(&json!({ "method": "password", "identifier": identifier, "password": password }))
            .send()
            .await?,
    )
    .await?;
    done["session_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or(SeedError::NoSessionToken)
}

/// Starts `count` sessions, spread over identities `0..identities`; returns their tokens.
pub async fn sessions(
    client: &reqwest::Client,
    public: &str,
    identities: usize,
    count: usize,
    password: &str,
    concurrency: usize,
) -> Result<Vec<String>, SeedError> {
    stream::iter(0..count)
        .map(|n| {
            let identifier = email(n * identities.max(1) / count.max(1));
            async move { login(client, public, &identifier, password).await }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await
}

/// `Cookie` header values carrying `tokens` as session cookies signed with `secret` (the
/// server's first `secrets.cookie`).
pub fn session_cookies(secret: &str, tokens: &[String]) -> Result<Vec<String>, SeedError> {
    let signer = clavis_core::cookie::CookieSigner::new(vec![secret.as_bytes().to_vec()])
        .map_err(|_| SeedError::NoCookieSecret)?;
    Ok(tokens
        .iter()
        .map(|t| {
            let token = clavis_core::secret::BearerToken::new(t.as_str());
            format!("clavis_session={}", signer.sign("session", &token))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argon::{Cost, phc};
    use clavis_testkit::{Engine, TEST_ADMIN_KEY, TEST_COOKIE_SECRET, TestServer};

    #[tokio::test]
    async fn seeded_sessions_answer_whoami_as_their_identities() {
        let Some(server) = TestServer::start(Engine::Sqlite).await else {
            return;
        };
        let cheap = Cost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let hash = phc(cheap, b"seeded password", b"sixteen byte slt").unwrap();
        let client = reqwest::Client::new();
        let admin = server.admin_url("/").to_string();
        let public = server.url("/").to_string();
        identities(&client, &admin, Some(TEST_ADMIN_KEY), 6, &hash, 3)
            .await
            .unwrap();
        let tokens = sessions(&client, &public, 6, 3, "seeded password", 2)
            .await
            .unwrap();
        let cookies = session_cookies(TEST_COOKIE_SECRET, &tokens).unwrap();
        let mut seen = Vec::new();
        for (token, cookie) in tokens.iter().zip(&cookies) {
            let by_cookie = client
                .get(server.url("/sessions/whoami"))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(by_cookie.status(), 200);
            let who: Value = client
                .get(server.url("/sessions/whoami"))
                .header("X-Session-Token", token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            seen.push(
                who["identity"]["traits"]["email"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        seen.sort();
        assert_eq!(seen, [email(0), email(2), email(4)]);
        let wrong = sessions(&client, &public, 6, 1, "not the password", 1).await;
        assert!(
            matches!(wrong, Err(SeedError::Refused { status: 400, .. })),
            "{wrong:?}"
        );
        server.stop().await;
    }
}

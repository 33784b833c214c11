//! `clavis identities ...`: the admin API from a terminal. Every command is an HTTP client of
//! a running server's admin listener, so it works the same against a local `--dev` server and a
//! production deployment.
//!
//! `import` reads the whole file and checks that it is a JSON array of objects before anything
//! is sent, then creates the identities in batches of [`MAX_BATCH`]; each identity is created
//! completely or not at all, and every refused entry is reported with its position.

use crate::dev;
use clavis_core::identity::admin::MAX_BATCH;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::{IsTerminal, Read};
use std::path::Path;
use url::Url;

/// Where the admin API is and how to authenticate to it.
#[derive(Debug, Clone)]
pub struct AdminTarget {
    pub endpoint: Url,
    pub api_key: Option<String>,
}

impl AdminTarget {
    /// The target from flags; without a key, the one `serve --dev` keeps in the data directory
    /// of the working directory, if there is one.
    pub fn new(mut endpoint: Url, api_key: Option<String>) -> Self {
        if !endpoint.path().ends_with('/') {
            endpoint.set_path(&format!("{}/", endpoint.path()));
        }
        let api_key = api_key.filter(|k| !k.is_empty()).or_else(|| {
            let path = Path::new(dev::DATA_DIR).join(dev::ADMIN_API_KEY_FILE);
            std::fs::read_to_string(path)
                .ok()
                .map(|key| key.trim().to_owned())
                .filter(|key| !key.is_empty())
        });
        Self { endpoint, api_key }
    }
}

/// Why a command failed, in one sentence.
#[derive(Debug, thiserror::Error)]
pub enum AdminCliError {
    #[error("cannot reach the admin API at {endpoint}: {problem}")]
    Unreachable { endpoint: String, problem: String },
    #[error("the admin API refused the request ({status}): {reason}")]
    Refused { status: u16, reason: String },
    #[error("{0}")]
    Input(String),
    #[error("{failed} of {total} identities were not imported (see the messages above)")]
    PartlyImported { failed: usize, total: usize },
}

struct Client {
    http: reqwest::Client,
    target: AdminTarget,
}

impl Client {
    fn new(target: AdminTarget) -> Result<Self, AdminCliError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AdminCliError::Input(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self { http, target })
    }

    /// Sends a request to `path` (relative to the admin endpoint) and reads the JSON answer;
    /// error answers become [`AdminCliError::Refused`] with Kratos' reason.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(Value, Option<String>), AdminCliError> {
        let url = self
            .target
            .endpoint
            .join(path.trim_start_matches('/'))
            .map_err(|e| AdminCliError::Input(format!("bad admin URL: {e}")))?;
        let mut request = self.http.request(method, url);
        if let Some(key) = &self.target.api_key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| AdminCliError::Unreachable {
                endpoint: self.target.endpoint.to_string(),
                problem: e.without_url().to_string(),
            })?;
        let status = response.status();
        let link = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            Ok((body, link))
        } else {
            Err(refused(status, &body))
        }
    }
}

fn refused(status: StatusCode, body: &Value) -> AdminCliError {
    let error = &body["error"];
    let reason = error["reason"]
        .as_str()
        .or_else(|| error["message"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string());
    AdminCliError::Refused {
        status: status.as_u16(),
        reason,
    }
}

/// `clavis identities import FILE|-`.
pub async fn import(target: AdminTarget, file: &Path) -> Result<(), AdminCliError> {
    let text = if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| AdminCliError::Input(format!("cannot read standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| AdminCliError::Input(format!("cannot read {}: {e}", file.display())))?
    };
    let identities = parse_import(&text)?;
    let client = Client::new(target)?;
    let total = identities.len();
    let progress = progress_bar(total as u64);
    let mut failed = 0;
    for (batch_index, batch) in identities.chunks(MAX_BATCH).enumerate() {
        let body = json!({
            "identities": batch.iter().map(|create| json!({"create": create})).collect::<Vec<_>>()
        });
        let (answer, _) = client
            .call(Method::PATCH, "admin/identities", Some(&body))
            .await?;
        let results = answer["identities"].as_array().cloned().unwrap_or_default();
        if results.len() != batch.len() {
            return Err(AdminCliError::Input(format!(
                "the server answered {} results for {} identities",
                results.len(),
                batch.len()
            )));
        }
        for (offset, result) in results.iter().enumerate() {
            if result["action"] != "create" {
                failed += 1;
                let position = batch_index * MAX_BATCH + offset;
                let reason = result["error"]["reason"]
                    .as_str()
                    .or_else(|| result["error"]["message"].as_str())
                    .unwrap_or("refused");
                progress.suspend(|| {
                    eprintln!(
                        "entry {position} ({}): {reason}",
                        describe(&identities[position])
                    );
                });
            }
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish_and_clear();
    println!("imported {} of {total} identities", total - failed);
    if failed > 0 {
        return Err(AdminCliError::PartlyImported { failed, total });
    }
    Ok(())
}

/// The import file: a JSON array of `createIdentityBody` objects.
fn parse_import(text: &str) -> Result<Vec<Value>, AdminCliError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        AdminCliError::Input(format!(
            "the file is not valid JSON ({e}); nothing was imported"
        ))
    })?;
    let Value::Array(entries) = value else {
        return Err(AdminCliError::Input(
            "the file must hold a JSON array of identities; nothing was imported".to_owned(),
        ));
    };
    if let Some(position) = entries.iter().position(|e| !e.is_object()) {
        return Err(AdminCliError::Input(format!(
            "entry {position} is not a JSON object; nothing was imported"
        )));
    }
    Ok(entries)
}

/// A short description of an import entry for messages: its e-mail trait or external id.
fn describe(entry: &Value) -> String {
    entry["traits"]["email"]
        .as_str()
        .or_else(|| entry["external_id"].as_str())
        .unwrap_or("no e-mail")
        .to_owned()
}

fn progress_bar(total: u64) -> ProgressBar {
    if total < MAX_BATCH as u64 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} identities ({eta})") {
        bar.set_style(style);
    }
    bar
}

/// `clavis identities list`: every identity, one line each (or JSON lines with `--json`).
pub async fn list(target: AdminTarget, as_json: bool) -> Result<(), AdminCliError> {
    let client = Client::new(target)?;
    let mut path = "admin/identities?page_size=500".to_owned();
    loop {
        let (page, link) = client.call(Method::GET, &path, None).await?;
        for identity in page.as_array().into_iter().flatten() {
            if as_json {
                println!("{identity}");
            } else {
                println!(
                    "{}\t{}\t{}",
                    identity["id"].as_str().unwrap_or_default(),
                    identity["state"].as_str().unwrap_or_default(),
                    describe(identity)
                );
            }
        }
        match next_page(link.as_deref()) {
            Some(next) => path = next.trim_start_matches('/').to_owned(),
            None => return Ok(()),
        }
    }
}

/// The `rel="next"` target of a `Link` header.
pub fn next_page(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|entry| {
        let (target, rel) = entry.split_once(';')?;
        (rel.trim() == "rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// `clavis identities get ID`: the identity as pretty JSON.
pub async fn get(target: AdminTarget, id: &str) -> Result<(), AdminCliError> {
    let id = uuid::Uuid::parse_str(id)
        .map_err(|_| AdminCliError::Input(format!("`{id}` is not an identity id")))?;
    let client = Client::new(target)?;
    let (identity, _) = client
        .call(Method::GET, &format!("admin/identities/{id}"), None)
        .await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&identity).unwrap_or_default()
    );
    Ok(())
}

/// `clavis identities delete ID`.
pub async fn delete(target: AdminTarget, id: &str) -> Result<(), AdminCliError> {
    let id = uuid::Uuid::parse_str(id)
        .map_err(|_| AdminCliError::Input(format!("`{id}` is not an identity id")))?;
    let client = Client::new(target)?;
    client
        .call(Method::DELETE, &format!("admin/identities/{id}"), None)
        .await?;
    println!("deleted {id}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_files_are_checked_whole_before_anything_is_sent() {
        assert_eq!(parse_import("[{\"a\":1},{}]").unwrap().len(), 2);
        for bad in ["{\"a\":1}", "[{}, 3]", "[{}", ""] {
            let err = parse_import(bad).unwrap_err().to_string();
            assert!(err.contains("nothing was imported"), "{bad}: {err}");
        }
    }

    #[test]
    fn next_page_reads_the_link_header() {
        let link = "</admin/identities?page_size=2>; rel=\"first\",</admin/identities?page_size=2&page_token=x>; rel=\"next\"";
        assert_eq!(
            next_page(Some(link)).as_deref(),
            Some("/admin/identities?page_size=2&page_token=x")
        );
        assert_eq!(next_page(Some("</a>; rel=\"first\"")), None);
    }
}

//! Reading identity schema documents named by `identity.schemas[].url`: `file://PATH` (relative
//! paths from the working directory) or `base64://DOCUMENT`. Nothing is fetched over a network.

use super::IdentityConfig;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use clavis_core::identity::{DEFAULT_SCHEMA, DEFAULT_SCHEMA_ID};
use serde_json::Value;

/// Why a schema document could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("identity schema `{id}` ({url}): {problem}")]
pub struct SchemaSourceError {
    pub id: String,
    pub url: String,
    pub problem: String,
}

/// Every configured schema document by id, or the shipped default when none is configured.
pub fn load_schema_documents(
    config: &IdentityConfig,
) -> Result<Vec<(String, Value)>, SchemaSourceError> {
    if config.schemas.is_empty() {
        let document = serde_json::from_str(DEFAULT_SCHEMA).map_err(|e| SchemaSourceError {
            id: DEFAULT_SCHEMA_ID.to_owned(),
            url: "built in".to_owned(),
            problem: e.to_string(),
        })?;
        return Ok(vec![(DEFAULT_SCHEMA_ID.to_owned(), document)]);
    }
    config
        .schemas
        .iter()
        .map(|source| {
            let fail = |problem: String| SchemaSourceError {
                id: source.id.clone(),
                url: shorten(&source.url),
                problem,
            };
            let bytes = read(&source.url).map_err(fail)?;
            let document: Value =
                serde_json::from_slice(&bytes).map_err(|e| fail(format!("not valid JSON: {e}")))?;
            Ok((source.id.clone(), document))
        })
        .collect()
}

fn read(url: &str) -> Result<Vec<u8>, String> {
    if let Some(path) = url.strip_prefix("file://") {
        return std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"));
    }
    if let Some(encoded) = url.strip_prefix("base64://") {
        return [&STANDARD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(encoded.trim()).ok())
            .ok_or_else(|| "the base64 payload cannot be decoded".to_owned());
    }
    Err("only file:// and base64:// schema URLs are supported".to_owned())
}

fn shorten(url: &str) -> String {
    if url.len() > 60 {
        format!(
            "{}…",
            &url[..url.char_indices().nth(60).map_or(url.len(), |(i, _)| i)]
        )
    } else {
        url.to_owned()
    }
}

//! Submission bodies: JSON, or `application/x-www-form-urlencoded` whose field names are the UI
//! node names with dots for nesting (`traits.email=a@b`), as Kratos accepts them.

use crate::error::ApiError;
use actix_web::HttpRequest;
use actix_web::http::header;
use serde_json::{Map, Value};

/// The body as one JSON value; an empty body is an empty object.
pub fn decode(req: &HttpRequest, bytes: &[u8]) -> Result<Value, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if bytes.is_empty() {
        return Ok(Value::Object(query_fields(req)));
    }
    match content_type.as_str() {
        "application/json" | "" => {
            let value: Value = serde_json::from_slice(bytes).map_err(|e| {
                ApiError::BadRequest(format!("the request body is not valid JSON: {e}"))
            })?;
            if value.is_object() {
                Ok(value)
            } else {
                Err(ApiError::BadRequest(
                    "the request body must be a JSON object".to_owned(),
                ))
            }
        }
        "application/x-www-form-urlencoded" => {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(bytes).map_err(|e| {
                    ApiError::BadRequest(format!("the form body cannot be decoded: {e}"))
                })?;
            Ok(Value::Object(nest(pairs)))
        }
        other => Err(ApiError::UnsupportedMediaType(other.to_owned())),
    }
}

/// GET submissions (links in e-mails) carry their fields in the query.
fn query_fields(req: &HttpRequest) -> Map<String, Value> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    nest(pairs.into_iter().filter(|(k, _)| k != "flow").collect())
}

fn nest(pairs: Vec<(String, String)>) -> Map<String, Value> {
    let mut root = Map::new();
    for (name, value) in pairs {
        let value = if name == "transient_payload" {
            serde_json::from_str(&value).unwrap_or(Value::String(value))
        } else {
            Value::String(value)
        };
        insert(&mut root, &name.split('.').collect::<Vec<_>>(), value);
    }
    root
}

fn insert(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

/// Whether the request came from a browser: an `Origin` header, or any cookie except those
/// a CDN in front may add (`__cf…`, `_cf…`, `cf_…`), as Kratos decides it.
pub fn from_browser(req: &HttpRequest) -> bool {
    if req.headers().contains_key(header::ORIGIN) {
        return true;
    }
    req.cookies()
        .map(|cookies| {
            cookies.iter().any(|c| {
                let name = c.name();
                !(name.starts_with("__cf") || name.starts_with("_cf") || name.starts_with("cf_"))
            })
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_form_names_nest() {
        let pairs = vec![
            ("traits.email".to_owned(), "a@b.co".to_owned()),
            ("traits.name.first".to_owned(), "Ada".to_owned()),
            ("method".to_owned(), "password".to_owned()),
            ("transient_payload".to_owned(), "{\"x\":1}".to_owned()),
        ];
        assert_eq!(
            Value::Object(nest(pairs)),
            json!({"traits": {"email": "a@b.co", "name": {"first": "Ada"}}, "method": "password", "transient_payload": {"x": 1}})
        );
    }
}

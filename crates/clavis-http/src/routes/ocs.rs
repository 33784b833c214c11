//! Nextcloud's OCS endpoints that native clients call around Login Flow v2, under
//! `/ocs/v1.php` and `/ocs/v2.php`: exchanging the account password for an app password
//! (`GET …/core/getapppassword`), revoking the app password in use (`DELETE
//! …/core/apppassword`), reading the signed-in user (`GET …/cloud/user`) and the server's
//! capabilities (`GET …/cloud/capabilities`).
//!
//! Answers come in the OCS envelope: XML unless `format=json` or an `Accept` header asks for
//! JSON. Version 1 reports success as `statuscode` 100 and answers HTTP 200 for everything but
//! 401; version 2 uses the HTTP status in both places.
//!
//! A browser cookie alone never authenticates here: an OCS request made with the session
//! cookie must also carry `OCS-APIRequest: true`, which a cross-site form cannot send.

use super::flows::{request_facts, request_url};
use super::login_flow_v2::{client_address, login_name};
use crate::error::ApiError;
use crate::session_token::{self, Presented};
use crate::state::HttpState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::CoreError;
use clavis_core::flow::login::{LoginResult, NewLogin};
use clavis_core::grant::GrantKind;
use clavis_core::identity::Identity;
use clavis_core::session::Authenticated;
use clavis_types::flow::FlowType;
use clavis_types::session::Aal;
use serde_json::{Map, Value, json};

/// The version clients see in the capabilities (the Nextcloud release whose client API this
/// front end follows).
const NEXTCLOUD_VERSION: (u64, u64, u64) = (28, 0, 0);

/// Public listener routes for both OCS versions.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for (prefix, version) in [("/ocs/v1.php", Ocs::V1), ("/ocs/v2.php", Ocs::V2)] {
        cfg.service(
            web::scope(prefix)
                .app_data(web::Data::new(version))
                .route("/core/getapppassword", web::get().to(ocs_get_app_password))
                .route(
                    "/core/apppassword",
                    web::delete().to(ocs_delete_app_password),
                )
                .route("/cloud/user", web::get().to(ocs_cloud_user))
                .route("/cloud/capabilities", web::get().to(ocs_capabilities)),
        );
    }
}

/// Which OCS API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ocs {
    V1,
    V2,
}

/// An OCS answer before it is written in the client's format.
struct OcsAnswer {
    status: StatusCode,
    message: String,
    data: Value,
}

impl OcsAnswer {
    fn ok(data: Value) -> Self {
        Self {
            status: StatusCode::OK,
            message: "OK".to_owned(),
            data,
        }
    }

    fn failure(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            message: message.to_owned(),
            data: json!([]),
        }
    }

    fn unauthorized() -> Self {
        Self::failure(StatusCode::UNAUTHORIZED, "Current user is not logged in")
    }
}

/// Whether the client asked for JSON: `format=json`, else the `Accept` header.
fn wants_json(req: &HttpRequest) -> bool {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    if let Some((_, format)) = query.iter().find(|(k, _)| k == "format") {
        return format.eq_ignore_ascii_case("json");
    }
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .map(|m| m.split(';').next().unwrap_or_default().trim())
                .find(|m| *m == "application/json" || *m == "application/xml" || *m == "text/xml")
                == Some("application/json")
        })
}

fn respond(version: Ocs, req: &HttpRequest, answer: OcsAnswer) -> HttpResponse {
    let success = answer.status.is_success();
    let (http_status, code) = match version {
        Ocs::V2 => (answer.status, answer.status.as_u16()),
        Ocs::V1 if success => (StatusCode::OK, 100),
        // Version 1 answers 200 for failures but 401, and says 997 for "not logged in".
        Ocs::V1 if answer.status == StatusCode::UNAUTHORIZED => (answer.status, 997),
        Ocs::V1 => (StatusCode::OK, answer.status.as_u16()),
    };
    let mut meta = Map::new();
    meta.insert(
        "status".into(),
        json!(if success { "ok" } else { "failure" }),
    );
    meta.insert("statuscode".into(), json!(code));
    meta.insert("message".into(), json!(answer.message));
    if version == Ocs::V1 {
        meta.insert("totalitems".into(), json!(""));
        meta.insert("itemsperpage".into(), json!(""));
    }
    let mut response = HttpResponse::build(http_status);
    if http_status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"Clavis\""));
    }
    if wants_json(req) {
        response.json(json!({"ocs": {"meta": meta, "data": answer.data}}))
    } else {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<ocs>\n <meta>\n");
        for (key, value) in &meta {
            xml_element(&mut xml, key, value, 2);
        }
        xml.push_str(" </meta>\n");
        xml_element(&mut xml, "data", &answer.data, 1);
        xml.push_str("</ocs>\n");
        response
            .content_type("application/xml; charset=utf-8")
            .body(xml)
    }
}

/// Writes `value` as `<name>…</name>`, objects as nested elements and lists as `<element>`
/// items, the way Nextcloud serialises OCS data.
fn xml_element(out: &mut String, name: &str, value: &Value, depth: usize) {
    let indent = " ".repeat(depth);
    let name = xml_name(name);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push_str(&format!("{indent}<{name}>\n"));
            for (key, child) in map {
                xml_element(out, key, child, depth + 1);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str(&format!("{indent}<{name}>\n"));
            for item in items {
                xml_element(out, "element", item, depth + 1);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
        Value::Object(_) | Value::Array(_) | Value::Null => {
            out.push_str(&format!("{indent}<{name}/>\n"));
        }
        Value::String(text) => {
            out.push_str(&format!("{indent}<{name}>{}</{name}>\n", xml_text(text)));
        }
        Value::Bool(flag) => {
            out.push_str(&format!("{indent}<{name}>{}</{name}>\n", u8::from(*flag)));
        }
        Value::Number(number) => out.push_str(&format!("{indent}<{name}>{number}</{name}>\n")),
    }
}

/// An element name: keys that are not valid names (numbers, odd characters) become `element`.
fn xml_name(key: &str) -> &str {
    let valid = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid { key } else { "element" }
}

fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Whether the request authenticates with the session cookie alone.
fn cookie_only(req: &HttpRequest) -> bool {
    !req.headers().contains_key("x-session-token")
        && !req.headers().contains_key(header::AUTHORIZATION)
}

fn ocs_api_request(req: &HttpRequest) -> bool {
    req.headers()
        .get("ocs-apirequest")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The caller, by any credential a session endpoint takes (cookies only with
/// `OCS-APIRequest: true`).
async fn caller(req: &HttpRequest, state: &HttpState) -> Option<Authenticated> {
    if cookie_only(req) && !ocs_api_request(req) {
        return None;
    }
    session_token::require(req, state).await.ok()
}

async fn ocs_cloud_user(
    state: web::Data<HttpState>,
    version: web::Data<Ocs>,
    req: HttpRequest,
) -> HttpResponse {
    let Some(who) = caller(&req, &state).await else {
        return respond(**version, &req, OcsAnswer::unauthorized());
    };
    respond(**version, &req, OcsAnswer::ok(user_data(&who.identity)))
}

/// What `cloud/user` tells about an identity: its id, and its e-mail address and display
/// name when the traits have them.
fn user_data(identity: &Identity) -> Value {
    let email = identity
        .verifiable_addresses
        .first()
        .map(|a| a.value.clone())
        .or_else(|| identity.traits["email"].as_str().map(str::to_owned));
    let name = &identity.traits["name"];
    let display = match name {
        Value::String(full) => Some(full.clone()),
        Value::Object(parts) => {
            let joined: Vec<&str> = ["first", "last"]
                .iter()
                .filter_map(|k| parts.get(*k).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .collect();
            (!joined.is_empty()).then(|| joined.join(" "))
        }
        _ => None,
    }
    .unwrap_or_else(|| login_name(identity));
    json!({
        "id": identity.id.to_string(),
        "enabled": identity.is_active(),
        "display-name": display,
        "displayname": display,
        "email": email,
        "backend": "Clavis",
    })
}

async fn ocs_capabilities(version: web::Data<Ocs>, req: HttpRequest) -> HttpResponse {
    let (major, minor, micro) = NEXTCLOUD_VERSION;
    let data = json!({
        "version": {
            "major": major,
            "minor": minor,
            "micro": micro,
            "string": format!("{major}.{minor}.{micro}"),
            "edition": "",
            "extendedSupport": false,
        },
        "capabilities": {
            "core": {"pollinterval": 60, "webdav-root": "remote.php/webdav"},
        },
    });
    respond(**version, &req, OcsAnswer::ok(data))
}

async fn ocs_delete_app_password(
    state: web::Data<HttpState>,
    version: web::Data<Ocs>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(who) = caller(&req, &state).await else {
        return Ok(respond(**version, &req, OcsAnswer::unauthorized()));
    };
    let Some(grant) = &who.client else {
        let refused = OcsAnswer::failure(StatusCode::FORBIDDEN, "no app password in use");
        return Ok(respond(**version, &req, refused));
    };
    state.grants.revoke(who.identity.id, grant.id).await?;
    Ok(respond(**version, &req, OcsAnswer::ok(json!([]))))
}

async fn ocs_get_app_password(
    state: web::Data<HttpState>,
    version: web::Data<Ocs>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let who = match caller(&req, &state).await {
        Some(who) => Some(who),
        None => password_login(&req, &state).await?,
    };
    let Some(who) = who else {
        return Ok(respond(**version, &req, OcsAnswer::unauthorized()));
    };
    if who.client.is_some() {
        let refused = OcsAnswer::failure(
            StatusCode::FORBIDDEN,
            "You cannot request an new apppassword with an apppassword",
        );
        return Ok(respond(**version, &req, refused));
    }
    if state.settings_flows.check_assurance(&who).is_err() {
        let refused = OcsAnswer::failure(
            StatusCode::FORBIDDEN,
            "The account has a second factor: sign in through the browser (Login Flow v2)",
        );
        return Ok(respond(**version, &req, refused));
    }
    let client_name = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let minted = state
        .grants
        .mint(
            who.identity.id,
            GrantKind::AppPassword,
            client_name,
            req.peer_addr().map(|a| a.ip().to_string()),
            who.session.aal,
        )
        .await?;
    let data = json!({"apppassword": minted.secret.expose()});
    Ok(respond(**version, &req, OcsAnswer::ok(data)))
}

/// HTTP Basic with the account's password (how clients that stored the password migrate to
/// an app password): a password login through an API login flow, whose session ends at once.
/// Counted against the same per-address limit as starting a device login, so the endpoint is
/// no faster a way to guess passwords. `None` when the request carries no such credentials or
/// they are wrong.
async fn password_login(
    req: &HttpRequest,
    state: &HttpState,
) -> Result<Option<Authenticated>, ApiError> {
    let Some(Presented::Basic { login, secret }) = session_token::presented(req, state) else {
        return Ok(None);
    };
    state
        .rate_limiter
        .check(
            "ocs_password",
            &client_address(req),
            state.settings.device_login_limits.init,
        )
        .await?;
    let flow = state
        .login
        .create(NewLogin {
            flow_type: FlowType::Api,
            refresh: false,
            requested_aal: Aal::Aal1,
            return_to: None,
            request_url: request_url(req, state),
            session: None,
            csrf_token: None,
        })
        .await?;
    let body = json!({"method": "password", "identifier": login, "password": secret.expose()});
    let facts = request_facts(req, state, &body);
    let result = match state.login.submit(flow.id, &body, None, facts).await {
        Ok(result) => result,
        Err(CoreError::ApiFlowFromBrowser) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    let LoginResult::LoggedIn {
        session,
        token,
        identity,
        ..
    } = result
    else {
        return Ok(None);
    };
    if let Some(token) = &token {
        state.sessions.logout_token_holder(token).await?;
    }
    Ok(Some(Authenticated {
        session,
        identity,
        client: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_follows_nextcloud_shapes_and_escapes_text() {
        let mut out = String::new();
        xml_element(
            &mut out,
            "data",
            &json!({"id": "a<b", "list": ["x", 1], "empty": [], "flag": true, "7": null}),
            0,
        );
        assert!(out.contains("<id>a&lt;b</id>"), "{out}");
        assert!(out.contains("<list>\n  <element>x</element>\n  <element>1</element>\n </list>"));
        assert!(out.contains("<empty/>"));
        assert!(out.contains("<flag>1</flag>"));
        assert!(
            out.contains("<element/>"),
            "invalid names become element: {out}"
        );
    }
}

//! Clavis' own browser pages (`/ui/...`): each reads its flow, session or error from the core
//! directly and renders it with `clavis-render`. Pages carry a nonce-based
//! `Content-Security-Policy`, `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer`, and
//! work without JavaScript.

use super::flows::{IdParam, aal2_login_url, see_other, with_cookie};
use crate::browser;
use crate::error::ApiError;
use crate::session_token;
use crate::state::HttpState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use clavis_core::CoreError;
use clavis_core::flow::Flow;
use clavis_core::identity::Identity;
use clavis_core::session::Authenticated;
use clavis_render::{
    Account, AccountApp, AccountMethod, AccountSession, Common, ErrorView, FlowPage, Links,
    LogoutView, PageKind, TraitItem,
};
use clavis_types::SessionId;
use clavis_types::session::Aal;
use serde::Deserialize;
use serde_json::Value;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ui/login", web::get().to(login_page))
        .route("/ui/registration", web::get().to(registration_page))
        .route("/ui/settings", web::get().to(settings_page))
        .route("/ui/recovery", web::get().to(recovery_page))
        .route("/ui/verification", web::get().to(verification_page))
        .route("/ui/error", web::get().to(error_page))
        .route("/ui/welcome", web::get().to(welcome_page))
        .route(
            "/ui/welcome/sessions/revoke",
            web::post().to(revoke_session),
        )
        .route("/ui/welcome/apps/revoke", web::post().to(revoke_app))
        .route("/ui/welcome/apps/rename", web::post().to(rename_app))
        .route("/ui/logout", web::get().to(logout_page));
}

#[derive(Debug, Deserialize)]
struct FlowQuery {
    flow: Option<String>,
}

pub(super) fn public(state: &HttpState, path: &str) -> String {
    state
        .settings
        .public_base_url
        .join(path)
        .map_or_else(|_| path.to_owned(), |u| u.to_string())
}

pub(super) fn links(state: &HttpState) -> Links {
    Links {
        login: public(state, "self-service/login/browser"),
        registration: public(state, "self-service/registration/browser"),
        settings: public(state, "self-service/settings/browser"),
        welcome: public(state, "ui/welcome"),
        logout: public(state, "ui/logout"),
        revoke: public(state, "ui/welcome/sessions/revoke"),
        apps: public(state, "ui/welcome/apps"),
        recovery: state
            .recovery
            .is_some()
            .then(|| public(state, "self-service/recovery/browser")),
        verification: state
            .verification
            .is_some()
            .then(|| public(state, "self-service/verification/browser")),
    }
}

pub(super) fn common(req: &HttpRequest, state: &HttpState) -> Common {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let mut nonce = [0u8; 18];
    state.rng.fill(&mut nonce);
    Common {
        lang: state.renderer.language(accept),
        nonce: STANDARD.encode(nonce),
    }
}

pub(super) fn render_failed(error: clavis_render::RenderError) -> ApiError {
    ApiError::Core(CoreError::Internal(error.to_string()))
}

/// An HTML page with the UI's security headers.
pub(super) fn html(
    state: &HttpState,
    common: &Common,
    status: actix_web::http::StatusCode,
    body: String,
) -> HttpResponse {
    let nonce = &common.nonce;
    let policy = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}' 'strict-dynamic'; img-src 'self' data:; form-action {}; base-uri 'none'; frame-ancestors 'none'",
        state.settings.ui_form_action
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// Where a page without a usable flow sends the browser: the flow's browser endpoint, which
/// creates one and comes back here.
fn start_over(state: &HttpState, req: &HttpRequest, init: &str) -> HttpResponse {
    let mut target = public(state, init);
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let kept: Vec<(String, String)> = query.into_iter().filter(|(k, _)| k != "flow").collect();
    if !kept.is_empty() {
        target.push('?');
        target.push_str(&serde_urlencoded::to_string(kept).unwrap_or_default());
    }
    see_other(&target)
}

/// Whether a flow could not be read because it is gone, expired or belongs to another browser:
/// the page then starts a new one.
fn restartable(error: &CoreError) -> bool {
    matches!(
        error,
        CoreError::FlowNotFound
            | CoreError::FlowExpired { .. }
            | CoreError::CsrfViolation(_)
            | CoreError::IdentityMismatch
            | CoreError::Aal2Required
    )
}

fn requested(query: &FlowQuery) -> Option<clavis_types::id::FlowId> {
    query
        .flow
        .as_deref()
        .and_then(|f| uuid::Uuid::parse_str(f).ok())
        .map(clavis_types::id::FlowId)
}

/// The page for a flow that was read, or a new flow when it could not be.
fn flow_answer(
    state: &HttpState,
    req: &HttpRequest,
    kind: PageKind,
    init: &str,
    read: Result<Flow, CoreError>,
) -> Result<HttpResponse, ApiError> {
    let flow = match read {
        Ok(flow) => flow,
        Err(error) if restartable(&error) => return Ok(start_over(state, req, init)),
        Err(error) => return Err(error.into()),
    };
    let page = FlowPage {
        kind,
        ui: &flow.ui,
        refresh: flow.refresh,
        second_factor: flow.requested_aal > Aal::Aal1,
        links: links(state),
    };
    let common = common(req, state);
    let body = state
        .renderer
        .flow_page(&page, &common)
        .map_err(render_failed)?;
    Ok(html(state, &common, actix_web::http::StatusCode::OK, body))
}

async fn login_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let init = "self-service/login/browser";
    let Some(id) = requested(&query) else {
        return Ok(start_over(&state, &req, init));
    };
    let csrf = browser::csrf_from_cookie(&req, &state);
    let read = state.login.get(id, csrf.as_ref()).await;
    flow_answer(&state, &req, PageKind::Login, init, read)
}

async fn registration_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let init = "self-service/registration/browser";
    let Some(id) = requested(&query) else {
        return Ok(start_over(&state, &req, init));
    };
    let csrf = browser::csrf_from_cookie(&req, &state);
    let read = state.registration.get(id, csrf.as_ref()).await;
    flow_answer(&state, &req, PageKind::Registration, init, read)
}

async fn settings_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let init = "self-service/settings/browser";
    let (Some(id), Ok(caller)) = (
        requested(&query),
        session_token::require(&req, &state).await,
    ) else {
        return Ok(start_over(&state, &req, init));
    };
    let read = state.settings_flows.get(id, &caller).await;
    flow_answer(&state, &req, PageKind::Settings, init, read)
}

async fn recovery_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let init = "self-service/recovery/browser";
    let Some(engine) = &state.recovery else {
        return Err(ApiError::NotFound);
    };
    let Some(id) = requested(&query) else {
        return Ok(start_over(&state, &req, init));
    };
    let csrf = browser::csrf_from_cookie(&req, &state);
    let read = engine.get(id, csrf.as_ref()).await;
    flow_answer(&state, &req, PageKind::Recovery, init, read)
}

async fn verification_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let init = "self-service/verification/browser";
    let Some(engine) = &state.verification else {
        return Err(ApiError::NotFound);
    };
    let Some(id) = requested(&query) else {
        return Ok(start_over(&state, &req, init));
    };
    let csrf = browser::csrf_from_cookie(&req, &state);
    let read = engine.get_for_page(id, csrf.as_ref()).await;
    flow_answer(&state, &req, PageKind::Verification, init, read)
}

async fn error_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let kept = match query.id.as_deref().map(str::parse::<uuid::Uuid>) {
        Some(Ok(id)) => state.flow_errors.get(id).await?,
        _ => None,
    };
    let view = match kept {
        Some(kept) => error_view(&kept.error),
        None => ErrorView {
            code: 404,
            status: "Not Found".to_owned(),
            message: "The error you are looking for does not exist (any more).".to_owned(),
            reason: None,
            id: None,
        },
    };
    let status = actix_web::http::StatusCode::from_u16(view.code)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let common = common(&req, &state);
    let body = state
        .renderer
        .error_page(&view, &links(&state), &common)
        .map_err(render_failed)?;
    Ok(html(&state, &common, status, body))
}

pub(super) fn error_view(error: &Value) -> ErrorView {
    let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
    ErrorView {
        code: error
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500),
        status: text("status").unwrap_or_default(),
        message: text("message").unwrap_or_default(),
        reason: text("reason"),
        id: text("id"),
    }
}

pub(super) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The traits as labelled rows: labels from the schema's `title`s, else the path.
fn trait_items(state: &HttpState, identity: &Identity) -> Vec<TraitItem> {
    let schema = state.identities.schemas().get(&identity.schema_id);
    let mut items = Vec::new();
    let mut stack: Vec<(String, &Value)> = vec![(String::new(), &identity.traits)];
    while let Some((path, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter().rev() {
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    stack.push((child_path, child));
                }
            }
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            leaf => {
                let pointer = format!(
                    "/properties/traits/properties/{}/title",
                    path.replace('.', "/properties/")
                );
                let label = schema
                    .and_then(|s| s.raw().pointer(&pointer))
                    .and_then(Value::as_str)
                    .map_or_else(|| path.clone(), str::to_owned);
                let value = match leaf {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                items.push(TraitItem {
                    name: path,
                    label,
                    value,
                });
            }
        }
    }
    items
}

pub(super) fn first_identifier(identity: &Identity) -> String {
    identity
        .credentials
        .values()
        .flat_map(|c| c.identifiers.iter())
        .next()
        .cloned()
        .or_else(|| {
            identity
                .verifiable_addresses
                .first()
                .map(|a| a.value.clone())
        })
        .unwrap_or_else(|| identity.id.to_string())
}

async fn account(state: &HttpState, who: &Authenticated) -> Result<Account, ApiError> {
    let session = &who.session;
    let mut sessions = vec![session.clone()];
    sessions.extend(
        state
            .sessions
            .list_others(session, None, 50)
            .await?
            .sessions,
    );
    Ok(Account {
        identifier: first_identifier(&who.identity),
        traits: trait_items(state, &who.identity),
        aal: session.aal.as_str().to_owned(),
        methods: session
            .authentication_methods
            .iter()
            .map(|m| AccountMethod {
                method: m.method.clone(),
                aal: m.aal.as_str().to_owned(),
                completed_at: when(m.completed_at),
            })
            .collect(),
        authenticated_at: when(session.authenticated_at),
        expires_at: when(session.expires_at),
        sessions: sessions
            .iter()
            .map(|s| AccountSession {
                id: s.id.to_string(),
                device: s.devices.first().and_then(|d| d.user_agent.clone()),
                ip: s.devices.first().and_then(|d| d.ip_address.clone()),
                authenticated_at: when(s.authenticated_at),
                current: s.id == session.id,
            })
            .collect(),
        apps: state
            .grants
            .list(who.identity.id)
            .await?
            .into_iter()
            .map(|g| AccountApp {
                id: g.id.to_string(),
                name: g.client_name,
                created_at: when(g.created_at),
                last_used_at: g.last_used_at.map(when),
                last_ip: g.last_ip,
                user_agent: g.user_agent,
            })
            .collect(),
        unverified: who
            .identity
            .verifiable_addresses
            .iter()
            .filter(|a| !a.verified)
            .map(|a| a.value.clone())
            .collect(),
    })
}

async fn welcome_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Ok(who) = session_token::require(&req, &state).await else {
        return Ok(see_other(&public(&state, "self-service/login/browser")));
    };
    if state.assurance.check_whoami(&who).is_err() {
        let back = public(&state, "ui/welcome");
        return Ok(see_other(&aal2_login_url(&state, Some(&back))));
    }
    let account = account(&state, &who).await?;
    let (csrf, csrf_cookie) = browser::ensure_csrf(&req, &state);
    let common = common(&req, &state);
    let body = state
        .renderer
        .welcome_page(&account, csrf.expose(), &links(&state), &common)
        .map_err(render_failed)?;
    with_cookie(
        html(&state, &common, actix_web::http::StatusCode::OK, body),
        csrf_cookie.as_ref(),
    )
}

/// The submitted form of an account-page action, after its CSRF token was checked.
async fn account_form(
    state: &HttpState,
    req: &HttpRequest,
    bytes: &web::Bytes,
) -> Result<(Authenticated, Value), ApiError> {
    let who = session_token::require(req, state).await?;
    let form = crate::body::decode(req, bytes)?;
    browser::check_csrf(req, state, form.get("csrf_token").and_then(Value::as_str))?;
    Ok((who, form))
}

fn field<'a>(form: &'a Value, name: &str) -> &'a str {
    form.get(name).and_then(Value::as_str).unwrap_or_default()
}

async fn revoke_session(
    state: web::Data<HttpState>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (who, form) = account_form(&state, &req, &bytes).await?;
    let id = uuid::Uuid::parse_str(field(&form, "session_id"))
        .map(SessionId::from)
        .map_err(|_| ApiError::BadRequest("`session_id` is not a session id".to_owned()))?;
    state.sessions.revoke_other(&who.session, id).await?;
    Ok(see_other(&public(&state, "ui/welcome")))
}

/// The grant a form names, as `grant_id`.
fn grant_id(form: &Value) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(field(form, "grant_id"))
        .map_err(|_| ApiError::BadRequest("`grant_id` is not a grant id".to_owned()))
}

/// "Revoke access" for one app, or for all of them with `grant_id=all`.
async fn revoke_app(
    state: web::Data<HttpState>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (who, form) = account_form(&state, &req, &bytes).await?;
    if field(&form, "grant_id") == "all" {
        let keep = who.client.as_ref().map(|g| g.id);
        state.grants.revoke_all(who.identity.id, keep).await?;
    } else {
        state
            .grants
            .revoke(who.identity.id, grant_id(&form)?)
            .await?;
    }
    Ok(see_other(&public(&state, "ui/welcome")))
}

async fn rename_app(
    state: web::Data<HttpState>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (who, form) = account_form(&state, &req, &bytes).await?;
    state
        .grants
        .rename(who.identity.id, grant_id(&form)?, field(&form, "name"))
        .await?;
    Ok(see_other(&public(&state, "ui/welcome")))
}

async fn logout_page(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Ok(who) = session_token::require(&req, &state).await else {
        return Ok(see_other(&public(&state, "self-service/login/browser")));
    };
    let token = state.sessions.new_logout_token(&who.session).await?;
    let view = LogoutView {
        action: public(&state, "self-service/logout"),
        token: token.expose().to_owned(),
        return_to: None,
    };
    let common = common(&req, &state);
    let body = state
        .renderer
        .logout_page(&view, &links(&state), &common)
        .map_err(render_failed)?;
    Ok(html(&state, &common, actix_web::http::StatusCode::OK, body))
}

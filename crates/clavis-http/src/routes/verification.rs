//! Verification flows: native (`/api`), browser and single-page apps (`/browser`); read and
//! submit. The link in a verification mail (`GET /self-service/verification?flow=&code=`)
//! submits its code without the form's CSRF token: the code is the proof, and the mail may be
//! opened in another browser than the one that asked for it. Answers 404 while
//! `selfservice.flows.verification` is off.

use super::flows::{
    IdParam, browser_flow_created, browser_recovery, flow_id, request_facts, request_url,
    see_other, to_error_page,
};
use crate::body;
use crate::browser;
use crate::error::ApiError;
use crate::present;
use crate::state::HttpState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::flow::verification::{NewVerification, VerificationEngine, VerificationResult};
use clavis_types::flow::FlowType;
use serde::Deserialize;
use serde_json::json;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/self-service/verification/api",
        web::get().to(verification_create_api),
    )
    .route(
        "/self-service/verification/browser",
        web::get().to(verification_create_browser),
    )
    .route(
        "/self-service/verification/flows",
        web::get().to(verification_get),
    )
    .service(
        web::resource("/self-service/verification")
            .route(web::post().to(verification_submit))
            .route(web::get().to(verification_submit)),
    );
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    return_to: Option<String>,
}

/// `?flow=<id>[&code=<code>]` of a submission.
#[derive(Debug, Deserialize)]
struct SubmitQuery {
    flow: Option<String>,
    code: Option<String>,
}

/// The engine, or 404 while verification is off.
fn engine(state: &HttpState) -> Result<&VerificationEngine, ApiError> {
    state.verification.as_ref().ok_or(ApiError::NotFound)
}

async fn verification_create_api(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = engine(&state)?
        .create(NewVerification {
            flow_type: FlowType::Api,
            return_to: query.return_to.clone(),
            request_url: request_url(&req, &state),
            csrf_token: None,
        })
        .await?;
    Ok(HttpResponse::Ok().json(present::verification_flow(&flow)))
}

async fn verification_create_browser_answer(
    state: &HttpState,
    req: &HttpRequest,
    query: &CreateQuery,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(req);
    let engine = engine(state)?;
    let (csrf, csrf_cookie) = browser::ensure_csrf(req, state);
    let flow = engine
        .create(NewVerification {
            flow_type: FlowType::Browser,
            return_to: query.return_to.clone(),
            request_url: request_url(req, state),
            csrf_token: Some(csrf),
        })
        .await?;
    browser_flow_created(
        json,
        &present::verification_flow(&flow),
        &state.settings.ui.verification,
        flow.id,
        csrf_cookie,
    )
}

async fn verification_create_browser(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    match verification_create_browser_answer(&state, &req, &query).await {
        Err(error) if !browser::wants_json(&req) => to_error_page(&state, error).await,
        answer => answer,
    }
}

async fn verification_get(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let csrf = browser::csrf_from_cookie(&req, &state);
    let flow = engine(&state)?
        .get(flow_id(query.id.as_deref(), "id")?, csrf.as_ref())
        .await?;
    Ok(HttpResponse::Ok().json(present::verification_flow(&flow)))
}

async fn verification_submit_answer(
    state: &HttpState,
    req: &HttpRequest,
    query: &SubmitQuery,
    bytes: &Bytes,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(req);
    let engine = engine(state)?;
    let id = flow_id(query.flow.as_deref(), "flow")?;
    let link = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && req.method() == actix_web::http::Method::GET);
    let body = match link {
        Some(code) => json!({"method": "code", "code": code}),
        None => body::decode(req, bytes)?,
    };
    let facts = request_facts(req, state, &body);
    let result = engine.submit(id, &body, facts, link.is_some()).await?;
    let (flow, status) = match result {
        VerificationResult::Continued(flow) => (flow, actix_web::http::StatusCode::OK),
        VerificationResult::Refused(flow) => (flow, actix_web::http::StatusCode::BAD_REQUEST),
    };
    // Browsers, and anyone opening the mail's link, see the result on the page.
    if (flow.flow_type == FlowType::Browser || link.is_some()) && !json {
        return Ok(see_other(&browser::ui_with_flow(
            &state.settings.ui.verification,
            flow.id,
        )));
    }
    Ok(HttpResponse::build(status).json(present::verification_flow(&flow)))
}

async fn verification_submit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<SubmitQuery>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let link_click = query.code.is_some() && req.method() == actix_web::http::Method::GET;
    match verification_submit_answer(&state, &req, &query, &bytes).await {
        // A link opened from a mail is a page visit, whatever the client sends along.
        Err(error) if link_click && !browser::wants_json(&req) => {
            to_error_page(&state, error).await
        }
        Err(error) => browser_recovery(&req, &state, error, &state.settings.ui.verification).await,
        answer => answer,
    }
}

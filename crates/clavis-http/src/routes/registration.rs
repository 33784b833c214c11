//! Registration flows: native (`/api`), browser and single-page apps (`/browser`); read and
//! submit.

use super::flows::{
    FlowParam, IdParam, browser_flow_created, browser_recovery, flow_id, optional_session,
    request_facts, request_url, return_destination, see_other, to_error_page, with_cookie,
};
use crate::body;
use crate::browser;
use crate::error::ApiError;
use crate::present;
use crate::state::HttpState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::CoreError;
use clavis_core::flow::registration::{NewRegistration, RegistrationResult};
use clavis_types::flow::{ContinueWith, FlowType, SuccessfulNativeRegistration};
use serde::Deserialize;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/self-service/registration/api",
        web::get().to(registration_create_api),
    )
    .route(
        "/self-service/registration/browser",
        web::get().to(registration_create_browser),
    )
    .route(
        "/self-service/registration/flows",
        web::get().to(registration_get),
    )
    .service(
        web::resource("/self-service/registration")
            .route(web::post().to(registration_submit))
            .route(web::get().to(registration_submit)),
    );
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    return_to: Option<String>,
    return_session_token_exchange_code: Option<bool>,
}

async fn registration_create_api(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = state
        .registration
        .create(NewRegistration {
            flow_type: FlowType::Api,
            return_to: query.return_to.clone(),
            request_url: request_url(&req, &state),
            session: optional_session(&req, &state).await,
            csrf_token: None,
        })
        .await?;
    let code = match query.return_session_token_exchange_code {
        Some(true) => Some(state.exchanges.start(&flow).await?),
        _ => None,
    };
    let mut wire = present::registration_flow(flow);
    wire.session_token_exchange_code = code.map(|c| c.expose().to_owned());
    Ok(HttpResponse::Ok().json(wire))
}

async fn registration_create_browser_answer(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(&req);
    let (csrf, csrf_cookie) = browser::ensure_csrf(&req, &state);
    let created = state
        .registration
        .create(NewRegistration {
            flow_type: FlowType::Browser,
            return_to: query.return_to.clone(),
            request_url: request_url(&req, &state),
            session: optional_session(&req, &state).await,
            csrf_token: Some(csrf),
        })
        .await;
    let flow = match created {
        Ok(flow) => flow,
        Err(CoreError::SessionAlreadyAvailable) if !json => {
            let allowed = query
                .return_to
                .as_deref()
                .filter(|r| state.registration.return_to_allowed(r));
            return Ok(see_other(&return_destination(&state, allowed)));
        }
        Err(error) => return Err(error.into()),
    };
    let id = flow.id;
    browser_flow_created(
        json,
        &present::registration_flow(flow),
        &state.settings.ui.registration,
        id,
        csrf_cookie,
    )
}

async fn registration_get(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let csrf = browser::csrf_from_cookie(&req, &state);
    let flow = state
        .registration
        .get(flow_id(query.id.as_deref(), "id")?, csrf.as_ref())
        .await?;
    Ok(HttpResponse::Ok().json(present::registration_flow(flow)))
}

async fn registration_submit_answer(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowParam>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(&req);
    let id = flow_id(query.flow.as_deref(), "flow")?;
    let body = body::decode(&req, &bytes)?;
    let session = optional_session(&req, &state).await;
    let facts = request_facts(&req, &state, &body);
    let result = match state.registration.submit(id, &body, session, facts).await {
        Ok(result) => result,
        Err(error) => return Err(error.into()),
    };
    let base = &state.settings.public_base_url;
    match result {
        RegistrationResult::Flow(flow) if flow.flow_type == FlowType::Browser && !json => {
            Ok(see_other(&browser::ui_with_flow(
                &state.settings.ui.registration,
                flow.id,
            )))
        }
        RegistrationResult::Flow(flow) => {
            Ok(HttpResponse::BadRequest().json(present::registration_flow(flow)))
        }
        RegistrationResult::Registered {
            flow,
            identity,
            session,
            verifications,
        } => {
            let now = state.clock.now();
            let wire_identity = present::identity(&identity, base);
            let verify =
                present::verification_continues(&verifications, &state.settings.ui.verification);
            if flow.flow_type == FlowType::Api {
                let (wire_session, token) = match &session {
                    Some((s, t)) => (
                        Some(present::session(s, Some(&identity), base, now)),
                        Some(t.expose().to_owned()),
                    ),
                    None => (None, None),
                };
                let continue_with = token
                    .iter()
                    .map(|t| ContinueWith::SetOrySessionToken {
                        ory_session_token: t.clone(),
                    })
                    .chain(verify)
                    .collect();
                return Ok(HttpResponse::Ok().json(SuccessfulNativeRegistration {
                    identity: wire_identity,
                    session: wire_session,
                    session_token: token,
                    continue_with,
                }));
            }
            let destination = return_destination(&state, flow.return_to.as_deref());
            let response = if json {
                HttpResponse::Ok().json(SuccessfulNativeRegistration {
                    identity: wire_identity,
                    session: session
                        .as_ref()
                        .map(|(s, _)| present::session(s, Some(&identity), base, now)),
                    session_token: None,
                    continue_with: verify
                        .into_iter()
                        .chain([ContinueWith::RedirectBrowserTo {
                            redirect_browser_to: destination.clone(),
                        }])
                        .collect(),
                })
            } else {
                see_other(&destination)
            };
            let cookie = session
                .as_ref()
                .map(|(session, token)| browser::session_cookie(&state, token, session.expires_at));
            with_cookie(response, cookie.as_ref())
        }
        RegistrationResult::Redirect { flow, url }
            if flow.flow_type == FlowType::Browser && !json =>
        {
            Ok(see_other(&url))
        }
        RegistrationResult::Redirect { url, .. } => Err(ApiError::LocationChange(url)),
    }
}

async fn registration_create_browser(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    match registration_create_browser_answer(state.clone(), req.clone(), query).await {
        Err(error) if !browser::wants_json(&req) => to_error_page(&state, error).await,
        answer => answer,
    }
}

async fn registration_submit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowParam>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    match registration_submit_answer(state.clone(), req.clone(), query, bytes).await {
        Err(error) => browser_recovery(&req, &state, error, &state.settings.ui.registration).await,
        answer => answer,
    }
}

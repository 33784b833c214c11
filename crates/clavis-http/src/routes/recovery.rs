//! Recovery flows: native (`/api`), browser and single-page apps (`/browser`); read and
//! submit. A recovered account gets a session and continues in a settings flow: browsers are
//! sent there (303), single-page apps are told to go there (422
//! `browser_location_change_required`), native apps get the session token and the settings
//! flow in `continue_with`. Answers 404 while `selfservice.flows.recovery` is off.

use super::flows::{
    FlowParam, IdParam, aal2_login_url, browser_flow_created, browser_recovery, flow_id,
    optional_session, request_facts, request_url, return_destination, see_other, to_error_page,
    with_cookie,
};
use crate::body;
use crate::browser;
use crate::error::ApiError;
use crate::present;
use crate::state::HttpState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use clavis_core::CoreError;
use clavis_core::flow::recovery::{NewRecovery, RecoveryEngine, RecoveryResult};
use clavis_types::flow::{ContinueWith, ContinueWithFlow, FlowType};
use serde::Deserialize;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/self-service/recovery/api",
        web::get().to(recovery_create_api),
    )
    .route(
        "/self-service/recovery/browser",
        web::get().to(recovery_create_browser),
    )
    .route("/self-service/recovery/flows", web::get().to(recovery_get))
    .service(
        web::resource("/self-service/recovery")
            .route(web::post().to(recovery_submit))
            .route(web::get().to(recovery_submit)),
    );
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    return_to: Option<String>,
}

/// The engine, or 404 while recovery is off.
fn engine(state: &HttpState) -> Result<&RecoveryEngine, ApiError> {
    state.recovery.as_ref().ok_or(ApiError::NotFound)
}

async fn recovery_create_api(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let session = optional_session(&req, &state).await;
    let flow = engine(&state)?
        .create(
            NewRecovery {
                flow_type: FlowType::Api,
                return_to: query.return_to.clone(),
                request_url: request_url(&req, &state),
                csrf_token: None,
            },
            session.as_ref(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(present::recovery_flow(&flow, Vec::new())))
}

async fn recovery_create_browser_answer(
    state: &HttpState,
    req: &HttpRequest,
    query: &CreateQuery,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(req);
    let engine = engine(state)?;
    let (csrf, csrf_cookie) = browser::ensure_csrf(req, state);
    let session = optional_session(req, state).await;
    let created = engine
        .create(
            NewRecovery {
                flow_type: FlowType::Browser,
                return_to: query.return_to.clone(),
                request_url: request_url(req, state),
                csrf_token: Some(csrf),
            },
            session.as_ref(),
        )
        .await;
    let flow = match created {
        Ok(flow) => flow,
        Err(CoreError::SessionAlreadyAvailable) if !json => {
            return Ok(see_other(&return_destination(state, None)));
        }
        Err(error) => return Err(error.into()),
    };
    browser_flow_created(
        json,
        &present::recovery_flow(&flow, Vec::new()),
        &state.settings.ui.recovery,
        flow.id,
        csrf_cookie,
    )
}

async fn recovery_create_browser(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    match recovery_create_browser_answer(&state, &req, &query).await {
        Err(error) if !browser::wants_json(&req) => to_error_page(&state, error).await,
        answer => answer,
    }
}

async fn recovery_get(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let csrf = browser::csrf_from_cookie(&req, &state);
    let flow = engine(&state)?
        .get(flow_id(query.id.as_deref(), "id")?, csrf.as_ref())
        .await?;
    Ok(HttpResponse::Ok().json(present::recovery_flow(&flow, Vec::new())))
}

async fn recovery_submit_answer(
    state: &HttpState,
    req: &HttpRequest,
    query: &FlowParam,
    bytes: &Bytes,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(req);
    let engine = engine(state)?;
    let id = flow_id(query.flow.as_deref(), "flow")?;
    let body = body::decode(req, bytes)?;
    let session = optional_session(req, state).await;
    let facts = request_facts(req, state, &body);
    let result = engine.submit(id, &body, session.as_ref(), facts).await?;
    let ui_page = |flow: &clavis_core::flow::Flow| {
        browser::ui_with_flow(&state.settings.ui.recovery, flow.id)
    };
    match result {
        RecoveryResult::Continued(flow) | RecoveryResult::Refused(flow)
            if flow.flow_type == FlowType::Browser && !json =>
        {
            Ok(see_other(&ui_page(&flow)))
        }
        RecoveryResult::Continued(flow) => {
            Ok(HttpResponse::Ok().json(present::recovery_flow(&flow, Vec::new())))
        }
        RecoveryResult::Refused(flow) => {
            Ok(HttpResponse::BadRequest().json(present::recovery_flow(&flow, Vec::new())))
        }
        RecoveryResult::Recovered {
            flow,
            session,
            token,
            settings,
            ..
        } => {
            // Where the recovered caller goes next: the settings flow, or the second factor
            // first when the settings flow needs one.
            let next = match &settings {
                Some(settings) => browser::ui_with_flow(&state.settings.ui.settings, settings.id),
                None => aal2_login_url(
                    state,
                    Some(&format!(
                        "{}self-service/settings/browser",
                        state.settings.public_base_url
                    )),
                ),
            };
            if flow.flow_type == FlowType::Api {
                let mut continue_with = vec![ContinueWith::SetOrySessionToken {
                    ory_session_token: token.expose().to_owned(),
                }];
                continue_with.extend(settings.as_ref().map(|s| ContinueWith::ShowSettingsUi {
                    flow: ContinueWithFlow {
                        id: s.id.as_uuid(),
                        url: None,
                    },
                }));
                return Ok(HttpResponse::Ok().json(present::recovery_flow(&flow, continue_with)));
            }
            let cookie = browser::session_cookie(state, &token, session.expires_at);
            let response = if json {
                ApiError::LocationChange(next).error_response()
            } else {
                see_other(&next)
            };
            with_cookie(response, Some(&cookie))
        }
    }
}

async fn recovery_submit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowParam>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    match recovery_submit_answer(&state, &req, &query, &bytes).await {
        Err(error) => browser_recovery(&req, &state, error, &state.settings.ui.recovery).await,
        answer => answer,
    }
}

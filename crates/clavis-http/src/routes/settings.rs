//! Settings flows: a signed-in identity changes its traits and credentials. Native (`/api`),
//! browser and single-page apps (`/browser`); read and submit. Without a session, browsers are
//! sent to log in and come back; everything else gets 401.

use super::flows::{
    FlowParam, IdParam, aal2_login_url, browser_flow_created, browser_recovery, flow_id,
    login_browser_url, request_facts, request_url, see_other, to_error_page,
};
use crate::body;
use crate::browser;
use crate::error::ApiError;
use crate::present;
use crate::session_token;
use crate::state::HttpState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::CoreError;
use clavis_core::flow::settings::{NewSettings, SettingsResult};
use clavis_core::session::Authenticated;
use clavis_types::flow::{ContinueWith, FlowType};
use clavis_types::id::FlowId;
use serde::Deserialize;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/self-service/settings/api",
        web::get().to(settings_create_api),
    )
    .route(
        "/self-service/settings/browser",
        web::get().to(settings_create_browser),
    )
    .route("/self-service/settings/flows", web::get().to(settings_get))
    .service(
        web::resource("/self-service/settings")
            .route(web::post().to(settings_submit))
            .route(web::get().to(settings_submit)),
    );
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    return_to: Option<String>,
}

/// Where a session too old for a privileged change signs in again: a refresh login that
/// returns to the settings page of the flow.
fn refresh_url(state: &HttpState, flow: FlowId) -> String {
    let back = browser::ui_with_flow(&state.settings.ui.settings, flow);
    login_browser_url(state, &[("refresh", "true"), ("return_to", &back)])
}

/// The caller, or for a plain browser request a 303 to the login flow that returns here.
async fn caller_or_login(
    req: &HttpRequest,
    state: &HttpState,
    json: bool,
) -> Result<Result<Authenticated, HttpResponse>, ApiError> {
    match session_token::require(req, state).await {
        Ok(caller) => Ok(Ok(caller)),
        Err(ApiError::Core(CoreError::NoActiveSession)) if !json => {
            let back = request_url(req, state);
            Ok(Err(see_other(&login_browser_url(
                state,
                &[("return_to", &back)],
            ))))
        }
        Err(error) => Err(error),
    }
}

/// A settings answer, with a session below `required_aal` sent to the step-up login: a 303
/// when `redirect` (plain browser requests), else 403 `session_aal2_required`.
fn stepped_up(
    req: &HttpRequest,
    state: &HttpState,
    redirect: bool,
    answer: Result<HttpResponse, ApiError>,
) -> Result<HttpResponse, ApiError> {
    match answer {
        Err(ApiError::Core(CoreError::Aal2Required)) => {
            let url = aal2_login_url(state, Some(&request_url(req, state)));
            if redirect {
                Ok(see_other(&url))
            } else {
                Err(ApiError::Aal2Required(url))
            }
        }
        other => other,
    }
}

async fn settings_create_api(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let answer = settings_create_api_answer(&state, &req, &query).await;
    stepped_up(&req, &state, false, answer)
}

async fn settings_create_api_answer(
    state: &HttpState,
    req: &HttpRequest,
    query: &CreateQuery,
) -> Result<HttpResponse, ApiError> {
    let caller = session_token::require(req, state).await?;
    let flow = state
        .settings_flows
        .create(NewSettings {
            flow_type: FlowType::Api,
            return_to: query.return_to.clone(),
            request_url: request_url(req, state),
            caller: caller.clone(),
            csrf_token: None,
        })
        .await?;
    let base = &state.settings.public_base_url;
    Ok(HttpResponse::Ok().json(present::settings_flow(
        &flow,
        &caller.identity,
        base,
        Vec::new(),
    )))
}

async fn settings_create_browser_answer(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(&req);
    let caller = match caller_or_login(&req, &state, json).await? {
        Ok(caller) => caller,
        Err(redirect) => return Ok(redirect),
    };
    let (csrf, csrf_cookie) = browser::ensure_csrf(&req, &state);
    let flow = state
        .settings_flows
        .create(NewSettings {
            flow_type: FlowType::Browser,
            return_to: query.return_to.clone(),
            request_url: request_url(&req, &state),
            caller: caller.clone(),
            csrf_token: Some(csrf),
        })
        .await?;
    let base = &state.settings.public_base_url;
    browser_flow_created(
        json,
        &present::settings_flow(&flow, &caller.identity, base, Vec::new()),
        &state.settings.ui.settings,
        flow.id,
        csrf_cookie,
    )
}

async fn settings_get(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let answer = async {
        let id = flow_id(query.id.as_deref(), "id")?;
        let caller = session_token::require(&req, &state).await?;
        let flow = state.settings_flows.get(id, &caller).await?;
        let base = &state.settings.public_base_url;
        Ok(HttpResponse::Ok().json(present::settings_flow(
            &flow,
            &caller.identity,
            base,
            Vec::new(),
        )))
    }
    .await;
    stepped_up(&req, &state, false, answer)
}

async fn settings_submit_answer(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowParam>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(&req);
    let id = flow_id(query.flow.as_deref(), "flow")?;
    let body = body::decode(&req, &bytes)?;
    let caller = match caller_or_login(&req, &state, json).await? {
        Ok(caller) => caller,
        Err(redirect) => return Ok(redirect),
    };
    let facts = request_facts(&req, &state, &body);
    let result = match state
        .settings_flows
        .submit(id, &body, caller.clone(), facts)
        .await
    {
        Ok(result) => result,
        Err(CoreError::RefreshRequired { flow_id }) => {
            let url = refresh_url(&state, flow_id);
            return if json {
                Err(ApiError::RefreshRequired(url))
            } else {
                Ok(see_other(&url))
            };
        }
        Err(error) => return Err(error.into()),
    };
    let base = &state.settings.public_base_url;
    let ui_page = |flow: FlowId| browser::ui_with_flow(&state.settings.ui.settings, flow);
    match result {
        SettingsResult::Flow(flow) if flow.flow_type == FlowType::Browser && !json => {
            Ok(see_other(&ui_page(flow.id)))
        }
        SettingsResult::Flow(flow) => Ok(HttpResponse::BadRequest().json(present::settings_flow(
            &flow,
            &caller.identity,
            base,
            Vec::new(),
        ))),
        SettingsResult::Updated { flow, identity } => {
            if flow.flow_type == FlowType::Api {
                return Ok(HttpResponse::Ok().json(present::settings_flow(
                    &flow,
                    &identity,
                    base,
                    Vec::new(),
                )));
            }
            let destination = flow.return_to.clone().unwrap_or_else(|| ui_page(flow.id));
            if json {
                Ok(HttpResponse::Ok().json(present::settings_flow(
                    &flow,
                    &identity,
                    base,
                    vec![ContinueWith::RedirectBrowserTo {
                        redirect_browser_to: destination,
                    }],
                )))
            } else {
                Ok(see_other(&destination))
            }
        }
        SettingsResult::Redirect { flow, url } if flow.flow_type == FlowType::Browser && !json => {
            Ok(see_other(&url))
        }
        SettingsResult::Redirect { url, .. } => Err(ApiError::LocationChange(url)),
    }
}

async fn settings_create_browser(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let answer = settings_create_browser_answer(state.clone(), req.clone(), query).await;
    let json = browser::wants_json(&req);
    match stepped_up(&req, &state, !json, answer) {
        Err(error) if !json => to_error_page(&state, error).await,
        answer => answer,
    }
}

async fn settings_submit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowParam>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let answer = settings_submit_answer(state.clone(), req.clone(), query, bytes).await;
    let json = browser::wants_json(&req);
    match stepped_up(&req, &state, !json, answer) {
        Err(error) => browser_recovery(&req, &state, error, &state.settings.ui.settings).await,
        answer => answer,
    }
}

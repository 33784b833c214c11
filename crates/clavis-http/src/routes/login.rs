//! Login flows: native (`/api`), browser and single-page apps (`/browser`); read and submit.

use super::flows::{
    FlowParam, IdParam, aal2_login_url, browser_flow_created, browser_recovery, flow_id,
    optional_session, request_facts, request_url, requested_aal, return_destination, see_other,
    to_error_page, with_cookie,
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
use clavis_core::flow::login::{LoginResult, NewLogin};
use clavis_core::session::Authenticated;
use clavis_types::flow::{ContinueWith, FlowType, SuccessfulNativeLogin};
use serde::Deserialize;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/self-service/login/api", web::get().to(login_create_api))
        .route(
            "/self-service/login/browser",
            web::get().to(login_create_browser),
        )
        .route("/self-service/login/flows", web::get().to(login_get))
        .service(
            web::resource("/self-service/login")
                .route(web::post().to(login_submit))
                .route(web::get().to(login_submit)),
        );
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    refresh: Option<bool>,
    aal: Option<String>,
    return_to: Option<String>,
    return_session_token_exchange_code: Option<bool>,
}

fn new_login(
    req: &HttpRequest,
    state: &HttpState,
    query: &CreateQuery,
    flow_type: FlowType,
) -> Result<NewLogin, ApiError> {
    Ok(NewLogin {
        flow_type,
        refresh: query.refresh.unwrap_or(false),
        requested_aal: requested_aal(query.aal.as_deref())?,
        return_to: query.return_to.clone(),
        request_url: request_url(req, state),
        session: None,
        csrf_token: None,
    })
}

async fn login_create_api(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut new = new_login(&req, &state, &query, FlowType::Api)?;
    new.session = optional_session(&req, &state).await;
    let flow = state.login.create(new).await?;
    let code = match query.return_session_token_exchange_code {
        Some(true) => Some(state.exchanges.start(&flow).await?),
        _ => None,
    };
    let mut wire = present::login_flow(flow);
    wire.session_token_exchange_code = code.map(|c| c.expose().to_owned());
    Ok(HttpResponse::Ok().json(wire))
}

async fn login_create_browser_answer(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let json = browser::wants_json(&req);
    let (csrf, csrf_cookie) = browser::ensure_csrf(&req, &state);
    let mut new = new_login(&req, &state, &query, FlowType::Browser)?;
    new.session = optional_session(&req, &state).await;
    new.csrf_token = Some(csrf);
    let flow = match state.login.create(new).await {
        Ok(flow) => flow,
        Err(CoreError::SessionAlreadyAvailable) if !json => {
            let target = return_destination(
                &state,
                query
                    .return_to
                    .as_deref()
                    .filter(|r| state.login.return_to_allowed(r)),
            );
            return Ok(see_other(&target));
        }
        Err(error) => return Err(error.into()),
    };
    let id = flow.id;
    browser_flow_created(
        json,
        &present::login_flow(flow),
        &state.settings.ui.login,
        id,
        csrf_cookie,
    )
}

async fn login_get(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let csrf = browser::csrf_from_cookie(&req, &state);
    let flow = state
        .login
        .get(flow_id(query.id.as_deref(), "id")?, csrf.as_ref())
        .await?;
    Ok(HttpResponse::Ok().json(present::login_flow(flow)))
}

async fn login_submit_answer(
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
    let result = match state.login.submit(id, &body, session, facts).await {
        Ok(result) => result,
        Err(error) => return Err(error.into()),
    };
    let base = &state.settings.public_base_url;
    match result {
        LoginResult::Flow(flow) if flow.flow_type == FlowType::Browser && !json => Ok(see_other(
            &browser::ui_with_flow(&state.settings.ui.login, flow.id),
        )),
        LoginResult::Flow(flow) => Ok(HttpResponse::BadRequest().json(present::login_flow(flow))),
        LoginResult::LoggedIn {
            flow,
            session,
            token,
            identity,
        } => {
            // A refresh or step-up keeps the caller's session, and so the token it presented.
            let token = token
                .or_else(|| session_token::extract(&req, &state))
                .ok_or(ApiError::Core(CoreError::NoActiveSession))?;
            let wire = present::session(&session, Some(&identity), base, state.clock.now());
            if flow.flow_type == FlowType::Api {
                return Ok(HttpResponse::Ok().json(SuccessfulNativeLogin {
                    session: wire,
                    continue_with: vec![ContinueWith::SetOrySessionToken {
                        ory_session_token: token.expose().to_owned(),
                    }],
                    session_token: Some(token.expose().to_owned()),
                }));
            }
            let cookie = browser::session_cookie(&state, &token, session.expires_at);
            let mut destination = return_destination(&state, flow.return_to.as_deref());
            let caller = Authenticated {
                session,
                identity,
                client: None,
            };
            if state.assurance.check_whoami(&caller).is_err() {
                // The identity has a second factor this session has not shown yet.
                destination = aal2_login_url(&state, Some(&destination));
            }
            let response = if json {
                HttpResponse::Ok().json(SuccessfulNativeLogin {
                    session: wire,
                    session_token: None,
                    continue_with: vec![ContinueWith::RedirectBrowserTo {
                        redirect_browser_to: destination,
                    }],
                })
            } else {
                see_other(&destination)
            };
            with_cookie(response, Some(&cookie))
        }
        LoginResult::Redirect { flow, url } if flow.flow_type == FlowType::Browser && !json => {
            Ok(see_other(&url))
        }
        LoginResult::Redirect { url, .. } => Err(ApiError::LocationChange(url)),
    }
}

async fn login_create_browser(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    match login_create_browser_answer(state.clone(), req.clone(), query).await {
        Err(error) if !browser::wants_json(&req) => to_error_page(&state, error).await,
        answer => answer,
    }
}

async fn login_submit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowParam>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    match login_submit_answer(state.clone(), req.clone(), query, bytes).await {
        Err(error) => browser_recovery(&req, &state, error, &state.settings.ui.login).await,
        answer => answer,
    }
}

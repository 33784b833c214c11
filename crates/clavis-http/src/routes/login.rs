//! Login flows for native apps: create, read, submit.

use super::flows::{
    FlowParam, IdParam, flow_id, optional_session, request_facts, request_url, requested_aal,
};
use crate::body;
use crate::error::ApiError;
use crate::present;
use crate::state::HttpState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::flow::login::{LoginResult, NewLogin};
use clavis_types::flow::{ContinueWith, FlowType, SuccessfulNativeLogin};
use serde::Deserialize;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/self-service/login/api", web::get().to(login_create_api))
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
}

async fn login_create_api(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = state
        .login
        .create(NewLogin {
            flow_type: FlowType::Api,
            refresh: query.refresh.unwrap_or(false),
            requested_aal: requested_aal(query.aal.as_deref())?,
            return_to: query.return_to.clone(),
            request_url: request_url(&req, &state),
            session: optional_session(&req, &state).await,
            csrf_token: None,
        })
        .await?;
    Ok(HttpResponse::Ok().json(present::login_flow(&flow)))
}

async fn login_get(
    state: web::Data<HttpState>,
    query: web::Query<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let flow = state.login.get(flow_id(query.id.as_deref(), "id")?).await?;
    Ok(HttpResponse::Ok().json(present::login_flow(&flow)))
}

async fn login_submit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowParam>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = flow_id(query.flow.as_deref(), "flow")?;
    let body = body::decode(&req, &bytes)?;
    let session = optional_session(&req, &state).await;
    match state
        .login
        .submit(id, &body, session, request_facts(&req))
        .await?
    {
        LoginResult::Flow(flow) => Ok(HttpResponse::BadRequest().json(present::login_flow(&flow))),
        LoginResult::LoggedIn {
            session,
            token,
            identity,
            ..
        } => {
            let now = state.clock.now();
            Ok(HttpResponse::Ok().json(SuccessfulNativeLogin {
                session: present::session(
                    &session,
                    Some(&identity),
                    &state.settings.public_base_url,
                    now,
                ),
                continue_with: vec![ContinueWith::SetOrySessionToken {
                    ory_session_token: token.expose().to_owned(),
                }],
                session_token: Some(token.expose().to_owned()),
            }))
        }
        LoginResult::Redirect { url, .. } => Err(ApiError::LocationChange(url)),
    }
}

//! Registration flows for native apps: create, read, submit.

use super::flows::{FlowParam, IdParam, flow_id, optional_session, request_facts, request_url};
use crate::body;
use crate::error::ApiError;
use crate::present;
use crate::state::HttpState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
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
    Ok(HttpResponse::Ok().json(present::registration_flow(&flow)))
}

async fn registration_get(
    state: web::Data<HttpState>,
    query: web::Query<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let flow = state
        .registration
        .get(flow_id(query.id.as_deref(), "id")?)
        .await?;
    Ok(HttpResponse::Ok().json(present::registration_flow(&flow)))
}

async fn registration_submit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    query: web::Query<FlowParam>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = flow_id(query.flow.as_deref(), "flow")?;
    let body = body::decode(&req, &bytes)?;
    let session = optional_session(&req, &state).await;
    match state
        .registration
        .submit(id, &body, session, request_facts(&req))
        .await?
    {
        RegistrationResult::Flow(flow) => {
            Ok(HttpResponse::BadRequest().json(present::registration_flow(&flow)))
        }
        RegistrationResult::Registered {
            identity, session, ..
        } => {
            let base = &state.settings.public_base_url;
            let now = state.clock.now();
            let (session, session_token) = match session {
                Some((session, token)) => (
                    Some(present::session(&session, Some(&identity), base, now)),
                    Some(token.expose().to_owned()),
                ),
                None => (None, None),
            };
            let continue_with = session_token
                .iter()
                .map(|t| ContinueWith::SetOrySessionToken {
                    ory_session_token: t.clone(),
                })
                .collect();
            Ok(HttpResponse::Ok().json(SuccessfulNativeRegistration {
                identity: present::identity(&identity, base),
                session,
                session_token,
                continue_with,
            }))
        }
        RegistrationResult::Redirect { url, .. } => Err(ApiError::LocationChange(url)),
    }
}

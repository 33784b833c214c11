//! "Devices & apps" for API clients: the apps holding a per-client credential (an app
//! password) for the caller's identity, which the owner can rename and revoke. Revoking takes
//! effect at once: the next request with that credential is refused.
//!
//! `GET /sessions/apps` lists them, `PATCH /sessions/apps/{id}` renames one (`{"name": …}`),
//! `DELETE /sessions/apps/{id}` revokes one, `DELETE /sessions/apps` revokes all but the one
//! the request is made with. Like Kratos' `/sessions` endpoints, they take any credential a
//! session endpoint takes.

use crate::body;
use crate::error::ApiError;
use crate::present;
use crate::session_token;
use crate::state::HttpState;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_types::session::RevokedSessionsCount;
use serde_json::Value;
use uuid::Uuid;

/// Public listener routes; registered before `/sessions/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/sessions/apps")
            .route(web::get().to(apps_list))
            .route(web::delete().to(apps_revoke_others)),
    )
    .service(
        web::resource("/sessions/apps/{id}")
            .route(web::patch().to(apps_rename))
            .route(web::delete().to(apps_revoke_one)),
    );
}

fn app_id(value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value).map_err(|_| ApiError::BadRequest("the app id is not a UUID".to_owned()))
}

async fn apps_list(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let who = session_token::require(&req, &state).await?;
    let apps: Vec<_> = state
        .grants
        .list(who.identity.id)
        .await?
        .iter()
        .map(|g| present::client_app(g, &who))
        .collect();
    Ok(HttpResponse::Ok().json(apps))
}

async fn apps_rename(
    state: web::Data<HttpState>,
    req: HttpRequest,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = app_id(&id)?;
    let who = session_token::require(&req, &state).await?;
    let form = body::decode(&req, &bytes)?;
    let name = form
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("`name` is required".to_owned()))?;
    state.grants.rename(who.identity.id, id, name).await?;
    let renamed = state
        .grants
        .list(who.identity.id)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(present::client_app(&renamed, &who)))
}

async fn apps_revoke_one(
    state: web::Data<HttpState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = app_id(&id)?;
    let who = session_token::require(&req, &state).await?;
    state.grants.revoke(who.identity.id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn apps_revoke_others(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let who = session_token::require(&req, &state).await?;
    let keep = who.client.as_ref().map(|g| g.id);
    let count = state.grants.revoke_all(who.identity.id, keep).await?;
    Ok(HttpResponse::Ok().json(RevokedSessionsCount { count }))
}

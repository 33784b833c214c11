//! `/admin/identities`: list, create, batch-create, read, replace, patch and delete identities,
//! remove one credential, and list or delete an identity's sessions.

use super::admin_sessions::{Expand, session_list};
use super::pagination::QueryPairs;
use crate::error::ApiError;
use crate::present::{self, CredentialView};
use crate::state::HttpState;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::identity::admin::{IdentityFilter, MAX_BATCH};
use clavis_core::session::admin::SessionFilter;
use clavis_types::IdentityId;
use clavis_types::admin::{
    BatchPatchIdentitiesResponse, CreateIdentityBody, IdentityPatchResponse, PatchAction,
    PatchIdentitiesBody, UpdateIdentityBody,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Admin listener routes (registered with and without the `/admin` prefix).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/identities")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .route(web::patch().to(batch)),
    )
    .service(
        web::resource("/identities/{id}")
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    )
    .route(
        "/identities/{id}/credentials/{type}",
        web::delete().to(delete_credential),
    )
    .service(
        web::resource("/identities/{id}/sessions")
            .route(web::get().to(list_sessions))
            .route(web::delete().to(delete_sessions)),
    );
}

/// The JSON body as `T`; anything else is a 400 that says what is wrong.
pub(super) fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the request body is not valid: {e}")))
}

pub(super) fn identity_id(raw: &str) -> Result<IdentityId, ApiError> {
    Uuid::parse_str(raw)
        .map(IdentityId)
        .map_err(|_| ApiError::BadRequest("the identity id is not a UUID".to_owned()))
}

/// `include_credential=<type>` (repeatable).
fn included(query: &QueryPairs) -> BTreeSet<String> {
    query
        .all("include_credential")
        .into_iter()
        .map(str::to_owned)
        .collect()
}

async fn list(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::parse(req.query_string());
    let (page_size, after) = query.keyset()?;
    let ids = query
        .all("ids")
        .into_iter()
        .map(identity_id)
        .collect::<Result<Vec<_>, _>>()?;
    let filter = IdentityFilter {
        ids,
        credentials_identifier: query
            .one("credentials_identifier")
            .map(normalised_identifier),
        identifier_similar: query
            .one("preview_credentials_identifier_similar")
            .map(str::to_owned),
    };
    let page = state
        .identity_admin
        .list(&filter, after.map(IdentityId), page_size)
        .await?;
    let view = CredentialView::Only(included(&query));
    let body: Vec<_> = page
        .identities
        .iter()
        .map(|i| present::admin_identity(i, &state.settings.public_base_url, &view))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(query.links(
            "/admin/identities",
            page_size,
            page.next.map(|id| id.as_uuid()),
        ))
        .json(body))
}

/// Identifiers are stored trimmed, e-mail addresses lowercased; lookups follow suit.
fn normalised_identifier(identifier: &str) -> String {
    let trimmed = identifier.trim();
    if trimmed.contains('@') {
        trimmed.to_lowercase()
    } else {
        trimmed.to_owned()
    }
}

async fn create(state: web::Data<HttpState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: CreateIdentityBody = json(&body)?;
    let identity = state.identity_admin.create(body).await?;
    let location = state
        .settings
        .admin_base_url
        .join(&format!("admin/identities/{}", identity.id))
        .map(|url| url.to_string())
        .unwrap_or_default();
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(present::admin_identity(
            &identity,
            &state.settings.public_base_url,
            &CredentialView::All,
        )))
}

async fn batch(state: web::Data<HttpState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: PatchIdentitiesBody = json(&body)?;
    if body.identities.len() > MAX_BATCH {
        return Err(ApiError::BadRequest(format!(
            "a batch may create at most {MAX_BATCH} identities"
        )));
    }
    let mut results = Vec::with_capacity(body.identities.len());
    for entry in body.identities {
        let outcome = match entry.create {
            Some(create) => state
                .identity_admin
                .create(create)
                .await
                .map_err(ApiError::from),
            None => Err(ApiError::BadRequest(
                "the entry has nothing to do: `create` is missing".to_owned(),
            )),
        };
        results.push(match outcome {
            Ok(identity) => IdentityPatchResponse {
                action: PatchAction::Create,
                identity: Some(identity.id),
                patch_id: entry.patch_id,
                error: None,
            },
            Err(error) => IdentityPatchResponse {
                action: PatchAction::Error,
                identity: None,
                patch_id: entry.patch_id,
                error: serde_json::to_value(error.envelope().error).ok(),
            },
        });
    }
    Ok(HttpResponse::Ok().json(BatchPatchIdentitiesResponse {
        identities: results,
    }))
}

/// A single identity always shows its credentials' metadata (never their secrets).
async fn get(state: web::Data<HttpState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = identity_id(&id)?;
    let identity = state.identity_admin.get(id).await?;
    Ok(HttpResponse::Ok().json(present::admin_identity(
        &identity,
        &state.settings.public_base_url,
        &CredentialView::All,
    )))
}

async fn replace(
    state: web::Data<HttpState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = identity_id(&id)?;
    let body: UpdateIdentityBody = json(&body)?;
    let identity = state.identity_admin.replace(id, body).await?;
    Ok(HttpResponse::Ok().json(present::admin_identity(
        &identity,
        &state.settings.public_base_url,
        &CredentialView::All,
    )))
}

async fn patch(
    state: web::Data<HttpState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = identity_id(&id)?;
    let patch: Value = json(&body)?;
    let identity = state.identity_admin.patch(id, patch).await?;
    Ok(HttpResponse::Ok().json(present::admin_identity(
        &identity,
        &state.settings.public_base_url,
        &CredentialView::All,
    )))
}

async fn delete(
    state: web::Data<HttpState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = identity_id(&id)?;
    state.identity_admin.delete(id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_credential(
    state: web::Data<HttpState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind) = path.into_inner();
    let id = identity_id(&id)?;
    state.identity_admin.delete_credential(id, &kind).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_sessions(
    state: web::Data<HttpState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = identity_id(&id)?;
    let owner = state.identity_admin.get(id).await?;
    let query = QueryPairs::parse(req.query_string());
    let filter = SessionFilter {
        identity: Some(id),
        active: query.flag("active")?,
    };
    let path = format!("/admin/identities/{id}/sessions");
    session_list(&state, &query, filter, &path, Expand::Owner(&owner)).await
}

async fn delete_sessions(
    state: web::Data<HttpState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = identity_id(&id)?;
    state.identity_admin.get(id).await?;
    state.session_admin.delete_for_identity(id).await?;
    Ok(HttpResponse::NoContent().finish())
}

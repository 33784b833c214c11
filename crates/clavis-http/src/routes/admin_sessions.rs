//! `/admin/sessions`: list every session, read, extend and deactivate one.

use super::admin_identities::identity_id;
use super::pagination::QueryPairs;
use crate::error::ApiError;
use crate::present;
use crate::state::HttpState;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::identity::Identity;
use clavis_core::session::Session;
use clavis_core::session::admin::SessionFilter;
use clavis_types::SessionId;
use std::collections::HashMap;
use uuid::Uuid;

/// Admin listener routes (registered with and without the `/admin` prefix).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sessions", web::get().to(list))
        .service(
            web::resource("/sessions/{id}")
                .route(web::get().to(get))
                .route(web::delete().to(deactivate)),
        )
        .route("/sessions/{id}/extend", web::patch().to(extend));
}

/// Whose identity the answer embeds.
pub(super) enum Expand<'a> {
    /// Every session belongs to this identity.
    Owner(&'a Identity),
    /// Read each session's identity when `expand=identity` asks for it.
    AsAsked(bool),
}

fn expands_identity(query: &QueryPairs) -> Result<bool, ApiError> {
    let mut identity = false;
    for value in query.all("expand") {
        match value {
            "identity" => identity = true,
            "devices" => {}
            other => {
                return Err(ApiError::BadRequest(format!(
                    "expand must be `identity` or `devices`, not `{other}`"
                )));
            }
        }
    }
    Ok(identity)
}

fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    Uuid::parse_str(raw)
        .map(SessionId)
        .map_err(|_| ApiError::BadRequest("the session id is not a UUID".to_owned()))
}

/// A page of sessions as the admin API answers it, with the `Link` header.
pub(super) async fn session_list(
    state: &HttpState,
    query: &QueryPairs,
    filter: SessionFilter,
    path: &str,
    expand: Expand<'_>,
) -> Result<HttpResponse, ApiError> {
    let (page_size, after) = query.keyset()?;
    let page = state
        .session_admin
        .list(filter, after.map(SessionId), page_size)
        .await?;
    let body = present_sessions(state, &page.sessions, expand).await?;
    Ok(HttpResponse::Ok()
        .insert_header(query.links(path, page_size, page.next.map(|id| id.as_uuid())))
        .json(body))
}

async fn present_sessions(
    state: &HttpState,
    sessions: &[Session],
    expand: Expand<'_>,
) -> Result<Vec<clavis_types::session::Session>, ApiError> {
    let now = state.clock.now();
    let mut owners: HashMap<clavis_types::IdentityId, Option<Identity>> = HashMap::new();
    let mut body = Vec::with_capacity(sessions.len());
    for session in sessions {
        let owner = match &expand {
            Expand::Owner(owner) => Some(*owner),
            Expand::AsAsked(false) => None,
            Expand::AsAsked(true) => {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    owners.entry(session.identity_id)
                {
                    slot.insert(state.identity_admin.get(session.identity_id).await.ok());
                }
                owners.get(&session.identity_id).and_then(Option::as_ref)
            }
        };
        body.push(present::session(
            session,
            owner,
            &state.settings.public_base_url,
            now,
        ));
    }
    Ok(body)
}

async fn list(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::parse(req.query_string());
    let filter = SessionFilter {
        identity: query.one("identity_id").map(identity_id).transpose()?,
        active: query.flag("active")?,
    };
    let expand = Expand::AsAsked(expands_identity(&query)?);
    session_list(&state, &query, filter, "/admin/sessions", expand).await
}

async fn get(
    state: web::Data<HttpState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = session_id(&id)?;
    let query = QueryPairs::parse(req.query_string());
    let session = state.session_admin.get(id).await?;
    let expand = Expand::AsAsked(expands_identity(&query)?);
    let mut body = present_sessions(&state, std::slice::from_ref(&session), expand).await?;
    Ok(HttpResponse::Ok().json(body.pop()))
}

async fn extend(
    state: web::Data<HttpState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = session_id(&id)?;
    let session = state.session_admin.extend(id).await?;
    let mut body = present_sessions(
        &state,
        std::slice::from_ref(&session),
        Expand::AsAsked(true),
    )
    .await?;
    Ok(HttpResponse::Ok().json(body.pop()))
}

async fn deactivate(
    state: web::Data<HttpState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = session_id(&id)?;
    state.session_admin.deactivate(id).await?;
    Ok(HttpResponse::NoContent().finish())
}

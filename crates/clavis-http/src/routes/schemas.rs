//! `GET /schemas` and `GET /schemas/{id}`: the identity schemas, served on the public port.

use super::pagination::{PageQuery, next_link};
use crate::error::ApiError;
use crate::state::HttpState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clavis_core::CoreError;
use clavis_types::schema::IdentitySchemaContainer;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/schemas", web::get().to(schemas_list))
        .route("/schemas/{id}", web::get().to(schemas_get));
}

/// Admin listener: schemas live on the public port, as in Kratos.
pub fn configure_admin(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/schemas", web::get().to(schemas_redirect_to_public))
        .route(
            "/admin/schemas/{id}",
            web::get().to(schemas_redirect_to_public),
        )
        .route("/schemas", web::get().to(schemas_redirect_to_public))
        .route("/schemas/{id}", web::get().to(schemas_redirect_to_public));
}

async fn schemas_list(
    state: web::Data<HttpState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page_size = usize::try_from(query.size()?).unwrap_or(usize::MAX);
    let all: Vec<_> = state.identities.schemas().iter().collect();
    let start = match &query.page_token {
        None => 0,
        Some(token) => all
            .iter()
            .position(|s| s.id() == token)
            .map(|i| i + 1)
            .ok_or_else(|| ApiError::BadRequest("page_token is not valid".to_owned()))?,
    };
    let page: Vec<IdentitySchemaContainer> = all
        .iter()
        .skip(start)
        .take(page_size)
        .map(|s| IdentitySchemaContainer {
            id: s.id().to_owned(),
            schema: s.raw().clone(),
        })
        .collect();
    let mut response = HttpResponse::Ok();
    if start + page.len() < all.len()
        && let Some(last) = page.last()
    {
        response.insert_header(next_link("/schemas", page_size as u64, &last.id));
    }
    Ok(response.json(page))
}

async fn schemas_get(
    state: web::Data<HttpState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let schemas = state.identities.schemas();
    let schema = schemas.get(&id).or_else(|| {
        let decoded = URL_SAFE_NO_PAD.decode(id.as_bytes()).ok()?;
        schemas.get(std::str::from_utf8(&decoded).ok()?)
    });
    match schema {
        Some(schema) => Ok(HttpResponse::Ok().json(schema.raw())),
        None => Err(CoreError::SchemaNotFound(id).into()),
    }
}

async fn schemas_redirect_to_public(state: web::Data<HttpState>, req: HttpRequest) -> HttpResponse {
    let path = req
        .path()
        .trim_start_matches("/admin")
        .trim_start_matches('/');
    let mut target = state.settings.public_base_url.clone();
    target.set_path(&format!("{}{}", target.path(), path));
    target.set_query(req.uri().query());
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, target.to_string()))
        .finish()
}

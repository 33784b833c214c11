//! `GET /self-service/errors?id=`: the error a browser was sent to the error page for.

use crate::error::ApiError;
use crate::state::HttpState;
use actix_web::{HttpResponse, web};
use clavis_types::flow::FlowError;
use serde::Deserialize;
use uuid::Uuid;

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/self-service/errors", web::get().to(errors_get));
}

#[derive(Debug, Deserialize)]
struct ErrorQuery {
    id: Option<String>,
}

async fn errors_get(
    state: web::Data<HttpState>,
    query: web::Query<ErrorQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = query
        .id
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("the `id` query parameter is required".to_owned()))?;
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    let kept = state.flow_errors.get(id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(FlowError {
        id: kept.id,
        error: kept.error,
        created_at: kept.created_at,
        updated_at: kept.updated_at,
    }))
}

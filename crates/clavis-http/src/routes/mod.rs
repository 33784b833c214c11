//! Route tables and handlers, one module per resource.

pub mod health;
pub mod schemas;
pub mod sessions;

use crate::error::ApiError;

/// Any path no route claims.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

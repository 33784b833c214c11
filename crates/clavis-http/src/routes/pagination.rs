//! Kratos' keyset pagination parameters (`page_size`, `page_token`) and the `Link` header that
//! points to the next page.

use crate::error::ApiError;
use serde::Deserialize;

/// Default and largest page, as in Kratos.
pub const DEFAULT_PAGE_SIZE: u64 = 250;
pub const MAX_PAGE_SIZE: u64 = 1000;

/// `?page_size=&page_token=`.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub page_size: Option<u64>,
    pub page_token: Option<String>,
}

impl PageQuery {
    /// The requested page size, checked against the bounds.
    pub fn size(&self) -> Result<u64, ApiError> {
        let size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(ApiError::BadRequest(format!(
                "page_size must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
        Ok(size)
    }
}

/// `Link: </path?page_size=N&page_token=T>; rel="next"`.
pub fn next_link(
    path: &str,
    page_size: u64,
    token: &str,
) -> (actix_web::http::header::HeaderName, String) {
    (
        actix_web::http::header::LINK,
        format!("<{path}?page_size={page_size}&page_token={token}>; rel=\"next\""),
    )
}

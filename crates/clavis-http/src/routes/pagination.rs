//! Kratos' keyset pagination parameters (`page_size`, `page_token`, and the legacy
//! `per_page`) and the `Link` header that points to the first and the next page.

use crate::error::ApiError;
use serde::Deserialize;
use uuid::Uuid;

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
        page_size(self.page_size)
    }

    /// The id the page starts after: the token is the last id of the previous page.
    pub fn after(&self) -> Result<Option<Uuid>, ApiError> {
        self.page_token.as_deref().map(page_token).transpose()
    }
}

fn page_size(size: Option<u64>) -> Result<u64, ApiError> {
    let size = size.unwrap_or(DEFAULT_PAGE_SIZE);
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(ApiError::BadRequest(format!(
            "page_size must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    Ok(size)
}

fn page_token(token: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(token).map_err(|_| ApiError::BadRequest("page_token is not valid".to_owned()))
}

/// A query string as its pairs, so repeated parameters (`ids=a&ids=b`) keep every value.
pub struct QueryPairs(Vec<(String, String)>);

impl QueryPairs {
    /// Parses `a=1&b=2`.
    pub fn parse(query: &str) -> Self {
        Self(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The last value of `name`, if given and not empty.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// Every non-empty value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// `true`/`false` of `name`, if given.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.one(name)
            .map(|value| match value {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::BadRequest(format!(
                    "{name} must be `true` or `false`"
                ))),
            })
            .transpose()
    }

    /// The page size (`page_size`, or the legacy `per_page`) and where the page starts.
    pub fn keyset(&self) -> Result<(u64, Option<Uuid>), ApiError> {
        let size = self
            .one("page_size")
            .or_else(|| self.one("per_page"))
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::BadRequest("page_size must be a positive integer".to_owned())
                })
            })
            .transpose()?;
        if self
            .one("page")
            .is_some_and(|page| page != "0" && page != "1")
        {
            return Err(ApiError::BadRequest(
                "page-number pagination is not supported; follow the `Link` header's page_token"
                    .to_owned(),
            ));
        }
        Ok((
            page_size(size)?,
            self.one("page_token").map(page_token).transpose()?,
        ))
    }

    /// The `Link` header for this listing: `first` always, `next` when more follow. Filters
    /// are kept; paging parameters are replaced.
    pub fn links(
        &self,
        path: &str,
        size: u64,
        next: Option<Uuid>,
    ) -> (actix_web::http::header::HeaderName, String) {
        let kept: Vec<&(String, String)> = self
            .0
            .iter()
            .filter(|(key, _)| {
                !matches!(
                    key.as_str(),
                    "page_size" | "per_page" | "page" | "page_token"
                )
            })
            .collect();
        let link = |token: Option<Uuid>| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in &kept {
                query.append_pair(key, value);
            }
            query.append_pair("page_size", &size.to_string());
            if let Some(token) = token {
                query.append_pair("page_token", &token.to_string());
            }
            format!("<{path}?{}>", query.finish())
        };
        let mut value = format!("{}; rel=\"first\"", link(None));
        if let Some(next) = next {
            value.push_str(&format!(",{}; rel=\"next\"", link(Some(next))));
        }
        (actix_web::http::header::LINK, value)
    }
}

/// `Link: </path?page_size=N&page_token=T>; rel="next"`, for listings whose tokens are not ids.
pub fn next_link(
    path: &str,
    page_size: u64,
    token: &str,
) -> (actix_web::http::header::HeaderName, String) {
    let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    (
        actix_web::http::header::LINK,
        format!("<{path}?page_size={page_size}&page_token={token}>; rel=\"next\""),
    )
}

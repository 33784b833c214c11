//! Request-wide behaviour: request ids and access logs, the body limit, no caching of GET
//! answers, CORS on the public listener, and the API key on the admin listener.

use crate::error::{ApiError, envelope};
use crate::state::{CorsSettings, HttpState};
use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use clavis_core::Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Where request ids come from: unique within the process by a counter, across processes by a
/// random half, and shaped as version-4 UUIDs. The counter goes through a bijective mix, so
/// ids stay unique without telling a caller how many requests came before. Cheaper than a
/// random UUID, which asks the kernel for randomness on every request.
pub struct RequestIds {
    process: u64,
    key: u64,
    counter: AtomicU64,
}

impl RequestIds {
    /// A source whose random half and mixing key come from `rng`.
    pub fn new(rng: &dyn Rng) -> Self {
        let mut seed = [0u8; 16];
        rng.fill(&mut seed);
        let (process, key) = seed.split_at(8);
        Self {
            process: u64::from_le_bytes(process.try_into().unwrap_or_default()),
            key: u64::from_le_bytes(key.try_into().unwrap_or_default()),
            counter: AtomicU64::new(0),
        }
    }

    /// The next id.
    pub fn next(&self) -> Uuid {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.process.to_be_bytes());
        bytes[8..].copy_from_slice(&mix(n.wrapping_add(self.key)).to_be_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// SplitMix64's finaliser: a bijection on `u64` that scatters consecutive inputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Gives every request an id (the caller's `X-Request-Id` when it is sane, otherwise one from
/// the app's [`RequestIds`]), logs the request inside a span carrying that id when request
/// logs are on, and echoes the id in the response.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = request_id(&req);
    if !tracing::enabled!(tracing::Level::INFO) {
        // With request logs off (the usual setting under load) the span and the access log
        // would record nothing: skip copying what they would have recorded.
        let mut response = next.call(req).await?;
        response.headers_mut().insert(REQUEST_ID, request_id);
        return Ok(response);
    }
    let id = request_id.to_str().unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %id);
    let method = req.method().clone();
    let path = req.path().to_owned();
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            %method,
            %path,
            status,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "handled request"
        );
    });
    response.headers_mut().insert(REQUEST_ID, request_id);
    Ok(response)
}

/// The caller's `X-Request-Id` when it is sane (printable ASCII, at most 128 bytes), otherwise
/// a new one.
fn request_id(req: &ServiceRequest) -> HeaderValue {
    if let Some(given) = req.headers().get(&REQUEST_ID).filter(|v| {
        let v = v.as_bytes();
        !v.is_empty() && v.len() <= 128 && v.iter().all(|b| b.is_ascii_graphic())
    }) {
        return given.clone();
    }
    let id = match req.app_data::<actix_web::web::Data<RequestIds>>() {
        Some(ids) => ids.next(),
        None => Uuid::new_v4(),
    };
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Refuses bodies that announce more than the limit before they are read; extractors enforce
/// the same limit on bodies without a length.
pub async fn body_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > crate::BODY_LIMIT_BYTES as u64) {
        let status = StatusCode::PAYLOAD_TOO_LARGE;
        let mut body = envelope(status, "The request body is too large");
        body.error.reason = Some(format!(
            "Request bodies are limited to {} bytes.",
            crate::BODY_LIMIT_BYTES
        ));
        let response = HttpResponse::build(status)
            .insert_header((header::CONNECTION, "close"))
            .json(body);
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Marks every GET answer as uncacheable: they carry sessions, flows and identities.
pub async fn no_cache_on_get(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let is_get = req.method() == Method::GET;
    let mut response = next.call(req).await?;
    if is_get {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store, must-revalidate"),
        );
    }
    Ok(response)
}

/// CORS for the public listener (wrapped only when enabled).
pub fn cors(settings: &CorsSettings) -> Cors {
    let mut cors = Cors::default();
    if settings.allowed_origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin();
    } else {
        for origin in &settings.allowed_origins {
            cors = cors.allowed_origin(origin);
        }
    }
    let methods: Vec<Method> = settings
        .allowed_methods
        .iter()
        .filter_map(|m| Method::from_bytes(m.as_bytes()).ok())
        .collect();
    let headers: Vec<HeaderName> = settings
        .allowed_headers
        .iter()
        .filter_map(|h| HeaderName::from_bytes(h.as_bytes()).ok())
        .collect();
    let exposed: Vec<HeaderName> = settings
        .exposed_headers
        .iter()
        .filter_map(|h| HeaderName::from_bytes(h.as_bytes()).ok())
        .collect();
    cors = cors
        .allowed_methods(methods)
        .allowed_headers(headers)
        .expose_headers(exposed);
    if settings.allow_credentials {
        cors = cors.supports_credentials();
    }
    cors.max_age(settings.max_age)
}

/// Paths of the admin listener that stay open without a key: probes, the version, and the
/// redirects of the (public) identity schemas to the public listener.
fn open_admin_path(path: &str) -> bool {
    let path = path.strip_prefix("/admin").unwrap_or(path);
    matches!(
        path,
        "/health/alive" | "/health/ready" | "/version" | "/schemas"
    ) || path.starts_with("/schemas/")
}

/// Requires `Authorization: Bearer <key>` with a configured admin API key on the admin
/// listener (when any key is configured). Keys are compared by their SHA-256 digests, in
/// constant time.
pub async fn admin_api_key(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<actix_web::web::Data<HttpState>>() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let keys = &state.settings.admin_api_keys;
    if keys.is_empty() || open_admin_path(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
        })
        .filter(|key| !key.is_empty())
        .map(|key| clavis_core::secret::TokenDigest::of(key.as_bytes()));
    let allowed = presented.is_some_and(|digest| {
        // Every key is compared, so the time taken does not tell which one nearly matched.
        keys.iter().fold(false, |found, key| {
            found
                | clavis_core::secret::constant_time_eq(
                    key.as_str().as_bytes(),
                    digest.as_str().as_bytes(),
                )
        })
    });
    if allowed {
        Ok(next.call(req).await?.map_into_boxed_body())
    } else {
        let response = actix_web::ResponseError::error_response(&ApiError::AdminKeyRequired);
        Ok(req.into_response(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    struct Fixed(u8);

    impl Rng for Fixed {
        fn fill(&self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
    }

    #[test]
    fn request_ids_are_unique_version_4_uuids_that_hide_their_order() {
        let ids = RequestIds::new(&Fixed(7));
        let seen: Vec<Uuid> = (0..10_000).map(|_| ids.next()).collect();
        assert!(seen.iter().all(|id| id.get_version_num() == 4));
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
        let low = |id: &Uuid| id.as_u64_pair().1;
        assert!(
            seen.windows(2)
                .all(|w| low(&w[1]) != low(&w[0]).wrapping_add(1)),
            "consecutive ids are not consecutive numbers"
        );
        let other = RequestIds::new(&Fixed(8)).next();
        assert_ne!(other.as_u64_pair().0, seen[0].as_u64_pair().0);
    }
}

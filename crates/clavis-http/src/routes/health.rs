//! `/health/alive`, `/health/ready` and `/version`, on both listeners.

use crate::state::HttpState;
use actix_web::{HttpResponse, web};
use clavis_types::health::{HealthNotReady, HealthStatus, Version};

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/alive", web::get().to(health_alive))
        .route("/health/ready", web::get().to(health_ready))
        .route("/version", web::get().to(version));
}

/// Admin listener routes: the same, also under `/admin`.
pub fn configure_admin(cfg: &mut web::ServiceConfig) {
    configure(cfg);
    cfg.route("/admin/health/alive", web::get().to(health_alive))
        .route("/admin/health/ready", web::get().to(health_ready))
        .route("/admin/version", web::get().to(version));
}

async fn health_alive() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus {
        status: "ok".to_owned(),
    })
}

async fn health_ready(state: web::Data<HttpState>) -> HttpResponse {
    match state.readiness.check().await {
        Ok(()) => HttpResponse::Ok().json(HealthStatus {
            status: "ok".to_owned(),
        }),
        Err(errors) => HttpResponse::ServiceUnavailable().json(HealthNotReady { errors }),
    }
}

async fn version(state: web::Data<HttpState>) -> HttpResponse {
    HttpResponse::Ok().json(Version {
        version: state.settings.version.clone(),
    })
}

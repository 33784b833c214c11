//! Route tables and handlers, one module per resource.

mod admin_courier;
mod admin_identities;
mod admin_redirect;
mod admin_sessions;
mod apps;
mod device_approval;
pub mod errors;
mod flows;
pub mod health;
pub mod login;
mod login_flow_v2;
pub mod logout;
mod ocs;
mod pagination;
pub mod recovery;
pub mod registration;
pub mod schemas;
pub mod sessions;
pub mod settings;
pub mod ui;
pub mod verification;

use crate::error::ApiError;
use actix_web::web::ServiceConfig;

/// Every route of the public listener, in registration order.
pub fn public(cfg: &mut ServiceConfig) {
    sessions::configure_whoami(cfg);
    health::configure(cfg);
    schemas::configure(cfg);
    apps::configure(cfg);
    sessions::configure(cfg);
    login::configure(cfg);
    login_flow_v2::configure(cfg);
    device_approval::configure(cfg);
    ocs::configure(cfg);
    registration::configure(cfg);
    settings::configure(cfg);
    recovery::configure(cfg);
    verification::configure(cfg);
    logout::configure(cfg);
    errors::configure(cfg);
    ui::configure(cfg);
    admin_redirect::configure(cfg);
}

/// Every route of the admin listener, in registration order.
pub fn admin(cfg: &mut ServiceConfig) {
    health::configure_admin(cfg);
    schemas::configure_admin(cfg);
    // Kratos registers admin routes under `/admin` and answers them without the prefix too.
    cfg.service(
        actix_web::web::scope("/admin")
            .configure(admin_identities::configure)
            .configure(admin_sessions::configure)
            .configure(admin_courier::configure),
    );
    admin_identities::configure(cfg);
    admin_sessions::configure(cfg);
    admin_courier::configure(cfg);
}

/// Any path no route claims.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

//! The public listener answers admin paths (`/admin/...`, and the legacy `/identities...`) with
//! a 307 to the same path on the admin listener, as Kratos does, so a client pointed at the
//! wrong port learns where to go without the public port serving admin data.

use crate::state::HttpState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// Public listener routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/{tail:.*}", web::to(to_admin))
        .route("/identities", web::to(to_admin))
        .route("/identities/{tail:.*}", web::to(to_admin));
}

async fn to_admin(state: web::Data<HttpState>, req: HttpRequest) -> HttpResponse {
    let path = req.path().trim_start_matches('/');
    let path = if path.starts_with("admin/") {
        path.to_owned()
    } else {
        format!("admin/{path}")
    };
    // The admin base URL ends with `/`, so joining keeps its own path prefix.
    let Ok(mut location) = state.settings.admin_base_url.join(&path) else {
        return HttpResponse::NotFound().finish();
    };
    location.set_query(Some(req.query_string()).filter(|q| !q.is_empty()));
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

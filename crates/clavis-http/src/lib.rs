//! Clavis' HTTP surfaces on actix-web: the public and the admin listener.
//!
//! Handlers are thin: they extract, call one clavis-core function and present the result in
//! Kratos' wire format. Errors become HTTP responses in exactly one place, [`error`]. This crate
//! reaches storage only through the core's services and ports, never directly.

mod body;
mod browser;
pub mod error;
mod middleware;
mod present;
mod routes;
mod session_token;
mod state;

pub use state::{
    CookieSettings, CorsSettings, DeviceLoginLimits, HttpSettings, HttpState, SameSite, UiUrls,
};

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;

/// Kratos' request body limit, on both listeners.
pub const BODY_LIMIT_BYTES: usize = 5 * 1024 * 1024;

/// The public listener's server on an already bound socket. Signals are left to the caller.
pub fn public_server(
    state: HttpState,
    listener: TcpListener,
    workers: usize,
) -> std::io::Result<Server> {
    server(state, listener, workers, Surface::Public)
}

/// The admin listener's server on an already bound socket. Signals are left to the caller.
pub fn admin_server(
    state: HttpState,
    listener: TcpListener,
    workers: usize,
) -> std::io::Result<Server> {
    server(state, listener, workers, Surface::Admin)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Surface {
    Public,
    Admin,
}

fn server(
    state: HttpState,
    listener: TcpListener,
    workers: usize,
    surface: Surface,
) -> std::io::Result<Server> {
    let request_ids = web::Data::new(middleware::RequestIds::new(state.rng.as_ref()));
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let cors_enabled = surface == Surface::Public && data.settings.cors.enabled;
        App::new()
            .app_data(data.clone())
            .app_data(request_ids.clone())
            .app_data(web::PayloadConfig::new(BODY_LIMIT_BYTES))
            .app_data(web::JsonConfig::default().limit(BODY_LIMIT_BYTES))
            .app_data(web::FormConfig::default().limit(BODY_LIMIT_BYTES))
            .wrap(actix_web::middleware::Condition::new(
                cors_enabled,
                middleware::cors(&data.settings.cors),
            ))
            .wrap(actix_web::middleware::Condition::new(
                surface == Surface::Admin,
                actix_web::middleware::from_fn(middleware::admin_api_key),
            ))
            .wrap(actix_web::middleware::from_fn(middleware::no_cache_on_get))
            .wrap(actix_web::middleware::from_fn(middleware::body_limit))
            .wrap(actix_web::middleware::from_fn(middleware::request_log))
            .configure(|cfg| match surface {
                Surface::Public => routes::public(cfg),
                Surface::Admin => routes::admin(cfg),
            })
            .default_service(web::to(routes::not_found))
    })
    .workers(workers.max(1))
    .disable_signals()
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}

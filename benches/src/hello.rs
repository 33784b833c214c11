//! The baseline server: actix-web answering a fixed JSON body, with as many workers as Clavis
//! runs. Whatever Clavis does per request is measured against what this does on the same
//! machine in the same run.

use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;

async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"hello":"world"}"#)
}

/// Serves `GET /hello` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, workers: usize) -> std::io::Result<()> {
    HttpServer::new(|| App::new().route("/hello", web::get().to(hello)))
        .workers(workers.max(1))
        .listen(listener)?
        .run()
        .await
}

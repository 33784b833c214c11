//! `/admin/courier/messages`: the courier's outbox as Kratos shows it, newest first, to see
//! whether mail left and why it did not. Bodies carry one-time codes; the admin API is for
//! operators only.

use super::pagination::QueryPairs;
use crate::error::ApiError;
use crate::state::HttpState;
use actix_web::{HttpRequest, HttpResponse, web};
use clavis_core::CoreError;
use clavis_core::courier::{CourierMessage, MessageFilter, MessageStatus};
use clavis_core::page::keyset_page;
use serde_json::{Value, json};
use uuid::Uuid;

/// Admin listener routes (registered with and without the `/admin` prefix).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/courier/messages", web::get().to(list))
        .route("/courier/messages/{id}", web::get().to(get));
}

/// A message as Kratos' `message` schema.
fn message(m: &CourierMessage) -> Value {
    json!({
        "id": m.id,
        "status": m.status.as_str(),
        "type": "email",
        "channel": "email",
        "recipient": m.recipient,
        "subject": m.subject,
        "body": m.body,
        "template_type": m.template,
        "send_count": m.send_count,
        "dispatches": m.dispatches.iter().map(|d| json!({
            "id": d.id,
            "message_id": m.id,
            "status": if d.error.is_some() { "failed" } else { "success" },
            "error": d.error.as_ref().map(|e| json!({"message": e})),
            "created_at": d.created_at,
            "updated_at": d.created_at,
        })).collect::<Vec<_>>(),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    })
}

async fn list(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::parse(req.query_string());
    let status = match query.one("status") {
        Some(raw) => Some(MessageStatus::parse(raw).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status must be queued, processing, sent or abandoned, not `{raw}`"
            ))
        })?),
        None => None,
    };
    let filter = MessageFilter {
        status,
        recipient: query.one("recipient").map(str::to_owned),
    };
    let (page_size, after) = query.keyset()?;
    let messages = state
        .courier_messages
        .list_messages(&filter, after, page_size + 1)
        .await
        .map_err(CoreError::from)?;
    let (messages, next) = keyset_page(messages, page_size, |m| m.id);
    Ok(HttpResponse::Ok()
        .insert_header(query.links("/admin/courier/messages", page_size, next))
        .json(messages.iter().map(message).collect::<Vec<_>>()))
}

async fn get(state: web::Data<HttpState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| ApiError::BadRequest("the message id is not a UUID".to_owned()))?;
    let found = state
        .courier_messages
        .get_message(id)
        .await
        .map_err(CoreError::from)?
        .ok_or_else(|| CoreError::NotFound("the message was not found".to_owned()))?;
    Ok(HttpResponse::Ok().json(message(&found)))
}

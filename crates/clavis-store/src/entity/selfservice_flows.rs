//! Row of `selfservice_flows`: every flow kind in one table, strategy state as typed JSON and
//! the UI as JSON text.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "selfservice_flows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub flow_type: String,
    pub state: String,
    pub identity_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub request_url: String,
    pub return_to: Option<String>,
    pub requested_aal: String,
    pub refresh: bool,
    /// The UI as JSON text, written and read whole.
    #[sea_orm(column_type = "Text")]
    pub ui: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub strategy_state: Json,
    pub csrf_token_digest: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub transient_payload: Option<Json>,
    pub issued_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub active_method: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

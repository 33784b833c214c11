//! Row of `device_authorizations`: one client's request for access, by the digests of its poll
//! and login tokens, and what became of it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "device_authorizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub front_end: String,
    pub state: String,
    pub poll_digest: String,
    pub login_digest: String,
    pub client_name: String,
    pub request_ip: Option<String>,
    pub identity_id: Option<Uuid>,
    pub created_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
    pub decided_at: Option<ChronoDateTimeUtc>,
    pub approved_aal: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

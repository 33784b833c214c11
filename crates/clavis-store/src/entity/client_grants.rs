//! Row of `client_grants`: a per-client credential (an app password), by the digest of its
//! secret, with where and when it was last used.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub identity_id: Uuid,
    pub kind: String,
    pub client_name: String,
    pub secret_digest: String,
    pub created_at: ChronoDateTimeUtc,
    pub last_used_at: Option<ChronoDateTimeUtc>,
    pub last_ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<ChronoDateTimeUtc>,
    pub aal: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

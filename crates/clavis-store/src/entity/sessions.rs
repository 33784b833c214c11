//! Row of `sessions`; the token is kept only as its SHA-256 digest.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub identity_id: Uuid,
    pub token_digest: String,
    pub active: bool,
    pub aal: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub authentication_methods: Json,
    pub issued_at: ChronoDateTimeUtc,
    pub authenticated_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub logout_token_digest: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Row of `identities`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub schema_id: String,
    pub state: String,
    pub state_changed_at: Option<ChronoDateTimeUtc>,
    #[sea_orm(column_type = "JsonBinary")]
    pub traits: Json,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub metadata_public: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub metadata_admin: Option<Json>,
    pub external_id: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

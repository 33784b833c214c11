//! Lookups by a unique key (primary key, token digest, identifier).
//!
//! sea-orm's `one()` appends `LIMIT ?` with the limit as a bound parameter. SQLite's planner
//! reads the value bound to a `LIMIT` parameter, so every new binding expires the prepared
//! statement and the next step compiles it again: a lookup through `one()` pays for a full
//! statement compilation each time. A unique key selects at most one row, so these lookups
//! read "all" rows of the key instead and keep their compiled statements.

use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Select};

/// The row `select` (a filter on a unique key) finds, if any.
pub async fn row<E: EntityTrait>(
    select: Select<E>,
    db: &DatabaseConnection,
) -> Result<Option<E::Model>, DbErr> {
    Ok(select.all(db).await?.into_iter().next())
}

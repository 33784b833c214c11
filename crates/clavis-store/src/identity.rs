//! [`IdentityStore`] on sea-orm.

use crate::Store;
use crate::entity::{
    identities, identity_credential_identifiers, identity_credentials, identity_recovery_addresses,
    identity_verifiable_addresses,
};
use crate::row::{
    CredentialRow, IdentityRows, identity_from_rows, identity_state_to_row, storage_error,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::identity::admin::{IdentityDirectory, IdentityFilter};
use clavis_core::identity::{
    AddressLookup, CredentialConfig, CredentialKind, IdentifierLookup, Identity, IdentityStore,
};
use clavis_types::IdentityId;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, LikeExpr, Order, Query, SelectStatement, UnionType,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, TransactionTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Whether credentials are read with their payloads (see [`CredentialConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payloads {
    Read,
    Withheld,
}

/// A credential joined with one of its identifiers (`None` when it has none), its payload
/// selected only when it is to be read.
struct CredentialJoined {
    id: Uuid,
    identity_id: Uuid,
    kind: String,
    config: Option<sea_orm::JsonValue>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    identifier: Option<String>,
}

type VerifiableRow = identity_verifiable_addresses::Model;
type RecoveryRow = identity_recovery_addresses::Model;
type AddressGroups<T> = HashMap<Uuid, Vec<T>>;

/// `address_kind` of a verifiable address in [`AddressJoined`] rows.
const VERIFIABLE: i32 = 1;
/// `address_kind` of a recovery address in [`AddressJoined`] rows.
const RECOVERY: i32 = 2;

/// An address of either kind; the verification columns are null for recovery addresses.
struct AddressJoined {
    kind: i32,
    id: Uuid,
    identity_id: Uuid,
    via: String,
    value: String,
    verified: Option<bool>,
    verified_at: Option<DateTime<Utc>>,
    status: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl FromQueryResult for AddressJoined {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            kind: res.try_get(pre, "address_kind")?,
            id: res.try_get(pre, "id")?,
            identity_id: res.try_get(pre, "identity_id")?,
            via: res.try_get(pre, "via")?,
            value: res.try_get(pre, "value")?,
            verified: res.try_get(pre, "verified")?,
            verified_at: res.try_get(pre, "verified_at")?,
            status: res.try_get(pre, "status")?,
            created_at: res.try_get(pre, "created_at")?,
            updated_at: res.try_get(pre, "updated_at")?,
        })
    }
}

impl FromQueryResult for CredentialJoined {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            id: res.try_get(pre, "id")?,
            identity_id: res.try_get(pre, "identity_id")?,
            kind: res.try_get(pre, "kind")?,
            // Absent when not selected; `hydrate` tells that from a missing payload.
            config: res.try_get(pre, "config").ok(),
            version: res.try_get(pre, "version")?,
            created_at: res.try_get(pre, "created_at")?,
            updated_at: res.try_get(pre, "updated_at")?,
            identifier: res.try_get(pre, "identifier")?,
        })
    }
}

impl Store {
    /// The identities of these rows with their addresses, credentials and identifiers, read
    /// with one query for the addresses of both kinds and one for the credentials with their
    /// identifiers, in the order of `rows`.
    async fn hydrate(
        &self,
        rows: Vec<identities::Model>,
        payloads: Payloads,
    ) -> Result<Vec<Identity>, StorageError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let (mut verifiable, mut recovery) = self.addresses_of(ids.clone()).await?;
        let mut credentials = self.credentials_of(ids, payloads).await?;
        rows.into_iter()
            .map(|identity| {
                identity_from_rows(IdentityRows {
                    verifiable: verifiable.remove(&identity.id).unwrap_or_default(),
                    recovery: recovery.remove(&identity.id).unwrap_or_default(),
                    credentials: credentials.remove(&identity.id).unwrap_or_default(),
                    identity,
                })
            })
            .collect()
    }
}

impl Store {
    /// The verifiable and the recovery addresses of these identities, by identity, each kind
    /// ordered by value (byte order), read in one statement: the two tables' rows in one
    /// `UNION ALL`, recovery rows padded with typed nulls for the verification columns.
    async fn addresses_of(
        &self,
        identities: Vec<Uuid>,
    ) -> Result<(AddressGroups<VerifiableRow>, AddressGroups<RecoveryRow>), StorageError> {
        use identity_recovery_addresses as recovery;
        use identity_verifiable_addresses as verifiable;
        let mut query = Query::select();
        query
            .expr_as(
                Expr::cust(VERIFIABLE.to_string()),
                Alias::new("address_kind"),
            )
            .columns([
                verifiable::Column::Id,
                verifiable::Column::IdentityId,
                verifiable::Column::Via,
                verifiable::Column::Value,
                verifiable::Column::Verified,
                verifiable::Column::VerifiedAt,
                verifiable::Column::Status,
                verifiable::Column::CreatedAt,
                verifiable::Column::UpdatedAt,
            ])
            .from(verifiable::Entity)
            .and_where(verifiable::Column::IdentityId.is_in(identities.clone()));
        let mut recoveries = Query::select();
        recoveries
            .expr(Expr::cust(RECOVERY.to_string()))
            .columns([
                recovery::Column::Id,
                recovery::Column::IdentityId,
                recovery::Column::Via,
                recovery::Column::Value,
            ])
            .expr(Expr::val(Option::<bool>::None))
            .expr(Expr::val(Option::<DateTime<Utc>>::None))
            .expr(Expr::val(Option::<String>::None))
            .columns([recovery::Column::CreatedAt, recovery::Column::UpdatedAt])
            .from(recovery::Entity)
            .and_where(recovery::Column::IdentityId.is_in(identities));
        query.union(UnionType::All, recoveries);
        let rows = AddressJoined::find_by_statement(self.db.get_database_backend().build(&query))
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        let (mut verifiables, mut recoveries) = (Vec::new(), Vec::new());
        for row in rows {
            match row.kind {
                VERIFIABLE => verifiables.push(VerifiableRow {
                    verified: row
                        .verified
                        .ok_or_else(|| corrupt_address(row.id, "verified"))?,
                    status: row
                        .status
                        .ok_or_else(|| corrupt_address(row.id, "status"))?,
                    id: row.id,
                    identity_id: row.identity_id,
                    via: row.via,
                    value: row.value,
                    verified_at: row.verified_at,
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                }),
                RECOVERY => recoveries.push(RecoveryRow {
                    id: row.id,
                    identity_id: row.identity_id,
                    via: row.via,
                    value: row.value,
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                }),
                other => {
                    return Err(StorageError::Corrupt(format!("address kind {other}")));
                }
            }
        }
        verifiables.sort_by(|a, b| a.value.cmp(&b.value));
        recoveries.sort_by(|a, b| a.value.cmp(&b.value));
        Ok((
            group(verifiables, |a| a.identity_id),
            group(recoveries, |a| a.identity_id),
        ))
    }

    /// The credentials of these identities with their identifiers (in order), by identity, in
    /// one statement: credentials left-joined with their identifiers.
    async fn credentials_of(
        &self,
        identities: Vec<Uuid>,
        payloads: Payloads,
    ) -> Result<HashMap<Uuid, Vec<CredentialRow>>, StorageError> {
        use identity_credential_identifiers as identifiers;
        use identity_credentials as credentials;
        let mut query = Query::select();
        query.columns([
            (credentials::Entity, credentials::Column::Id),
            (credentials::Entity, credentials::Column::IdentityId),
            (credentials::Entity, credentials::Column::Kind),
            (credentials::Entity, credentials::Column::Version),
            (credentials::Entity, credentials::Column::CreatedAt),
            (credentials::Entity, credentials::Column::UpdatedAt),
        ]);
        if payloads == Payloads::Read {
            query.column((credentials::Entity, credentials::Column::Config));
        }
        query
            .column((identifiers::Entity, identifiers::Column::Identifier))
            .from(credentials::Entity)
            .left_join(
                identifiers::Entity,
                Expr::col((identifiers::Entity, identifiers::Column::CredentialId))
                    .equals((credentials::Entity, credentials::Column::Id)),
            )
            .and_where(
                Expr::col((credentials::Entity, credentials::Column::IdentityId)).is_in(identities),
            )
            .order_by(
                (identifiers::Entity, identifiers::Column::Identifier),
                Order::Asc,
            );
        let rows =
            CredentialJoined::find_by_statement(self.db.get_database_backend().build(&query))
                .all(&self.db)
                .await
                .map_err(storage_error)?;
        let mut read: Vec<CredentialRow> = Vec::new();
        let mut at: HashMap<Uuid, usize> = HashMap::new();
        for row in rows {
            let index = match at.get(&row.id) {
                Some(index) => *index,
                None => {
                    let config = match (payloads, row.config) {
                        (Payloads::Read, Some(config)) => CredentialConfig::Read(config),
                        (Payloads::Read, None) => {
                            return Err(StorageError::Corrupt(format!(
                                "credential {} has no readable config",
                                row.id
                            )));
                        }
                        (Payloads::Withheld, _) => CredentialConfig::Withheld,
                    };
                    read.push(CredentialRow {
                        identity_id: row.identity_id,
                        kind: row.kind,
                        config,
                        identifiers: Vec::new(),
                        version: row.version,
                        created_at: row.created_at,
                        updated_at: row.updated_at,
                    });
                    at.insert(row.id, read.len() - 1);
                    read.len() - 1
                }
            };
            if let Some(identifier) = row.identifier {
                read[index].identifiers.push(identifier);
            }
        }
        Ok(group(read, |c| c.identity_id))
    }
}

/// A verifiable address row without a value its table requires.
fn corrupt_address(id: Uuid, column: &str) -> StorageError {
    StorageError::Corrupt(format!("verifiable address {id} has no {column}"))
}

/// Rows grouped by the id `key` picks, keeping their order within each group.
fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(key(&row)).or_default().push(row);
    }
    groups
}

#[async_trait]
impl IdentityStore for Store {
    async fn insert_identity(&self, identity: &Identity) -> Result<(), StorageError> {
        let txn = self.db.begin().await.map_err(storage_error)?;
        identities::Entity::insert(identities::ActiveModel {
            id: Set(identity.id.as_uuid()),
            schema_id: Set(identity.schema_id.clone()),
            state: Set(identity_state_to_row(identity.state)),
            state_changed_at: Set(identity.state_changed_at),
            traits: Set(identity.traits.clone()),
            metadata_public: Set(identity.metadata_public.clone()),
            metadata_admin: Set(identity.metadata_admin.clone()),
            external_id: Set(identity.external_id.clone()),
            created_at: Set(identity.created_at),
            updated_at: Set(identity.updated_at),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(storage_error)?;
        insert_addresses(&txn, identity).await?;
        insert_credentials(&txn, identity).await?;
        txn.commit().await.map_err(storage_error)
    }

    async fn get_identity(&self, id: IdentityId) -> Result<Option<Identity>, StorageError> {
        let rows = identities::Entity::find_by_id(id.as_uuid())
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(self.hydrate(rows, Payloads::Read).await?.pop())
    }

    async fn get_identity_without_configs(
        &self,
        id: IdentityId,
    ) -> Result<Option<Identity>, StorageError> {
        let rows = identities::Entity::find_by_id(id.as_uuid())
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(self.hydrate(rows, Payloads::Withheld).await?.pop())
    }

    async fn update_identity(&self, identity: &Identity) -> Result<(), StorageError> {
        let id = identity.id.as_uuid();
        let txn = self.db.begin().await.map_err(storage_error)?;
        identities::Entity::update(identities::ActiveModel {
            id: Set(id),
            schema_id: Set(identity.schema_id.clone()),
            state: Set(identity_state_to_row(identity.state)),
            state_changed_at: Set(identity.state_changed_at),
            traits: Set(identity.traits.clone()),
            metadata_public: Set(identity.metadata_public.clone()),
            metadata_admin: Set(identity.metadata_admin.clone()),
            external_id: Set(identity.external_id.clone()),
            created_at: Set(identity.created_at),
            updated_at: Set(identity.updated_at),
        })
        .exec(&txn)
        .await
        .map_err(storage_error)?;
        let credential_ids: Vec<Uuid> = identity_credentials::Entity::find()
            .filter(identity_credentials::Column::IdentityId.eq(id))
            .all(&txn)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(|c| c.id)
            .collect();
        if !credential_ids.is_empty() {
            identity_credential_identifiers::Entity::delete_many()
                .filter(identity_credential_identifiers::Column::CredentialId.is_in(credential_ids))
                .exec(&txn)
                .await
                .map_err(storage_error)?;
        }
        identity_credentials::Entity::delete_many()
            .filter(identity_credentials::Column::IdentityId.eq(id))
            .exec(&txn)
            .await
            .map_err(storage_error)?;
        identity_verifiable_addresses::Entity::delete_many()
            .filter(identity_verifiable_addresses::Column::IdentityId.eq(id))
            .exec(&txn)
            .await
            .map_err(storage_error)?;
        identity_recovery_addresses::Entity::delete_many()
            .filter(identity_recovery_addresses::Column::IdentityId.eq(id))
            .exec(&txn)
            .await
            .map_err(storage_error)?;
        insert_addresses(&txn, identity).await?;
        insert_credentials(&txn, identity).await?;
        txn.commit().await.map_err(storage_error)
    }
}

async fn insert_addresses(
    txn: &impl ConnectionTrait,
    identity: &Identity,
) -> Result<(), StorageError> {
    for a in &identity.verifiable_addresses {
        identity_verifiable_addresses::Entity::insert(identity_verifiable_addresses::ActiveModel {
            id: Set(a.id.as_uuid()),
            identity_id: Set(identity.id.as_uuid()),
            via: Set(a.via.as_str().to_owned()),
            value: Set(a.value.clone()),
            verified: Set(a.verified),
            verified_at: Set(a.verified_at),
            status: Set(a.status.as_str().to_owned()),
            created_at: Set(a.created_at),
            updated_at: Set(a.updated_at),
        })
        .exec_without_returning(txn)
        .await
        .map_err(storage_error)?;
    }
    for a in &identity.recovery_addresses {
        identity_recovery_addresses::Entity::insert(identity_recovery_addresses::ActiveModel {
            id: Set(a.id.as_uuid()),
            identity_id: Set(identity.id.as_uuid()),
            via: Set(a.via.as_str().to_owned()),
            value: Set(a.value.clone()),
            created_at: Set(a.created_at),
            updated_at: Set(a.updated_at),
        })
        .exec_without_returning(txn)
        .await
        .map_err(storage_error)?;
    }
    Ok(())
}

async fn insert_credentials(
    txn: &impl ConnectionTrait,
    identity: &Identity,
) -> Result<(), StorageError> {
    for credential in identity.credentials.values() {
        // An identity read without its payloads is never written back (it would erase them).
        let config = credential.config.read().ok_or_else(|| {
            StorageError::Backend(format!(
                "the {} credential of identity {} was read without its payload",
                credential.kind.as_str(),
                identity.id
            ))
        })?;
        let credential_id = Uuid::new_v4();
        identity_credentials::Entity::insert(identity_credentials::ActiveModel {
            id: Set(credential_id),
            identity_id: Set(identity.id.as_uuid()),
            kind: Set(credential.kind.as_str().to_owned()),
            config: Set(config.clone()),
            version: Set(credential.version),
            created_at: Set(credential.created_at),
            updated_at: Set(credential.updated_at),
        })
        .exec_without_returning(txn)
        .await
        .map_err(storage_error)?;
        for identifier in &credential.identifiers {
            identity_credential_identifiers::Entity::insert(
                identity_credential_identifiers::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    credential_id: Set(credential_id),
                    kind: Set(credential.kind.as_str().to_owned()),
                    identifier: Set(identifier.clone()),
                    created_at: Set(credential.created_at),
                },
            )
            .exec_without_returning(txn)
            .await
            .map_err(storage_error)?;
        }
    }
    Ok(())
}

#[async_trait]
impl IdentityDirectory for Store {
    async fn list_identities(
        &self,
        filter: &IdentityFilter,
        after: Option<IdentityId>,
        limit: u64,
    ) -> Result<Vec<Identity>, StorageError> {
        let mut query = identities::Entity::find();
        if !filter.ids.is_empty() {
            query = query
                .filter(identities::Column::Id.is_in(filter.ids.iter().map(|id| id.as_uuid())));
        }
        if let Some(identifier) = &filter.credentials_identifier {
            query = query.filter(
                identities::Column::Id.in_subquery(owners_of_identifiers(
                    Expr::col((
                        identity_credential_identifiers::Entity,
                        identity_credential_identifiers::Column::Identifier,
                    ))
                    .eq(identifier.as_str()),
                )),
            );
        }
        if let Some(similar) = &filter.identifier_similar {
            let pattern = format!("%{}%", escape_like(&similar.to_lowercase()));
            query = query.filter(
                identities::Column::Id.in_subquery(owners_of_identifiers(
                    Expr::expr(Func::lower(Expr::col((
                        identity_credential_identifiers::Entity,
                        identity_credential_identifiers::Column::Identifier,
                    ))))
                    .like(LikeExpr::new(pattern).escape('\\')),
                )),
            );
        }
        if let Some(after) = after {
            query = query.filter(identities::Column::Id.gt(after.as_uuid()));
        }
        let rows = query
            .order_by_asc(identities::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        self.hydrate(rows, Payloads::Withheld).await
    }

    async fn delete_identity(&self, id: IdentityId) -> Result<bool, StorageError> {
        // Foreign keys cascade to credentials, identifiers, addresses, sessions and flows.
        let result = identities::Entity::delete_by_id(id.as_uuid())
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }
}

/// `SELECT identity_id FROM identity_credentials JOIN identity_credential_identifiers ...
/// WHERE <condition on the identifier>`.
fn owners_of_identifiers(condition: Expr) -> SelectStatement {
    Query::select()
        .column((
            identity_credentials::Entity,
            identity_credentials::Column::IdentityId,
        ))
        .from(identity_credentials::Entity)
        .inner_join(
            identity_credential_identifiers::Entity,
            Expr::col((
                identity_credential_identifiers::Entity,
                identity_credential_identifiers::Column::CredentialId,
            ))
            .equals((
                identity_credentials::Entity,
                identity_credentials::Column::Id,
            )),
        )
        .and_where(condition)
        .to_owned()
}

/// `text` with the `LIKE` wildcards and the escape character escaped.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[async_trait]
impl IdentifierLookup for Store {
    async fn find_identity_by_identifier(
        &self,
        kind: CredentialKind,
        identifier: &str,
    ) -> Result<Option<Identity>, StorageError> {
        // One statement from the identifier to the identity row; its children follow.
        let credential = Query::select()
            .column(identity_credential_identifiers::Column::CredentialId)
            .from(identity_credential_identifiers::Entity)
            .and_where(identity_credential_identifiers::Column::Kind.eq(kind.as_str()))
            .and_where(identity_credential_identifiers::Column::Identifier.eq(identifier))
            .to_owned();
        let owner = Query::select()
            .column(identity_credentials::Column::IdentityId)
            .from(identity_credentials::Entity)
            .and_where(identity_credentials::Column::Id.in_subquery(credential))
            .to_owned();
        let rows = identities::Entity::find()
            .filter(identities::Column::Id.in_subquery(owner))
            .all(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(self.hydrate(rows, Payloads::Read).await?.pop())
    }
}

#[async_trait]
impl AddressLookup for Store {
    async fn find_identity_by_recovery_address(
        &self,
        value: &str,
    ) -> Result<Option<Identity>, StorageError> {
        let row = identity_recovery_addresses::Entity::find()
            .filter(identity_recovery_addresses::Column::Value.eq(value))
            .one(&self.db)
            .await
            .map_err(storage_error)?;
        match row {
            Some(row) => self.get_identity(IdentityId(row.identity_id)).await,
            None => Ok(None),
        }
    }

    async fn find_identity_by_verifiable_address(
        &self,
        value: &str,
    ) -> Result<Option<Identity>, StorageError> {
        let row = identity_verifiable_addresses::Entity::find()
            .filter(identity_verifiable_addresses::Column::Value.eq(value))
            .one(&self.db)
            .await
            .map_err(storage_error)?;
        match row {
            Some(row) => self.get_identity(IdentityId(row.identity_id)).await,
            None => Ok(None),
        }
    }
}

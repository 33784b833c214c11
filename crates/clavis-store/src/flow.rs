//! [`FlowStore`] on sea-orm: one table for every flow kind; single use through conditional
//! updates on the state column (settings flows stay open after a successful update).

use crate::Store;
use crate::entity::selfservice_flows;
use crate::row::storage_error;
use crate::unique;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_core::StorageError;
use clavis_core::flow::{Flow, FlowKind, FlowState, FlowStore};
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use clavis_types::session::Aal;
use clavis_types::{IdentityId, SessionId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter};

const TERMINAL: [&str; 2] = ["passed_challenge", "success"];

fn flow_type_to_row(flow_type: FlowType) -> &'static str {
    match flow_type {
        FlowType::Api => "api",
        FlowType::Browser => "browser",
    }
}

fn corrupt(what: &str, value: &str) -> StorageError {
    StorageError::Corrupt(format!("unknown {what} `{value}`"))
}

fn flow_from_row(row: selfservice_flows::Model) -> Result<Flow, StorageError> {
    let flow_type = match row.flow_type.as_str() {
        "api" => FlowType::Api,
        "browser" => FlowType::Browser,
        other => return Err(corrupt("flow type", other)),
    };
    Ok(Flow {
        id: FlowId(row.id),
        kind: FlowKind::parse(&row.kind).ok_or_else(|| corrupt("flow kind", &row.kind))?,
        flow_type,
        state: FlowState::parse(&row.state).ok_or_else(|| corrupt("flow state", &row.state))?,
        identity_id: row.identity_id.map(IdentityId),
        session_id: row.session_id.map(SessionId),
        request_url: row.request_url,
        return_to: row.return_to,
        requested_aal: Aal::parse(&row.requested_aal)
            .ok_or_else(|| corrupt("assurance level", &row.requested_aal))?,
        refresh: row.refresh,
        ui: serde_json::from_str(&row.ui)
            .map_err(|e| StorageError::Corrupt(format!("flow ui: {e}")))?,
        active: row.active_method,
        strategy_state: serde_json::from_value(row.strategy_state)
            .map_err(|e| StorageError::Corrupt(format!("flow method state: {e}")))?,
        csrf_token_digest: row.csrf_token_digest,
        transient_payload: row.transient_payload,
        issued_at: row.issued_at,
        expires_at: row.expires_at,
        updated_at: row.updated_at,
    })
}

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, StorageError> {
    serde_json::to_value(value).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// Encoded bytes of a flow row besides its variable-length text: ids, names, digests, times.
const ROW_BYTES: usize = 320;

/// Bytes of a JSON value's text, for sizing a grouped insert (new flows' JSON is small).
fn json_len(value: &serde_json::Value) -> usize {
    serde_json::to_vec(value).map_or(0, |text| text.len())
}

/// A flow's UI as the JSON text its column keeps (serialised straight from the typed nodes).
fn ui_text(flow: &Flow) -> Result<String, StorageError> {
    serde_json::to_string(&flow.ui).map_err(|e| StorageError::Corrupt(e.to_string()))
}

#[async_trait]
impl FlowStore for Store {
    async fn insert_flow(&self, flow: &Flow) -> Result<(), StorageError> {
        let ui = ui_text(flow)?;
        let strategy_state = json(&flow.strategy_state)?;
        let size = ROW_BYTES
            + ui.len()
            + flow.request_url.len()
            + flow.return_to.as_ref().map_or(0, String::len)
            + json_len(&strategy_state)
            + flow.transient_payload.as_ref().map_or(0, json_len);
        let row = selfservice_flows::ActiveModel {
            id: Set(flow.id.as_uuid()),
            kind: Set(flow.kind.as_str().to_owned()),
            flow_type: Set(flow_type_to_row(flow.flow_type).to_owned()),
            state: Set(flow.state.as_str().to_owned()),
            identity_id: Set(flow.identity_id.map(|i| i.as_uuid())),
            session_id: Set(flow.session_id.map(|s| s.as_uuid())),
            request_url: Set(flow.request_url.clone()),
            return_to: Set(flow.return_to.clone()),
            requested_aal: Set(flow.requested_aal.as_str().to_owned()),
            refresh: Set(flow.refresh),
            ui: Set(ui),
            strategy_state: Set(strategy_state),
            csrf_token_digest: Set(flow.csrf_token_digest.clone()),
            transient_payload: Set(flow.transient_payload.clone()),
            issued_at: Set(flow.issued_at),
            expires_at: Set(flow.expires_at),
            created_at: Set(flow.issued_at),
            updated_at: Set(flow.updated_at),
            active_method: Set(flow.active.clone()),
        };
        self.new_flows.insert(&self.db, row, size).await
    }

    async fn get_flow(&self, id: FlowId) -> Result<Option<Flow>, StorageError> {
        unique::row(
            selfservice_flows::Entity::find_by_id(id.as_uuid()),
            &self.db,
        )
        .await
        .map_err(storage_error)?
        .map(flow_from_row)
        .transpose()
    }

    async fn update_flow(&self, flow: &Flow) -> Result<bool, StorageError> {
        let result = selfservice_flows::Entity::update_many()
            .col_expr(selfservice_flows::Column::Ui, Expr::value(ui_text(flow)?))
            .col_expr(
                selfservice_flows::Column::StrategyState,
                Expr::value(json(&flow.strategy_state)?),
            )
            .col_expr(
                selfservice_flows::Column::ActiveMethod,
                Expr::value(flow.active.clone()),
            )
            .col_expr(
                selfservice_flows::Column::TransientPayload,
                Expr::value(flow.transient_payload.clone()),
            )
            .col_expr(
                selfservice_flows::Column::State,
                Expr::value(flow.state.as_str()),
            )
            .col_expr(
                selfservice_flows::Column::UpdatedAt,
                Expr::value(flow.updated_at),
            )
            .filter(selfservice_flows::Column::Id.eq(flow.id.as_uuid()))
            .filter(
                Condition::any()
                    .add(selfservice_flows::Column::State.is_not_in(TERMINAL))
                    .add(selfservice_flows::Column::Kind.eq(FlowKind::Settings.as_str())),
            )
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn finish_flow(
        &self,
        id: FlowId,
        state: FlowState,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let result = selfservice_flows::Entity::update_many()
            .col_expr(
                selfservice_flows::Column::State,
                Expr::value(state.as_str()),
            )
            .col_expr(selfservice_flows::Column::UpdatedAt, Expr::value(at))
            .filter(selfservice_flows::Column::Id.eq(id.as_uuid()))
            .filter(selfservice_flows::Column::State.is_not_in(TERMINAL))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn reopen_flow(
        &self,
        id: FlowId,
        state: FlowState,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        selfservice_flows::Entity::update_many()
            .col_expr(
                selfservice_flows::Column::State,
                Expr::value(state.as_str()),
            )
            .col_expr(selfservice_flows::Column::UpdatedAt, Expr::value(at))
            .filter(selfservice_flows::Column::Id.eq(id.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}

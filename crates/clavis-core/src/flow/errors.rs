//! Self-service errors kept for browsers: a plain HTML form cannot show a JSON error, so the
//! browser is sent to the error page with an id, and the page reads the error by that id
//! (`GET /self-service/errors?id=`).

use crate::clock::Clock;
use crate::error::CoreError;
use crate::random::{Rng, uuid_v4};
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// An error as the error page reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowError {
    pub id: Uuid,
    /// The error object of Kratos' error envelope (`{code, status, id?, reason?, message}`).
    pub error: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The storage errors need.
#[async_trait]
pub trait FlowErrorStore: Send + Sync {
    /// Stores an error.
    async fn insert_flow_error(&self, error: &FlowError) -> Result<(), StorageError>;
    /// Reads an error.
    async fn get_flow_error(&self, id: Uuid) -> Result<Option<FlowError>, StorageError>;
}

/// Records and reads self-service errors.
#[derive(Clone)]
pub struct FlowErrors {
    store: Arc<dyn FlowErrorStore>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
}

impl FlowErrors {
    /// Builds the service over its ports.
    pub fn new(store: Arc<dyn FlowErrorStore>, clock: Arc<dyn Clock>, rng: Arc<dyn Rng>) -> Self {
        Self { store, clock, rng }
    }

    /// Keeps `error` under a new id.
    pub async fn record(&self, error: Value) -> Result<FlowError, CoreError> {
        let now = self.clock.now();
        let record = FlowError {
            id: uuid_v4(self.rng.as_ref()),
            error,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_flow_error(&record).await?;
        Ok(record)
    }

    /// The error with this id, if there is one.
    pub async fn get(&self, id: Uuid) -> Result<Option<FlowError>, CoreError> {
        Ok(self.store.get_flow_error(id).await?)
    }
}

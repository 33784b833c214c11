//! Session-token exchange for native apps that finish a flow in the system browser (social
//! sign-in, passkeys): the app asks for an init code when it creates the flow; when the flow
//! completes in the browser, the session is attached and the browser returns to the app with a
//! second code; the app trades both codes for the session and a token, once.
//!
//! Both codes are stored as SHA-256 digests. The session token is minted at the exchange (the
//! session's token is replaced), so no plaintext token waits in storage.

use super::Flow;
use crate::clock::Clock;
use crate::error::CoreError;
use crate::random::{Rng, alphanumeric, uuid_v4};
use crate::secret::{BearerToken, TokenDigest};
use crate::session::{Authenticated, SessionService};
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_types::SessionId;
use clavis_types::flow::FlowType;
use clavis_types::id::FlowId;
use std::sync::Arc;
use uuid::Uuid;

/// Length of both exchange codes, as Kratos.
pub const CODE_LENGTH: usize = 64;

/// An exchange as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionTokenExchange {
    pub id: Uuid,
    pub flow_id: FlowId,
    pub init_code: TokenDigest,
    /// Set with the session when the flow completes.
    pub return_to_code: Option<TokenDigest>,
    pub session_id: Option<SessionId>,
    pub created_at: DateTime<Utc>,
}

/// The storage exchanges need.
#[async_trait]
pub trait ExchangeStore: Send + Sync {
    /// Stores a new exchange.
    async fn insert_exchange(&self, exchange: &SessionTokenExchange) -> Result<(), StorageError>;
    /// Attaches the session and the return code to the exchange of `flow`; false when the flow
    /// has no exchange or it was completed already.
    async fn complete_exchange(
        &self,
        flow: FlowId,
        return_to_code: &TokenDigest,
        session: SessionId,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    /// Removes the completed exchange with both codes and returns its session; `None` when
    /// there is none (unknown codes, not completed yet, or taken by a concurrent request).
    async fn take_exchange(
        &self,
        init_code: &TokenDigest,
        return_to_code: &TokenDigest,
    ) -> Result<Option<SessionId>, StorageError>;
}

/// Starts, completes and redeems exchanges.
#[derive(Clone)]
pub struct TokenExchanges {
    store: Arc<dyn ExchangeStore>,
    sessions: SessionService,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
}

impl TokenExchanges {
    /// Builds the service over its ports.
    pub fn new(
        store: Arc<dyn ExchangeStore>,
        sessions: SessionService,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
    ) -> Self {
        Self {
            store,
            sessions,
            clock,
            rng,
        }
    }

    /// Opens an exchange for a new API flow; returns the init code (shown once, to the app).
    pub async fn start(&self, flow: &Flow) -> Result<BearerToken, CoreError> {
        if flow.flow_type != FlowType::Api {
            return Err(CoreError::InvalidParameter(
                "return_session_token_exchange_code is for API flows only".to_owned(),
            ));
        }
        let code = BearerToken::new(alphanumeric(self.rng.as_ref(), CODE_LENGTH));
        self.store
            .insert_exchange(&SessionTokenExchange {
                id: uuid_v4(self.rng.as_ref()),
                flow_id: flow.id,
                init_code: code.digest(),
                return_to_code: None,
                session_id: None,
                created_at: self.clock.now(),
            })
            .await?;
        Ok(code)
    }

    /// Attaches the session a flow ended with; returns the return code the browser carries
    /// back to the app, or `None` when the flow has no open exchange.
    pub async fn complete(
        &self,
        flow: FlowId,
        session: SessionId,
    ) -> Result<Option<BearerToken>, CoreError> {
        let code = BearerToken::new(alphanumeric(self.rng.as_ref(), CODE_LENGTH));
        let attached = self
            .store
            .complete_exchange(flow, &code.digest(), session, self.clock.now())
            .await?;
        Ok(attached.then_some(code))
    }

    /// Trades both codes for the session and a fresh token, once.
    pub async fn redeem(
        &self,
        init_code: &BearerToken,
        return_to_code: &BearerToken,
    ) -> Result<(Authenticated, BearerToken), CoreError> {
        let session = self
            .store
            .take_exchange(&init_code.digest(), &return_to_code.digest())
            .await?
            .ok_or(CoreError::ExchangeNotFound)?;
        self.sessions.reissue_token(session).await
    }
}

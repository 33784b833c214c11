//! Device authorization: a client that cannot show a login form (a desktop or mobile app, a
//! TV) asks for access, a person approves or denies it in a browser where they are signed in,
//! and the client collects the result by polling. Nextcloud's Login Flow v2 is the first front
//! end; RFC 8628 device grants are meant to join as another [`FrontEnd`] on the same table and
//! state machine:
//!
//! ```text
//! pending ──approve──▶ approved ──first poll──▶ consumed
//!    │                    (expired: every state past `expires_at` answers like pending)
//!    └──deny──▶ denied
//! ```
//!
//! Poll and login tokens are stored only as SHA-256 digests. No credential exists while a flow
//! waits: the client's credential ([`crate::grant`]) is minted by the one poll that moves the
//! flow from approved to consumed, a conditional update only one request can win. This module
//! never touches HTTP or SQL.

#[cfg(test)]
mod tests;

use crate::clock::Clock;
use crate::error::CoreError;
use crate::grant::{ClientGrants, GrantKind, MintedGrant, client_name_of};
use crate::random::{Rng, alphanumeric, uuid_v4};
use crate::secret::{BearerToken, TokenDigest};
use crate::session::Authenticated;
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use clavis_types::IdentityId;
use clavis_types::session::Aal;
use std::sync::Arc;
use uuid::Uuid;

/// Length of poll and login tokens (Nextcloud's: 128 characters of `[0-9A-Za-z]`).
pub const TOKEN_LEN: usize = 128;

/// How long a flow waits for approval and collection (Nextcloud's 20 minutes).
pub const LIFETIME: TimeDelta = TimeDelta::minutes(20);

/// How recently the approving session must have authenticated (Nextcloud's password
/// confirmation window): an approval hands out full access, so an old session signs in again.
pub const APPROVAL_MAX_AGE: TimeDelta = TimeDelta::minutes(30);

/// The protocol a device authorization was started through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontEnd {
    /// Nextcloud's Login Flow v2 (`POST /index.php/login/v2`).
    NextcloudLoginFlowV2,
}

impl FrontEnd {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            FrontEnd::NextcloudLoginFlowV2 => "nextcloud_login_flow_v2",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        (value == "nextcloud_login_flow_v2").then_some(FrontEnd::NextcloudLoginFlowV2)
    }
}

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    Pending,
    Approved,
    Denied,
    Consumed,
}

impl DeviceState {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeviceState::Pending => "pending",
            DeviceState::Approved => "approved",
            DeviceState::Denied => "denied",
            DeviceState::Consumed => "consumed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [
            DeviceState::Pending,
            DeviceState::Approved,
            DeviceState::Denied,
            DeviceState::Consumed,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// A device authorization as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceAuthorization {
    pub id: Uuid,
    pub front_end: FrontEnd,
    pub state: DeviceState,
    pub poll_digest: TokenDigest,
    pub login_digest: TokenDigest,
    /// What the client calls itself (its `User-Agent`): self-declared, never verified.
    pub client_name: String,
    /// Where the request came from, to compare with the approving browser.
    pub request_ip: Option<String>,
    /// Who approved it.
    pub identity_id: Option<IdentityId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The assurance level of the session that approved it.
    pub approved_aal: Option<Aal>,
}

/// The storage device authorizations need.
#[async_trait]
pub trait DeviceAuthorizationStore: Send + Sync {
    /// Stores a new authorization.
    async fn insert_device_authorization(
        &self,
        authorization: &DeviceAuthorization,
    ) -> Result<(), StorageError>;
    /// The authorization whose poll token has this digest.
    async fn find_device_authorization_by_poll(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<DeviceAuthorization>, StorageError>;
    /// The authorization whose login token has this digest.
    async fn find_device_authorization_by_login(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<DeviceAuthorization>, StorageError>;
    /// Moves a pending authorization to `to` (approved by `identity` at `aal`, or denied);
    /// false when it is no longer pending.
    async fn decide_device_authorization(
        &self,
        id: Uuid,
        to: DeviceState,
        approver: Option<(IdentityId, Aal)>,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    /// Moves an approved authorization to consumed; false when another request did first.
    async fn consume_device_authorization(&self, id: Uuid) -> Result<bool, StorageError>;
}

/// A started authorization: the stored record and the two tokens, shown once.
#[derive(Debug)]
pub struct Started {
    pub authorization: DeviceAuthorization,
    /// The client polls with it.
    pub poll_token: BearerToken,
    /// The person opens the approval page with it.
    pub login_token: BearerToken,
}

/// What a poll collects: the credential minted for the client and whom it belongs to.
#[derive(Debug)]
pub struct Collected {
    pub identity: IdentityId,
    pub grant: MintedGrant,
}

/// Starts, decides and collects device authorizations.
#[derive(Clone)]
pub struct DeviceAuthorizations {
    store: Arc<dyn DeviceAuthorizationStore>,
    grants: ClientGrants,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
}

impl DeviceAuthorizations {
    /// Builds the service over its ports.
    pub fn new(
        store: Arc<dyn DeviceAuthorizationStore>,
        grants: ClientGrants,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
    ) -> Self {
        Self {
            store,
            grants,
            clock,
            rng,
        }
    }

    /// Starts an authorization for a client that names itself `client_name`.
    pub async fn start(
        &self,
        front_end: FrontEnd,
        client_name: &str,
        request_ip: Option<String>,
    ) -> Result<Started, CoreError> {
        let now = self.clock.now();
        let poll_token = BearerToken::new(alphanumeric(self.rng.as_ref(), TOKEN_LEN));
        let login_token = BearerToken::new(alphanumeric(self.rng.as_ref(), TOKEN_LEN));
        let authorization = DeviceAuthorization {
            id: uuid_v4(self.rng.as_ref()),
            front_end,
            state: DeviceState::Pending,
            poll_digest: poll_token.digest(),
            login_digest: login_token.digest(),
            client_name: client_name_of(client_name),
            request_ip,
            identity_id: None,
            created_at: now,
            expires_at: now + LIFETIME,
            decided_at: None,
            approved_aal: None,
        };
        self.store
            .insert_device_authorization(&authorization)
            .await?;
        Ok(Started {
            authorization,
            poll_token,
            login_token,
        })
    }

    /// The pending, unexpired authorization the approval page shows, by its login token.
    pub async fn pending(
        &self,
        login_token: &BearerToken,
    ) -> Result<DeviceAuthorization, CoreError> {
        self.store
            .find_device_authorization_by_login(&login_token.digest())
            .await?
            .filter(|a| a.state == DeviceState::Pending && a.expires_at > self.clock.now())
            .ok_or_else(|| {
                CoreError::NotFound("the login request is unknown or expired".to_owned())
            })
    }

    /// Whether `approver`'s session signed in recently enough to approve.
    pub fn recent_enough(&self, approver: &Authenticated) -> bool {
        self.clock.now() - approver.session.authenticated_at <= APPROVAL_MAX_AGE
    }

    /// Approves a pending authorization for the approver's identity, once. The approver's
    /// session must be a browser session (never a grant) authenticated within
    /// [`APPROVAL_MAX_AGE`].
    pub async fn approve(
        &self,
        authorization: &DeviceAuthorization,
        approver: &Authenticated,
    ) -> Result<(), CoreError> {
        if approver.client.is_some() || !self.recent_enough(approver) {
            return Err(CoreError::ReauthenticationRequired);
        }
        let aal = approver.session.aal;
        self.decide(
            authorization,
            DeviceState::Approved,
            Some((approver.identity.id, aal)),
        )
        .await
    }

    /// Denies a pending authorization: its poll never yields anything.
    pub async fn deny(&self, authorization: &DeviceAuthorization) -> Result<(), CoreError> {
        self.decide(authorization, DeviceState::Denied, None).await
    }

    async fn decide(
        &self,
        authorization: &DeviceAuthorization,
        to: DeviceState,
        approver: Option<(IdentityId, Aal)>,
    ) -> Result<(), CoreError> {
        if authorization.expires_at <= self.clock.now()
            || !self
                .store
                .decide_device_authorization(authorization.id, to, approver, self.clock.now())
                .await?
        {
            return Err(CoreError::NotFound(
                "the login request is unknown, expired or decided already".to_owned(),
            ));
        }
        Ok(())
    }

    /// Collects an approved authorization: the first poll after approval mints the client's
    /// credential; every other poll (pending, denied, expired, unknown, collected) gets `None`.
    pub async fn poll(&self, poll_token: &BearerToken) -> Result<Option<Collected>, CoreError> {
        if poll_token.expose().len() != TOKEN_LEN {
            return Ok(None);
        }
        let Some(authorization) = self
            .store
            .find_device_authorization_by_poll(&poll_token.digest())
            .await?
        else {
            return Ok(None);
        };
        let (DeviceState::Approved, Some(identity)) =
            (authorization.state, authorization.identity_id)
        else {
            return Ok(None);
        };
        if authorization.expires_at <= self.clock.now()
            || !self
                .store
                .consume_device_authorization(authorization.id)
                .await?
        {
            return Ok(None);
        }
        let grant = self
            .grants
            .mint(
                identity,
                GrantKind::AppPassword,
                &authorization.client_name,
                authorization.request_ip.clone(),
                authorization.approved_aal.unwrap_or(Aal::Aal1),
            )
            .await?;
        Ok(Some(Collected { identity, grant }))
    }
}

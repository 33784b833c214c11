//! Sessions: proof that an identity authenticated, carried by a bearer token.
//!
//! A session token is minted once, handed to its owner, and stored only as a SHA-256 digest.
//! Whether a session counts is decided here: it must be stored as active, not expired by the
//! injected clock, and belong to an active identity.

pub mod admin;
pub mod assurance;
pub mod cache;

use crate::background::Background;
use crate::clock::Clock;
use crate::error::CoreError;
use crate::grant::{ClientGrant, ClientGrants};
use crate::identity::{Identity, IdentityStore};
use crate::random::{Rng, alphanumeric, uuid_v4};
use crate::secret::{BearerToken, TokenDigest};
use crate::storage::StorageError;
use async_trait::async_trait;
use cache::{Remembered, SessionCache};
use chrono::{DateTime, TimeDelta, Utc};
use clavis_types::id::DeviceId;
use clavis_types::session::{Aal, AuthenticationMethod};
use clavis_types::{IdentityId, SessionId};
use std::sync::Arc;

/// The prefix of every session token, so leaked tokens are recognisable by secret scanners.
pub const SESSION_TOKEN_PREFIX: &str = "clv_st_";

/// The prefix of browser logout tokens.
pub const LOGOUT_TOKEN_PREFIX: &str = "clv_lo_";

/// Where a session was used from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub location: Option<String>,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub identity_id: IdentityId,
    /// False once revoked; expiry is judged separately against the clock.
    pub active: bool,
    pub aal: Aal,
    pub authentication_methods: Vec<AuthenticationMethod>,
    pub issued_at: DateTime<Utc>,
    pub authenticated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub devices: Vec<Device>,
}

impl Session {
    /// Whether the session may be used at `now`.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.active && self.expires_at > now
    }
}

/// The assurance level a list of completed methods earns: aal2 needs an aal1 and an aal2 factor.
pub fn assurance_level(methods: &[AuthenticationMethod]) -> Aal {
    let has = |aal: Aal| methods.iter().any(|m| m.aal == aal);
    match (has(Aal::Aal1), has(Aal::Aal2)) {
        (true, true) => Aal::Aal2,
        (true, false) => Aal::Aal1,
        (false, _) => Aal::Aal0,
    }
}

/// The request a session is issued from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The storage sessions need.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session under the digest of its token.
    async fn insert_session(
        &self,
        session: &Session,
        token: &TokenDigest,
    ) -> Result<(), StorageError>;
    /// The session whose token has this digest, whatever its state.
    async fn find_session_by_token(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<Session>, StorageError>;
    /// What a cached caller is checked against (see [`SessionRevision`]), in one read: the
    /// session whose token has this digest, without its devices, and when its identity last
    /// changed; `None` when there is no such session or its identity is gone.
    async fn find_session_revision(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<SessionRevision>, StorageError>;
    /// An identity's active, unexpired sessions ordered by id, after `after`, at most `limit`.
    async fn list_active_sessions(
        &self,
        identity: IdentityId,
        now: DateTime<Utc>,
        after: Option<SessionId>,
        limit: u64,
    ) -> Result<Vec<Session>, StorageError>;
    /// Deactivates one of `identity`'s sessions; false when it has no such active session.
    async fn revoke_session(
        &self,
        identity: IdentityId,
        id: SessionId,
    ) -> Result<bool, StorageError>;
    /// Replaces the digest of a session's browser logout token.
    async fn set_logout_token(
        &self,
        id: SessionId,
        token: &TokenDigest,
    ) -> Result<(), StorageError>;
    /// The session whose current logout token has this digest.
    async fn find_session_by_logout_token(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<Session>, StorageError>;
    /// Writes a still-active session's assurance level, methods, authentication time and
    /// expiry (after a refresh or step-up); false when the session is no longer active.
    async fn update_session_authentication(&self, session: &Session) -> Result<bool, StorageError>;
    /// Replaces an active session's token digest; false when the session is not active.
    async fn replace_session_token(
        &self,
        id: SessionId,
        token: &TokenDigest,
    ) -> Result<bool, StorageError>;
    /// Deactivates every active session of `identity` but `keep`; returns how many.
    async fn revoke_sessions_except(
        &self,
        identity: IdentityId,
        keep: SessionId,
    ) -> Result<u64, StorageError>;
}

/// Session policy from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    pub lifespan: TimeDelta,
}

/// A session as a cache refresh reads it again. Its devices are left out: they are written
/// with the session and never change. Its identity is represented by `updated_at`, which
/// every change to an identity (traits, state, addresses, credentials) moves forward
/// ([`crate::identity::IdentityService::update`]): an identity whose stamp is the one already
/// remembered need not be read again.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRevision {
    pub session: Session,
    pub identity_updated_at: DateTime<Utc>,
}

/// An authenticated caller: the session it presented and the identity it belongs to. The
/// identity is read without its credentials' payloads (see
/// [`crate::identity::CredentialConfig`]); engines that need them read it in full
/// ([`crate::identity::IdentityService::in_full`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated {
    pub session: Session,
    pub identity: Identity,
    /// The per-client grant (an app password) the caller presented instead of a session
    /// token; its session is then the grant seen as a session (see [`Session::of_grant`]).
    pub client: Option<ClientGrant>,
}

impl Session {
    /// A grant seen as a session: same id, the grant's assurance level as one `app_password`
    /// factor completed at its approval, used from where it was last used, and valid for one
    /// more `lifespan` from `now` (grants do not expire, they are revoked).
    pub fn of_grant(grant: &ClientGrant, now: DateTime<Utc>, lifespan: TimeDelta) -> Session {
        Session {
            id: SessionId(grant.id),
            identity_id: grant.identity_id,
            active: true,
            aal: grant.aal,
            authentication_methods: vec![AuthenticationMethod {
                method: grant.kind.as_str().to_owned(),
                aal: grant.aal,
                completed_at: grant.created_at,
                provider: None,
            }],
            issued_at: grant.created_at,
            authenticated_at: grant.created_at,
            expires_at: now + lifespan,
            devices: vec![Device {
                id: DeviceId(grant.id),
                ip_address: grant.last_ip.clone(),
                user_agent: grant.user_agent.clone(),
                location: None,
            }],
        }
    }
}

/// A page of sessions and whether more follow.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPage {
    pub sessions: Vec<Session>,
    pub next: Option<SessionId>,
}

/// Issues, checks, lists and revokes sessions.
#[derive(Clone)]
pub struct SessionService {
    sessions: Arc<dyn SessionStore>,
    identities: Arc<dyn IdentityStore>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    settings: SessionSettings,
    grants: Option<ClientGrants>,
    cache: SessionCache,
    background: Option<Arc<dyn Background>>,
}

impl SessionService {
    /// Builds the service over its ports.
    pub fn new(
        sessions: Arc<dyn SessionStore>,
        identities: Arc<dyn IdentityStore>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        settings: SessionSettings,
    ) -> Self {
        Self {
            sessions,
            identities,
            clock,
            rng,
            settings,
            grants: None,
            cache: SessionCache::disabled(),
            background: None,
        }
    }

    /// The same service, remembering authenticated tokens in `cache` (see [`cache`]) and
    /// refreshing entries that are due on `background`.
    pub fn with_cache(mut self, cache: SessionCache, background: Arc<dyn Background>) -> Self {
        self.cache = cache;
        self.background = Some(background);
        self
    }

    /// The same service, also accepting per-client grants (app passwords) where a session
    /// token is expected.
    pub fn with_client_grants(mut self, grants: ClientGrants) -> Self {
        self.grants = Some(grants);
        self
    }

    /// Starts a session for `identity` after it completed `methods`; returns the token once.
    pub async fn issue(
        &self,
        identity: &Identity,
        methods: Vec<AuthenticationMethod>,
        device: DeviceInfo,
    ) -> Result<(Session, BearerToken), CoreError> {
        let now = self.clock.now();
        let token = BearerToken::new(format!(
            "{SESSION_TOKEN_PREFIX}{}",
            alphanumeric(self.rng.as_ref(), 32)
        ));
        let session = Session {
            id: SessionId(uuid_v4(self.rng.as_ref())),
            identity_id: identity.id,
            active: true,
            aal: assurance_level(&methods),
            authenticated_at: methods.iter().map(|m| m.completed_at).max().unwrap_or(now),
            authentication_methods: methods,
            issued_at: now,
            expires_at: now + self.settings.lifespan,
            devices: vec![Device {
                id: DeviceId(uuid_v4(self.rng.as_ref())),
                ip_address: device.ip_address,
                user_agent: device.user_agent,
                location: None,
            }],
        };
        self.sessions
            .insert_session(&session, &token.digest())
            .await?;
        Ok((session, token))
    }

    /// Records a factor completed again (refresh) or additionally (step-up) on an existing
    /// session: the session keeps its id and token, gains the method, and starts a new
    /// lifespan from now.
    pub async fn reauthenticate(
        &self,
        current: &Session,
        method: AuthenticationMethod,
    ) -> Result<Session, CoreError> {
        let now = self.clock.now();
        let mut session = current.clone();
        session
            .authentication_methods
            .retain(|m| m.method != method.method || m.aal != method.aal);
        session.authentication_methods.push(method);
        session.aal = assurance_level(&session.authentication_methods);
        session.authenticated_at = now;
        session.expires_at = now + self.settings.lifespan;
        let updated = self
            .sessions
            .update_session_authentication(&session)
            .await?;
        self.cache.forget_identity(session.identity_id);
        if updated {
            Ok(session)
        } else {
            Err(CoreError::NoActiveSession)
        }
    }

    /// Adds a factor proved on the way (a second factor confirmed while enrolling it) to an
    /// active session; its authentication time and lifespan stay as they are.
    pub async fn add_factor(
        &self,
        current: &Session,
        method: AuthenticationMethod,
    ) -> Result<Session, CoreError> {
        let mut session = current.clone();
        session
            .authentication_methods
            .retain(|m| m.method != method.method || m.aal != method.aal);
        session.authentication_methods.push(method);
        session.aal = assurance_level(&session.authentication_methods);
        let updated = self
            .sessions
            .update_session_authentication(&session)
            .await?;
        self.cache.forget_identity(session.identity_id);
        if updated {
            Ok(session)
        } else {
            Err(CoreError::NoActiveSession)
        }
    }

    /// Gives an active session a new token (the old one stops working); used when a session
    /// created in a browser is handed to a native app.
    pub async fn reissue_token(
        &self,
        id: SessionId,
    ) -> Result<(Authenticated, BearerToken), CoreError> {
        let token = BearerToken::new(format!(
            "{SESSION_TOKEN_PREFIX}{}",
            alphanumeric(self.rng.as_ref(), 32)
        ));
        let replaced = self
            .sessions
            .replace_session_token(id, &token.digest())
            .await?;
        self.cache.forget_session(id);
        if !replaced {
            return Err(CoreError::NoActiveSession);
        }
        let caller = self.authenticate(&token).await?;
        Ok((caller, token))
    }

    /// The session a token stands for, if it is usable and its identity is active. A token
    /// without the session prefix is tried as a per-client grant when grants are accepted.
    pub async fn authenticate(&self, token: &BearerToken) -> Result<Authenticated, CoreError> {
        self.authenticate_shared(token)
            .await
            .map(|remembered| remembered.caller.clone())
    }

    /// As [`SessionService::authenticate`], without copying a remembered caller: the entry
    /// itself, with its rendering slot (see [`cache::Remembered`]). A caller that is not
    /// remembered (caching off, per-client grants) comes in an entry of its own.
    pub async fn authenticate_shared(
        &self,
        token: &BearerToken,
    ) -> Result<Arc<Remembered>, CoreError> {
        if !token.expose().starts_with(SESSION_TOKEN_PREFIX)
            && let Some(grants) = &self.grants
        {
            let grant = grants.authenticate(token).await?;
            let identity = self.active_identity(grant.identity_id).await?;
            let session = Session::of_grant(&grant, self.clock.now(), self.settings.lifespan);
            return Ok(Arc::new(Remembered::new(Authenticated {
                session,
                identity,
                client: Some(grant),
            })));
        }
        let digest = token.digest();
        let now = self.clock.now();
        if let Some(hit) = self.cache.get(&digest, now) {
            if !hit.caller.caller.session.is_usable(now) {
                return Err(CoreError::NoActiveSession);
            }
            if hit.refresh {
                self.refresh_in_background(digest, hit.caller.clone());
            }
            return Ok(hit.caller);
        }
        let ticket = self.cache.ticket();
        let caller = read_caller(
            self.sessions.as_ref(),
            self.identities.as_ref(),
            &digest,
            now,
        )
        .await?
        .ok_or(CoreError::NoActiveSession)?;
        let caller = Arc::new(Remembered::new(caller));
        self.cache.put(digest, caller.clone(), now, ticket);
        Ok(caller)
    }

    /// Reads the session of a cache entry that is due again, off the request that noticed it,
    /// and replaces the entry with what it finds (see [`cache`]).
    fn refresh_in_background(&self, digest: TokenDigest, previous: Arc<Remembered>) {
        let Some(background) = &self.background else {
            return;
        };
        let (sessions, identities) = (self.sessions.clone(), self.identities.clone());
        let (clock, cache) = (self.clock.clone(), self.cache.clone());
        background.spawn(Box::pin(async move {
            let ticket = cache.ticket();
            let now = clock.now();
            let read = reread_caller(
                sessions.as_ref(),
                identities.as_ref(),
                &digest,
                &previous,
                now,
            );
            match read.await {
                Ok(Some(caller)) => cache.put(digest, caller, now, ticket),
                Ok(None) => cache.forget_token(&digest),
                Err(error) => {
                    tracing::warn!(%error, "refreshing a remembered session failed");
                    cache.release_refresh(&digest);
                }
            }
        }));
    }

    async fn active_identity(&self, id: IdentityId) -> Result<Identity, CoreError> {
        self.identities
            .get_identity_without_configs(id)
            .await?
            .filter(Identity::is_active)
            .ok_or(CoreError::NoActiveSession)
    }

    /// The caller's other usable sessions, a page at a time.
    pub async fn list_others(
        &self,
        current: &Session,
        after: Option<SessionId>,
        page_size: u64,
    ) -> Result<SessionPage, CoreError> {
        let mut sessions = self
            .sessions
            .list_active_sessions(current.identity_id, self.clock.now(), after, page_size + 2)
            .await?;
        sessions.retain(|s| s.id != current.id);
        let (sessions, next) = crate::page::keyset_page(sessions, page_size, |s| s.id);
        Ok(SessionPage { sessions, next })
    }

    /// Ends the session a native app holds the token of (`DELETE /self-service/logout/api`).
    pub async fn logout_token_holder(&self, token: &BearerToken) -> Result<(), CoreError> {
        let session = self
            .sessions
            .find_session_by_token(&token.digest())
            .await?
            .filter(|s| s.is_usable(self.clock.now()))
            .ok_or(CoreError::NoActiveSession)?;
        let revoked = self
            .sessions
            .revoke_session(session.identity_id, session.id)
            .await?;
        self.cache.forget_identity(session.identity_id);
        if revoked {
            Ok(())
        } else {
            Err(CoreError::NoActiveSession)
        }
    }

    /// A fresh logout token for the caller's session; earlier ones stop working.
    pub async fn new_logout_token(&self, current: &Session) -> Result<BearerToken, CoreError> {
        let token = BearerToken::new(format!(
            "{LOGOUT_TOKEN_PREFIX}{}",
            alphanumeric(self.rng.as_ref(), 32)
        ));
        self.sessions
            .set_logout_token(current.id, &token.digest())
            .await?;
        Ok(token)
    }

    /// Ends the session a browser logout token belongs to.
    pub async fn logout_with_logout_token(
        &self,
        token: &BearerToken,
    ) -> Result<Session, CoreError> {
        let session = self
            .sessions
            .find_session_by_logout_token(&token.digest())
            .await?
            .filter(|s| s.is_usable(self.clock.now()))
            .ok_or(CoreError::NoActiveSession)?;
        let revoked = self
            .sessions
            .revoke_session(session.identity_id, session.id)
            .await?;
        self.cache.forget_identity(session.identity_id);
        if revoked {
            Ok(session)
        } else {
            Err(CoreError::NoActiveSession)
        }
    }

    /// Revokes every other session of the caller; returns how many.
    pub async fn revoke_others(&self, current: &Session) -> Result<u64, CoreError> {
        let revoked = self
            .sessions
            .revoke_sessions_except(current.identity_id, current.id)
            .await?;
        self.cache.forget_identity(current.identity_id);
        Ok(revoked)
    }

    /// Revokes one other session of the caller.
    pub async fn revoke_other(&self, current: &Session, id: SessionId) -> Result<(), CoreError> {
        if id == current.id {
            return Err(CoreError::CannotRevokeCurrentSession);
        }
        let revoked = self
            .sessions
            .revoke_session(current.identity_id, id)
            .await?;
        self.cache.forget_identity(current.identity_id);
        if revoked {
            Ok(())
        } else {
            Err(CoreError::SessionNotFound)
        }
    }
}

/// The caller a session token stands for, read from storage: `None` when the token is unknown,
/// its session is not usable at `now`, or its identity is not active.
async fn read_caller(
    sessions: &dyn SessionStore,
    identities: &dyn IdentityStore,
    digest: &TokenDigest,
    now: DateTime<Utc>,
) -> Result<Option<Authenticated>, CoreError> {
    let Some(session) = sessions
        .find_session_by_token(digest)
        .await?
        .filter(|s| s.is_usable(now))
    else {
        return Ok(None);
    };
    let identity = identities
        .get_identity_without_configs(session.identity_id)
        .await?
        .filter(Identity::is_active);
    Ok(identity.map(|identity| Authenticated {
        session,
        identity,
        client: None,
    }))
}

/// `previous` (a cache entry) as storage has it now: the same entry when nothing changed, so
/// its rendering is kept; the identity is read again only when its stamp moved (see
/// [`SessionRevision`]). One read in the common case instead of one per table.
async fn reread_caller(
    sessions: &dyn SessionStore,
    identities: &dyn IdentityStore,
    digest: &TokenDigest,
    previous: &Arc<Remembered>,
    now: DateTime<Utc>,
) -> Result<Option<Arc<Remembered>>, CoreError> {
    let Some(revision) = sessions.find_session_revision(digest).await? else {
        return Ok(None);
    };
    let known = &previous.caller;
    let mut session = revision.session;
    // A digest names one session for good; anything else is dropped and read afresh on use.
    if session.id != known.session.id || !session.is_usable(now) {
        return Ok(None);
    }
    session.devices.clone_from(&known.session.devices);
    if revision.identity_updated_at == known.identity.updated_at {
        if session == known.session {
            return Ok(Some(previous.clone()));
        }
        return Ok(Some(Arc::new(Remembered::new(Authenticated {
            session,
            identity: known.identity.clone(),
            client: None,
        }))));
    }
    let identity = identities
        .get_identity_without_configs(session.identity_id)
        .await?
        .filter(Identity::is_active);
    Ok(identity.map(|identity| {
        Arc::new(Remembered::new(Authenticated {
            session,
            identity,
            client: None,
        }))
    }))
}

#[cfg(test)]
mod tests;

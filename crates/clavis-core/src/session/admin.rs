//! What operators do to sessions through the admin API: list every session or one identity's
//! (optionally only active or only inactive ones), read one, extend one to a full lifespan from
//! now, deactivate one, and delete all of an identity's.

use super::cache::SessionCache;
use super::{Session, SessionSettings};
use crate::clock::Clock;
use crate::error::CoreError;
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clavis_types::{IdentityId, SessionId};
use std::sync::Arc;

/// Which sessions a listing returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only this identity's sessions.
    pub identity: Option<IdentityId>,
    /// `Some(true)`: stored as active and not expired at `now`; `Some(false)`: the others.
    pub active: Option<bool>,
}

/// The storage the admin operations need, beyond [`super::SessionStore`].
#[async_trait]
pub trait SessionDirectory: Send + Sync {
    /// Sessions matching `filter` (activity judged at `now`), ordered by id, after `after`,
    /// at most `limit`.
    async fn list_sessions(
        &self,
        filter: SessionFilter,
        now: DateTime<Utc>,
        after: Option<SessionId>,
        limit: u64,
    ) -> Result<Vec<Session>, StorageError>;
    /// One session, whatever its state.
    async fn find_session(&self, id: SessionId) -> Result<Option<Session>, StorageError>;
    /// Deactivates a session; false when there is no such session.
    async fn deactivate_session(&self, id: SessionId) -> Result<bool, StorageError>;
    /// Deletes every session of an identity; returns how many.
    async fn delete_identity_sessions(&self, identity: IdentityId) -> Result<u64, StorageError>;
    /// Sets an active session's expiry; false when the session is not active.
    async fn set_session_expiry(
        &self,
        id: SessionId,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}

/// A page of sessions and the id to continue after, when more follow.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionListPage {
    pub sessions: Vec<Session>,
    pub next: Option<SessionId>,
}

/// The admin API's session operations.
#[derive(Clone)]
pub struct SessionAdmin {
    directory: Arc<dyn SessionDirectory>,
    clock: Arc<dyn Clock>,
    settings: SessionSettings,
    cache: SessionCache,
}

impl SessionAdmin {
    /// The service over its port.
    pub fn new(
        directory: Arc<dyn SessionDirectory>,
        clock: Arc<dyn Clock>,
        settings: SessionSettings,
    ) -> Self {
        Self {
            directory,
            clock,
            settings,
            cache: SessionCache::disabled(),
        }
    }

    /// The same service, forgetting what `cache` remembers of the sessions it changes.
    pub fn with_cache(mut self, cache: SessionCache) -> Self {
        self.cache = cache;
        self
    }

    /// A page of sessions matching `filter`, ordered by id.
    pub async fn list(
        &self,
        filter: SessionFilter,
        after: Option<SessionId>,
        page_size: u64,
    ) -> Result<SessionListPage, CoreError> {
        let sessions = self
            .directory
            .list_sessions(filter, self.clock.now(), after, page_size + 1)
            .await?;
        let (sessions, next) = crate::page::keyset_page(sessions, page_size, |s| s.id);
        Ok(SessionListPage { sessions, next })
    }

    /// One session.
    pub async fn get(&self, id: SessionId) -> Result<Session, CoreError> {
        self.directory
            .find_session(id)
            .await?
            .ok_or(CoreError::SessionNotFound)
    }

    /// Extends an active session to a full lifespan from now (never shortens it).
    pub async fn extend(&self, id: SessionId) -> Result<Session, CoreError> {
        let mut session = self.get(id).await?;
        let now = self.clock.now();
        if !session.is_usable(now) {
            return Err(CoreError::SessionNotFound);
        }
        session.expires_at = session.expires_at.max(now + self.settings.lifespan);
        let extended = self
            .directory
            .set_session_expiry(id, session.expires_at)
            .await?;
        self.cache.forget_session(id);
        if extended {
            Ok(session)
        } else {
            Err(CoreError::SessionNotFound)
        }
    }

    /// Deactivates one session.
    pub async fn deactivate(&self, id: SessionId) -> Result<(), CoreError> {
        let deactivated = self.directory.deactivate_session(id).await?;
        self.cache.forget_session(id);
        if deactivated {
            Ok(())
        } else {
            Err(CoreError::SessionNotFound)
        }
    }

    /// Deletes all of an identity's sessions; returns how many.
    pub async fn delete_for_identity(&self, identity: IdentityId) -> Result<u64, CoreError> {
        let deleted = self.directory.delete_identity_sessions(identity).await?;
        self.cache.forget_identity(identity);
        Ok(deleted)
    }
}

//! A node-local memory of recently authenticated session tokens, so that checking a session
//! (`whoami`, which every app behind Clavis calls on every request) does not read the
//! database each time.
//!
//! An entry is keyed by the token's digest (never the token), holds the session and identity
//! as they were read, and is trusted for `ttl` after that read; expiry is still judged
//! against the clock on every hit. Whatever this node changes about an identity or its
//! sessions (logout, revocation, step-up, traits, credentials, deletion) forgets that
//! identity's entries at once; a change made on another replica is seen here after at most
//! `ttl`. The cache never holds more than `capacity` entries: when full, stale entries go
//! first, and if none is stale, all of them.

use super::Authenticated;
use crate::secret::TokenDigest;
use chrono::{DateTime, TimeDelta, Utc};
use clavis_types::{IdentityId, SessionId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// How long entries are trusted and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCacheSettings {
    pub ttl: TimeDelta,
    pub capacity: usize,
}

struct Entry {
    caller: Authenticated,
    read_at: DateTime<Utc>,
}

/// The cache, shared by every service that reads or changes sessions and identities. Clones
/// share the same entries; [`SessionCache::disabled`] keeps nothing.
#[derive(Clone, Default)]
pub struct SessionCache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    settings: SessionCacheSettings,
    entries: Mutex<HashMap<TokenDigest, Entry>>,
}

impl SessionCache {
    /// A cache with these settings; a zero `ttl` or `capacity` disables it.
    pub fn new(settings: SessionCacheSettings) -> Self {
        if settings.ttl <= TimeDelta::zero() || settings.capacity == 0 {
            return Self::disabled();
        }
        Self {
            inner: Some(Arc::new(Inner {
                settings,
                entries: Mutex::new(HashMap::new()),
            })),
        }
    }

    /// A cache that remembers nothing: every check reads the database.
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    fn entries(inner: &Inner) -> MutexGuard<'_, HashMap<TokenDigest, Entry>> {
        // A panic while holding the lock cannot leave an entry half-written; keep going.
        inner.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The caller remembered for `token`, if it was read less than `ttl` before `now`.
    pub fn get(&self, token: &TokenDigest, now: DateTime<Utc>) -> Option<Authenticated> {
        let inner = self.inner.as_ref()?;
        let entries = Self::entries(inner);
        let entry = entries.get(token)?;
        (now < entry.read_at + inner.settings.ttl && now >= entry.read_at)
            .then(|| entry.caller.clone())
    }

    /// Remembers `caller`, read from storage at `now`, under `token`.
    pub fn put(&self, token: TokenDigest, caller: &Authenticated, now: DateTime<Utc>) {
        let Some(inner) = &self.inner else {
            return;
        };
        let mut entries = Self::entries(inner);
        if entries.len() >= inner.settings.capacity && !entries.contains_key(&token) {
            let ttl = inner.settings.ttl;
            entries.retain(|_, e| now < e.read_at + ttl && now >= e.read_at);
            if entries.len() >= inner.settings.capacity {
                entries.clear();
            }
        }
        entries.insert(
            token,
            Entry {
                caller: caller.clone(),
                read_at: now,
            },
        );
    }

    /// Forgets every entry of `identity` (after anything about it or its sessions changed).
    pub fn forget_identity(&self, identity: IdentityId) {
        if let Some(inner) = &self.inner {
            Self::entries(inner).retain(|_, e| e.caller.identity.id != identity);
        }
    }

    /// Forgets the entries of one session (changed by id, its identity unknown).
    pub fn forget_session(&self, session: SessionId) {
        if let Some(inner) = &self.inner {
            Self::entries(inner).retain(|_, e| e.caller.session.id != session);
        }
    }

    /// Whether entries are kept at all.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.inner
            .as_ref()
            .map_or(0, |inner| Self::entries(inner).len())
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::session::Session;
    use clavis_types::identity::IdentityState;
    use uuid::Uuid;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn caller(identity: Uuid, session: Uuid) -> Authenticated {
        let mut who = Authenticated {
            session: Session {
                id: SessionId(session),
                identity_id: IdentityId(identity),
                active: true,
                aal: clavis_types::session::Aal::Aal1,
                authentication_methods: Vec::new(),
                issued_at: at(0),
                authenticated_at: at(0),
                expires_at: at(86_400),
                devices: Vec::new(),
            },
            identity: Identity {
                id: IdentityId(identity),
                schema_id: "default".to_owned(),
                state: IdentityState::Active,
                state_changed_at: None,
                traits: serde_json::json!({"email": "alice@example.org"}),
                metadata_public: None,
                metadata_admin: None,
                external_id: None,
                verifiable_addresses: Vec::new(),
                recovery_addresses: Vec::new(),
                credentials: Default::default(),
                created_at: at(0),
                updated_at: at(0),
            },
            client: None,
        };
        who.session.identity_id = IdentityId(identity);
        who
    }

    fn digest(n: u8) -> TokenDigest {
        crate::secret::BearerToken::new(format!("clv_st_{n}")).digest()
    }

    fn cache(capacity: usize) -> SessionCache {
        SessionCache::new(SessionCacheSettings {
            ttl: TimeDelta::seconds(5),
            capacity,
        })
    }

    #[test]
    fn entries_are_trusted_for_the_ttl_only() {
        let cache = cache(10);
        let who = caller(Uuid::from_u128(1), Uuid::from_u128(10));
        cache.put(digest(1), &who, at(0));
        assert_eq!(cache.get(&digest(1), at(4)), Some(who));
        assert_eq!(cache.get(&digest(1), at(5)), None);
        assert_eq!(cache.get(&digest(1), at(-1)), None, "a clock set back");
        assert_eq!(cache.get(&digest(2), at(1)), None);
    }

    #[test]
    fn forgetting_an_identity_or_a_session_drops_only_its_entries() {
        let cache = cache(10);
        let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        cache.put(digest(1), &caller(alice, Uuid::from_u128(10)), at(0));
        cache.put(digest(2), &caller(alice, Uuid::from_u128(11)), at(0));
        cache.put(digest(3), &caller(bob, Uuid::from_u128(12)), at(0));
        cache.forget_session(SessionId(Uuid::from_u128(11)));
        assert!(cache.get(&digest(2), at(1)).is_none());
        assert!(cache.get(&digest(1), at(1)).is_some());
        cache.forget_identity(IdentityId(alice));
        assert!(cache.get(&digest(1), at(1)).is_none());
        assert!(cache.get(&digest(3), at(1)).is_some());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_cache_drops_stale_entries_first_then_everything() {
        let cache = cache(2);
        let who = caller(Uuid::from_u128(1), Uuid::from_u128(10));
        cache.put(digest(1), &who, at(0));
        cache.put(digest(2), &who, at(3));
        cache.put(digest(3), &who, at(6));
        assert!(cache.get(&digest(1), at(6)).is_none(), "stale, dropped");
        assert!(cache.get(&digest(2), at(6)).is_some());
        assert!(cache.get(&digest(3), at(6)).is_some());
        cache.put(digest(4), &who, at(7));
        assert_eq!(
            cache.len(),
            1,
            "nothing was stale: all dropped, the new one kept"
        );
        assert!(cache.get(&digest(4), at(7)).is_some());
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        for cache in [
            SessionCache::disabled(),
            cache(0),
            SessionCache::new(SessionCacheSettings {
                ttl: TimeDelta::zero(),
                capacity: 10,
            }),
        ] {
            assert!(!cache.is_enabled());
            cache.put(
                digest(1),
                &caller(Uuid::from_u128(1), Uuid::from_u128(2)),
                at(0),
            );
            assert!(cache.get(&digest(1), at(0)).is_none());
            assert!(cache.is_empty());
        }
    }
}

//! A node-local memory of recently authenticated session tokens, so that checking a session
//! (`whoami`, which every app behind Clavis calls on every request) does not read the
//! database each time.
//!
//! An entry is keyed by the token's digest (never the token), holds the session and identity
//! as they were read, and is trusted for between half the `ttl` and all of it after that read
//! (spread by the digest, so entries read together do not expire together); the session's own
//! expiry is still judged against the clock on every hit. Whatever this node changes about an identity or its
//! sessions (logout, revocation, step-up, traits, credentials, deletion) forgets that
//! identity's entries at once; a change made on another replica is seen here after at most
//! `ttl`. The cache never holds more than `capacity` entries: when full, stale entries go
//! first, and if none is stale, all of them.
//!
//! A read from storage that began before something was forgotten is not remembered when it
//! ends ([`ReadTicket`]): otherwise a check racing a logout could put the session back for a
//! whole `ttl` after the logout.
//!
//! Entries are refreshed ahead of time: in the last quarter of its trusted time an entry is
//! still served, and the first check that finds it there is told to read the session again in
//! the background ([`Hit::refresh`]); the fresh read replaces the entry, or removes it when
//! the session is no longer usable. A token in steady use is thus re-read before its entry
//! expires and its checks never wait for the database; staleness stays bounded by `ttl`, as
//! no entry is served after its trusted time.

use super::Authenticated;
use crate::secret::TokenDigest;
use chrono::{DateTime, TimeDelta, Utc};
use clavis_types::{IdentityId, SessionId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// How long entries are trusted and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCacheSettings {
    pub ttl: TimeDelta,
    pub capacity: usize,
}

/// A caller as the cache hands it out, shared rather than copied, with room for one
/// rendering of it made by the transport (the serialised `whoami` answer). The rendering is
/// forgotten with the entry, so it is never older than the caller it was made from.
#[derive(Debug)]
pub struct Remembered {
    pub caller: Authenticated,
    rendering: OnceLock<Arc<[u8]>>,
}

impl Remembered {
    /// A caller with no rendering yet.
    pub fn new(caller: Authenticated) -> Self {
        Self {
            caller,
            rendering: OnceLock::new(),
        }
    }

    /// The rendering made by the first caller of this method; `render` runs at most once per
    /// entry, unless it fails.
    pub fn rendering<E>(
        &self,
        render: impl FnOnce(&Authenticated) -> Result<Vec<u8>, E>,
    ) -> Result<Arc<[u8]>, E> {
        if let Some(done) = self.rendering.get() {
            return Ok(done.clone());
        }
        let made: Arc<[u8]> = render(&self.caller)?.into();
        Ok(self.rendering.get_or_init(|| made).clone())
    }
}

struct Entry {
    caller: Arc<Remembered>,
    read_at: DateTime<Utc>,
    trusted_until: DateTime<Utc>,
    /// From when a check asks for a fresh read (the last quarter of the trusted time).
    refresh_from: DateTime<Utc>,
    /// Whether a check was already told to refresh this entry.
    refreshing: bool,
}

/// What [`SessionCache::get`] found.
#[derive(Debug)]
pub struct Hit {
    pub caller: Arc<Remembered>,
    /// Set for the one check that first finds the entry due for a refresh: it should read the
    /// session again in the background and [`SessionCache::put`] the result (or
    /// [`SessionCache::forget_token`] when the session is no longer usable).
    pub refresh: bool,
}

impl Entry {
    fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now < self.trusted_until && now >= self.read_at
    }
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
    /// Counts forgets; changed and compared only while `entries` is locked.
    forgets: AtomicU64,
}

/// Taken before a read from storage whose result goes into the cache: the result is only
/// remembered if nothing was forgotten since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTicket(u64);

/// How long the entry for `token` is trusted: between half the `ttl` and all of it, spread by
/// the token's digest. Tokens first checked together (a burst of logins, a restart) then expire
/// at different moments, so their re-reads do not all hit the database in the same
/// millisecond; the `ttl` stays the bound on staleness.
fn trust_for(token: &TokenDigest, ttl: TimeDelta) -> TimeDelta {
    let spread = token
        .as_str()
        .get(..4)
        .and_then(|hex| u16::from_str_radix(hex, 16).ok())
        .unwrap_or(u16::MAX);
    let half = ttl / 2;
    half + (ttl - half) * i32::from(spread) / i32::from(u16::MAX)
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
                forgets: AtomicU64::new(0),
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

    /// The caller remembered for `token`, if it was read recently enough before `now`.
    pub fn get(&self, token: &TokenDigest, now: DateTime<Utc>) -> Option<Hit> {
        let inner = self.inner.as_ref()?;
        let mut entries = Self::entries(inner);
        let entry = entries.get_mut(token).filter(|e| e.is_fresh(now))?;
        let refresh = !entry.refreshing && now >= entry.refresh_from;
        entry.refreshing |= refresh;
        Some(Hit {
            caller: entry.caller.clone(),
            refresh,
        })
    }

    /// Lets a later check ask again for a refresh of `token`'s entry (the last one failed).
    pub fn release_refresh(&self, token: &TokenDigest) {
        if let Some(inner) = &self.inner
            && let Some(entry) = Self::entries(inner).get_mut(token)
        {
            entry.refreshing = false;
        }
    }

    /// Forgets the entry of `token` (a refresh found its session no longer usable).
    pub fn forget_token(&self, token: &TokenDigest) {
        if let Some(inner) = &self.inner {
            Self::entries(inner).remove(token);
        }
    }

    /// The ticket for a read from storage that begins now.
    pub fn ticket(&self) -> ReadTicket {
        ReadTicket(
            self.inner
                .as_ref()
                .map_or(0, |inner| inner.forgets.load(Ordering::SeqCst)),
        )
    }

    /// Remembers `caller`, read from storage at `now`, under `token`, unless something was
    /// forgotten after `ticket` was taken (the read may predate that change).
    pub fn put(
        &self,
        token: TokenDigest,
        caller: Arc<Remembered>,
        now: DateTime<Utc>,
        ticket: ReadTicket,
    ) {
        let Some(inner) = &self.inner else {
            return;
        };
        let trust = trust_for(&token, inner.settings.ttl);
        let trusted_until = now + trust;
        let refresh_from = now + trust * 3 / 4;
        let mut entries = Self::entries(inner);
        if inner.forgets.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        if entries.len() >= inner.settings.capacity && !entries.contains_key(&token) {
            entries.retain(|_, e| e.is_fresh(now));
            if entries.len() >= inner.settings.capacity {
                entries.clear();
            }
        }
        entries.insert(
            token,
            Entry {
                caller,
                read_at: now,
                trusted_until,
                refresh_from,
                refreshing: false,
            },
        );
    }

    /// Forgets every entry of `identity` (after anything about it or its sessions changed).
    pub fn forget_identity(&self, identity: IdentityId) {
        if let Some(inner) = &self.inner {
            let mut entries = Self::entries(inner);
            inner.forgets.fetch_add(1, Ordering::SeqCst);
            entries.retain(|_, e| e.caller.caller.identity.id != identity);
        }
    }

    /// Forgets the entries of one session (changed by id, its identity unknown).
    pub fn forget_session(&self, session: SessionId) {
        if let Some(inner) = &self.inner {
            let mut entries = Self::entries(inner);
            inner.forgets.fetch_add(1, Ordering::SeqCst);
            entries.retain(|_, e| e.caller.caller.session.id != session);
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

    fn remembered(identity: Uuid, session: Uuid) -> Arc<Remembered> {
        Arc::new(Remembered::new(caller(identity, session)))
    }

    fn who_is(cache: &SessionCache, n: u8, now: DateTime<Utc>) -> Option<Authenticated> {
        cache
            .get(&digest(n), now)
            .map(|hit| hit.caller.caller.clone())
    }

    #[test]
    fn entries_are_trusted_for_half_the_ttl_at_least_and_the_ttl_at_most() {
        let cache = cache(10);
        let who = caller(Uuid::from_u128(1), Uuid::from_u128(10));
        cache.put(
            digest(1),
            Arc::new(Remembered::new(who.clone())),
            at(0),
            cache.ticket(),
        );
        assert_eq!(who_is(&cache, 1, at(2)), Some(who));
        assert_eq!(who_is(&cache, 1, at(5)), None);
        assert_eq!(who_is(&cache, 1, at(-1)), None, "a clock set back");
        assert_eq!(who_is(&cache, 2, at(1)), None);
    }

    #[test]
    fn entries_read_together_expire_spread_over_the_second_half_of_the_ttl() {
        let ttl = TimeDelta::seconds(5);
        let trusts: Vec<TimeDelta> = (0..=255).map(|n| trust_for(&digest(n), ttl)).collect();
        assert!(trusts.iter().all(|t| *t >= ttl / 2 && *t <= ttl));
        let early = trusts.iter().filter(|t| **t < ttl * 3 / 4).count();
        assert!(
            (64..=192).contains(&early),
            "about half expire in the third quarter: {early} of 256"
        );
        assert_eq!(trust_for(&digest(7), ttl), trust_for(&digest(7), ttl));
    }

    #[test]
    fn an_entry_in_its_last_quarter_is_served_and_handed_out_for_refresh_once() {
        let cache = cache(10);
        let trust = trust_for(&digest(1), TimeDelta::seconds(5));
        let start = at(0);
        cache.put(
            digest(1),
            remembered(Uuid::from_u128(1), Uuid::from_u128(10)),
            start,
            cache.ticket(),
        );
        let refresh = |now| cache.get(&digest(1), now).map(|hit| hit.refresh);
        assert_eq!(refresh(start + trust / 2), Some(false), "not due yet");
        let due = start + trust * 3 / 4;
        assert_eq!(
            refresh(due),
            Some(true),
            "the first check in the last quarter refreshes"
        );
        assert_eq!(refresh(due), Some(false), "one refresh at a time");
        cache.release_refresh(&digest(1));
        assert_eq!(
            refresh(due),
            Some(true),
            "a failed refresh can be asked for again"
        );
        assert_eq!(
            refresh(start + trust),
            None,
            "never served after its trusted time"
        );

        cache.put(
            digest(1),
            remembered(Uuid::from_u128(1), Uuid::from_u128(10)),
            due,
            cache.ticket(),
        );
        assert_eq!(
            refresh(start + trust),
            Some(false),
            "a refreshed entry starts afresh"
        );
        cache.forget_token(&digest(1));
        assert_eq!(
            refresh(start + trust),
            None,
            "a refresh that finds no session forgets it"
        );
    }

    #[test]
    fn a_rendering_is_made_once_per_entry_and_forgotten_with_it() {
        let cache = cache(10);
        let alice = Uuid::from_u128(1);
        cache.put(
            digest(1),
            remembered(alice, Uuid::from_u128(10)),
            at(0),
            cache.ticket(),
        );
        let renders = std::cell::Cell::new(0);
        let render = |who: &Authenticated| {
            renders.set(renders.get() + 1);
            Ok::<_, ()>(who.identity.traits.to_string().into_bytes())
        };
        for _ in 0..3 {
            let hit = cache.get(&digest(1), at(1)).unwrap();
            let bytes = hit.caller.rendering(render).unwrap();
            assert_eq!(&*bytes, br#"{"email":"alice@example.org"}"#);
        }
        assert_eq!(renders.get(), 1);
        assert!(
            cache
                .get(&digest(1), at(1))
                .unwrap()
                .caller
                .rendering(|_| Err::<Vec<u8>, _>("failed"))
                .is_ok(),
            "a made rendering is not made again"
        );
        cache.forget_identity(IdentityId(alice));
        cache.put(
            digest(1),
            remembered(alice, Uuid::from_u128(10)),
            at(2),
            cache.ticket(),
        );
        cache
            .get(&digest(1), at(2))
            .unwrap()
            .caller
            .rendering(render)
            .unwrap();
        assert_eq!(renders.get(), 2, "a new entry renders afresh");
    }

    #[test]
    fn forgetting_an_identity_or_a_session_drops_only_its_entries() {
        let cache = cache(10);
        let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        cache.put(
            digest(1),
            remembered(alice, Uuid::from_u128(10)),
            at(0),
            cache.ticket(),
        );
        cache.put(
            digest(2),
            remembered(alice, Uuid::from_u128(11)),
            at(0),
            cache.ticket(),
        );
        cache.put(
            digest(3),
            remembered(bob, Uuid::from_u128(12)),
            at(0),
            cache.ticket(),
        );
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
        let who = remembered(Uuid::from_u128(1), Uuid::from_u128(10));
        cache.put(digest(1), who.clone(), at(0), cache.ticket());
        cache.put(digest(2), who.clone(), at(4), cache.ticket());
        cache.put(digest(3), who.clone(), at(6), cache.ticket());
        assert!(cache.get(&digest(1), at(6)).is_none(), "stale, dropped");
        assert!(cache.get(&digest(2), at(6)).is_some());
        assert!(cache.get(&digest(3), at(6)).is_some());
        cache.put(digest(4), who, at(6), cache.ticket());
        assert_eq!(
            cache.len(),
            1,
            "nothing was stale: all dropped, the new one kept"
        );
        assert!(cache.get(&digest(4), at(6)).is_some());
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
                remembered(Uuid::from_u128(1), Uuid::from_u128(2)),
                at(0),
                cache.ticket(),
            );
            assert!(cache.get(&digest(1), at(0)).is_none());
            assert!(cache.is_empty());
        }
    }

    #[test]
    fn a_read_that_began_before_a_forget_is_not_remembered() {
        let cache = cache(10);
        let alice = Uuid::from_u128(1);
        let before_logout = cache.ticket();
        cache.forget_identity(IdentityId(alice));
        cache.put(
            digest(1),
            remembered(alice, Uuid::from_u128(10)),
            at(0),
            before_logout,
        );
        assert!(
            cache.get(&digest(1), at(1)).is_none(),
            "read before the logout"
        );
        let before_revoke = cache.ticket();
        cache.forget_session(SessionId(Uuid::from_u128(99)));
        cache.put(
            digest(1),
            remembered(alice, Uuid::from_u128(10)),
            at(0),
            before_revoke,
        );
        assert!(
            cache.get(&digest(1), at(1)).is_none(),
            "read before a revocation"
        );
        let after = cache.ticket();
        cache.put(
            digest(1),
            remembered(alice, Uuid::from_u128(10)),
            at(0),
            after,
        );
        assert!(cache.get(&digest(1), at(1)).is_some(), "read after both");
    }
}

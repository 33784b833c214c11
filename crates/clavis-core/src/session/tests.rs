use super::*;
use crate::identity::{IdentityChange, IdentityService, NewIdentity, SchemaRegistry};
use crate::random::OsRng;
use clavis_types::identity::IdentityState;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
struct FakeClock(Mutex<Option<DateTime<Utc>>>);

impl FakeClock {
    fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().unwrap();
        *now = Some(now.unwrap_or_else(start) + by);
    }
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().unwrap().unwrap_or_else(start)
    }
}

#[derive(Default)]
struct Memory {
    identities: Mutex<HashMap<IdentityId, Identity>>,
    sessions: Mutex<Vec<(Session, TokenDigest)>>,
    logout: Mutex<HashMap<TokenDigest, SessionId>>,
    /// Runs once, inside the next session read, after the row was read: what another request
    /// does meanwhile.
    during_read: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    /// How many times a whole identity was read.
    identity_reads: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl IdentityStore for Memory {
    async fn insert_identity(&self, identity: &Identity) -> Result<(), StorageError> {
        self.identities
            .lock()
            .unwrap()
            .insert(identity.id, identity.clone());
        Ok(())
    }
    async fn get_identity(&self, id: IdentityId) -> Result<Option<Identity>, StorageError> {
        self.identity_reads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(self.identities.lock().unwrap().get(&id).cloned())
    }
    async fn update_identity(&self, identity: &Identity) -> Result<(), StorageError> {
        self.insert_identity(identity).await
    }
}

#[async_trait]
impl SessionStore for Memory {
    async fn insert_session(
        &self,
        session: &Session,
        token: &TokenDigest,
    ) -> Result<(), StorageError> {
        self.sessions
            .lock()
            .unwrap()
            .push((session.clone(), token.clone()));
        Ok(())
    }
    async fn find_session_by_token(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<Session>, StorageError> {
        let found = self
            .sessions
            .lock()
            .unwrap()
            .iter()
            .find(|(_, t)| t == token)
            .map(|(s, _)| s.clone());
        let meanwhile = self.during_read.lock().unwrap().take();
        if let Some(meanwhile) = meanwhile {
            meanwhile();
        }
        Ok(found)
    }
    async fn find_session_revision(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<SessionRevision>, StorageError> {
        let Some(mut session) = self.find_session_by_token(token).await? else {
            return Ok(None);
        };
        session.devices.clear();
        let identities = self.identities.lock().unwrap();
        Ok(identities
            .get(&session.identity_id)
            .map(|identity| SessionRevision {
                identity_updated_at: identity.updated_at,
                session,
            }))
    }
    async fn list_active_sessions(
        &self,
        identity: IdentityId,
        now: DateTime<Utc>,
        after: Option<SessionId>,
        limit: u64,
    ) -> Result<Vec<Session>, StorageError> {
        let mut out: Vec<Session> = self
            .sessions
            .lock()
            .unwrap()
            .iter()
            .map(|(s, _)| s.clone())
            .filter(|s| {
                s.identity_id == identity && s.is_usable(now) && after.is_none_or(|a| s.id > a)
            })
            .collect();
        out.sort_by_key(|s| s.id);
        out.truncate(limit as usize);
        Ok(out)
    }
    async fn revoke_session(
        &self,
        identity: IdentityId,
        id: SessionId,
    ) -> Result<bool, StorageError> {
        let mut sessions = self.sessions.lock().unwrap();
        let found = sessions
            .iter_mut()
            .find(|(s, _)| s.id == id && s.identity_id == identity && s.active);
        Ok(found.map(|(s, _)| s.active = false).is_some())
    }
    async fn set_logout_token(
        &self,
        id: SessionId,
        token: &TokenDigest,
    ) -> Result<(), StorageError> {
        self.logout.lock().unwrap().insert(token.clone(), id);
        Ok(())
    }
    async fn find_session_by_logout_token(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<Session>, StorageError> {
        let id = self.logout.lock().unwrap().get(token).copied();
        Ok(id.and_then(|id| {
            self.sessions
                .lock()
                .unwrap()
                .iter()
                .find(|(s, _)| s.id == id)
                .map(|(s, _)| s.clone())
        }))
    }
    async fn update_session_authentication(&self, session: &Session) -> Result<bool, StorageError> {
        let mut sessions = self.sessions.lock().unwrap();
        match sessions
            .iter_mut()
            .find(|(s, _)| s.id == session.id && s.active)
        {
            Some((stored, _)) => {
                *stored = session.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn replace_session_token(
        &self,
        id: SessionId,
        token: &TokenDigest,
    ) -> Result<bool, StorageError> {
        let mut sessions = self.sessions.lock().unwrap();
        match sessions.iter_mut().find(|(s, _)| s.id == id && s.active) {
            Some((_, digest)) => {
                *digest = token.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn revoke_sessions_except(
        &self,
        identity: IdentityId,
        keep: SessionId,
    ) -> Result<u64, StorageError> {
        let mut count = 0;
        for (s, _) in self.sessions.lock().unwrap().iter_mut() {
            if s.identity_id == identity && s.id != keep && s.active {
                s.active = false;
                count += 1;
            }
        }
        Ok(count)
    }
}

struct Fixture {
    clock: Arc<FakeClock>,
    memory: Arc<Memory>,
    identities: IdentityService,
    sessions: SessionService,
}

fn fixture() -> Fixture {
    let clock = Arc::new(FakeClock::default());
    let memory = Arc::new(Memory::default());
    let identities = IdentityService::new(
        Arc::new(SchemaRegistry::builtin().unwrap()),
        memory.clone(),
        clock.clone(),
        Arc::new(OsRng),
    );
    let sessions = SessionService::new(
        memory.clone(),
        memory.clone(),
        clock.clone(),
        Arc::new(OsRng),
        SessionSettings {
            lifespan: TimeDelta::hours(24),
        },
    );
    Fixture {
        clock,
        memory,
        identities,
        sessions,
    }
}

/// Alice with a fresh password session: her identity, the session and its token.
async fn alice_signed_in(f: &Fixture) -> (Identity, Session, BearerToken) {
    let identity = alice(f).await;
    let (session, token) = f
        .sessions
        .issue(
            &identity,
            password_at(f.clock.now()),
            DeviceInfo {
                ip_address: Some("192.0.2.7".into()),
                user_agent: Some("test".into()),
            },
        )
        .await
        .unwrap();
    (identity, session, token)
}

async fn alice(f: &Fixture) -> Identity {
    f.identities
        .create(NewIdentity {
            schema_id: None,
            traits: json!({"email": "alice@example.org"}),
            state: IdentityState::Active,
            metadata_public: None,
            metadata_admin: None,
            credentials: Vec::new(),
            external_id: None,
            address_claims: Vec::new(),
        })
        .await
        .unwrap()
}

fn password_at(at: DateTime<Utc>) -> Vec<AuthenticationMethod> {
    vec![AuthenticationMethod {
        method: "password".into(),
        aal: Aal::Aal1,
        completed_at: at,
        provider: None,
    }]
}

#[tokio::test]
async fn issue_stores_only_the_digest_and_authenticates_the_token() {
    let f = fixture();
    let (identity, session, token) = alice_signed_in(&f).await;
    assert!(token.expose().starts_with(SESSION_TOKEN_PREFIX));
    assert_eq!(token.expose().len(), SESSION_TOKEN_PREFIX.len() + 32);
    let stored = f.memory.sessions.lock().unwrap()[0].1.clone();
    assert_eq!(stored, token.digest());
    assert_ne!(stored.as_str(), token.expose());
    assert_eq!(session.aal, Aal::Aal1);
    assert_eq!(session.expires_at, f.clock.now() + TimeDelta::hours(24));
    let who = f.sessions.authenticate(&token).await.unwrap();
    assert_eq!(who.session.id, session.id);
    assert_eq!(who.identity.id, identity.id);
}

#[tokio::test]
async fn expired_session_is_refused() {
    let f = fixture();
    let (_, _, token) = alice_signed_in(&f).await;
    f.clock
        .advance(TimeDelta::hours(24) - TimeDelta::seconds(1));
    assert!(f.sessions.authenticate(&token).await.is_ok());
    f.clock.advance(TimeDelta::seconds(1));
    assert!(matches!(
        f.sessions.authenticate(&token).await,
        Err(CoreError::NoActiveSession)
    ));
}

#[tokio::test]
async fn unknown_token_and_inactive_identity_are_refused() {
    let f = fixture();
    let (identity, _, token) = alice_signed_in(&f).await;
    assert!(matches!(
        f.sessions
            .authenticate(&BearerToken::new("clv_st_unknown"))
            .await,
        Err(CoreError::NoActiveSession)
    ));
    f.memory
        .identities
        .lock()
        .unwrap()
        .get_mut(&identity.id)
        .unwrap()
        .state = IdentityState::Inactive;
    assert!(matches!(
        f.sessions.authenticate(&token).await,
        Err(CoreError::NoActiveSession)
    ));
}

#[tokio::test]
async fn revoke_others_keeps_current_and_counts() {
    let f = fixture();
    let identity = alice(&f).await;
    let now = f.clock.now();
    let (current, current_token) = f
        .sessions
        .issue(&identity, password_at(now), DeviceInfo::default())
        .await
        .unwrap();
    let (_, other_token) = f
        .sessions
        .issue(&identity, password_at(now), DeviceInfo::default())
        .await
        .unwrap();
    f.sessions
        .issue(&identity, password_at(now), DeviceInfo::default())
        .await
        .unwrap();
    let page = f.sessions.list_others(&current, None, 250).await.unwrap();
    assert_eq!(page.sessions.len(), 2);
    assert!(page.sessions.iter().all(|s| s.id != current.id));
    assert_eq!(f.sessions.revoke_others(&current).await.unwrap(), 2);
    assert!(f.sessions.authenticate(&current_token).await.is_ok());
    assert!(f.sessions.authenticate(&other_token).await.is_err());
    assert_eq!(f.sessions.revoke_others(&current).await.unwrap(), 0);
}

#[tokio::test]
async fn revoke_other_refuses_current_and_unknown() {
    let f = fixture();
    let identity = alice(&f).await;
    let (current, _) = f
        .sessions
        .issue(&identity, password_at(f.clock.now()), DeviceInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.sessions.revoke_other(&current, current.id).await,
        Err(CoreError::CannotRevokeCurrentSession)
    ));
    assert!(matches!(
        f.sessions
            .revoke_other(&current, SessionId(uuid::Uuid::nil()))
            .await,
        Err(CoreError::SessionNotFound)
    ));
}

#[tokio::test]
async fn list_others_pages_with_next_token() {
    let f = fixture();
    let identity = alice(&f).await;
    let now = f.clock.now();
    let (current, _) = f
        .sessions
        .issue(&identity, password_at(now), DeviceInfo::default())
        .await
        .unwrap();
    for _ in 0..5 {
        f.sessions
            .issue(&identity, password_at(now), DeviceInfo::default())
            .await
            .unwrap();
    }
    let first = f.sessions.list_others(&current, None, 2).await.unwrap();
    assert_eq!(first.sessions.len(), 2);
    let second = f
        .sessions
        .list_others(&current, first.next, 2)
        .await
        .unwrap();
    let third = f
        .sessions
        .list_others(&current, second.next, 2)
        .await
        .unwrap();
    assert_eq!(third.sessions.len(), 1);
    assert!(third.next.is_none());
    let mut seen: Vec<SessionId> = [first, second, third]
        .into_iter()
        .flat_map(|p| p.sessions)
        .map(|s| s.id)
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
}

#[test]
fn assurance_level_needs_both_factors_for_aal2() {
    let at = start();
    let m = |aal| AuthenticationMethod {
        method: "x".into(),
        aal,
        completed_at: at,
        provider: None,
    };
    assert_eq!(assurance_level(&[]), Aal::Aal0);
    assert_eq!(assurance_level(&[m(Aal::Aal1)]), Aal::Aal1);
    assert_eq!(assurance_level(&[m(Aal::Aal2)]), Aal::Aal0);
    assert_eq!(assurance_level(&[m(Aal::Aal1), m(Aal::Aal2)]), Aal::Aal2);
}

/// Background work that waits until a test runs it.
#[derive(Default)]
struct Queued(Mutex<Vec<crate::background::Task>>);

impl Background for Queued {
    fn spawn(&self, task: crate::background::Task) {
        self.0.lock().unwrap().push(task);
    }
}

impl Queued {
    fn pending(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    async fn run(&self) {
        let tasks = std::mem::take(&mut *self.0.lock().unwrap());
        for task in tasks {
            task.await;
        }
    }
}

fn cached() -> (Fixture, cache::SessionCache) {
    let (f, cache, _) = cached_with_background();
    (f, cache)
}

fn cached_with_background() -> (Fixture, cache::SessionCache, Arc<Queued>) {
    let mut f = fixture();
    let cache = cache::SessionCache::new(cache::SessionCacheSettings {
        ttl: TimeDelta::seconds(5),
        capacity: 100,
    });
    let background = Arc::new(Queued::default());
    f.sessions = f
        .sessions
        .clone()
        .with_cache(cache.clone(), background.clone());
    f.identities = f.identities.clone().with_session_cache(cache.clone());
    (f, cache, background)
}

/// Checks `token` every 100 ms (each check served from the cache) until one asks for a
/// refresh; returns how long that took.
async fn check_until_refresh_is_asked(
    f: &Fixture,
    queued: &Queued,
    token: &BearerToken,
) -> TimeDelta {
    let step = TimeDelta::milliseconds(100);
    let mut waited = TimeDelta::zero();
    while queued.pending() == 0 {
        assert!(waited < TimeDelta::seconds(5), "no refresh within the ttl");
        f.clock.advance(step);
        waited += step;
        f.sessions.authenticate(token).await.unwrap();
    }
    waited
}

/// Another node: the same storage, no cache of this node's.
fn other_node(f: &Fixture) -> IdentityService {
    IdentityService::new(
        Arc::new(SchemaRegistry::builtin().unwrap()),
        f.memory.clone(),
        f.clock.clone(),
        Arc::new(OsRng),
    )
}

async fn update_elsewhere(f: &Fixture, identity: IdentityId, change: IdentityChange) {
    let current = f.memory.identities.lock().unwrap()[&identity].clone();
    other_node(f).update(&current, change).await.unwrap();
}

async fn deactivate_behind_the_nodes_back(f: &Fixture, identity: IdentityId) {
    let change = IdentityChange {
        state: Some(IdentityState::Inactive),
        ..IdentityChange::default()
    };
    update_elsewhere(f, identity, change).await;
}

fn identity_reads(f: &Fixture) -> usize {
    f.memory
        .identity_reads
        .load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn a_refresh_ahead_sees_a_change_made_elsewhere_before_the_entry_expires() {
    let (f, _, queued) = cached_with_background();
    let (identity, _, token) = alice_signed_in(&f).await;
    f.sessions.authenticate(&token).await.unwrap();
    check_until_refresh_is_asked(&f, &queued, &token).await;
    deactivate_behind_the_nodes_back(&f, identity.id).await;
    assert!(
        f.sessions.authenticate(&token).await.is_ok(),
        "served from the entry while its refresh runs"
    );
    assert_eq!(queued.pending(), 1, "one refresh per entry at a time");
    queued.run().await;
    assert!(
        matches!(
            f.sessions.authenticate(&token).await,
            Err(CoreError::NoActiveSession)
        ),
        "the refresh found the identity inactive and dropped the entry"
    );
}

#[tokio::test]
async fn a_refreshed_entry_is_trusted_anew_so_a_token_in_use_never_waits_for_storage() {
    let (f, _, queued) = cached_with_background();
    let (identity, _, token) = alice_signed_in(&f).await;
    f.sessions.authenticate(&token).await.unwrap();
    let due = check_until_refresh_is_asked(&f, &queued, &token).await;
    queued.run().await;
    // Storage now says "inactive", so any check that read it would fail. The first entry was
    // trusted for at most 4/3 of `due`; past that, only the refreshed entry can answer.
    deactivate_behind_the_nodes_back(&f, identity.id).await;
    f.clock.advance(due / 3 + TimeDelta::milliseconds(50));
    assert!(f.sessions.authenticate(&token).await.is_ok());
}

#[tokio::test]
async fn a_refresh_that_finds_nothing_changed_keeps_the_entry_and_reads_no_identity() {
    let (f, _, queued) = cached_with_background();
    let (_, session, token) = alice_signed_in(&f).await;
    let first = f.sessions.authenticate_shared(&token).await.unwrap();
    let reads = identity_reads(&f);
    check_until_refresh_is_asked(&f, &queued, &token).await;
    queued.run().await;
    assert_eq!(identity_reads(&f), reads, "the identity's stamp sufficed");
    let after = f.sessions.authenticate_shared(&token).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &after),
        "the same entry, rendering included, is trusted anew"
    );
    assert_eq!(after.caller.session.devices.len(), 1);
    assert_eq!(after.caller.session.devices, session.devices);
}

#[tokio::test]
async fn a_refresh_reads_the_identity_again_when_another_node_changed_it() {
    let (f, _, queued) = cached_with_background();
    let (identity, _, token) = alice_signed_in(&f).await;
    f.sessions.authenticate(&token).await.unwrap();
    check_until_refresh_is_asked(&f, &queued, &token).await;
    let change = IdentityChange {
        traits: Some(json!({"email": "alice@example.com"})),
        ..IdentityChange::default()
    };
    update_elsewhere(&f, identity.id, change).await;
    let reads = identity_reads(&f);
    queued.run().await;
    assert_eq!(identity_reads(&f), reads + 1);
    let caller = f.sessions.authenticate(&token).await.unwrap();
    assert_eq!(caller.identity.traits["email"], "alice@example.com");
}

#[tokio::test]
async fn a_refresh_sees_a_session_changed_elsewhere_and_keeps_its_devices() {
    let (f, _, queued) = cached_with_background();
    let (identity, session, token) = alice_signed_in(&f).await;
    f.sessions.authenticate(&token).await.unwrap();
    check_until_refresh_is_asked(&f, &queued, &token).await;
    let mut extended = session.clone();
    extended.expires_at += TimeDelta::hours(1);
    f.memory
        .update_session_authentication(&extended)
        .await
        .unwrap();
    queued.run().await;
    let caller = f.sessions.authenticate(&token).await.unwrap();
    assert_eq!(caller.session, extended);
    assert_eq!(caller.identity.id, identity.id);
    check_until_refresh_is_asked(&f, &queued, &token).await;
    f.memory
        .revoke_session(identity.id, session.id)
        .await
        .unwrap();
    queued.run().await;
    assert!(matches!(
        f.sessions.authenticate(&token).await,
        Err(CoreError::NoActiveSession)
    ));
}

#[tokio::test]
async fn every_identity_update_moves_its_stamp_forward_even_within_one_clock_tick() {
    let f = fixture();
    let identity = alice(&f).await;
    let change = || IdentityChange {
        metadata_public: Some(json!({"n": 1})),
        ..IdentityChange::default()
    };
    let once = f.identities.update(&identity, change()).await.unwrap();
    let twice = f.identities.update(&once, change()).await.unwrap();
    assert_eq!(f.clock.now(), identity.updated_at, "the clock did not move");
    assert!(identity.updated_at < once.updated_at && once.updated_at < twice.updated_at);
}

#[tokio::test]
async fn cached_sessions_skip_storage_for_the_ttl_then_read_it_again() {
    let (f, cache) = cached();
    let (identity, _, token) = alice_signed_in(&f).await;
    f.sessions.authenticate(&token).await.unwrap();
    assert_eq!(cache.len(), 1);
    // A change made behind this node's back (another replica) is not seen within half the
    // TTL (entries are trusted for between half of it and all of it)…
    f.memory
        .identities
        .lock()
        .unwrap()
        .get_mut(&identity.id)
        .unwrap()
        .state = IdentityState::Inactive;
    f.clock.advance(TimeDelta::seconds(2));
    assert!(f.sessions.authenticate(&token).await.is_ok());
    // …and is seen once the TTL has passed.
    f.clock.advance(TimeDelta::seconds(3));
    assert!(matches!(
        f.sessions.authenticate(&token).await,
        Err(CoreError::NoActiveSession)
    ));
}

#[tokio::test]
async fn cached_sessions_still_expire_on_time() {
    let (f, _) = cached();
    let (_, _, token) = alice_signed_in(&f).await;
    f.clock
        .advance(TimeDelta::hours(24) - TimeDelta::seconds(2));
    f.sessions.authenticate(&token).await.unwrap();
    f.clock.advance(TimeDelta::seconds(2));
    assert!(matches!(
        f.sessions.authenticate(&token).await,
        Err(CoreError::NoActiveSession)
    ));
}

#[tokio::test]
async fn changes_made_through_this_node_are_seen_at_once() {
    let (f, _) = cached();
    let identity = alice(&f).await;
    let methods = password_at(f.clock.now());
    let (current, current_token) = f
        .sessions
        .issue(&identity, methods.clone(), DeviceInfo::default())
        .await
        .unwrap();
    let (_, other_token) = f
        .sessions
        .issue(&identity, methods.clone(), DeviceInfo::default())
        .await
        .unwrap();
    let (_, logout_token) = f
        .sessions
        .issue(&identity, methods, DeviceInfo::default())
        .await
        .unwrap();
    for token in [&current_token, &other_token, &logout_token] {
        f.sessions.authenticate(token).await.unwrap();
    }
    // Traits changed through the identity service.
    let change = crate::identity::IdentityChange {
        traits: Some(json!({"email": "alice@example.com"})),
        ..Default::default()
    };
    f.identities.update(&identity, change).await.unwrap();
    let who = f.sessions.authenticate(&current_token).await.unwrap();
    assert_eq!(who.identity.traits["email"], "alice@example.com");
    // Another session revoked, another logged out.
    f.sessions.revoke_others(&current).await.unwrap();
    assert!(f.sessions.authenticate(&other_token).await.is_err());
    let (_, logout_token) = f
        .sessions
        .issue(
            &who.identity,
            password_at(f.clock.now()),
            DeviceInfo::default(),
        )
        .await
        .unwrap();
    f.sessions.authenticate(&logout_token).await.unwrap();
    f.sessions.logout_token_holder(&logout_token).await.unwrap();
    assert!(f.sessions.authenticate(&logout_token).await.is_err());
    // A step-up shows in the next check.
    let stepped = f
        .sessions
        .reauthenticate(
            &who.session,
            AuthenticationMethod {
                method: "totp".into(),
                aal: Aal::Aal2,
                completed_at: f.clock.now(),
                provider: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(stepped.aal, Aal::Aal2);
    let who = f.sessions.authenticate(&current_token).await.unwrap();
    assert_eq!(who.session.aal, Aal::Aal2);
}

#[tokio::test]
async fn a_check_racing_a_logout_does_not_put_the_session_back_in_the_cache() {
    let (f, cache) = cached();
    let (identity, _, token) = alice_signed_in(&f).await;
    // The session is read; before the check remembers it, a logout on this node forgets the
    // identity's entries (the logout's write came after the read).
    let forgetting = cache.clone();
    let id = identity.id;
    *f.memory.during_read.lock().unwrap() = Some(Box::new(move || forgetting.forget_identity(id)));
    assert!(
        f.sessions.authenticate(&token).await.is_ok(),
        "valid when read"
    );
    assert_eq!(
        cache.len(),
        0,
        "the read predates the logout: not remembered"
    );
    f.sessions.authenticate(&token).await.unwrap();
    assert_eq!(cache.len(), 1, "a later read is remembered");
}

#[tokio::test]
async fn a_caller_carries_its_credentials_without_their_payloads() {
    let f = fixture();
    let identity = f
        .identities
        .create(NewIdentity {
            schema_id: None,
            traits: json!({"email": "bob@example.org"}),
            state: IdentityState::Active,
            metadata_public: None,
            metadata_admin: None,
            credentials: vec![(
                crate::identity::CredentialKind::Password,
                json!({"hashed_password": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}),
            )],
            external_id: None,
            address_claims: Vec::new(),
        })
        .await
        .unwrap();
    let (_, token) = f
        .sessions
        .issue(&identity, password_at(f.clock.now()), DeviceInfo::default())
        .await
        .unwrap();
    let caller = f.sessions.authenticate(&token).await.unwrap();
    assert_eq!(caller.identity, identity.clone().without_configs());
    assert_eq!(
        caller.identity.credentials[&crate::identity::CredentialKind::Password].identifiers,
        vec!["bob@example.org".to_owned()]
    );

    let change = IdentityChange {
        metadata_public: Some(json!({"n": 1})),
        ..IdentityChange::default()
    };
    let refused = f.identities.update(&caller.identity, change.clone()).await;
    assert!(
        matches!(refused, Err(CoreError::Internal(_))),
        "{refused:?}"
    );
    assert_eq!(f.identities.get(identity.id).await.unwrap(), identity);

    let full = f.identities.in_full(caller.identity).await.unwrap();
    assert_eq!(full, identity);
    f.identities.update(&full, change).await.unwrap();
}

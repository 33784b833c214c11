use super::*;
use crate::grant::{APP_PASSWORD_LEN, ClientGrant, GrantStore, GrantUse};
use crate::identity::Identity;
use crate::random::OsRng;
use crate::session::Session;
use clavis_types::SessionId;
use clavis_types::identity::IdentityState;
use std::sync::Mutex;

struct FixedClock(Mutex<DateTime<Utc>>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[derive(Default)]
struct Memory {
    flows: Mutex<Vec<DeviceAuthorization>>,
    grants: Mutex<Vec<ClientGrant>>,
}

#[async_trait]
impl DeviceAuthorizationStore for Memory {
    async fn insert_device_authorization(
        &self,
        a: &DeviceAuthorization,
    ) -> Result<(), StorageError> {
        self.flows.lock().unwrap().push(a.clone());
        Ok(())
    }
    async fn find_device_authorization_by_poll(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<DeviceAuthorization>, StorageError> {
        Ok(self
            .flows
            .lock()
            .unwrap()
            .iter()
            .find(|a| &a.poll_digest == digest)
            .cloned())
    }
    async fn find_device_authorization_by_login(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<DeviceAuthorization>, StorageError> {
        Ok(self
            .flows
            .lock()
            .unwrap()
            .iter()
            .find(|a| &a.login_digest == digest)
            .cloned())
    }
    async fn decide_device_authorization(
        &self,
        id: Uuid,
        to: DeviceState,
        approver: Option<(IdentityId, Aal)>,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut flows = self.flows.lock().unwrap();
        match flows
            .iter_mut()
            .find(|a| a.id == id && a.state == DeviceState::Pending)
        {
            Some(a) => {
                a.state = to;
                a.identity_id = approver.map(|(i, _)| i);
                a.approved_aal = approver.map(|(_, aal)| aal);
                a.decided_at = Some(at);
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn consume_device_authorization(&self, id: Uuid) -> Result<bool, StorageError> {
        let mut flows = self.flows.lock().unwrap();
        match flows
            .iter_mut()
            .find(|a| a.id == id && a.state == DeviceState::Approved)
        {
            Some(a) => {
                a.state = DeviceState::Consumed;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[async_trait]
impl GrantStore for Memory {
    async fn insert_grant(&self, grant: &ClientGrant) -> Result<(), StorageError> {
        self.grants.lock().unwrap().push(grant.clone());
        Ok(())
    }
    async fn find_grant_by_secret(
        &self,
        d: &TokenDigest,
    ) -> Result<Option<ClientGrant>, StorageError> {
        Ok(self
            .grants
            .lock()
            .unwrap()
            .iter()
            .find(|g| &g.secret_digest == d)
            .cloned())
    }
    async fn list_grants(&self, identity: IdentityId) -> Result<Vec<ClientGrant>, StorageError> {
        Ok(self
            .grants
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.identity_id == identity && g.revoked_at.is_none())
            .cloned()
            .collect())
    }
    async fn touch_grant(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        used: &GrantUse,
    ) -> Result<(), StorageError> {
        if let Some(g) = self.grants.lock().unwrap().iter_mut().find(|g| g.id == id) {
            g.last_used_at = Some(at);
            g.last_ip = used.ip.clone();
            g.user_agent = used.user_agent.clone();
        }
        Ok(())
    }
    async fn rename_grant(
        &self,
        identity: IdentityId,
        id: Uuid,
        name: &str,
    ) -> Result<bool, StorageError> {
        let mut grants = self.grants.lock().unwrap();
        match grants
            .iter_mut()
            .find(|g| g.id == id && g.identity_id == identity && g.revoked_at.is_none())
        {
            Some(g) => {
                g.client_name = name.to_owned();
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn revoke_grants_except(
        &self,
        identity: IdentityId,
        keep: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let mut count = 0;
        for g in self.grants.lock().unwrap().iter_mut() {
            if g.identity_id == identity && g.revoked_at.is_none() && Some(g.id) != keep {
                g.revoked_at = Some(at);
                count += 1;
            }
        }
        Ok(count)
    }
    async fn revoke_grant(
        &self,
        identity: IdentityId,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut grants = self.grants.lock().unwrap();
        match grants
            .iter_mut()
            .find(|g| g.id == id && g.identity_id == identity && g.revoked_at.is_none())
        {
            Some(g) => {
                g.revoked_at = Some(at);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

fn setup() -> (
    DeviceAuthorizations,
    ClientGrants,
    Arc<FixedClock>,
    Arc<Memory>,
) {
    let memory = Arc::new(Memory::default());
    let clock = Arc::new(FixedClock(Mutex::new(
        DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
    )));
    let grants = ClientGrants::new(memory.clone(), clock.clone(), Arc::new(OsRng));
    let devices = DeviceAuthorizations::new(
        memory.clone(),
        grants.clone(),
        clock.clone(),
        Arc::new(OsRng),
    );
    (devices, grants, clock, memory)
}

const ALICE: IdentityId = IdentityId(Uuid::from_u128(7));

/// Alice in a browser, signed in `minutes_ago` at `aal`.
fn alice(clock: &FixedClock, minutes_ago: i64, aal: Aal) -> Authenticated {
    let now = clock.now();
    let signed_in = now - TimeDelta::minutes(minutes_ago);
    Authenticated {
        session: Session {
            id: SessionId(Uuid::from_u128(9)),
            identity_id: ALICE,
            active: true,
            aal,
            authentication_methods: Vec::new(),
            issued_at: signed_in,
            authenticated_at: signed_in,
            expires_at: now + TimeDelta::hours(1),
            devices: Vec::new(),
        },
        identity: Identity {
            id: ALICE,
            schema_id: "default".to_owned(),
            state: IdentityState::Active,
            state_changed_at: None,
            traits: serde_json::Value::Null,
            metadata_public: None,
            metadata_admin: None,
            external_id: None,
            verifiable_addresses: Vec::new(),
            recovery_addresses: Vec::new(),
            credentials: Default::default(),
            created_at: now,
            updated_at: now,
        },
        client: None,
    }
}

#[tokio::test]
async fn approved_flow_is_collected_exactly_once_and_mints_a_usable_app_password() {
    let (devices, grants, clock, memory) = setup();
    let started = devices
        .start(
            FrontEnd::NextcloudLoginFlowV2,
            "Desktop client",
            Some("192.0.2.1".into()),
        )
        .await
        .unwrap();
    assert_eq!(started.poll_token.expose().len(), TOKEN_LEN);
    assert!(
        started
            .login_token
            .expose()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    );
    assert!(
        devices.poll(&started.poll_token).await.unwrap().is_none(),
        "pending"
    );
    let pending = devices.pending(&started.login_token).await.unwrap();
    devices
        .approve(&pending, &alice(&clock, 5, Aal::Aal2))
        .await
        .unwrap();
    let collected = devices
        .poll(&started.poll_token)
        .await
        .unwrap()
        .expect("approved");
    assert_eq!(collected.identity, ALICE);
    assert_eq!(collected.grant.secret.expose().len(), APP_PASSWORD_LEN);
    assert_eq!(collected.grant.grant.client_name, "Desktop client");
    assert_eq!(
        collected.grant.grant.aal,
        Aal::Aal2,
        "the grant counts at the approval's level"
    );
    assert!(
        devices.poll(&started.poll_token).await.unwrap().is_none(),
        "collected once"
    );
    let grant = grants.authenticate(&collected.grant.secret).await.unwrap();
    assert_eq!(grant.identity_id, ALICE);
    let stored = format!("{:?}", memory.grants.lock().unwrap());
    assert!(
        !stored.contains(collected.grant.secret.expose()),
        "only the digest is stored"
    );
    grants.revoke(ALICE, grant.id).await.unwrap();
    assert!(grants.authenticate(&collected.grant.secret).await.is_err());
}

#[tokio::test]
async fn denied_or_expired_flows_never_yield_credentials() {
    let (devices, _, clock, _) = setup();
    let denied = devices
        .start(FrontEnd::NextcloudLoginFlowV2, "x", None)
        .await
        .unwrap();
    let pending = devices.pending(&denied.login_token).await.unwrap();
    devices.deny(&pending).await.unwrap();
    assert!(devices.poll(&denied.poll_token).await.unwrap().is_none());
    assert!(
        devices
            .approve(&pending, &alice(&clock, 0, Aal::Aal1))
            .await
            .is_err(),
        "decided once"
    );
    assert!(devices.pending(&denied.login_token).await.is_err());

    let late = devices
        .start(FrontEnd::NextcloudLoginFlowV2, "x", None)
        .await
        .unwrap();
    let pending = devices.pending(&late.login_token).await.unwrap();
    devices
        .approve(&pending, &alice(&clock, 0, Aal::Aal1))
        .await
        .unwrap();
    *clock.0.lock().unwrap() += LIFETIME + TimeDelta::seconds(1);
    assert!(
        devices.poll(&late.poll_token).await.unwrap().is_none(),
        "expired"
    );

    let stale = devices
        .start(FrontEnd::NextcloudLoginFlowV2, "x", None)
        .await
        .unwrap();
    *clock.0.lock().unwrap() += LIFETIME;
    assert!(devices.pending(&stale.login_token).await.is_err());
    assert!(
        devices
            .approve(&pending, &alice(&clock, 0, Aal::Aal1))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn approval_needs_a_browser_session_that_signed_in_within_thirty_minutes() {
    let (devices, grants, clock, _) = setup();
    let started = devices
        .start(FrontEnd::NextcloudLoginFlowV2, "x", None)
        .await
        .unwrap();
    let pending = devices.pending(&started.login_token).await.unwrap();
    assert!(matches!(
        devices
            .approve(&pending, &alice(&clock, 31, Aal::Aal1))
            .await,
        Err(CoreError::ReauthenticationRequired)
    ));
    // A client holding a grant cannot approve another client.
    let minted = grants
        .mint(ALICE, GrantKind::AppPassword, "other", None, Aal::Aal1)
        .await
        .unwrap();
    let mut with_grant = alice(&clock, 0, Aal::Aal1);
    with_grant.client = Some(minted.grant);
    assert!(matches!(
        devices.approve(&pending, &with_grant).await,
        Err(CoreError::ReauthenticationRequired)
    ));
    assert!(devices.poll(&started.poll_token).await.unwrap().is_none());
    devices
        .approve(&pending, &alice(&clock, 30, Aal::Aal1))
        .await
        .unwrap();
    assert!(devices.poll(&started.poll_token).await.unwrap().is_some());
}

#[tokio::test]
async fn grants_are_renamed_touched_and_revoked_by_their_owner_only() {
    let (_, grants, clock, memory) = setup();
    let one = grants
        .mint(ALICE, GrantKind::AppPassword, "one", None, Aal::Aal1)
        .await
        .unwrap();
    let two = grants
        .mint(ALICE, GrantKind::AppPassword, "two", None, Aal::Aal1)
        .await
        .unwrap();
    let three = grants
        .mint(ALICE, GrantKind::AppPassword, "three", None, Aal::Aal1)
        .await
        .unwrap();
    let bob = IdentityId(Uuid::from_u128(8));
    assert!(grants.rename(bob, one.grant.id, "mine").await.is_err());
    grants
        .rename(ALICE, one.grant.id, "  Laptop  ")
        .await
        .unwrap();
    let used = GrantUse {
        ip: Some("192.0.2.7".into()),
        user_agent: Some("sync/1.0".into()),
    };
    grants.touch(&one.grant, &used).await.unwrap();
    let touched = grants.authenticate(&one.secret).await.unwrap();
    assert_eq!(touched.client_name, "Laptop");
    assert_eq!(touched.last_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(touched.last_used_at, Some(clock.now()));
    // Within the interval and from the same place, a use writes nothing.
    *clock.0.lock().unwrap() += TimeDelta::seconds(30);
    grants.touch(&touched, &used).await.unwrap();
    assert_eq!(
        grants.authenticate(&one.secret).await.unwrap().last_used_at,
        touched.last_used_at
    );
    // From elsewhere it does.
    let moved = GrantUse {
        ip: Some("198.51.100.1".into()),
        user_agent: None,
    };
    grants.touch(&touched, &moved).await.unwrap();
    let again = grants.authenticate(&one.secret).await.unwrap();
    assert_eq!(again.last_ip.as_deref(), Some("198.51.100.1"));
    assert_eq!(again.user_agent.as_deref(), Some("sync/1.0"));

    assert_eq!(grants.revoke_all(bob, None).await.unwrap(), 0);
    assert_eq!(
        grants.revoke_all(ALICE, Some(two.grant.id)).await.unwrap(),
        2
    );
    assert!(grants.authenticate(&one.secret).await.is_err());
    assert!(grants.authenticate(&three.secret).await.is_err());
    assert!(grants.authenticate(&two.secret).await.is_ok());
    assert_eq!(memory.grants.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn unknown_and_malformed_poll_tokens_are_pending_forever() {
    let (devices, _, _, _) = setup();
    for token in ["", "short", &"a".repeat(TOKEN_LEN), &"é".repeat(TOKEN_LEN)] {
        assert!(
            devices
                .poll(&BearerToken::new(token))
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn client_names_are_trimmed_cut_and_never_empty() {
    use crate::grant::client_name_of;
    assert_eq!(client_name_of("  Nextcloud Desktop  "), "Nextcloud Desktop");
    assert_eq!(client_name_of(""), "unknown");
    let long = client_name_of(&"x".repeat(300));
    assert_eq!(long.chars().count(), 121);
    assert!(long.ends_with('…'));
}

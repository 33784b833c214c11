use super::*;
use crate::grant::{APP_PASSWORD_LEN, ClientGrant, GrantStore};
use crate::random::OsRng;
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
        identity: Option<IdentityId>,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut flows = self.flows.lock().unwrap();
        match flows
            .iter_mut()
            .find(|a| a.id == id && a.state == DeviceState::Pending)
        {
            Some(a) => {
                a.state = to;
                a.identity_id = identity;
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

#[tokio::test]
async fn approved_flow_is_collected_exactly_once_and_mints_a_usable_app_password() {
    let (devices, grants, _, memory) = setup();
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
    devices.decide(&pending, Some(ALICE)).await.unwrap();
    let collected = devices
        .poll(&started.poll_token)
        .await
        .unwrap()
        .expect("approved");
    assert_eq!(collected.identity, ALICE);
    assert_eq!(collected.grant.secret.expose().len(), APP_PASSWORD_LEN);
    assert_eq!(collected.grant.grant.client_name, "Desktop client");
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
    devices.decide(&pending, None).await.unwrap();
    assert!(devices.poll(&denied.poll_token).await.unwrap().is_none());
    assert!(
        devices.decide(&pending, Some(ALICE)).await.is_err(),
        "decided once"
    );
    assert!(devices.pending(&denied.login_token).await.is_err());

    let late = devices
        .start(FrontEnd::NextcloudLoginFlowV2, "x", None)
        .await
        .unwrap();
    let pending = devices.pending(&late.login_token).await.unwrap();
    devices.decide(&pending, Some(ALICE)).await.unwrap();
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
    assert!(devices.decide(&pending, Some(ALICE)).await.is_err());
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
    assert_eq!(client_name_of("  Nextcloud Desktop  "), "Nextcloud Desktop");
    assert_eq!(client_name_of(""), "unknown");
    let long = client_name_of(&"x".repeat(300));
    assert_eq!(long.chars().count(), 121);
    assert!(long.ends_with('…'));
}

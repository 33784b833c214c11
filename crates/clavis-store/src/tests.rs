//! The storage ports against a real database (SQLite, and PostgreSQL when
//! `CLAVIS_TEST_DATABASE_URL` is set).

use crate::Store;
use crate::testing::TestDatabase;
use chrono::{DateTime, TimeDelta, Utc};
use clavis_core::StorageError;
use clavis_core::identity::admin::{IdentityDirectory, IdentityFilter};
use clavis_core::identity::{
    AddressVia, Credential, CredentialKind, Identity, IdentityStore, RecoveryAddress,
    VerifiableAddress, VerificationStatus,
};
use clavis_core::secret::TokenDigest;
use clavis_core::session::{Device, Session, SessionRevision, SessionStore};
use clavis_types::id::{AddressId, DeviceId};
use clavis_types::identity::IdentityState;
use clavis_types::session::{Aal, AuthenticationMethod};
use clavis_types::{IdentityId, SessionId};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 123_456_000).unwrap()
}

fn identity(email: &str) -> Identity {
    let mut credentials = BTreeMap::new();
    credentials.insert(
        CredentialKind::Password,
        Credential {
            kind: CredentialKind::Password,
            identifiers: vec![email.to_owned()],
            config: json!({"v": 1, "hashed_password": "$argon2id$..."}).into(),
            version: 1,
            created_at: at(0),
            updated_at: at(0),
        },
    );
    Identity {
        id: IdentityId(Uuid::new_v4()),
        schema_id: "default".into(),
        state: IdentityState::Active,
        state_changed_at: Some(at(0)),
        traits: json!({"email": email, "name": {"first": "Ä"}}),
        metadata_public: Some(json!({"plan": "free"})),
        metadata_admin: None,
        external_id: None,
        verifiable_addresses: vec![VerifiableAddress {
            id: AddressId(Uuid::new_v4()),
            via: AddressVia::Email,
            value: email.to_owned(),
            verified: false,
            verified_at: None,
            status: VerificationStatus::Pending,
            created_at: at(0),
            updated_at: at(0),
        }],
        recovery_addresses: vec![RecoveryAddress {
            id: AddressId(Uuid::new_v4()),
            via: AddressVia::Email,
            value: email.to_owned(),
            created_at: at(0),
            updated_at: at(0),
        }],
        credentials,
        created_at: at(0),
        updated_at: at(0),
    }
}

fn session(identity: IdentityId, expires: i64) -> Session {
    Session {
        id: SessionId(Uuid::new_v4()),
        identity_id: identity,
        active: true,
        aal: Aal::Aal1,
        authentication_methods: vec![AuthenticationMethod {
            method: "password".into(),
            aal: Aal::Aal1,
            completed_at: at(0),
            provider: None,
        }],
        issued_at: at(0),
        authenticated_at: at(0),
        expires_at: at(expires),
        devices: vec![Device {
            id: DeviceId(Uuid::new_v4()),
            ip_address: Some("192.0.2.1".into()),
            user_agent: Some("test".into()),
            location: None,
        }],
    }
}

async fn each_database(test: impl AsyncFn(Store)) {
    for db in TestDatabase::all().await {
        test(Store::new(db.connect().await)).await;
    }
}

fn verifiable(value: &str, verified_at: Option<DateTime<Utc>>) -> VerifiableAddress {
    VerifiableAddress {
        id: AddressId(Uuid::new_v4()),
        via: AddressVia::Email,
        value: value.to_owned(),
        verified: verified_at.is_some(),
        verified_at,
        status: if verified_at.is_some() {
            VerificationStatus::Completed
        } else {
            VerificationStatus::Pending
        },
        created_at: at(4),
        updated_at: at(5),
    }
}

fn recovery(value: &str) -> RecoveryAddress {
    RecoveryAddress {
        id: AddressId(Uuid::new_v4()),
        via: AddressVia::Email,
        value: value.to_owned(),
        created_at: at(6),
        updated_at: at(7),
    }
}

#[tokio::test]
async fn addresses_of_both_kinds_come_back_to_their_own_identity_and_kind_in_value_order() {
    each_database(async |store| {
        let mut first = identity("m-first@example.org");
        first.verifiable_addresses = vec![
            verifiable("z-first@example.org", Some(at(9))),
            verifiable("b-first@example.org", None),
        ];
        first.recovery_addresses = vec![
            recovery("y-first@example.org"),
            recovery("a-first@example.org"),
            recovery("c-first@example.org"),
        ];
        let mut second = identity("m-second@example.org");
        second.verifiable_addresses = Vec::new();
        second.recovery_addresses = vec![recovery("b-second@example.org")];
        store.insert_identity(&first).await.unwrap();
        store.insert_identity(&second).await.unwrap();
        for one in [&mut first, &mut second] {
            one.verifiable_addresses
                .sort_by(|a, b| a.value.cmp(&b.value));
            one.recovery_addresses.sort_by(|a, b| a.value.cmp(&b.value));
        }
        // One identity at a time, and several in one listing.
        assert_eq!(store.get_identity(first.id).await.unwrap().unwrap(), first);
        assert_eq!(
            store.get_identity(second.id).await.unwrap().unwrap(),
            second
        );
        let listed = store
            .list_identities(
                &IdentityFilter {
                    ids: vec![first.id, second.id],
                    ..IdentityFilter::default()
                },
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), 2);
        for read in listed {
            let expected = if read.id == first.id { &first } else { &second };
            assert_eq!(read.verifiable_addresses, expected.verifiable_addresses);
            assert_eq!(read.recovery_addresses, expected.recovery_addresses);
        }
    })
    .await;
}

#[tokio::test]
async fn identity_round_trips_with_addresses_and_credentials() {
    each_database(async |store| {
        let mut original = identity("round@example.org");
        // Several identifiers, read back in order, and a credential without any.
        original.credentials.insert(
            CredentialKind::Code,
            Credential {
                kind: CredentialKind::Code,
                identifiers: vec!["a-round@example.org".into(), "round@example.org".into()],
                config: json!({"v": 1}).into(),
                version: 0,
                created_at: at(1),
                updated_at: at(2),
            },
        );
        original.credentials.insert(
            CredentialKind::Totp,
            Credential {
                kind: CredentialKind::Totp,
                identifiers: Vec::new(),
                config: json!({"v": 1, "sealed": "xc1:..."}).into(),
                version: 0,
                created_at: at(3),
                updated_at: at(3),
            },
        );
        store.insert_identity(&original).await.unwrap();
        let read = store.get_identity(original.id).await.unwrap().unwrap();
        assert_eq!(read, original);
        assert!(
            store
                .get_identity(IdentityId(Uuid::new_v4()))
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn an_identity_read_without_payloads_is_whole_but_them_and_never_written_back() {
    each_database(async |store| {
        let original = identity("partial@example.org");
        store.insert_identity(&original).await.unwrap();
        let partial = store
            .get_identity_without_configs(original.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(partial, original.clone().without_configs());
        assert!(!partial.has_configs());
        let listed = store
            .list_identities(&IdentityFilter::default(), None, 10)
            .await
            .unwrap();
        assert_eq!(listed, vec![original.clone().without_configs()]);

        let mut changed = partial;
        changed.traits = json!({"email": "partial@example.org", "name": {"first": "B"}});
        let err = store.update_identity(&changed).await.unwrap_err();
        assert!(matches!(err, StorageError::Backend(_)), "{err:?}");
        let stored = store.get_identity(original.id).await.unwrap().unwrap();
        assert_eq!(stored, original, "a refused write changes nothing");
    })
    .await;
}

#[tokio::test]
async fn duplicate_identifier_is_a_conflict_and_writes_nothing() {
    each_database(async |store| {
        store
            .insert_identity(&identity("dup@example.org"))
            .await
            .unwrap();
        let second = identity("dup@example.org");
        let err = store.insert_identity(&second).await.unwrap_err();
        assert!(matches!(err, StorageError::Conflict(_)), "{err:?}");
        assert!(store.get_identity(second.id).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn session_found_by_digest_listed_and_revoked() {
    each_database(async |store| {
        let owner = identity("sessions@example.org");
        store.insert_identity(&owner).await.unwrap();
        let current = session(owner.id, 3600);
        let other = session(owner.id, 3600);
        let expired = session(owner.id, 10);
        for (s, token) in [(&current, "a"), (&other, "b"), (&expired, "c")] {
            store
                .insert_session(s, &TokenDigest::of(token.as_bytes()))
                .await
                .unwrap();
        }
        let found = store
            .find_session_by_token(&TokenDigest::of(b"a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, current);
        // A session with several devices is one session (in device order); one without any
        // is found as well.
        let elsewhere = identity("devices@example.org");
        store.insert_identity(&elsewhere).await.unwrap();
        let mut several = session(elsewhere.id, 3600);
        let mut second = several.devices[0].clone();
        second.id = DeviceId(Uuid::new_v4());
        second.ip_address = Some("198.51.100.2".into());
        several.devices.push(second);
        several.devices.sort_by_key(|d| d.id);
        let mut none = session(elsewhere.id, 3600);
        none.devices.clear();
        for (s, token) in [(&several, "d"), (&none, "e")] {
            store
                .insert_session(s, &TokenDigest::of(token.as_bytes()))
                .await
                .unwrap();
            let found = store
                .find_session_by_token(&TokenDigest::of(token.as_bytes()))
                .await
                .unwrap();
            assert_eq!(found.as_ref(), Some(s));
        }
        assert!(
            store
                .find_session_by_token(&TokenDigest::of(b"zz"))
                .await
                .unwrap()
                .is_none()
        );

        let listed = store
            .list_active_sessions(owner.id, at(100), None, 10)
            .await
            .unwrap();
        let mut expected = vec![current.id, other.id];
        expected.sort();
        assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), expected);

        assert!(store.revoke_session(owner.id, other.id).await.unwrap());
        assert!(!store.revoke_session(owner.id, other.id).await.unwrap());
        assert!(
            !store
                .revoke_session(IdentityId(Uuid::new_v4()), current.id)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .revoke_sessions_except(owner.id, current.id)
                .await
                .unwrap(),
            1
        );
        let after = store
            .list_active_sessions(owner.id, at(0) + TimeDelta::seconds(1), None, 10)
            .await
            .unwrap();
        assert_eq!(
            after.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![current.id]
        );
    })
    .await;
}

#[tokio::test]
async fn a_session_revision_is_the_row_without_devices_and_the_identitys_stamp() {
    each_database(async |store| {
        let mut owner = identity("revision@example.org");
        store.insert_identity(&owner).await.unwrap();
        let current = session(owner.id, 3600);
        let digest = TokenDigest::of(b"revision");
        store.insert_session(&current, &digest).await.unwrap();
        let without_devices = Session {
            devices: Vec::new(),
            ..current.clone()
        };
        let read = store.find_session_revision(&digest).await.unwrap();
        assert_eq!(
            read,
            Some(SessionRevision {
                session: without_devices.clone(),
                identity_updated_at: at(0),
            })
        );
        // The smallest step an identity update takes is seen.
        owner.updated_at = at(0) + TimeDelta::microseconds(1);
        store.update_identity(&owner).await.unwrap();
        let read = store.find_session_revision(&digest).await.unwrap().unwrap();
        assert_eq!(read.identity_updated_at, owner.updated_at);
        assert_eq!(read.session, without_devices);
        assert_eq!(
            store
                .find_session_revision(&TokenDigest::of(b"unknown"))
                .await
                .unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn duplicate_token_digest_is_refused() {
    each_database(async |store| {
        let owner = identity("digest@example.org");
        store.insert_identity(&owner).await.unwrap();
        store
            .insert_session(&session(owner.id, 10), &TokenDigest::of(b"same"))
            .await
            .unwrap();
        let err = store
            .insert_session(&session(owner.id, 10), &TokenDigest::of(b"same"))
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Conflict(_)), "{err:?}");
    })
    .await;
}

fn flow(n: usize) -> clavis_core::flow::Flow {
    use clavis_core::flow::{Flow, FlowKind, FlowState};
    use clavis_types::flow::FlowType;
    use clavis_types::id::FlowId;
    use clavis_types::ui::UiContainer;
    Flow {
        id: FlowId(Uuid::new_v4()),
        kind: FlowKind::Login,
        flow_type: FlowType::Api,
        state: FlowState::ChooseMethod,
        identity_id: None,
        session_id: None,
        request_url: format!("https://id.example.org/self-service/login/api?n={n}"),
        return_to: None,
        requested_aal: Aal::Aal1,
        refresh: false,
        ui: UiContainer {
            action: format!("https://id.example.org/self-service/login?flow={n}"),
            method: "POST".into(),
            nodes: Vec::new(),
            messages: Vec::new(),
        },
        active: None,
        strategy_state: BTreeMap::new(),
        csrf_token_digest: None,
        transient_payload: None,
        issued_at: at(0),
        expires_at: at(3600),
        updated_at: at(0),
    }
}

/// Inserts `flows` from concurrent tasks; each task's own answer, in order.
async fn insert_together(
    store: &Store,
    flows: &[clavis_core::flow::Flow],
) -> Vec<Result<(), StorageError>> {
    use clavis_core::flow::FlowStore;
    let tasks: Vec<_> = flows
        .iter()
        .cloned()
        .map(|flow| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_flow(&flow).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_created_together_share_statements_and_each_is_committed() {
    use clavis_core::flow::FlowStore;
    each_database(async |store| {
        let flows: Vec<_> = (0..200).map(flow).collect();
        let answers = insert_together(&store, &flows).await;
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        for flow in &flows {
            assert_eq!(store.get_flow(flow.id).await.unwrap().as_ref(), Some(flow));
        }
        let statements = store.flow_insert_statements();
        assert!(
            statements < flows.len() / 2,
            "{statements} statements for {} flows",
            flows.len()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_waiting_for_its_group_to_commit_takes_no_more_writer_turns() {
    use clavis_core::flow::FlowStore;
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    each_database(async |store| {
        // Another connection holds the table, so the flow's write waits meanwhile.
        let holder = store.db.begin().await.unwrap();
        let hold = match holder.get_database_backend() {
            DbBackend::Postgres => "LOCK TABLE selfservice_flows IN SHARE MODE",
            _ => "UPDATE selfservice_flows SET updated_at = updated_at WHERE 0 = 1",
        };
        holder.execute_unprepared(hold).await.unwrap();
        let waiting = {
            let store = store.clone();
            tokio::spawn(async move { store.insert_flow(&flow(1)).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !waiting.is_finished(),
            "the write did not wait for the lock"
        );
        let turns = store.flow_insert_turns();
        // One turn writes it; at most one more finds it taken and then only waits.
        assert!(
            turns <= 2,
            "{turns} writer turns for one flow being written"
        );
        holder.commit().await.unwrap();
        waiting.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_queued_behind_a_group_are_written_by_the_same_writer_turn() {
    use clavis_core::flow::FlowStore;
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    each_database(async |store| {
        let backend = store.db.get_database_backend();
        // Another connection holds the table, so the first groups wait and the rest queue.
        let holder = store.db.begin().await.unwrap();
        let hold = match backend {
            DbBackend::Postgres => "LOCK TABLE selfservice_flows IN SHARE MODE",
            _ => "UPDATE selfservice_flows SET updated_at = updated_at WHERE 0 = 1",
        };
        holder.execute_unprepared(hold).await.unwrap();
        let flows: Vec<_> = (0..100).map(flow).collect();
        let inserting = {
            let store = store.clone();
            let flows = flows.clone();
            tokio::spawn(async move { insert_together(&store, &flows).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (turns, statements) = (store.flow_insert_turns(), store.flow_insert_statements());
        holder.commit().await.unwrap();
        let answers = inserting.await.unwrap();
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        for flow in &flows {
            assert_eq!(store.get_flow(flow.id).await.unwrap().as_ref(), Some(flow));
        }
        let more_statements = store.flow_insert_statements() - statements;
        let more_turns = store.flow_insert_turns() - turns;
        // Groups are powers of two of at most 64 rows: what queued needs two more at least.
        assert!(more_statements >= 2, "{more_statements} more statements");
        if backend == DbBackend::Sqlite {
            // One writer: it wrote the queue in the turn it held, and nobody else took one
            // (with several writers, a caller may find its row taken by a writer that is
            // still at it and take one turn to see so).
            assert_eq!(
                more_turns, 0,
                "{more_turns} more turns for {more_statements} groups"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_is_not_held_off_by_writers_that_always_find_more_queued() {
    use clavis_core::flow::FlowStore;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    each_database(async |store| {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let written = std::sync::Arc::new(AtomicUsize::new(0));
        // More clients than a group takes (64), so the queue never runs dry.
        let clients: Vec<_> = (0..150)
            .map(|client| {
                let (store, stop, written) = (store.clone(), stop.clone(), written.clone());
                tokio::spawn(async move {
                    let mut n = client * 1_000_000;
                    while !stop.load(Ordering::Relaxed) {
                        store.insert_flow(&flow(n)).await.unwrap();
                        written.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                    }
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let paused =
            tokio::time::timeout(std::time::Duration::from_secs(5), store.new_flows.pause())
                .await
                .expect("the pause waited for the queue to run dry")
                .expect("a pause");
        let statements = store.flow_insert_statements();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(
            store.flow_insert_statements(),
            statements,
            "a group went out in the pause"
        );
        drop(paused);
        let during = written.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        for client in clients {
            client.await.unwrap();
        }
        assert!(during > 16, "only {during} flows written before the pause");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_that_cannot_be_stored_fails_alone_in_its_group() {
    use clavis_core::flow::FlowStore;
    each_database(async |store| {
        let taken = flow(0);
        store.insert_flow(&taken).await.unwrap();
        let mut flows: Vec<_> = (1..40).map(flow).collect();
        let mut duplicate = flow(99);
        duplicate.id = taken.id;
        flows.insert(20, duplicate);
        let answers = insert_together(&store, &flows).await;
        for (flow, answer) in flows.iter().zip(&answers) {
            if flow.id == taken.id {
                assert!(answer.is_err(), "the duplicate id is refused");
            } else {
                assert!(answer.is_ok(), "{answer:?}");
                assert!(store.get_flow(flow.id).await.unwrap().is_some());
            }
        }
        assert_eq!(store.get_flow(taken.id).await.unwrap(), Some(taken.clone()));
    })
    .await;
}

fn message(n: i64) -> clavis_core::courier::CourierMessage {
    clavis_core::courier::CourierMessage {
        id: Uuid::new_v4(),
        status: clavis_core::courier::MessageStatus::Queued,
        recipient: format!("m{n}@example.org"),
        subject: "subject".into(),
        body: "body".into(),
        body_html: "<p>body</p>".into(),
        template: "recovery_code_valid".into(),
        send_count: 0,
        dispatches: Vec::new(),
        created_at: at(n),
        updated_at: at(n),
    }
}

#[tokio::test]
async fn concurrent_claims_never_share_a_message_and_stale_claims_return() {
    use clavis_core::courier::{MessageStatus, MessageStore};
    each_database(async |store: Store| {
        for n in 0..12 {
            store.insert_message(&message(n)).await.unwrap();
        }
        let now = at(100);
        let claims = futures_util::future::join_all(
            (0..4).map(|_| store.claim_messages(5, now, now - TimeDelta::minutes(10))),
        )
        .await;
        let mut ids: Vec<Uuid> = claims
            .into_iter()
            .flat_map(|c| c.unwrap())
            .map(|m| m.id)
            .collect();
        let claimed = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), claimed, "a message was claimed twice");
        assert_eq!(claimed, 12, "every queued message is claimed once");
        assert!(
            store
                .claim_messages(5, now, now - TimeDelta::minutes(10))
                .await
                .unwrap()
                .is_empty(),
            "claimed messages are not claimed again while fresh"
        );
        let later = now + TimeDelta::minutes(11);
        let returned = store
            .claim_messages(20, later, later - TimeDelta::minutes(10))
            .await
            .unwrap();
        assert_eq!(returned.len(), 12, "claims of a stopped dispatcher return");
        let mut sent = returned[0].clone();
        sent.status = MessageStatus::Sent;
        sent.send_count = 1;
        store.record_dispatch(&sent).await.unwrap();
        let read = store.get_message(sent.id).await.unwrap().unwrap();
        assert_eq!(read.status, MessageStatus::Sent);
        assert_eq!(read.send_count, 1);
    })
    .await;
}

#[tokio::test]
async fn a_new_window_forgets_only_old_windows_of_its_own_action() {
    use clavis_core::rate_limit::RateLimitStore;
    each_database(async |store: Store| {
        let long = at(0);
        for _ in 0..3 {
            store.hit("code_attempts:flow", long, long).await.unwrap();
        }
        let minute = at(600);
        store
            .hit("device_init:192.0.2.1", minute, minute)
            .await
            .unwrap();
        assert_eq!(
            store.hit("code_attempts:flow", long, long).await.unwrap(),
            4,
            "another action's new window kept this counter"
        );
        store
            .hit("code_attempts:other", at(700), at(650))
            .await
            .unwrap();
        assert_eq!(
            store.hit("code_attempts:flow", long, long).await.unwrap(),
            1,
            "its own action's new window forgot the old one"
        );
    })
    .await;
}

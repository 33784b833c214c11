//! The admin API: API keys, identities (create, import, list, replace, patch, batch, delete,
//! credentials) and sessions, and the public port's redirects to it.

use crate::native::{create_flow, submit, ui_message_ids, whoami};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::TimeDelta;
use clavis_testkit::{TEST_ADMIN_KEY, TestServer, db_tests, next_link};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

db_tests!(
    admin_api_requires_a_configured_key,
    admin_paths_answer_with_and_without_prefix,
    public_port_redirects_admin_paths,
    create_shows_credentials_metadata_never_secrets,
    create_refuses_bad_input_with_kratos_errors,
    concurrent_creates_of_one_identifier_make_one_identity,
    imported_bcrypt_and_pbkdf2_hashes_log_in_and_become_argon2id,
    imported_addresses_keep_their_verification_state,
    list_pages_filters_and_links,
    replace_sets_state_metadata_and_inactive_stops_sessions,
    json_patch_changes_traits_and_guards_fixed_fields,
    batch_creates_each_entry_on_its_own,
    delete_identity_and_its_sessions,
    delete_credential_keeps_one_first_factor,
    sessions_admin_list_get_extend_and_deactivate,
    listing_2500_identities_returns_each_once_while_more_arrive,
    admin_changes_reach_cached_sessions_at_once,
);

async fn admin_json(
    srv: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = srv.admin(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    (status, body)
}

async fn create(srv: &TestServer, body: Value) -> Value {
    let (status, identity) = admin_json(srv, Method::POST, "/admin/identities", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{identity}");
    identity
}

fn person(email: &str) -> Value {
    json!({"schema_id": "default", "traits": {"email": email}})
}

async fn password_login(srv: &TestServer, identifier: &str, password: &str) -> (StatusCode, Value) {
    let flow = create_flow(srv, "login").await;
    submit(
        srv,
        &flow,
        &json!({"method": "password", "identifier": identifier, "password": password}),
    )
    .await
}

async fn admin_api_requires_a_configured_key(srv: TestServer) {
    let url = srv.admin_url("/admin/identities");
    let none = srv.http().get(url.clone()).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"]["code"], 401);
    assert_eq!(
        body["error"]["message"],
        "The request could not be authorized"
    );
    for wrong in [
        format!("Bearer {TEST_ADMIN_KEY}x"),
        format!("Basic {TEST_ADMIN_KEY}"),
        "Bearer ".to_owned(),
    ] {
        let response = srv
            .http()
            .get(url.clone())
            .header("Authorization", wrong.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{wrong}");
    }
    let lowercase = srv
        .http()
        .get(url.clone())
        .header("Authorization", format!("bearer {TEST_ADMIN_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase.status(), StatusCode::OK);
    let probe = srv
        .http()
        .get(srv.admin_url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), StatusCode::OK, "probes stay open");
    srv.stop().await;
}

async fn admin_paths_answer_with_and_without_prefix(srv: TestServer) {
    let identity = create(&srv, person("prefix@example.org")).await;
    let id = identity["id"].as_str().unwrap();
    for path in [
        format!("/admin/identities/{id}"),
        format!("/identities/{id}"),
    ] {
        let (status, body) = admin_json(&srv, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["id"], id);
    }
    let (status, _) = admin_json(&srv, Method::GET, "/sessions", None).await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

async fn public_port_redirects_admin_paths(srv: TestServer) {
    for (path, target) in [
        (
            "/admin/identities?page_size=5",
            "admin/identities?page_size=5",
        ),
        ("/identities/abc", "admin/identities/abc"),
        ("/admin/sessions", "admin/sessions"),
    ] {
        let response = srv
            .http()
            .get(srv.url(path))
            .bearer_auth(TEST_ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT, "{path}");
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            srv.admin_url(target).as_str(),
        );
    }
    srv.stop().await;
}

async fn create_shows_credentials_metadata_never_secrets(srv: TestServer) {
    let mut body = person("New.Person@Example.org");
    body["metadata_public"] = json!({"plan": "pro"});
    body["metadata_admin"] = json!({"crm": 42});
    body["external_id"] = json!("crm-42");
    body["credentials"] =
        json!({"password": {"config": {"password": "a long imported passphrase"}}});
    let response = srv
        .admin(Method::POST, "/admin/identities")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert!(
        location.ends_with(&format!("/admin/identities/{id}")),
        "{location}"
    );
    assert_eq!(created["state"], "active");
    assert_eq!(created["metadata_admin"], json!({"crm": 42}));
    assert_eq!(created["external_id"], "crm-42");
    assert_eq!(
        created["verifiable_addresses"][0]["value"],
        "new.person@example.org"
    );
    let response = srv
        .admin(Method::GET, &format!("/admin/identities/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(!text.contains("argon2"), "no hash in {text}");
    assert!(!text.contains("hashed_password"), "{text}");
    let fetched: Value = serde_json::from_str(&text).unwrap();
    let password = &fetched["credentials"]["password"];
    assert_eq!(password["type"], "password");
    assert_eq!(password["identifiers"], json!(["new.person@example.org"]));
    assert_eq!(password["config"], json!({}));
    assert_eq!(fetched["metadata_public"], json!({"plan": "pro"}));

    let (status, session) =
        password_login(&srv, "new.person@example.org", "a long imported passphrase").await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let (_, me) = whoami(&srv, session["session_token"].as_str().unwrap()).await;
    assert!(me["identity"].get("metadata_admin").is_none(), "{me}");
    srv.stop().await;
}

async fn create_refuses_bad_input_with_kratos_errors(srv: TestServer) {
    let (status, body) = admin_json(
        &srv,
        Method::POST,
        "/admin/identities",
        Some(json!({"schema_id": "default", "traits": {"email": "not an address"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("identity schema")
    );
    assert!(!body["error"]["details"].is_null(), "{body}");

    create(&srv, person("taken@example.org")).await;
    let (status, body) = admin_json(
        &srv,
        Method::POST,
        "/admin/identities",
        Some(person("TAKEN@example.org")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], 409);

    let mut first = person("ext-a@example.org");
    first["external_id"] = json!("same-external");
    create(&srv, first).await;
    let mut second = person("ext-b@example.org");
    second["external_id"] = json!("same-external");
    let (status, _) = admin_json(&srv, Method::POST, "/admin/identities", Some(second)).await;
    assert_eq!(status, StatusCode::CONFLICT);

    for bad in [
        json!({"traits": {"email": "x@example.org"}}),
        json!({"schema_id": "no-such-schema", "traits": {"email": "u@example.org"}}),
        json!({"schema_id": "default", "traits": {"email": "y@example.org"}, "state": "sleeping"}),
        json!({"schema_id": "default", "traits": {"email": "z@example.org"},
               "credentials": {"password": {"config": {"hashed_password": "{SSHA}abcdef"}}}}),
        json!({"schema_id": "default", "traits": {"email": "w@example.org"},
               "credentials": {"password": {"config": {}}}}),
        json!({"schema_id": "default", "traits": {"email": "v@example.org"},
               "credentials": {"smoke_signal": {"config": {}}}}),
    ] {
        let (status, body) =
            admin_json(&srv, Method::POST, "/admin/identities", Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {body}");
        assert_eq!(body["error"]["code"], 400);
    }
    let garbage = srv
        .admin(Method::POST, "/admin/identities")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let (status, _) = admin_json(&srv, Method::GET, "/admin/identities/not-a-uuid", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin_json(
        &srv,
        Method::GET,
        "/admin/identities/00000000-0000-4000-8000-000000000000",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = admin_json(&srv, Method::GET, "/admin/identities", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "nothing half-written");
    srv.stop().await;
}

async fn concurrent_creates_of_one_identifier_make_one_identity(srv: TestServer) {
    let send = || {
        admin_json(
            &srv,
            Method::POST,
            "/admin/identities",
            Some(person("race@example.org")),
        )
    };
    let (first, second) = tokio::join!(send(), send());
    let mut statuses = vec![first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::CREATED, StatusCode::CONFLICT]);
    let (_, all) = admin_json(&srv, Method::GET, "/admin/identities", None).await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    srv.stop().await;
}

fn pbkdf2_sha256(password: &str, salt: &[u8], iterations: u32) -> String {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut key);
    format!(
        "$pbkdf2-sha256$i={iterations},l=32${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(key)
    )
}

async fn imported_bcrypt_and_pbkdf2_hashes_log_in_and_become_argon2id(srv: TestServer) {
    let hashes = [
        (
            "bcrypt@example.org",
            bcrypt::hash("bcrypt passphrase", 4).unwrap(),
        ),
        (
            "pbkdf2@example.org",
            pbkdf2_sha256("pbkdf2 passphrase", b"pepper-and-salt!", 1000),
        ),
    ];
    for (email, hash) in &hashes {
        let mut body = person(email);
        body["credentials"] = json!({"password": {"config": {"hashed_password": hash}}});
        let created = create(&srv, body).await;
        let id = created["id"].as_str().unwrap().parse().unwrap();
        let identity = srv
            .services()
            .identities
            .get(clavis_types::IdentityId(id))
            .await
            .unwrap();
        assert_eq!(
            srv.password_hash(&identity).await.as_deref(),
            Some(hash.as_str())
        );
        let password = format!("{} passphrase", email.split('@').next().unwrap());
        let (status, wrong) = password_login(&srv, email, "not the passphrase").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(ui_message_ids(&wrong), vec![4000006]);
        assert_eq!(
            srv.password_hash(&identity).await.as_deref(),
            Some(hash.as_str())
        );
        let (status, answer) = password_login(&srv, email, &password).await;
        assert_eq!(status, StatusCode::OK, "{email}: {answer}");
        let upgraded = srv.password_hash(&identity).await.unwrap();
        assert!(upgraded.starts_with("$argon2id$"), "{email}: {upgraded}");
        let (status, _) = password_login(&srv, email, &password).await;
        assert_eq!(status, StatusCode::OK, "{email}: the new hash verifies");
    }
    srv.stop().await;
}

async fn imported_addresses_keep_their_verification_state(srv: TestServer) {
    let mut body = person("verified@example.org");
    body["verifiable_addresses"] = json!([{
        "value": "Verified@Example.org", "via": "email", "verified": true,
        "status": "completed", "verified_at": "2024-01-02T03:04:05Z"
    }]);
    body["recovery_addresses"] = json!([{"value": "verified@example.org", "via": "email"}]);
    let created = create(&srv, body).await;
    let address = &created["verifiable_addresses"][0];
    assert_eq!(address["verified"], true);
    assert_eq!(address["status"], "completed");
    assert_eq!(address["verified_at"], "2024-01-02T03:04:05Z");
    assert_eq!(
        created["recovery_addresses"][0]["value"],
        "verified@example.org"
    );
    let plain = create(&srv, person("unverified@example.org")).await;
    assert_eq!(plain["verifiable_addresses"][0]["verified"], false);
    assert_eq!(plain["verifiable_addresses"][0]["status"], "pending");
    srv.stop().await;
}

async fn list_pages_filters_and_links(srv: TestServer) {
    let mut ids = BTreeSet::new();
    for i in 0..7 {
        let identity = create(&srv, person(&format!("page{i}@example.org"))).await;
        ids.insert(identity["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/admin/identities?page_size=3".to_owned();
    let mut pages = 0;
    loop {
        let response = srv.admin(Method::GET, &path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(link.as_deref().unwrap().contains("rel=\"first\""));
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 3);
        assert!(page.iter().all(|i| i.get("credentials").is_none()));
        seen.extend(page.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match next_link(link.as_deref()) {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), ids);
    assert_eq!(seen.len(), ids.len());

    let (_, found) = admin_json(
        &srv,
        Method::GET,
        "/admin/identities?credentials_identifier=PAGE3@example.org&include_credential=password",
        None,
    )
    .await;
    let found = found.as_array().unwrap();
    assert_eq!(
        found.len(),
        0,
        "identities without credentials have no identifiers"
    );
    let mut body = person("findme@example.org");
    body["credentials"] = json!({"password": {"config": {"password": "find me by name 123"}}});
    let findme = create(&srv, body).await;
    let (_, found) = admin_json(
        &srv,
        Method::GET,
        "/admin/identities?credentials_identifier=FindMe@example.org&include_credential=password",
        None,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], findme["id"]);
    assert_eq!(
        found[0]["credentials"]["password"]["identifiers"],
        json!(["findme@example.org"])
    );
    let (_, similar) = admin_json(
        &srv,
        Method::GET,
        "/admin/identities?preview_credentials_identifier_similar=INDM",
        None,
    )
    .await;
    assert_eq!(similar.as_array().unwrap().len(), 1);
    let (_, wildcard) = admin_json(
        &srv,
        Method::GET,
        "/admin/identities?preview_credentials_identifier_similar=%25",
        None,
    )
    .await;
    assert_eq!(
        wildcard.as_array().unwrap().len(),
        0,
        "% is matched literally"
    );
    let two: Vec<&String> = ids.iter().take(2).collect();
    let (_, by_ids) = admin_json(
        &srv,
        Method::GET,
        &format!("/admin/identities?ids={}&ids={}", two[0], two[1]),
        None,
    )
    .await;
    let by_ids: BTreeSet<&str> = by_ids
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(by_ids, two.iter().map(|s| s.as_str()).collect());
    for bad in [
        "page_size=0",
        "page_size=1001",
        "page_token=nonsense",
        "ids=nope",
        "page=7",
    ] {
        let (status, _) =
            admin_json(&srv, Method::GET, &format!("/admin/identities?{bad}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    srv.stop().await;
}

async fn replace_sets_state_metadata_and_inactive_stops_sessions(srv: TestServer) {
    let mut body = person("replace@example.org");
    body["metadata_public"] = json!({"keep": false});
    body["credentials"] = json!({"password": {"config": {"password": "replace me please 1"}}});
    let created = create(&srv, body).await;
    let id = created["id"].as_str().unwrap();
    let (_, session) = password_login(&srv, "replace@example.org", "replace me please 1").await;
    let token = session["session_token"].as_str().unwrap().to_owned();
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::OK);

    srv.clock.advance(TimeDelta::seconds(5));
    let (status, replaced) = admin_json(
        &srv,
        Method::PUT,
        &format!("/admin/identities/{id}"),
        Some(json!({"schema_id": "default", "state": "inactive",
                    "traits": {"email": "replaced@example.org"},
                    "metadata_admin": {"reason": "left"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["state"], "inactive");
    assert_eq!(replaced["traits"]["email"], "replaced@example.org");
    assert_eq!(
        replaced["metadata_public"],
        Value::Null,
        "left out means cleared"
    );
    assert_eq!(replaced["metadata_admin"], json!({"reason": "left"}));
    assert_eq!(
        replaced["credentials"]["password"]["identifiers"],
        json!(["replaced@example.org"])
    );
    assert_ne!(replaced["state_changed_at"], created["state_changed_at"]);
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::UNAUTHORIZED);
    let (status, refused) =
        password_login(&srv, "replaced@example.org", "replace me please 1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ui_message_ids(&refused), vec![4010011]);

    let (status, _) = admin_json(
        &srv,
        Method::PUT,
        &format!("/admin/identities/{id}"),
        Some(json!({"schema_id": "default", "state": "active",
                    "traits": {"email": "replaced@example.org"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = password_login(&srv, "replaced@example.org", "replace me please 1").await;
    assert_eq!(status, StatusCode::OK, "active again");
    let (status, body) = admin_json(
        &srv,
        Method::PUT,
        &format!("/admin/identities/{id}"),
        Some(json!({"schema_id": "default", "state": "active", "traits": {"email": 5}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = admin_json(
        &srv,
        Method::PUT,
        "/admin/identities/00000000-0000-4000-8000-000000000000",
        Some(json!({"schema_id": "default", "state": "active", "traits": {"email": "a@b.org"}})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    srv.stop().await;
}

async fn json_patch_changes_traits_and_guards_fixed_fields(srv: TestServer) {
    let created = create(&srv, person("patch@example.org")).await;
    let path = format!("/admin/identities/{}", created["id"].as_str().unwrap());
    let (status, patched) = admin_json(
        &srv,
        Method::PATCH,
        &path,
        Some(json!([
            {"op": "replace", "path": "/traits/email", "value": "patched@example.org"},
            {"op": "add", "path": "/metadata_public", "value": {"tier": 2}},
            {"op": "replace", "path": "/verifiable_addresses/0/verified", "value": true},
            {"op": "replace", "path": "/created_at", "value": "2000-01-01T00:00:00Z"},
        ])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["traits"]["email"], "patched@example.org");
    assert_eq!(patched["metadata_public"], json!({"tier": 2}));
    assert_eq!(
        patched["created_at"], created["created_at"],
        "read-only fields are ignored"
    );
    assert_eq!(
        patched["verifiable_addresses"][0]["verified"], false,
        "the address changed with the traits, so nothing carries over"
    );
    let (status, patched) = admin_json(
        &srv,
        Method::PATCH,
        &path,
        Some(json!([{"op": "replace", "path": "/verifiable_addresses/0/verified", "value": true}])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["verifiable_addresses"][0]["verified"], true);
    assert_eq!(patched["verifiable_addresses"][0]["status"], "completed");
    for bad in [
        json!([{"op": "replace", "path": "/id", "value": "00000000-0000-4000-8000-000000000000"}]),
        json!([{"op": "add", "path": "/credentials/password", "value": {}}]),
        json!([{"op": "replace", "path": "/traits/email", "value": "not an address"}]),
        json!([{"op": "replace", "path": "/state", "value": "sleeping"}]),
        json!([{"op": "remove", "path": "/does/not/exist"}]),
        json!([{"op": "test", "path": "/traits/email", "value": "someone@else.org"}]),
        json!({"op": "replace"}),
    ] {
        let (status, body) = admin_json(&srv, Method::PATCH, &path, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {body}");
    }
    let (_, unchanged) = admin_json(&srv, Method::GET, &path, None).await;
    assert_eq!(unchanged["traits"]["email"], "patched@example.org");
    srv.stop().await;
}

async fn batch_creates_each_entry_on_its_own(srv: TestServer) {
    create(&srv, person("already@example.org")).await;
    let (status, body) = admin_json(
        &srv,
        Method::PATCH,
        "/admin/identities",
        Some(json!({"identities": [
            {"patch_id": "00000000-0000-4000-8000-0000000000a1", "create": person("batch1@example.org")},
            {"patch_id": "00000000-0000-4000-8000-0000000000a2", "create": person("already@example.org")},
            {"create": {"schema_id": "default", "traits": {"email": "broken"}}},
            {"patch_id": "00000000-0000-4000-8000-0000000000a4", "create": person("batch2@example.org")},
        ]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["identities"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["action"], "create");
    assert_eq!(
        results[0]["patch_id"],
        "00000000-0000-4000-8000-0000000000a1"
    );
    assert_eq!(results[1]["action"], "error");
    assert_eq!(results[1]["error"]["code"], 409);
    assert_eq!(results[2]["action"], "error");
    assert_eq!(results[2]["error"]["code"], 400);
    assert_eq!(results[3]["action"], "create");
    for created in [&results[0], &results[3]] {
        let id = created["identity"].as_str().unwrap();
        let (status, _) =
            admin_json(&srv, Method::GET, &format!("/admin/identities/{id}"), None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"create": person(&format!("many{i}@example.org"))}))
        .collect();
    let (status, _) = admin_json(
        &srv,
        Method::PATCH,
        "/admin/identities",
        Some(json!({ "identities": too_many })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, all) = admin_json(&srv, Method::GET, "/admin/identities", None).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    srv.stop().await;
}

async fn delete_identity_and_its_sessions(srv: TestServer) {
    let identity = srv.create_identity("gone@example.org").await;
    let (_, token) = srv.issue_session(&identity).await;
    let path = format!("/admin/identities/{}", identity.id);
    let (status, _) = admin_json(&srv, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = admin_json(&srv, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin_json(&srv, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    srv.stop().await;
}

async fn delete_credential_keeps_one_first_factor(srv: TestServer) {
    let mut body = person("creds@example.org");
    body["credentials"] = json!({"password": {"config": {"password": "only first factor 1"}}});
    let created = create(&srv, body).await;
    let id = created["id"].as_str().unwrap();
    let (status, body) = admin_json(
        &srv,
        Method::DELETE,
        &format!("/admin/identities/{id}/credentials/password"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("last first factor")
    );
    let (status, _) = admin_json(
        &srv,
        Method::DELETE,
        &format!("/admin/identities/{id}/credentials/totp"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin_json(
        &srv,
        Method::DELETE,
        &format!("/admin/identities/{id}/credentials/carrier_pigeon"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = password_login(&srv, "creds@example.org", "only first factor 1").await;
    assert_eq!(status, StatusCode::OK, "the password is still there");
    srv.stop().await;
}

async fn sessions_admin_list_get_extend_and_deactivate(srv: TestServer) {
    let alice = srv.create_identity("alice@example.org").await;
    let bob = srv.create_identity("bob@example.org").await;
    let (first, first_token) = srv.issue_session(&alice).await;
    let (second, _) = srv.issue_session(&alice).await;
    let (_, bob_token) = srv.issue_session(&bob).await;

    let (status, listed) = admin_json(
        &srv,
        Method::GET,
        &format!("/admin/identities/{}/sessions", alice.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|s| s["identity"]["id"] == alice.id.to_string())
    );

    let (status, one) = admin_json(
        &srv,
        Method::GET,
        &format!("/admin/sessions/{}?expand=identity", first.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["identity"]["traits"]["email"], "alice@example.org");
    let (_, bare) = admin_json(
        &srv,
        Method::GET,
        &format!("/admin/sessions/{}", first.id),
        None,
    )
    .await;
    assert!(bare.get("identity").is_none(), "{bare}");

    srv.clock.advance(TimeDelta::hours(1));
    let (status, extended) = admin_json(
        &srv,
        Method::PATCH,
        &format!("/admin/sessions/{}/extend", first.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{extended}");
    let old: chrono::DateTime<chrono::Utc> = first.expires_at;
    let new: chrono::DateTime<chrono::Utc> =
        extended["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(new - old, TimeDelta::hours(1));

    let (status, _) = admin_json(
        &srv,
        Method::DELETE,
        &format!("/admin/sessions/{}", first.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(whoami(&srv, &first_token).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = admin_json(
        &srv,
        Method::PATCH,
        &format!("/admin/sessions/{}/extend", first.id),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an ended session is not extended"
    );

    let (_, active) = admin_json(
        &srv,
        Method::GET,
        &format!("/admin/identities/{}/sessions?active=true", alice.id),
        None,
    )
    .await;
    let active: Vec<&str> = active
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(active, vec![second.id.to_string()]);
    let (_, inactive) = admin_json(&srv, Method::GET, "/admin/sessions?active=false", None).await;
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    assert_eq!(inactive[0]["id"], first.id.to_string());
    assert_eq!(inactive[0]["active"], false);

    let (_, all) = admin_json(&srv, Method::GET, "/admin/sessions?page_size=2", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);

    let (status, _) = admin_json(
        &srv,
        Method::DELETE,
        &format!("/admin/identities/{}/sessions", alice.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, after) = admin_json(
        &srv,
        Method::GET,
        &format!("/admin/identities/{}/sessions", alice.id),
        None,
    )
    .await;
    assert_eq!(after, json!([]));
    assert_eq!(
        whoami(&srv, &bob_token).await.0,
        StatusCode::OK,
        "bob is untouched"
    );

    for (method, path, expected) in [
        (
            Method::GET,
            "/admin/sessions/nope".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/admin/sessions/00000000-0000-4000-8000-000000000000".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/admin/sessions/00000000-0000-4000-8000-000000000000".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/admin/identities/00000000-0000-4000-8000-000000000000/sessions".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/admin/sessions?active=maybe".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/admin/sessions?expand=everything".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, _) = admin_json(&srv, method, &path, None).await;
        assert_eq!(status, expected, "{path}");
    }
    srv.stop().await;
}

async fn listing_2500_identities_returns_each_once_while_more_arrive(srv: TestServer) {
    let mut existing = BTreeSet::new();
    for batch in 0..3 {
        let entries: Vec<Value> = (0..1000)
            .take(if batch == 2 { 500 } else { 1000 })
            .map(|i| json!({"create": person(&format!("bulk{batch}-{i}@example.org"))}))
            .collect();
        let (status, body) = admin_json(
            &srv,
            Method::PATCH,
            "/admin/identities",
            Some(json!({ "identities": entries })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        for result in body["identities"].as_array().unwrap() {
            assert_eq!(result["action"], "create", "{result}");
            existing.insert(result["identity"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(existing.len(), 2500);

    let mut seen = Vec::new();
    let mut path = "/admin/identities?page_size=100".to_owned();
    let mut added = 0;
    loop {
        let (status, page) = {
            let response = srv.admin(Method::GET, &path).send().await.unwrap();
            let status = response.status();
            let link = response
                .headers()
                .get("link")
                .map(|v| v.to_str().unwrap().to_owned());
            let page: Vec<Value> = response.json().await.unwrap();
            seen.extend(page.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            (status, next_link(link.as_deref()))
        };
        assert_eq!(status, StatusCode::OK);
        // Identities keep arriving between pages; their ids fall anywhere in the order.
        create(&srv, person(&format!("late{added}@example.org"))).await;
        added += 1;
        match page {
            Some(next) => path = next,
            None => break,
        }
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no identity is listed twice");
    assert!(
        existing.iter().all(|id| unique.contains(id)),
        "every identity that existed throughout is listed"
    );
    srv.stop().await;
}

/// Session checks are remembered for `session.cache.ttl` (5 s); the clock stands still here,
/// so each refusal below comes from the change itself, not from the entry growing stale.
async fn admin_changes_reach_cached_sessions_at_once(srv: TestServer) {
    let mut body = person("cached@example.org");
    body["credentials"] = json!({"password": {"config": {"password": "cached sessions 1"}}});
    let created = create(&srv, body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let login = || password_login(&srv, "cached@example.org", "cached sessions 1");
    let token_of = |session: &Value| session["session_token"].as_str().unwrap().to_owned();

    // Traits changed: the next check shows them.
    let token = token_of(&login().await.1);
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::OK);
    let (status, _) = admin_json(
        &srv,
        Method::PATCH,
        &format!("/admin/identities/{id}"),
        Some(json!([{"op": "replace", "path": "/traits/email", "value": "cached2@example.org"}])),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = whoami(&srv, &token).await;
    assert_eq!(me["identity"]["traits"]["email"], "cached2@example.org");
    let login = || password_login(&srv, "cached2@example.org", "cached sessions 1");

    // One session deactivated.
    let (_, session) = login().await;
    let other = token_of(&session);
    assert_eq!(whoami(&srv, &other).await.0, StatusCode::OK);
    let session_id = session["session"]["id"].as_str().unwrap();
    let (status, _) = admin_json(
        &srv,
        Method::DELETE,
        &format!("/admin/sessions/{session_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(whoami(&srv, &other).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::OK);

    // Every session of the identity deleted.
    let (status, _) = admin_json(
        &srv,
        Method::DELETE,
        &format!("/admin/identities/{id}/sessions"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::UNAUTHORIZED);

    // The identity deleted.
    let token = token_of(&login().await.1);
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::OK);
    let (status, _) = admin_json(
        &srv,
        Method::DELETE,
        &format!("/admin/identities/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(whoami(&srv, &token).await.0, StatusCode::UNAUTHORIZED);
}

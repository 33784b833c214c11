//! `/sessions/whoami` through each carrier, expiry, revocation, and the caller's own sessions.

use chrono::TimeDelta;
use clavis_testkit::{TestServer, db_tests};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

db_tests!(
    whoami_header_token_answers_session,
    whoami_cookie_answers_session,
    whoami_bearer_answers_session,
    whoami_any_method_is_accepted,
    whoami_header_wins_over_cookie_and_bearer,
    whoami_tampered_or_foreign_cookie_answers_401,
    whoami_without_credentials_answers_401_session_inactive,
    whoami_expired_session_answers_401,
    whoami_revoked_session_answers_401,
    whoami_inactive_identity_answers_401,
    sessions_list_shows_only_my_other_active_sessions,
    sessions_list_pages_with_link_header,
    sessions_delete_all_others_counts_and_keeps_current,
    sessions_delete_one_revokes_it,
    sessions_delete_current_answers_400,
    sessions_delete_foreign_or_unknown_answers_404,
    sessions_delete_malformed_id_answers_400,
    sessions_endpoints_without_session_answer_401,
);

async fn expect_unauthorized(request: RequestBuilder) {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 401);
    assert_eq!(body["error"]["id"], "session_inactive");
    assert_eq!(body["error"]["status"], "Unauthorized");
}

async fn whoami_header_token_answers_session(srv: TestServer) {
    let identity = srv.create_identity("Header@Example.org").await;
    let (session, token) = srv.issue_session(&identity).await;
    let response = srv
        .http()
        .get(srv.url("/sessions/whoami"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["x-kratos-authenticated-identity-id"],
        identity.id.to_string().as_str()
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], session.id.to_string());
    assert_eq!(body["active"], true);
    assert_eq!(body["authenticator_assurance_level"], "aal1");
    assert_eq!(body["authentication_methods"][0]["method"], "password");
    assert_eq!(body["authentication_methods"][0]["aal"], "aal1");
    for key in ["expires_at", "authenticated_at", "issued_at"] {
        assert!(
            chrono::DateTime::parse_from_rfc3339(body[key].as_str().unwrap()).is_ok(),
            "{key}"
        );
    }
    assert_eq!(body["devices"][0]["user_agent"], "clavis-testkit");
    assert_eq!(body["devices"][0]["ip_address"], "192.0.2.10");
    let who = &body["identity"];
    assert_eq!(who["id"], identity.id.to_string());
    assert_eq!(who["schema_id"], "default");
    assert_eq!(who["state"], "active");
    assert_eq!(who["traits"]["email"], "Header@Example.org");
    assert_eq!(
        who["verifiable_addresses"][0]["value"],
        "header@example.org"
    );
    assert_eq!(who["verifiable_addresses"][0]["verified"], false);
    assert_eq!(who["verifiable_addresses"][0]["status"], "pending");
    assert_eq!(who["recovery_addresses"][0]["via"], "email");
    assert!(
        who.get("credentials").is_none(),
        "the public view never shows credentials"
    );
    assert!(
        who.get("metadata_admin").is_none(),
        "the public view never shows admin metadata"
    );
    assert!(
        !body.to_string().contains(&token),
        "the token is never echoed"
    );
    srv.stop().await;
}

async fn whoami_cookie_answers_session(srv: TestServer) {
    let identity = srv.create_identity("cookie@example.org").await;
    let (session, token) = srv.issue_session(&identity).await;
    let response = srv
        .http()
        .get(srv.url("/sessions/whoami"))
        .header("Cookie", srv.session_cookie(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], session.id.to_string());
    srv.stop().await;
}

async fn whoami_bearer_answers_session(srv: TestServer) {
    let identity = srv.create_identity("bearer@example.org").await;
    let (session, token) = srv.issue_session(&identity).await;
    let response = srv
        .http()
        .get(srv.url("/sessions/whoami"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], session.id.to_string());
    srv.stop().await;
}

async fn whoami_any_method_is_accepted(srv: TestServer) {
    let identity = srv.create_identity("methods@example.org").await;
    let (_, token) = srv.issue_session(&identity).await;
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::HEAD,
    ] {
        let response = srv
            .http()
            .request(method.clone(), srv.url("/sessions/whoami"))
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{method}");
    }
    srv.stop().await;
}

async fn whoami_header_wins_over_cookie_and_bearer(srv: TestServer) {
    let alice = srv.create_identity("alice@example.org").await;
    let bob = srv.create_identity("bob@example.org").await;
    let (_, alice_token) = srv.issue_session(&alice).await;
    let (_, bob_token) = srv.issue_session(&bob).await;
    let url = srv.url("/sessions/whoami");

    let body: Value = srv
        .http()
        .get(url.clone())
        .header("X-Session-Token", &alice_token)
        .header("Cookie", srv.session_cookie(&bob_token))
        .bearer_auth(&bob_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["identity"]["id"],
        alice.id.to_string(),
        "the header decides"
    );

    let body: Value = srv
        .http()
        .get(url.clone())
        .header("Cookie", srv.session_cookie(&bob_token))
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["identity"]["id"],
        bob.id.to_string(),
        "the cookie comes before Bearer"
    );

    // A bad credential in the first carrier is not rescued by a good one in a later carrier.
    expect_unauthorized(
        srv.http()
            .get(url)
            .header("X-Session-Token", "clv_st_unknown")
            .header("Cookie", srv.session_cookie(&alice_token)),
    )
    .await;
    srv.stop().await;
}

async fn whoami_tampered_or_foreign_cookie_answers_401(srv: TestServer) {
    let identity = srv.create_identity("tamper@example.org").await;
    let (_, token) = srv.issue_session(&identity).await;
    let url = srv.url("/sessions/whoami");
    // The raw token without the signature, and a token signed with another secret.
    expect_unauthorized(
        srv.http()
            .get(url.clone())
            .header("Cookie", format!("clavis_session={token}")),
    )
    .await;
    let cookie = srv.session_cookie(&token);
    let (value, tag) = cookie.rsplit_once('.').unwrap();
    let flipped = format!("{value}.{}", tag.chars().rev().collect::<String>());
    expect_unauthorized(srv.http().get(url).header("Cookie", flipped)).await;
    srv.stop().await;
}

async fn whoami_without_credentials_answers_401_session_inactive(srv: TestServer) {
    let url = srv.url("/sessions/whoami");
    expect_unauthorized(srv.http().get(url.clone())).await;
    expect_unauthorized(srv.http().get(url.clone()).header("X-Session-Token", "")).await;
    expect_unauthorized(
        srv.http()
            .get(url.clone())
            .header("Authorization", "Basic Og=="),
    )
    .await;
    expect_unauthorized(srv.http().get(url).bearer_auth("garbage")).await;
    srv.stop().await;
}

async fn whoami_expired_session_answers_401(srv: TestServer) {
    let identity = srv.create_identity("expiry@example.org").await;
    let (_, token) = srv.issue_session(&identity).await;
    let request = || {
        srv.http()
            .get(srv.url("/sessions/whoami"))
            .header("X-Session-Token", &token)
    };
    srv.clock
        .advance(TimeDelta::hours(24) - TimeDelta::seconds(1));
    assert_eq!(request().send().await.unwrap().status(), StatusCode::OK);
    srv.clock.advance(TimeDelta::seconds(1));
    expect_unauthorized(request()).await;
    srv.stop().await;
}

async fn whoami_revoked_session_answers_401(srv: TestServer) {
    let identity = srv.create_identity("revoked@example.org").await;
    let (_, current) = srv.issue_session(&identity).await;
    let (other, other_token) = srv.issue_session(&identity).await;
    let revoke = srv
        .http()
        .delete(srv.url(&format!("/sessions/{}", other.id)))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    expect_unauthorized(
        srv.http()
            .get(srv.url("/sessions/whoami"))
            .header("X-Session-Token", &other_token),
    )
    .await;
    srv.stop().await;
}

async fn whoami_inactive_identity_answers_401(srv: TestServer) {
    let identity = srv
        .create_identity_from(
            serde_json::json!({"email": "inactive@example.org"}),
            clavis_types::identity::IdentityState::Inactive,
        )
        .await
        .unwrap();
    let (_, token) = srv.issue_session(&identity).await;
    expect_unauthorized(
        srv.http()
            .get(srv.url("/sessions/whoami"))
            .header("X-Session-Token", &token),
    )
    .await;
    srv.stop().await;
}

async fn list(srv: &TestServer, token: &str, query: &str) -> (Vec<Value>, Option<String>) {
    let response = srv
        .http()
        .get(srv.url(&format!("/sessions{query}")))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.json::<Vec<Value>>().await.unwrap(), link)
}

async fn sessions_list_shows_only_my_other_active_sessions(srv: TestServer) {
    let me = srv.create_identity("me@example.org").await;
    let someone = srv.create_identity("someone@example.org").await;
    let (_, current) = srv.issue_session(&me).await;
    let (other, _) = srv.issue_session(&me).await;
    srv.issue_session(&someone).await;
    let (sessions, link) = list(&srv, &current, "").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["id"], other.id.to_string());
    assert_eq!(sessions[0]["identity"]["id"], me.id.to_string());
    assert_eq!(clavis_testkit::next_link(link.as_deref()), None);
    srv.stop().await;
}

async fn sessions_list_pages_with_link_header(srv: TestServer) {
    let me = srv.create_identity("pages@example.org").await;
    let (_, current) = srv.issue_session(&me).await;
    let mut expected = Vec::new();
    for _ in 0..5 {
        expected.push(srv.issue_session(&me).await.0.id.to_string());
    }
    expected.sort();
    let mut seen = Vec::new();
    let mut query = "?page_size=2".to_owned();
    loop {
        let (page, link) = list(&srv, &current, &query).await;
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|s| s["id"].as_str().unwrap().to_owned()));
        assert!(link.as_deref().is_some_and(|l| l.contains("rel=\"first\"")));
        let Some(target) = clavis_testkit::next_link(link.as_deref()) else {
            break;
        };
        query = target.trim_start_matches("/sessions").to_owned();
    }
    assert_eq!(seen, expected);
    let bad = srv
        .http()
        .get(srv.url("/sessions?page_size=0"))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    srv.stop().await;
}

async fn sessions_delete_all_others_counts_and_keeps_current(srv: TestServer) {
    let me = srv.create_identity("purge@example.org").await;
    let someone = srv.create_identity("bystander@example.org").await;
    let (_, current) = srv.issue_session(&me).await;
    let (_, other1) = srv.issue_session(&me).await;
    let (_, other2) = srv.issue_session(&me).await;
    let (_, bystander) = srv.issue_session(&someone).await;
    let response = srv
        .http()
        .delete(srv.url("/sessions"))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        serde_json::json!({"count": 2})
    );
    let whoami = |token: String| {
        srv.http()
            .get(srv.url("/sessions/whoami"))
            .header("X-Session-Token", token)
            .send()
    };
    assert_eq!(
        whoami(current.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        whoami(other1).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        whoami(other2).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        whoami(bystander).await.unwrap().status(),
        StatusCode::OK,
        "other identities are untouched"
    );
    srv.stop().await;
}

async fn sessions_delete_one_revokes_it(srv: TestServer) {
    let me = srv.create_identity("one@example.org").await;
    let (_, current) = srv.issue_session(&me).await;
    let (other, _) = srv.issue_session(&me).await;
    let url = srv.url(&format!("/sessions/{}", other.id));
    let first = srv
        .http()
        .delete(url.clone())
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    let again = srv
        .http()
        .delete(url)
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "a revoked session cannot be revoked twice"
    );
    let (sessions, _) = list(&srv, &current, "").await;
    assert!(sessions.is_empty());
    srv.stop().await;
}

async fn sessions_delete_current_answers_400(srv: TestServer) {
    let me = srv.create_identity("current@example.org").await;
    let (session, token) = srv.issue_session(&me).await;
    let response = srv
        .http()
        .delete(srv.url(&format!("/sessions/{}", session.id)))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("currently using")
    );
    let still = srv
        .http()
        .get(srv.url("/sessions/whoami"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::OK);
    srv.stop().await;
}

async fn sessions_delete_foreign_or_unknown_answers_404(srv: TestServer) {
    let me = srv.create_identity("mine@example.org").await;
    let them = srv.create_identity("theirs@example.org").await;
    let (_, token) = srv.issue_session(&me).await;
    let (theirs, their_token) = srv.issue_session(&them).await;
    for id in [theirs.id.to_string(), uuid::Uuid::new_v4().to_string()] {
        let response = srv
            .http()
            .delete(srv.url(&format!("/sessions/{id}")))
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let still = srv
        .http()
        .get(srv.url("/sessions/whoami"))
        .header("X-Session-Token", &their_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "nobody revokes another identity's session"
    );
    srv.stop().await;
}

async fn sessions_delete_malformed_id_answers_400(srv: TestServer) {
    let me = srv.create_identity("malformed@example.org").await;
    let (_, token) = srv.issue_session(&me).await;
    let response = srv
        .http()
        .delete(srv.url("/sessions/not-a-uuid"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    srv.stop().await;
}

async fn sessions_endpoints_without_session_answer_401(srv: TestServer) {
    expect_unauthorized(srv.http().get(srv.url("/sessions"))).await;
    expect_unauthorized(srv.http().delete(srv.url("/sessions"))).await;
    expect_unauthorized(
        srv.http()
            .delete(srv.url(&format!("/sessions/{}", uuid::Uuid::new_v4()))),
    )
    .await;
    srv.stop().await;
}

//! The OCS endpoints Nextcloud clients call around Login Flow v2: `cloud/user` and
//! `cloud/capabilities` in both envelope versions and formats, `getapppassword` (the account
//! password for an app password, never an app password for another), `DELETE apppassword`.

use crate::app_passwords::basic;
use crate::device_approval::{approve_as, init};
use crate::ui::PASSWORD;
use clavis_testkit::{TestServer, db_tests};
use reqwest::{Method, StatusCode};
use serde_json::Value;

db_tests!(
    ocs_cloud_user_answers_the_owner_in_both_versions_and_formats,
    ocs_cloud_user_takes_the_session_cookie_only_with_ocs_api_request,
    ocs_capabilities_are_public,
    ocs_get_app_password_trades_the_account_password_and_refuses_app_passwords,
    ocs_delete_app_password_revokes_the_one_in_use,
);

async fn ocs(
    srv: &TestServer,
    method: Method,
    path: &str,
    authorization: Option<&str>,
) -> (StatusCode, String) {
    let mut request = srv
        .http()
        .request(method, srv.url(path))
        .header("OCS-APIRequest", "true");
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// An approved app: its Basic header and the poll's answer.
async fn app(srv: &TestServer, email: &str) -> (String, Value) {
    let credentials = approve_as(srv, &init(srv, "Nextcloud Desktop").await, email).await;
    let header = basic(
        credentials["loginName"].as_str().unwrap(),
        credentials["appPassword"].as_str().unwrap(),
    );
    (header, credentials)
}

async fn ocs_cloud_user_answers_the_owner_in_both_versions_and_formats(srv: TestServer) {
    let (auth, _) = app(&srv, "user@example.org").await;
    let (status, body) = ocs(
        &srv,
        Method::GET,
        "/ocs/v1.php/cloud/user?format=json",
        Some(&auth),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v1 = json(&body);
    assert_eq!(v1["ocs"]["meta"]["status"], "ok");
    assert_eq!(v1["ocs"]["meta"]["statuscode"], 100);
    assert_eq!(v1["ocs"]["meta"]["totalitems"], "");
    assert_eq!(v1["ocs"]["data"]["email"], "user@example.org");
    let id = v1["ocs"]["data"]["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let response = srv
        .http()
        .get(srv.url("/ocs/v2.php/cloud/user"))
        .header("Authorization", &auth)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let v2: Value = response.json().await.unwrap();
    assert_eq!(v2["ocs"]["meta"]["statuscode"], 200);
    assert!(v2["ocs"]["meta"].get("totalitems").is_none());
    assert_eq!(v2["ocs"]["data"]["id"], id.as_str());

    let (status, xml) = ocs(&srv, Method::GET, "/ocs/v1.php/cloud/user", Some(&auth)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.starts_with("<?xml version=\"1.0\"?>"), "{xml}");
    assert!(xml.contains("<statuscode>100</statuscode>"));
    assert!(xml.contains(&format!("<id>{id}</id>")));

    let (status, body) = ocs(
        &srv,
        Method::GET,
        "/ocs/v1.php/cloud/user?format=json",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&body)["ocs"]["meta"]["statuscode"], 997);
    let (status, body) = ocs(
        &srv,
        Method::GET,
        "/ocs/v2.php/cloud/user?format=json",
        Some("Basic Og=="),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&body)["ocs"]["meta"]["status"], "failure");
}

async fn ocs_cloud_user_takes_the_session_cookie_only_with_ocs_api_request(srv: TestServer) {
    let browser = srv.browser();
    crate::ui::register(&srv, &browser, "cookie@example.org").await;
    let url = srv.url("/ocs/v2.php/cloud/user?format=json");
    let response = browser.get(url.clone()).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "a cross-site request cannot use the cookie"
    );
    let response = browser
        .get(url)
        .header("OCS-APIRequest", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["data"]["email"], "cookie@example.org");
}

async fn ocs_capabilities_are_public(srv: TestServer) {
    let (status, body) = ocs(
        &srv,
        Method::GET,
        "/ocs/v1.php/cloud/capabilities?format=json",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let body = json(&body);
    assert_eq!(body["ocs"]["data"]["version"]["major"], 28);
    assert!(body["ocs"]["data"]["capabilities"]["core"].is_object());
}

async fn ocs_get_app_password_trades_the_account_password_and_refuses_app_passwords(
    srv: TestServer,
) {
    let registered = crate::native::register(&srv, "old@example.org", PASSWORD).await;
    let identity = registered["identity"]["id"].as_str().unwrap().to_owned();
    let response = srv
        .http()
        .get(srv.url("/ocs/v2.php/core/getapppassword?format=json"))
        .header("OCS-APIRequest", "true")
        .header("User-Agent", "Old sync client")
        .header("Authorization", basic("old@example.org", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let app_password = body["ocs"]["data"]["apppassword"].as_str().unwrap();
    assert_eq!(app_password.len(), 72);
    let (status, session) = crate::native::whoami(&srv, app_password).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["client"]["name"], "Old sync client");

    let sessions: Value = srv
        .admin(
            Method::GET,
            &format!("/admin/sessions?identity_id={identity}&active=true"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        sessions.as_array().unwrap().len(),
        1,
        "only the registration's session; the password check leaves none: {sessions}"
    );

    let with_app = basic("old@example.org", app_password);
    let (status, body) = ocs(
        &srv,
        Method::GET,
        "/ocs/v2.php/core/getapppassword?format=json",
        Some(&with_app),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json(&body)["ocs"]["meta"]["message"],
        "You cannot request an new apppassword with an apppassword"
    );
    let (status, body) = ocs(
        &srv,
        Method::GET,
        "/ocs/v1.php/core/getapppassword?format=json",
        Some(&with_app),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "version 1 answers 200 for failures");
    assert_eq!(json(&body)["ocs"]["meta"]["statuscode"], 403);
    let wrong = basic("old@example.org", "not the password");
    let (status, _) = ocs(
        &srv,
        Method::GET,
        "/ocs/v2.php/core/getapppassword",
        Some(&wrong),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn ocs_delete_app_password_revokes_the_one_in_use(srv: TestServer) {
    let (auth, credentials) = app(&srv, "remove@example.org").await;
    let (status, body) = ocs(
        &srv,
        Method::DELETE,
        "/ocs/v2.php/core/apppassword?format=json",
        Some(&auth),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = credentials["appPassword"].as_str().unwrap();
    assert_eq!(
        crate::native::whoami(&srv, secret).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = ocs(
        &srv,
        Method::DELETE,
        "/ocs/v2.php/core/apppassword",
        Some(&auth),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "gone");

    let token = crate::native::register(&srv, "plain@example.org", PASSWORD).await["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = ocs(
        &srv,
        Method::DELETE,
        "/ocs/v2.php/core/apppassword?format=json",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json(&body)["ocs"]["meta"]["message"],
        "no app password in use"
    );
}

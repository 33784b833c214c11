//! Browser (plain HTML forms, redirects) and single-page-app (JSON) transports of login and
//! registration: CSRF, cookies, redirects, `return_to`.

use crate::native::{node, register, ui_message_ids};
use chrono::TimeDelta;
use clavis_testkit::{TestServer, db_tests};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

db_tests!(
    browser_form_registration_then_login_work_without_javascript,
    browser_submit_without_or_with_wrong_csrf_is_refused_as_csrf_violation,
    browser_flow_read_without_its_cookie_answers_403,
    browser_refused_form_redirects_back_to_the_ui,
    browser_expired_flow_redirects_to_a_replacement,
    browser_with_session_redirects_away_or_answers_session_already_available,
    spa_login_answers_json_sets_cookie_and_no_token,
    spa_refused_login_answers_400_flow,
    return_to_allowed_is_followed_and_foreign_is_refused,
);

pub(crate) fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Starts a browser flow like a browser does (following nothing), then reads it as the UI would.
pub(crate) async fn start(srv: &TestServer, browser: &Client, kind: &str, query: &str) -> Value {
    let response = browser
        .get(srv.url(&format!("/self-service/{kind}/browser{query}")))
        .header("Accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    assert!(
        target.starts_with(srv.url(&format!("/ui/{kind}?flow=")).as_str()),
        "{target}"
    );
    let id = target.rsplit('=').next().unwrap().to_owned();
    let flow = browser
        .get(srv.url(&format!("/self-service/{kind}/flows?id={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(flow.status(), StatusCode::OK);
    flow.json().await.unwrap()
}

pub(crate) fn csrf(flow: &Value) -> String {
    node(flow, "csrf_token")["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn post_form(
    browser: &Client,
    flow: &Value,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(fields)
        .send()
        .await
        .unwrap()
}

pub async fn whoami_status(srv: &TestServer, browser: &Client) -> StatusCode {
    browser
        .get(srv.url("/sessions/whoami"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn browser_form_registration_then_login_work_without_javascript(srv: TestServer) {
    let browser = srv.browser();
    let flow = start(&srv, &browser, "registration", "").await;
    assert_eq!(flow["type"], "browser");
    let token = csrf(&flow);
    let response = post_form(
        &browser,
        &flow,
        &[
            ("csrf_token", &token),
            ("traits.email", "form@example.org"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), srv.url("/ui/welcome").as_str());
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("clavis_session="));
    let cookie = cookie.expect("a session cookie is set").to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "development mode on http: {cookie}"
    );
    assert_eq!(whoami_status(&srv, &browser).await, StatusCode::OK);

    let other = srv.browser();
    let login = start(&srv, &other, "login", "").await;
    assert_eq!(node(&login, "csrf_token")["attributes"]["type"], "hidden");
    let response = post_form(
        &other,
        &login,
        &[
            ("csrf_token", &csrf(&login)),
            ("identifier", "form@example.org"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(whoami_status(&srv, &other).await, StatusCode::OK);
    srv.stop().await;
}

/// Follows a redirect to the error page and reads the error it names, as the page does.
pub async fn error_page(srv: &TestServer, response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    let prefix = format!("{}?id=", srv.url("/ui/error"));
    let id = target
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("not the error page: {target}"));
    let read = srv
        .http()
        .get(srv.url(&format!("/self-service/errors?id={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let kept: Value = read.json().await.unwrap();
    assert_eq!(kept["id"], id);
    kept
}

async fn browser_submit_without_or_with_wrong_csrf_is_refused_as_csrf_violation(srv: TestServer) {
    register(&srv, "csrf@example.org", "correct horse battery").await;
    let browser = srv.browser();
    let flow = start(&srv, &browser, "login", "").await;
    let fields = |token: &'static str| {
        vec![
            ("csrf_token", token),
            ("identifier", "csrf@example.org"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ]
    };
    for token in ["", "forged-token"] {
        // A plain form cannot show JSON: the browser goes to the error page.
        let response = post_form(&browser, &flow, &fields(token)).await;
        let kept = error_page(&srv, response).await;
        assert_eq!(kept["error"]["id"], "security_csrf_violation", "{token:?}");
        assert_eq!(kept["error"]["code"], 403);
    }
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .form(&fields("forged-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "JSON callers get the error"
    );
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["id"], "security_csrf_violation");
    // The right token from another browser (no CSRF cookie) is refused as well.
    let stranger = srv.browser();
    let token = csrf(&flow);
    let response = stranger
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Origin", srv.url("/").origin().ascii_serialization())
        .form(&[
            ("csrf_token", token.as_str()),
            ("identifier", "csrf@example.org"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    let kept = error_page(&srv, response).await;
    assert_eq!(kept["error"]["id"], "security_csrf_violation");
    assert_eq!(
        whoami_status(&srv, &stranger).await,
        StatusCode::UNAUTHORIZED
    );
    // The header works as well as the field.
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("X-CSRF-Token", &token)
        .header("Accept", "application/json")
        .json(&json!({"identifier": "csrf@example.org", "password": "correct horse battery", "method": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    srv.stop().await;
}

async fn browser_flow_read_without_its_cookie_answers_403(srv: TestServer) {
    let browser = srv.browser();
    let flow = start(&srv, &browser, "registration", "").await;
    let id = flow["id"].as_str().unwrap();
    let stranger = srv
        .http()
        .get(srv.url(&format!("/self-service/registration/flows?id={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    let error: Value = stranger.json().await.unwrap();
    assert_eq!(error["error"]["id"], "security_csrf_violation");
    srv.stop().await;
}

async fn browser_refused_form_redirects_back_to_the_ui(srv: TestServer) {
    let browser = srv.browser();
    let flow = start(&srv, &browser, "login", "").await;
    let response = post_form(
        &browser,
        &flow,
        &[
            ("csrf_token", &csrf(&flow)),
            ("identifier", "nobody@example.org"),
            ("password", "whatever pass"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id = flow["id"].as_str().unwrap();
    assert_eq!(
        location(&response),
        srv.url(&format!("/ui/login?flow={id}")).as_str()
    );
    let shown: Value = browser
        .get(srv.url(&format!("/self-service/login/flows?id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ui_message_ids(&shown), [4000006]);
    srv.stop().await;
}

async fn browser_expired_flow_redirects_to_a_replacement(srv: TestServer) {
    register(&srv, "late-browser@example.org", "correct horse battery").await;
    let browser = srv.browser();
    let flow = start(&srv, &browser, "login", "").await;
    srv.clock.advance(TimeDelta::hours(2));
    let response = post_form(
        &browser,
        &flow,
        &[
            ("csrf_token", &csrf(&flow)),
            ("identifier", "late-browser@example.org"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    let new_id = target.rsplit('=').next().unwrap().to_owned();
    assert_ne!(new_id, flow["id"].as_str().unwrap());
    let fresh: Value = browser
        .get(srv.url(&format!("/self-service/login/flows?id={new_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = post_form(
        &browser,
        &fresh,
        &[
            ("csrf_token", &csrf(&fresh)),
            ("identifier", "late-browser@example.org"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(whoami_status(&srv, &browser).await, StatusCode::OK);
    srv.stop().await;
}

async fn sign_in(srv: &TestServer, browser: &Client, email: &str) {
    let flow = start(srv, browser, "registration", "").await;
    let response = post_form(
        browser,
        &flow,
        &[
            ("csrf_token", &csrf(&flow)),
            ("traits.email", email),
            ("password", "correct horse battery"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn browser_with_session_redirects_away_or_answers_session_already_available(srv: TestServer) {
    let browser = srv.browser();
    sign_in(&srv, &browser, "present@example.org").await;
    let html = browser
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&html), srv.url("/ui/welcome").as_str());
    let spa = browser
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(spa.status(), StatusCode::BAD_REQUEST);
    let error: Value = spa.json().await.unwrap();
    assert_eq!(error["error"]["id"], "session_already_available");
    srv.stop().await;
}

async fn spa_login_answers_json_sets_cookie_and_no_token(srv: TestServer) {
    register(&srv, "spa@example.org", "correct horse battery").await;
    let browser = srv.browser();
    let created = browser
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    assert!(
        created
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("csrf_token_"))
    );
    let flow: Value = created.json().await.unwrap();
    assert_eq!(flow["type"], "browser");
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "identifier": "spa@example.org", "password": "correct horse battery", "csrf_token": csrf(&flow)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("clavis_session="))
    );
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer.get("session_token").is_none(),
        "browsers get a cookie, never a token"
    );
    assert_eq!(
        answer["session"]["identity"]["traits"]["email"],
        "spa@example.org"
    );
    assert_eq!(answer["continue_with"][0]["action"], "redirect_browser_to");
    assert_eq!(whoami_status(&srv, &browser).await, StatusCode::OK);
    srv.stop().await;
}

async fn spa_refused_login_answers_400_flow(srv: TestServer) {
    let browser = srv.browser();
    let flow: Value = browser
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = browser
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "identifier": "ghost@example.org", "password": "nope nope nope", "csrf_token": csrf(&flow)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(ui_message_ids(&answer), [4000006]);
    assert_eq!(
        node(&answer, "csrf_token")["attributes"]["value"],
        csrf(&flow).as_str()
    );
    srv.stop().await;
}

async fn return_to_allowed_is_followed_and_foreign_is_refused(srv: TestServer) {
    register(&srv, "return@example.org", "correct horse battery").await;
    let browser = srv.browser();
    let allowed = srv.url("/ui/welcome?tab=security");
    let query = format!("?return_to={}", url_escape(allowed.as_str()));
    let flow = start(&srv, &browser, "login", &query).await;
    assert_eq!(flow["return_to"], allowed.as_str());
    let response = post_form(
        &browser,
        &flow,
        &[
            ("csrf_token", &csrf(&flow)),
            ("identifier", "return@example.org"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(location(&response), allowed.as_str());

    for kind in ["login", "registration"] {
        let response = srv
            .browser()
            .get(srv.url(&format!(
                "/self-service/{kind}/browser?return_to=https%3A%2F%2Fevil.example.net%2F"
            )))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{kind}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(
            error["error"]["id"],
            "self_service_flow_return_to_forbidden"
        );
    }
    srv.stop().await;
}

fn url_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn cookies_are_secure_outside_development_mode() {
    let srv = TestServer::start_with(clavis_testkit::Engine::Sqlite, |config| config.dev = false)
        .await
        .unwrap()
        .unwrap();
    let response = srv
        .http()
        .get(srv.url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let csrf_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("csrf_token_"))
        .unwrap();
    assert!(csrf_cookie.contains("Secure"), "{csrf_cookie}");
    assert!(csrf_cookie.contains("HttpOnly"), "{csrf_cookie}");
    srv.stop().await;
}

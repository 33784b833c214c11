//! Clavis' own pages through plain HTTP, as a browser without JavaScript uses them: each page
//! renders its flow, forms post to the engine, redirects lead back to the pages.

use clavis_testkit::{TestServer, db_tests};
use reqwest::{Client, StatusCode};

db_tests!(
    ui_pages_register_sign_out_and_sign_in_without_javascript,
    ui_wrong_password_shows_4000006_and_german_follows_accept_language,
    ui_pages_carry_security_headers_with_a_fresh_nonce,
    ui_welcome_revokes_another_session_only_with_its_csrf_token,
    ui_error_page_shows_the_kept_error,
    ui_pages_without_a_usable_flow_start_a_new_one,
);

pub const PASSWORD: &str = "correct horse battery";

/// Follows redirects by hand (the client keeps cookies) and returns the last URL and page.
pub async fn open(browser: &Client, url: &str) -> (String, StatusCode, String) {
    let mut url = url.to_owned();
    for _ in 0..10 {
        let response = browser.get(&url).send().await.unwrap();
        if response.status() == StatusCode::SEE_OTHER || response.status() == StatusCode::FOUND {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            url = reqwest::Url::parse(&url)
                .unwrap()
                .join(&location)
                .unwrap()
                .to_string();
            continue;
        }
        let status = response.status();
        return (url, status, response.text().await.unwrap());
    }
    panic!("too many redirects from {url}");
}

/// The decoded value of `attribute` in the first tag that contains `marker`.
pub fn attribute(html: &str, marker: &str, attribute: &str) -> String {
    let tag_start = html[..html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))]
        .rfind('<')
        .unwrap();
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>').unwrap()];
    let needle = format!("{attribute}=\"");
    let start = tag.find(&needle).unwrap() + needle.len();
    let raw = &tag[start..start + tag[start..].find('"').unwrap()];
    raw.replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
}

/// Posts the form of `group` on `html` with `fields` (plus its hidden CSRF token) and follows
/// the redirects.
pub async fn submit(
    browser: &Client,
    html: &str,
    group: &str,
    fields: &[(&str, &str)],
) -> (String, StatusCode, String) {
    let form_marker = format!("data-group=\"{group}\"");
    let form = &html[html
        .find(&form_marker)
        .unwrap_or_else(|| panic!("no {group} form in {html}"))..];
    let action = attribute(html, &form_marker, "action");
    let csrf = attribute(form, "name=\"csrf_token\"", "value");
    let mut body: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
    body.extend_from_slice(fields);
    let response = browser.post(&action).form(&body).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a form post answers with a redirect"
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let next = reqwest::Url::parse(&action)
        .unwrap()
        .join(&location)
        .unwrap();
    open(browser, next.as_str()).await
}

pub async fn register(srv: &TestServer, browser: &Client, email: &str) -> String {
    let (_, status, page) = open(browser, srv.url("/ui/registration").as_str()).await;
    assert_eq!(status, StatusCode::OK);
    let (url, status, welcome) = submit(
        browser,
        &page,
        "password",
        &[
            ("traits.email", email),
            ("password", PASSWORD),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{url}: {welcome}");
    assert!(url.ends_with("/ui/welcome"), "{url}");
    welcome
}

async fn ui_pages_register_sign_out_and_sign_in_without_javascript(srv: TestServer) {
    let browser = srv.browser();
    let welcome = register(&srv, &browser, "page@example.org").await;
    assert!(
        welcome.contains(r#"data-testid="identifier">page@example.org<"#),
        "{welcome}"
    );
    assert!(welcome.contains(r#"data-testid="aal">aal1<"#));
    assert!(welcome.contains("password (aal1"));
    // Sign out through the confirmation page.
    let (_, status, confirm) = open(&browser, srv.url("/ui/logout").as_str()).await;
    assert_eq!(status, StatusCode::OK);
    let token = attribute(&confirm, "name=\"token\"", "value");
    let mut logout = srv.url("/self-service/logout");
    logout.query_pairs_mut().append_pair("token", &token);
    open(&browser, logout.as_str()).await;
    let (url, _, _) = open(&browser, srv.url("/ui/welcome").as_str()).await;
    assert!(
        url.contains("/ui/login?flow="),
        "signed out, the account page asks to sign in: {url}"
    );
    // Sign in again.
    let (_, _, login) = open(&browser, srv.url("/ui/login").as_str()).await;
    let (url, status, welcome) = submit(
        &browser,
        &login,
        "password",
        &[
            ("identifier", "page@example.org"),
            ("password", PASSWORD),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(url.ends_with("/ui/welcome"), "{url}");
    assert!(welcome.contains("page@example.org"));
    // Settings: change the password, sign in with it.
    let (url, status, settings) =
        open(&browser, srv.url("/self-service/settings/browser").as_str()).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    assert!(url.contains("/ui/settings?flow="));
    let (_, status, saved) = submit(
        &browser,
        &settings,
        "password",
        &[
            ("password", "a brand new passphrase"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(saved.contains(r#"data-message-id="1050001""#), "{saved}");
}

async fn ui_wrong_password_shows_4000006_and_german_follows_accept_language(srv: TestServer) {
    let browser = srv.browser();
    register(&srv, &browser, "wrong@example.org").await;
    let other = srv.browser();
    let (_, _, login) = open(&other, srv.url("/ui/login").as_str()).await;
    let (url, status, refused) = submit(
        &other,
        &login,
        "password",
        &[
            ("identifier", "wrong@example.org"),
            ("password", "not the password"),
            ("method", "password"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(url.contains("/ui/login?flow="), "{url}");
    assert!(
        refused.contains(r#"data-message-id="4000006""#),
        "{refused}"
    );
    assert!(
        refused.contains(r#"value="wrong@example.org""#),
        "the identifier is kept"
    );

    let german = srv.browser();
    let response = german
        .get(srv.url("/self-service/login/browser"))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let page = german
        .get(&location)
        .header("Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<html lang="de">"#));
    assert!(page.contains("<h1>Anmelden</h1>"));
    assert!(page.contains(">Passwort</label>"));
}

async fn ui_pages_carry_security_headers_with_a_fresh_nonce(srv: TestServer) {
    let browser = srv.browser();
    let response = browser
        .get(srv.url("/self-service/registration/browser"))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let response = browser.get(&location).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let policy = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("default-src 'none'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        let html = response.text().await.unwrap();
        let nonce = attribute(&html, "style nonce=", "nonce");
        assert!(
            policy.contains(&format!("style-src 'nonce-{nonce}'")),
            "{policy}"
        );
        assert!(!html.contains("<link"), "no external style sheets or fonts");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1]);
}

async fn ui_welcome_revokes_another_session_only_with_its_csrf_token(srv: TestServer) {
    let browser = srv.browser();
    let welcome = register(&srv, &browser, "devices@example.org").await;
    assert!(
        !welcome.contains(r#"name="session_id""#),
        "only the current session"
    );
    let whoami: serde_json::Value = browser
        .get(srv.url("/sessions/whoami"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id: uuid::Uuid = whoami["identity"]["id"].as_str().unwrap().parse().unwrap();
    let identity = srv.services().identities.get(id.into()).await.unwrap();
    let (other, other_token) = srv.issue_session(&identity).await;
    let (_, _, welcome) = open(&browser, srv.url("/ui/welcome").as_str()).await;
    assert_eq!(welcome.matches(r#"data-testid="session""#).count(), 2);
    let listed = attribute(&welcome, r#"name="session_id""#, "value");
    assert_eq!(listed, other.id.to_string());
    let action = srv.url("/ui/welcome/sessions/revoke");
    let refused = browser
        .post(action.clone())
        .form(&[("csrf_token", "forged"), ("session_id", listed.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        crate::native::whoami(&srv, &other_token).await.0,
        StatusCode::OK
    );
    let csrf = attribute(&welcome, r#"name="csrf_token""#, "value");
    let done = browser
        .post(action)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("session_id", listed.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        crate::native::whoami(&srv, &other_token).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, _, welcome) = open(&browser, srv.url("/ui/welcome").as_str()).await;
    assert_eq!(welcome.matches(r#"data-testid="session""#).count(), 1);
}

async fn ui_error_page_shows_the_kept_error(srv: TestServer) {
    let browser = srv.browser();
    let (_, _, page) = open(&browser, srv.url("/ui/login").as_str()).await;
    let action = attribute(&page, "data-group=\"password\"", "action");
    // A plain form post without the CSRF token is kept as an error and shown on the page.
    let response = browser
        .post(&action)
        .form(&[
            ("identifier", "x@example.org"),
            ("password", "whatever"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/ui/error?id="), "{location}");
    let (_, status, error) = open(&browser, &location).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        error.contains(r#"data-error-id="security_csrf_violation""#),
        "{error}"
    );
    let (_, status, missing) = open(
        &browser,
        srv.url("/ui/error?id=00000000-0000-4000-8000-000000000000")
            .as_str(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing.contains("does not exist"));
}

async fn ui_pages_without_a_usable_flow_start_a_new_one(srv: TestServer) {
    let browser = srv.browser();
    for (page, init) in [
        (
            "/ui/login?flow=not-a-flow&return_to=x",
            "/self-service/login/browser?return_to=x",
        ),
        ("/ui/registration", "/self-service/registration/browser"),
        (
            "/ui/login?flow=00000000-0000-4000-8000-000000000000",
            "/self-service/login/browser",
        ),
    ] {
        let response = browser.get(srv.url(page)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{page}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.ends_with(init), "{page} → {location}");
    }
    // An expired flow too.
    let (url, _, _) = open(&browser, srv.url("/ui/login").as_str()).await;
    srv.clock.advance(chrono::TimeDelta::hours(2));
    let response = browser.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // Settings without a session go through the login.
    let (url, status, _) = open(
        &srv.browser(),
        srv.url("/ui/settings?flow=00000000-0000-4000-8000-000000000000")
            .as_str(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(url.contains("/ui/login?flow="), "{url}");
}

#[tokio::test]
async fn browser_flows_go_to_an_external_ui_when_ui_url_points_there() {
    let srv = TestServer::start_with(clavis_testkit::Engine::Sqlite, |config| {
        let flows = &mut config.selfservice.flows;
        flows.login.ui_url = Some("https://app.example.org/login".parse().unwrap());
        flows.registration.ui_url = Some("https://app.example.org/signup".parse().unwrap());
    })
    .await
    .unwrap()
    .unwrap();
    let browser = srv.browser();
    for (init, page) in [
        (
            "/self-service/login/browser",
            "https://app.example.org/login?flow=",
        ),
        (
            "/self-service/registration/browser",
            "https://app.example.org/signup?flow=",
        ),
    ] {
        let response = browser.get(srv.url(init)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with(page), "{init} → {location}");
    }
}

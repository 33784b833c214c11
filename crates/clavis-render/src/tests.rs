use super::*;
use clavis_types::message;
use clavis_types::ui::{
    AnchorAttributes, Attributes, DivAttributes, ImageAttributes, InputType, Message, Meta, Node,
    NodeGroup, NodeType, ScriptAttributes, TextAttributes, UiContainer,
};
use serde_json::json;

fn common(lang: &str) -> Common {
    Common {
        lang: lang.to_owned(),
        nonce: "NONCE".to_owned(),
    }
}

fn links() -> Links {
    Links {
        login: "/ui/login".into(),
        registration: "/ui/registration".into(),
        settings: "/ui/settings".into(),
        welcome: "/ui/welcome".into(),
        logout: "/ui/logout".into(),
        revoke: "/ui/welcome/sessions/revoke".into(),
        apps: "/ui/welcome/apps".into(),
        recovery: Some("/self-service/recovery/browser".into()),
        verification: Some("/self-service/verification/browser".into()),
    }
}

fn csrf() -> Node {
    Node::input(NodeGroup::Default, "csrf_token", InputType::Hidden)
        .with_value(json!("CSRF-TOKEN"))
        .required()
}

fn login_ui() -> UiContainer {
    UiContainer {
        action: "http://id.test/self-service/login?flow=F1".into(),
        method: "POST".into(),
        nodes: vec![
            csrf(),
            Node::input(NodeGroup::Default, "identifier", InputType::Text)
                .with_value(json!("ada@example.org"))
                .required()
                .autocomplete("username")
                .label(Message::info(1070004, "ID")),
            Node::input(NodeGroup::Password, "password", InputType::Password)
                .required()
                .autocomplete("current-password")
                .label(Message::info(1070001, "Password")),
            Node::input(NodeGroup::Password, "method", InputType::Submit)
                .with_value(json!("password"))
                .label(Message::info(1010001, "Sign in")),
        ],
        messages: vec![],
    }
}

/// The page's `<main>`: snapshots leave out the layout's head and style.
fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap();
    let end = html.find("</main>").unwrap() + "</main>".len();
    &html[start..end]
}

fn renderer() -> Renderer {
    Renderer::new(None).unwrap()
}

fn page(kind: PageKind, ui: &UiContainer) -> FlowPage<'_> {
    FlowPage {
        kind,
        ui,
        refresh: false,
        second_factor: false,
        links: links(),
    }
}

#[test]
fn login_page_renders_one_accessible_form() {
    let ui = login_ui();
    let html = renderer()
        .flow_page(&page(PageKind::Login, &ui), &common("en"))
        .unwrap();
    insta::assert_snapshot!("login_en", main_of(&html));
    assert!(html.contains(r#"<label for="password-identifier">ID</label>"#));
    assert!(html.contains(r#"name="csrf_token" value="CSRF-TOKEN""#));
    assert_eq!(html.matches("<form ").count(), 1);
    assert!(html.contains(r#"<style nonce="NONCE">"#));
    assert!(
        !html.contains("<script"),
        "password flows need no JavaScript"
    );
}

#[test]
fn second_factor_login_offers_sign_out_instead_of_registration() {
    let ui = login_ui();
    let mut second = page(PageKind::Login, &ui);
    second.second_factor = true;
    let html = renderer().flow_page(&second, &common("de")).unwrap();
    assert!(html.contains("<h1>Zweiter Faktor</h1>"), "{html}");
    assert!(
        html.contains(r#"href="&#x2f;ui&#x2f;logout" data-testid="logout">Abmelden</a>"#),
        "{html}"
    );
    assert!(!html.contains("Konto anlegen</a>"));
    let first = renderer()
        .flow_page(&page(PageKind::Login, &ui), &common("de"))
        .unwrap();
    assert!(first.contains("Konto anlegen</a>"));
}

#[test]
fn a_refused_login_is_translated_and_focuses_the_first_error() {
    let mut ui = login_ui();
    ui.messages.push(Message::error(
        4000006,
        "The provided credentials are invalid.",
    ));
    if let Some(node) = ui.nodes.iter_mut().find(|n| n.key() == "password") {
        node.messages.push(
            Message::error(
                4000032,
                "The password must be at least 8 characters long, but got 3.",
            )
            .with_context(
                json!({"min_length": 8, "actual_length": 3})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        );
    }
    let html = renderer()
        .flow_page(&page(PageKind::Login, &ui), &common("de"))
        .unwrap();
    insta::assert_snapshot!("login_refused_de", main_of(&html));
    assert!(html.contains(r#"<html lang="de">"#));
    assert!(html.contains("Die Zugangsdaten sind ungültig."));
    assert!(html.contains("Das Passwort muss mindestens 8 Zeichen lang sein, hat aber 3."));
    assert!(html.contains(r#"data-message-id="4000006""#));
    assert_eq!(html.matches(" autofocus").count(), 1);
    let password_input = html
        .lines()
        .find(|l| l.contains(r#"name="password""#))
        .unwrap();
    assert!(password_input.contains("autofocus"));
    assert!(password_input.contains(r#"aria-invalid="true""#));
    assert!(html.contains(r#"aria-live="polite""#));
}

#[test]
fn an_unknown_message_keeps_the_flow_text_and_an_unfillable_placeholder_too() {
    let locales = Locales::load(None).unwrap();
    let unknown = Message::error(4999999, "Something only English knows.");
    assert_eq!(
        locales.message("de", &unknown),
        "Something only English knows."
    );
    let without_context = Message::error(4000002, "Property email is missing.");
    assert_eq!(
        locales.message("de", &without_context),
        "Property email is missing."
    );
}

#[test]
fn languages_follow_accept_language_weights() {
    let r = renderer();
    assert_eq!(r.language(Some("de-DE,de;q=0.9,en;q=0.8")), "de");
    assert_eq!(r.language(Some("fr-FR, en;q=0.5, de;q=0.7")), "de");
    assert_eq!(r.language(Some("fr, es")), "en");
    assert_eq!(r.language(Some("de;q=0")), "en");
    assert_eq!(r.language(None), "en");
}

#[test]
fn settings_show_one_form_per_method_with_headings() {
    let ui = UiContainer {
        action: "http://id.test/self-service/settings?flow=S1".into(),
        method: "POST".into(),
        nodes: vec![
            csrf(),
            Node::input(NodeGroup::Profile, "traits.email", InputType::Email)
                .with_value(json!("ada@example.org"))
                .label(Message::info(1070002, "E-Mail")),
            Node::input(NodeGroup::Profile, "method", InputType::Submit)
                .with_value(json!("profile"))
                .label(Message::info(1070003, "Save")),
            Node::input(NodeGroup::Password, "password", InputType::Password)
                .label(Message::info(1070001, "Password")),
            Node::input(NodeGroup::Password, "method", InputType::Submit)
                .with_value(json!("password"))
                .label(Message::info(1070003, "Save")),
        ],
        messages: vec![Message::success(1050001, "Your changes have been saved!")],
    };
    let html = renderer()
        .flow_page(&page(PageKind::Settings, &ui), &common("en"))
        .unwrap();
    insta::assert_snapshot!("settings_en", main_of(&html));
    assert_eq!(html.matches("<form ").count(), 2);
    assert_eq!(html.matches(r#"name="csrf_token""#).count(), 2);
    assert!(html.contains(r#"<h2 id="profile-heading">Profile</h2>"#));
    assert!(html.contains(r#"<h2 id="password-heading">Password</h2>"#));
    assert!(html.contains("msg-success"));
}

fn node(group: NodeGroup, node_type: NodeType, attributes: Attributes) -> Node {
    Node {
        node_type,
        group,
        attributes,
        messages: vec![],
        meta: Meta::default(),
    }
}

#[test]
fn every_node_type_renders_through_its_partial() {
    let ui = UiContainer {
        action: "http://id.test/self-service/settings?flow=S2".into(),
        method: "POST".into(),
        nodes: vec![
            csrf(),
            node(
                NodeGroup::Totp,
                NodeType::Img,
                Attributes::Img(ImageAttributes {
                    id: "totp_qr".into(),
                    src: "data:image/png;base64,AAAA".into(),
                    width: 256,
                    height: 256,
                }),
            )
            .label(Message::info(1050010, "Authenticator app QR code")),
            node(
                NodeGroup::Totp,
                NodeType::Text,
                Attributes::Text(TextAttributes {
                    id: "totp_secret_key".into(),
                    text: Message::info(1050006, "JBSWY3DPEHPK3PXP"),
                }),
            ),
            node(
                NodeGroup::Webauthn,
                NodeType::Script,
                Attributes::Script(ScriptAttributes {
                    id: "webauthn_script".into(),
                    src: "/.well-known/ory/webauthn.js".into(),
                    is_async: true,
                    referrerpolicy: "no-referrer".into(),
                    crossorigin: "anonymous".into(),
                    integrity: "sha512-abc".into(),
                    script_type: "text/javascript".into(),
                    nonce: String::new(),
                }),
            ),
            node(
                NodeGroup::Oidc,
                NodeType::A,
                Attributes::A(AnchorAttributes {
                    id: "unlink".into(),
                    href: "https://id.test/x?a=1&b=2".into(),
                    title: Message::info(1050013, "Unlink"),
                }),
            ),
            node(
                NodeGroup::Captcha,
                NodeType::Div,
                Attributes::Div(DivAttributes {
                    id: "captcha".into(),
                    class: Some("widget".into()),
                    data: json!({"sitekey": "k1"}).as_object().cloned(),
                }),
            ),
            Node::input(NodeGroup::Totp, "totp_code", InputType::Text)
                .label(Message::info(1070006, "Verify code")),
            Node::input(NodeGroup::Profile, "consent", InputType::Checkbox)
                .with_value(json!(true))
                .label(Message::info(1070002, "Newsletter")),
        ],
        messages: vec![],
    };
    let html = renderer()
        .flow_page(&page(PageKind::Settings, &ui), &common("en"))
        .unwrap();
    insta::assert_snapshot!("every_node_type", main_of(&html));
    assert!(html.contains(r#"<img id="totp-totp-qr" src="data:image&#x2f;png;base64,AAAA""#));
    assert!(html.contains("JBSWY3DPEHPK3PXP"));
    assert!(html.contains(r#"nonce="NONCE" async integrity="sha512-abc""#));
    assert!(html.contains(r#"href="https:&#x2f;&#x2f;id.test&#x2f;x?a=1&amp;b=2""#));
    assert!(html.contains(r#"data-sitekey="k1""#));
    assert!(
        !html.contains("group.captcha"),
        "a group without a name gets no heading"
    );
    assert!(
        html.contains(
            r#"type="checkbox" id="profile-consent" name="consent" value="true" checked"#
        )
    );
}

#[test]
fn values_are_escaped() {
    let mut ui = login_ui();
    ui.nodes[1] = Node::input(NodeGroup::Default, "identifier", InputType::Text)
        .with_value(json!("\"><script>alert(1)</script>"));
    let html = renderer()
        .flow_page(&page(PageKind::Login, &ui), &common("en"))
        .unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn error_welcome_and_logout_pages_render() {
    let r = renderer();
    let error = ErrorView {
        code: 403,
        status: "Forbidden".into(),
        message: "The request was rejected to protect you from Cross-Site-Request-Forgery".into(),
        reason: Some("Please retry the flow.".into()),
        id: Some("security_csrf_violation".into()),
    };
    let html = r.error_page(&error, &links(), &common("en")).unwrap();
    insta::assert_snapshot!("error_en", main_of(&html));
    assert!(html.contains(r#"data-error-id="security_csrf_violation""#));

    let account = Account {
        identifier: "ada@example.org".into(),
        traits: vec![TraitItem {
            name: "email".into(),
            label: "E-Mail".into(),
            value: "ada@example.org".into(),
        }],
        aal: "aal1".into(),
        methods: vec![AccountMethod {
            method: "password".into(),
            aal: "aal1".into(),
            completed_at: "2026-01-01 10:00 UTC".into(),
        }],
        authenticated_at: "2026-01-01 10:00 UTC".into(),
        expires_at: "2026-01-02 10:00 UTC".into(),
        sessions: vec![
            AccountSession {
                id: "s-1".into(),
                device: Some("Firefox".into()),
                ip: Some("192.0.2.1".into()),
                authenticated_at: "2026-01-01 10:00 UTC".into(),
                current: true,
            },
            AccountSession {
                id: "s-2".into(),
                device: None,
                ip: None,
                authenticated_at: "2025-12-31 08:00 UTC".into(),
                current: false,
            },
        ],
        apps: vec![AccountApp {
            id: "g-1".into(),
            name: "Nextcloud Desktop".into(),
            created_at: "2026-01-01 09:00 UTC".into(),
            last_used_at: None,
            last_ip: Some("192.0.2.7".into()),
            user_agent: None,
        }],
        unverified: vec!["ada@example.org".into()],
    };
    let html = r
        .welcome_page(&account, "CSRF-TOKEN", &links(), &common("de"))
        .unwrap();
    insta::assert_snapshot!("welcome_de", main_of(&html));
    assert_eq!(
        html.matches(r#"name="session_id""#).count(),
        1,
        "no revoke for the current session"
    );
    assert!(html.contains("Unbekanntes Gerät"));
    assert!(html.contains("Geräte &amp; Apps"));
    assert_eq!(html.matches(r#"name="grant_id" value="g-1""#).count(), 2);
    assert!(html.contains(r#"name="grant_id" value="all""#));

    let logout = LogoutView {
        action: "http://id.test/self-service/logout".into(),
        token: "LOGOUT-TOKEN".into(),
        return_to: None,
    };
    let html = r.logout_page(&logout, &links(), &common("en")).unwrap();
    insta::assert_snapshot!("logout_en", main_of(&html));
}

#[test]
fn consent_prompt_renders_its_facts_and_forms() {
    let nodes = vec![
        Node::input(NodeGroup::Default, "action", InputType::Submit)
            .with_value(json!("allow"))
            .label(Message::info(1, "Allow")),
    ];
    let prompt = Prompt {
        messages: vec![Message::info(2, "Only allow apps you trust.")],
        facts: vec![("App".into(), "Example Photos".into())],
        forms: vec![("/ui/consent".into(), &nodes)],
    };
    let html = renderer().consent_page(&prompt, &common("en")).unwrap();
    assert!(html.contains("Example Photos"));
    assert!(html.contains(r#"value="allow""#));
    assert!(html.contains("<h1>Allow access</h1>"));
}

fn device(decided: Option<DeviceDecision>, ip_differs: bool) -> DeviceView {
    DeviceView {
        client_name: "<b>Nextcloud</b> Desktop".into(),
        requested_at: "2026-01-01 10:00 UTC".into(),
        request_ip: Some("203.0.113.9".into()),
        browser_ip: Some("192.0.2.1".into()),
        ip_differs,
        signed_in_as: "ada@example.org".into(),
        action: "http://id.test/index.php/login/v2/flow/TOKEN".into(),
        csrf_token: "CSRF-TOKEN".into(),
        decided,
    }
}

#[test]
fn device_page_flags_the_unverified_name_and_a_foreign_address() {
    let r = renderer();
    let html = r
        .device_page(&device(None, true), &links(), &common("en"))
        .unwrap();
    insta::assert_snapshot!("device_en", main_of(&html));
    assert!(html.contains("<h1>Connect an app to your account</h1>"));
    assert!(html.contains("&lt;b&gt;Nextcloud"), "the name is escaped");
    assert!(!html.contains("<b>"));
    assert!(html.contains(r#"data-testid="device-unverified""#));
    assert!(html.contains(r#"data-testid="device-ip-differs""#));
    assert!(html.contains(r#"name="csrf_token" value="CSRF-TOKEN""#));
    assert!(html.contains(r#"value="approve""#) && html.contains(r#"value="deny""#));

    let same = r
        .device_page(&device(None, false), &links(), &common("de"))
        .unwrap();
    assert!(same.contains(r#"data-testid="device-ip-same""#));
    assert!(!same.contains("device-ip-differs"));
    assert!(same.contains("Zustimmen"));

    let done = r
        .device_page(
            &device(Some(DeviceDecision::Approved), true),
            &links(),
            &common("en"),
        )
        .unwrap();
    assert!(done.contains(r#"data-testid="device-approved""#));
    assert!(
        !done.contains("<form"),
        "a decided request offers no buttons"
    );
    let denied = r
        .device_page(
            &device(Some(DeviceDecision::Denied), true),
            &links(),
            &common("en"),
        )
        .unwrap();
    assert!(denied.contains(r#"data-testid="device-denied""#));
}

#[test]
fn a_templates_directory_overrides_single_files_and_adds_languages() {
    let dir = std::env::temp_dir().join(format!("clavis-render-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pages")).unwrap();
    std::fs::create_dir_all(dir.join("locales")).unwrap();
    std::fs::write(
        dir.join("pages/login.html"),
        "{% extends \"layout.html\" %}{% block content %}<h1>Custom {{ title }}</h1>{% include \"partials/flow.html\" %}{% endblock %}",
    )
    .unwrap();
    std::fs::write(
        dir.join("locales/fr.json"),
        r#"{"ui": {"login.title": "Connexion"}, "messages": {"1010001": "Se connecter"}}"#,
    )
    .unwrap();
    let r = Renderer::new(Some(&dir)).unwrap();
    assert_eq!(r.language(Some("fr")), "fr");
    let ui = login_ui();
    let html = r
        .flow_page(&page(PageKind::Login, &ui), &common("fr"))
        .unwrap();
    assert!(html.contains("<h1>Custom Connexion</h1>"));
    assert!(html.contains(">Se connecter</button>"));
    // Untouched pages still come from the binary.
    let html = r
        .flow_page(&page(PageKind::Registration, &ui), &common("fr"))
        .unwrap();
    assert!(html.contains("<h1>Create an account</h1>"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(
        Renderer::new(Some(&dir)),
        Err(RenderError::Directory(_))
    ));
}

fn recovery_sent_ui() -> UiContainer {
    UiContainer {
        action: "http://id.test/self-service/recovery?flow=F2".into(),
        method: "POST".into(),
        nodes: vec![
            csrf(),
            Node::input(NodeGroup::Code, "code", InputType::Text)
                .required()
                .autocomplete("one-time-code")
                .label(message::label_recovery_code()),
            Node::input(NodeGroup::Code, "method", InputType::Hidden).with_value(json!("code")),
            Node::input(NodeGroup::Code, "method", InputType::Submit)
                .with_value(json!("code"))
                .label(message::label_continue()),
            Node::input(NodeGroup::Code, "email", InputType::Submit)
                .with_value(json!("ada@example.org"))
                .label(message::label_resend_code()),
        ],
        messages: vec![message::recovery_code_sent()],
    }
}

#[test]
fn recovery_and_verification_pages_render_code_forms_in_both_languages() {
    let ui = recovery_sent_ui();
    let html = renderer()
        .flow_page(&page(PageKind::Recovery, &ui), &common("en"))
        .unwrap();
    insta::assert_snapshot!("recovery_sent_en", main_of(&html));
    assert!(html.contains("<h1>Recover your account</h1>"));
    assert!(html.contains(r#"autocomplete="one-time-code""#));
    let german = renderer()
        .flow_page(&page(PageKind::Recovery, &ui), &common("de"))
        .unwrap();
    assert!(german.contains("Wiederherstellungscode"), "{german}");
    assert!(german.contains("Code erneut senden"), "{german}");

    let verified = UiContainer {
        action: "http://id.test/self-service/verification?flow=F3".into(),
        method: "POST".into(),
        nodes: vec![Node {
            node_type: NodeType::A,
            group: NodeGroup::Code,
            attributes: Attributes::A(AnchorAttributes {
                id: "continue".into(),
                href: "http://app.test/".into(),
                title: message::label_continue(),
            }),
            messages: Vec::new(),
            meta: Meta {
                label: Some(message::label_continue()),
            },
        }],
        messages: vec![message::verification_successful()],
    };
    let html = renderer()
        .flow_page(&page(PageKind::Verification, &verified), &common("de"))
        .unwrap();
    insta::assert_snapshot!("verification_done_de", main_of(&html));
    assert!(html.contains("Sie haben Ihre E-Mail-Adresse bestätigt."));
}

#[test]
fn every_mail_template_renders_with_its_model() {
    let r = renderer();
    let recovery = r
        .mail(
            "recovery_code_valid",
            &json!({"to": "a@b.c", "recovery_code": "042917", "expires_in_minutes": 60}),
        )
        .unwrap();
    assert_eq!(recovery.subject, "Recover access to your account");
    assert!(recovery.body_text.contains("\n042917\n"));
    assert!(recovery.body_html.contains("042917"));
    assert!(recovery.body_text.contains("60 minutes"));
    let link = "http://id.test/self-service/verification?flow=F&code=123456";
    let verification = r
        .mail(
            "verification_code_valid",
            &json!({"verification_code": "123456", "verification_url": link, "expires_in_minutes": 5}),
        )
        .unwrap();
    assert!(
        verification.body_text.contains(link),
        "plain text is not HTML-escaped"
    );
    assert!(
        verification.body_html.contains("flow=F&amp;code=123456"),
        "HTML is escaped"
    );
    for template in ["recovery_code_invalid", "verification_code_invalid"] {
        let mail = r.mail(template, &json!({"to": "a@b.c"})).unwrap();
        assert!(!mail.subject.is_empty() && !mail.subject.contains('\n'));
        assert!(!mail.body_text.is_empty() && !mail.body_html.is_empty());
    }
    assert!(r.mail("no_such_template", &json!({})).is_err());
}

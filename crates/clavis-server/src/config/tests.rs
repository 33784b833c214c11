use super::*;
use std::io::Write;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn yaml(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn sources(
    file: Option<&tempfile::NamedTempFile>,
    vars: &[(&str, &str)],
    overrides: Overrides,
) -> ConfigSources {
    ConfigSources {
        file: file.map(|f| f.path().to_owned()),
        env: env(vars),
        overrides,
    }
}

const SECRET: &str = "0123456789abcdef0123";

#[test]
fn defaults_apply_without_any_source() {
    let loaded = load(&sources(
        None,
        &[],
        Overrides {
            dev: Some(true),
            ..Overrides::default()
        },
    ))
    .unwrap();
    let config = loaded.config;
    assert_eq!(config.serve.public.port, 4433);
    assert_eq!(config.serve.admin.port, 4434);
    assert_eq!(config.session.lifespan.0, chrono::TimeDelta::hours(24));
    assert_eq!(config.session.cookie.name, "clavis_session");
    assert_eq!(config.hashers.argon2.memory.0, 19 * 1024 * 1024);
    assert_eq!(config.identity.default_schema_id, "default");
}

#[test]
fn precedence_is_defaults_then_file_then_env_then_flags() {
    let file = yaml(&format!(
        "dsn: sqlite://from-file.db\nsecrets:\n  cookie: [{SECRET}]\nserve:\n  public:\n    port: 5000\n  admin:\n    port: 5001\nsession:\n  lifespan: 1h\n"
    ));
    let only_file = load(&sources(Some(&file), &[], Overrides::default()))
        .unwrap()
        .config;
    assert_eq!(only_file.dsn.as_deref(), Some("sqlite://from-file.db"));
    assert_eq!(only_file.serve.public.port, 5000);
    assert_eq!(only_file.session.lifespan.0, chrono::TimeDelta::hours(1));
    assert_eq!(
        only_file.serve.public.host, "127.0.0.1",
        "untouched keys keep defaults"
    );

    let vars = [
        ("CLAVIS_DSN", "postgres://env@127.0.0.1/db"),
        ("CLAVIS_SERVE__PUBLIC__PORT", "6000"),
        ("CLAVIS_SERVE__ADMIN__PORT", "6001"),
    ];
    let with_env = load(&sources(Some(&file), &vars, Overrides::default()))
        .unwrap()
        .config;
    assert_eq!(with_env.dsn.as_deref(), Some("postgres://env@127.0.0.1/db"));
    assert_eq!(with_env.serve.public.port, 6000);
    assert_eq!(with_env.serve.admin.port, 6001);
    assert_eq!(
        with_env.session.lifespan.0,
        chrono::TimeDelta::hours(1),
        "file value survives"
    );

    let flags = Overrides {
        dsn: Some("memory".into()),
        log_format: Some("json".into()),
        ..Overrides::default()
    };
    let with_flags = load(&sources(Some(&file), &vars, flags)).unwrap().config;
    assert_eq!(with_flags.dsn.as_deref(), Some("memory"));
    assert_eq!(with_flags.log.format, LogFormat::Json);
    assert_eq!(with_flags.serve.public.port, 6000);
}

#[test]
fn unknown_key_in_file_names_key_and_file() {
    let file = yaml("serve:\n  publik:\n    port: 1\n");
    let err = load(&sources(Some(&file), &[], Overrides::default()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("publik"), "{err}");
    assert!(err.contains(&file.path().display().to_string()), "{err}");
}

#[test]
fn unknown_nested_key_in_env_names_the_variable() {
    let err = load(&sources(
        None,
        &[("CLAVIS_SERVE__PUBLIC__PROT", "1")],
        Overrides {
            dev: Some(true),
            ..Overrides::default()
        },
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("prot"), "{err}");
    assert!(err.contains("environment"), "{err}");
}

#[test]
fn wrong_type_names_key() {
    let err = load(&sources(
        None,
        &[("CLAVIS_SERVE__PUBLIC__PORT", "not-a-port")],
        Overrides {
            dev: Some(true),
            ..Overrides::default()
        },
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("serve.public.port"), "{err}");
    assert!(err.contains("CLAVIS_SERVE__PUBLIC__PORT"), "{err}");
}

#[test]
fn unrelated_clavis_variables_are_ignored_and_reported() {
    let loaded = load(&sources(
        None,
        &[
            ("CLAVIS_TEST_DATABASE_URL", "postgres://x"),
            ("PATH", "/bin"),
        ],
        Overrides {
            dev: Some(true),
            ..Overrides::default()
        },
    ))
    .unwrap();
    assert_eq!(
        loaded.ignored_env,
        vec!["CLAVIS_TEST_DATABASE_URL".to_owned()]
    );
}

#[test]
fn secrets_accept_comma_lists_and_refuse_short_ones() {
    let two = format!("{SECRET},{SECRET}-old");
    let config = load(&sources(
        None,
        &[("CLAVIS_SECRETS__COOKIE", &two)],
        Overrides::default(),
    ))
    .unwrap()
    .config;
    assert_eq!(
        config.secrets.cookie,
        vec![SECRET.to_owned(), format!("{SECRET}-old")]
    );
    let err = load(&sources(
        None,
        &[("CLAVIS_SECRETS__COOKIE", "short")],
        Overrides::default(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { ref key, .. } if key == "secrets.cookie"),
        "{err}"
    );
}

#[test]
fn cookie_secret_is_required_outside_dev() {
    let config = load(&sources(None, &[], Overrides::default()))
        .unwrap()
        .config;
    let err = config.validate_for_serve().unwrap_err();
    assert!(err.to_string().contains("secrets.cookie"), "{err}");
    let dev = load(&sources(
        None,
        &[],
        Overrides {
            dev: Some(true),
            ..Overrides::default()
        },
    ))
    .unwrap()
    .config;
    assert!(dev.validate_for_serve().is_ok());
}

#[test]
fn bad_duration_and_same_site_are_refused() {
    let dev = Overrides {
        dev: Some(true),
        ..Overrides::default()
    };
    let err = load(&sources(
        None,
        &[("CLAVIS_SESSION__LIFESPAN", "forever")],
        dev.clone(),
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("session.lifespan"), "{err}");
    let file = yaml("session:\n  cookie:\n    same_site: Sometimes\n");
    let err = load(&sources(Some(&file), &[], dev))
        .unwrap_err()
        .to_string();
    assert!(err.contains("same_site"), "{err}");
}

#[test]
fn missing_file_is_named() {
    let err = load(&ConfigSources {
        file: Some("/nonexistent/clavis.yaml".into()),
        ..ConfigSources::default()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "configuration file /nonexistent/clavis.yaml does not exist"
    );
}

#[test]
fn schema_documents_load_from_file_and_base64() {
    use base64::Engine;
    let doc = clavis_core::identity::DEFAULT_SCHEMA;
    let mut file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    file.write_all(doc.as_bytes()).unwrap();
    let config = IdentityConfig {
        default_schema_id: "a".into(),
        schemas: vec![
            SchemaSource {
                id: "a".into(),
                url: format!("file://{}", file.path().display()),
            },
            SchemaSource {
                id: "b".into(),
                url: format!(
                    "base64://{}",
                    base64::engine::general_purpose::STANDARD.encode(doc)
                ),
            },
        ],
    };
    let docs = load_schema_documents(&config).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].1, docs[1].1);

    let bad = IdentityConfig {
        default_schema_id: "c".into(),
        schemas: vec![SchemaSource {
            id: "c".into(),
            url: "https://example.invalid/s.json".into(),
        }],
    };
    assert!(
        load_schema_documents(&bad)
            .unwrap_err()
            .to_string()
            .contains("file:// and base64://")
    );
}

#[test]
fn after_hooks_per_flow_and_per_method() {
    let file = yaml(
        "selfservice:\n  flows:\n    login:\n      after:\n        hooks:\n          - hook: revoke_active_sessions\n        code:\n          hooks: []\n",
    );
    let config = load(&sources(Some(&file), &[], Overrides::default()))
        .unwrap()
        .config;
    let hooks = config.selfservice.flows.login.after.to_core();
    use clavis_core::flow::hooks::Hook;
    assert!(hooks.runs("password", Hook::RevokeActiveSessions));
    assert!(!hooks.runs("code", Hook::RevokeActiveSessions));
    assert!(config.registration_after_hooks().default.is_empty());
    let dev = Config {
        dev: true,
        ..config
    };
    assert!(
        dev.registration_after_hooks()
            .runs("password", Hook::Session)
    );
}

#[test]
fn after_hooks_in_the_wrong_flow_or_for_unknown_methods_are_refused() {
    for (text, key) in [
        (
            "selfservice:\n  flows:\n    login:\n      after:\n        hooks:\n          - hook: session\n",
            "selfservice.flows.login.after.hooks",
        ),
        (
            "selfservice:\n  flows:\n    registration:\n      after:\n        password:\n          hooks:\n            - hook: revoke_active_sessions\n",
            "selfservice.flows.registration.after.password.hooks",
        ),
        (
            "selfservice:\n  flows:\n    login:\n      after:\n        carrier_pigeon:\n          hooks: []\n",
            "selfservice.flows.login.after.carrier_pigeon",
        ),
    ] {
        let file = yaml(text);
        let err = load(&sources(Some(&file), &[], Overrides::default())).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { key: ref k, .. } if k == key),
            "{key}: {err}"
        );
    }
}

const WEB_HOOK_YAML: &str = "selfservice:
  flows:
    registration:
      after:
        password:
          hooks:
            - hook: web_hook
              config:
                url: https://hooks.example/registered
                method: put
                headers:
                  X-Tenant: blue
                auth:
                  type: api_key
                  config:
                    name: X-Key
                    value: hook-secret
                    in: header
                response:
                  parse: true
                can_interrupt: true
                timeout: 1500ms
                retries: 4
                emit_analytics_event: false
            - hook: session
";

#[test]
fn a_web_hook_is_read_as_kratos_writes_it() {
    let file = yaml(WEB_HOOK_YAML);
    let config = load(&sources(Some(&file), &[], Overrides::default()))
        .unwrap()
        .config;
    let hooks = config.registration_after_hooks();
    let web: Vec<_> = hooks.web_hooks("password").collect();
    assert_eq!(web.len(), 1);
    let hook = web[0];
    assert_eq!(hook.url, "https://hooks.example/registered");
    assert_eq!(hook.method, "PUT");
    assert_eq!(hook.headers["X-Tenant"], "blue");
    assert!(hook.parse && hook.can_interrupt && !hook.ignore && hook.screens());
    assert_eq!(hook.timeout, std::time::Duration::from_millis(1500));
    assert_eq!(hook.retries, 4);
    assert!(matches!(
        &hook.auth,
        Some(clavis_core::flow::webhook::WebHookAuth::ApiKey { name, value, in_cookie: false })
            if name == "X-Key" && value == "hook-secret"
    ));
    assert!(hooks.runs("password", clavis_core::flow::hooks::Hook::Session));
    assert!(
        !format!("{config:?}").contains("hook-secret"),
        "the key is printed"
    );
}

#[test]
fn unusable_web_hooks_are_refused() {
    let hook = |flow: &str, config: &str| {
        format!(
            "selfservice:\n  flows:\n    {flow}:\n      after:\n        hooks:\n          - hook: web_hook\n{config}"
        )
    };
    let cases = [
        (
            hook("login", ""),
            "selfservice.flows.login.after.hooks.0.config",
        ),
        (
            hook("login", "            config:\n              url: https://h.example\n              response:\n                parse: true\n"),
            "selfservice.flows.login.after.hooks.0.config.response.parse",
        ),
        (
            hook("settings", "            config:\n              url: https://h.example\n              body: base64://e30=\n"),
            "selfservice.flows.settings.after.hooks.0.config.body",
        ),
        (
            hook("settings", "            config:\n              url: https://h.example\n              can_interrupt: true\n              response:\n                ignore: true\n"),
            "selfservice.flows.settings.after.hooks.0.config.response.ignore",
        ),
        (
            hook("registration", "            config:\n              url: file:///etc/passwd\n"),
            "selfservice.flows.registration.after.hooks.0.config",
        ),
        (
            "selfservice:\n  flows:\n    login:\n      after:\n        hooks:\n          - hook: revoke_active_sessions\n            config:\n              url: https://h.example\n".to_owned(),
            "selfservice.flows.login.after.hooks.0.config",
        ),
    ];
    for (text, key) in cases {
        let file = yaml(&text);
        let err = load(&sources(Some(&file), &[], Overrides::default())).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { key: ref k, .. } if k == key),
            "{key}: {err}"
        );
    }
}

#[test]
fn password_method_settings_use_kratos_names_and_keep_kratos_floor() {
    let file = yaml(
        "selfservice:\n  methods:\n    password:\n      config:\n        min_password_length: 10\n        haveibeenpwned_enabled: false\n",
    );
    let config = load(&sources(Some(&file), &[], Overrides::default()))
        .unwrap()
        .config;
    let password = &config.selfservice.methods.password;
    assert!(password.enabled);
    assert_eq!(password.config.min_password_length, 10);
    assert!(!password.config.haveibeenpwned_enabled);
    assert!(password.config.identifier_similarity_check_enabled);
    let file = yaml(
        "selfservice:\n  methods:\n    password:\n      config:\n        min_password_length: 5\n",
    );
    let err = load(&sources(Some(&file), &[], Overrides::default())).unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { ref key, .. } if key == "selfservice.methods.password.config.min_password_length"),
        "{err}"
    );
}

#[test]
fn admin_api_keys_come_as_a_comma_list_of_keys_or_digests() {
    let digest = clavis_core::secret::TokenDigest::of(b"second-admin-key-0123");
    let list = format!(
        "first-admin-key-0123, sha256:{}",
        digest.as_str().to_uppercase()
    );
    let config = load(&sources(
        None,
        &[("CLAVIS_SERVE__ADMIN__API_KEYS", &list)],
        Overrides::default(),
    ))
    .unwrap()
    .config;
    assert_eq!(config.serve.admin.api_keys.len(), 2);
    assert_eq!(
        config.serve.admin.api_key_digests(),
        vec![
            clavis_core::secret::TokenDigest::of(b"first-admin-key-0123"),
            digest
        ]
    );
    assert!(!format!("{:?}", config.serve.admin).contains("first-admin-key"));
    for bad in ["short", "sha256:abc", &format!("sha256:{}", "g".repeat(64))] {
        let err = load(&sources(
            None,
            &[("CLAVIS_SERVE__ADMIN__API_KEYS", bad)],
            Overrides::default(),
        ))
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "serve.admin.api_keys"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn session_cache_is_on_by_default_and_can_be_turned_off() {
    let dev = Overrides {
        dev: Some(true),
        ..Overrides::default()
    };
    let loaded = load(&sources(None, &[], dev.clone())).unwrap();
    assert_eq!(loaded.config.session.cache, SessionCacheConfig::default());
    assert!(loaded.config.session.cache.to_core().is_enabled());
    let file = yaml("session:\n  cache:\n    ttl: 2s\n    capacity: 50\n");
    let loaded = load(&sources(Some(&file), &[], dev.clone())).unwrap();
    assert_eq!(loaded.config.session.cache.ttl.0, TimeDelta::seconds(2));
    assert_eq!(loaded.config.session.cache.capacity, 50);
    let off = load(&sources(
        None,
        &[("CLAVIS_SESSION__CACHE__ENABLED", "false")],
        dev,
    ))
    .unwrap();
    assert!(!off.config.session.cache.to_core().is_enabled());
}

#[test]
fn recovery_and_verification_are_on_in_dev_and_need_a_relay_elsewhere() {
    let dev = Overrides {
        dev: Some(true),
        ..Overrides::default()
    };
    let config = load(&sources(None, &[], dev)).unwrap().config;
    assert!(config.recovery_enabled() && config.verification_enabled());
    assert!(config.validate_for_serve().is_ok(), "--dev prints mail");

    let off = load(&sources(
        None,
        &[("CLAVIS_SECRETS__COOKIE", "a-cookie-secret-0123456789")],
        Overrides::default(),
    ))
    .unwrap()
    .config;
    assert!(!off.recovery_enabled() && !off.verification_enabled());
    assert!(off.validate_for_serve().is_ok());

    let file = yaml(
        "secrets: {cookie: [a-cookie-secret-0123456789]}\nselfservice:\n  flows:\n    recovery: {enabled: true}\n",
    );
    let on = load(&sources(Some(&file), &[], Overrides::default()))
        .unwrap()
        .config;
    let err = on.validate_for_serve().unwrap_err();
    assert!(
        err.to_string().contains("courier.smtp.connection_uri"),
        "{err}"
    );

    let file = yaml(
        "secrets: {cookie: [a-cookie-secret-0123456789]}\nselfservice:\n  flows:\n    recovery: {enabled: true, use: code, notify_unknown_recipients: true}\n  methods:\n    code: {config: {max_submissions: 3}}\ncourier:\n  smtp: {connection_uri: 'smtps://u:secret-pw@mail.example.org/', from_name: Accounts}\n  message_retries: 2\n",
    );
    let on = load(&sources(Some(&file), &[], Overrides::default()))
        .unwrap()
        .config;
    assert!(on.validate_for_serve().is_ok());
    assert!(on.selfservice.flows.recovery.notify_unknown_recipients);
    assert_eq!(on.selfservice.methods.code.config.max_submissions, 3);
    assert_eq!(on.courier.message_retries, 2);
    assert!(
        !format!("{:?}", on.courier.smtp).contains("secret-pw"),
        "the relay's password stays out of debug output"
    );

    let file = yaml("selfservice:\n  flows:\n    recovery: {use: link}\n");
    let err = load(&sources(Some(&file), &[], Overrides::default())).unwrap_err();
    assert!(err.to_string().contains("recovery"), "{err}");
}

#[test]
fn the_example_production_configuration_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/clavis.yaml");
    let config = load(&ConfigSources {
        file: Some(path.into()),
        env: Vec::new(),
        overrides: Overrides::default(),
    })
    .unwrap()
    .config;
    assert!(config.validate_for_serve().is_ok());
    assert!(config.recovery_enabled() && config.verification_enabled());
}

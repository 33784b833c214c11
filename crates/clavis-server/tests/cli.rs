//! The `clavis` binary as an operator runs it: `serve --dev` on a fresh directory, environment
//! variables that move ports and the database, graceful shutdown, and one-line errors for the
//! usual mistakes.

// Test code: a failed expectation should stop the test where it happened.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_clavis");

/// A `clavis` command in `dir` with a clean `CLAVIS_*` environment.
fn clavis(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1");
    for (name, _) in std::env::vars() {
        if name.starts_with("CLAVIS_") {
            command.env_remove(name);
        }
    }
    command
}

struct Served {
    child: Child,
    public: String,
    admin: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve`, waits for the banner and reads the listener URLs from it.
fn serve(mut command: Command) -> Served {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut public = None;
    let mut admin = None;
    while public.is_none() || admin.is_none() {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "no banner; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let url = line.split_whitespace().last().map(str::to_owned);
        if line.contains("public API:") {
            public = url;
        } else if line.contains("admin API:") {
            admin = url;
        }
    }
    Served {
        child,
        public: public.unwrap(),
        admin: admin.unwrap(),
    }
}

fn get(url: &str) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::get(url).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success(), "expected failure, got {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "exactly one error line expected in:\n{stderr}"
    );
    errors[0].to_owned()
}

#[test]
fn serve_dev_on_fresh_directory_is_ready_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = clavis(dir.path());
    command
        .args(["serve", "--dev"])
        .env("CLAVIS_SERVE__PUBLIC__PORT", "0")
        .env("CLAVIS_SERVE__ADMIN__PORT", "0");
    let mut served = serve(command);
    assert_eq!(
        get(&format!("{}health/ready", served.public)),
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    assert_eq!(
        get(&format!("{}health/ready", served.admin)),
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    assert!(dir.path().join("clavis-data/clavis.sqlite").exists());
    assert!(dir.path().join("clavis-data/secrets.json").exists());

    let status = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(exit) = served.child.try_wait().unwrap() {
            assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "clavis did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_env_moves_ports_and_database() {
    let dir = tempfile::tempdir().unwrap();
    let (public_port, admin_port) = (free_port(), free_port());
    let db = dir.path().join("elsewhere.sqlite");
    let mut command = clavis(dir.path());
    command
        .args(["serve", "--dev"])
        .env("CLAVIS_SERVE__PUBLIC__PORT", public_port.to_string())
        .env("CLAVIS_SERVE__ADMIN__PORT", admin_port.to_string())
        .env("CLAVIS_DSN", format!("sqlite://{}?mode=rwc", db.display()));
    let served = serve(command);
    assert_eq!(served.public, format!("http://127.0.0.1:{public_port}/"));
    assert_eq!(served.admin, format!("http://127.0.0.1:{admin_port}/"));
    assert_eq!(get(&format!("{}health/ready", served.admin)).0, 200);
    assert!(db.exists(), "CLAVIS_DSN chose the database file");
    assert!(!dir.path().join("clavis-data/clavis.sqlite").exists());
}

#[test]
fn serve_dev_on_postgres_from_clavis_dsn() {
    let Ok(url) = std::env::var("CLAVIS_TEST_DATABASE_URL") else {
        eprintln!("CLAVIS_TEST_DATABASE_URL is not set; the PostgreSQL start-up check runs in CI");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut command = clavis(dir.path());
    command
        .args(["serve", "--dev"])
        .env("CLAVIS_SERVE__PUBLIC__PORT", "0")
        .env("CLAVIS_SERVE__ADMIN__PORT", "0")
        .env("CLAVIS_DSN", url);
    let served = serve(command);
    assert_eq!(get(&format!("{}health/ready", served.public)).0, 200);
    assert!(!dir.path().join("clavis-data/clavis.sqlite").exists());
}

#[test]
fn serve_port_in_use_is_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let output = clavis(dir.path())
        .args(["serve", "--dev"])
        .env("CLAVIS_SERVE__PUBLIC__PORT", port.to_string())
        .env("CLAVIS_SERVE__ADMIN__PORT", "0")
        .output()
        .unwrap();
    let line = one_line_error(&output);
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(line.contains("serve.public.port"), "{line}");
    assert!(line.contains("already in use"), "{line}");
}

#[test]
fn serve_unsupported_dsn_is_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = clavis(dir.path())
        .args(["serve", "--dev"])
        .env("CLAVIS_DSN", "mysql://root@localhost/db")
        .output()
        .unwrap();
    let line = one_line_error(&output);
    assert!(
        line.contains("dsn `mysql://root@localhost/db` is not supported"),
        "{line}"
    );
}

#[test]
fn serve_unreachable_database_is_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let closed = free_port();
    let output = clavis(dir.path())
        .args(["serve", "--dev"])
        .env(
            "CLAVIS_DSN",
            format!("postgres://clavis:hunter2@127.0.0.1:{closed}/clavis"),
        )
        .output()
        .unwrap();
    let line = one_line_error(&output);
    assert!(line.contains("cannot connect to the database"), "{line}");
    assert!(
        line.to_lowercase().contains("refused"),
        "the reason is named: {line}"
    );
    assert!(line.contains(&format!("127.0.0.1:{closed}")), "{line}");
    assert!(
        !line.contains("hunter2"),
        "passwords never reach the terminal: {line}"
    );
}

#[test]
fn serve_unknown_config_key_names_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clavis.yaml");
    std::fs::write(&file, "serve:\n  public:\n    prot: 4455\n").unwrap();
    let output = clavis(dir.path())
        .args(["serve", "--dev", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let line = one_line_error(&output);
    assert!(line.contains("prot"), "{line}");
    assert!(line.contains(&file.display().to_string()), "{line}");
}

#[test]
fn serve_without_secrets_outside_dev_is_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = clavis(dir.path())
        .args(["serve"])
        .env("CLAVIS_DSN", "memory")
        .output()
        .unwrap();
    let line = one_line_error(&output);
    assert!(line.contains("secrets.cookie"), "{line}");
}

#[test]
fn serve_outside_dev_refuses_unmigrated_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = clavis(dir.path())
        .args(["serve"])
        .env(
            "CLAVIS_DSN",
            format!("sqlite://{}/fresh.sqlite?mode=rwc", dir.path().display()),
        )
        .env("CLAVIS_SECRETS__COOKIE", "a-long-enough-cookie-secret")
        .output()
        .unwrap();
    let line = one_line_error(&output);
    assert!(line.contains("clavis migrate"), "{line}");
}

#[test]
fn migrate_applies_once_then_reports_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let dsn = format!("sqlite://{}/migrated.sqlite?mode=rwc", dir.path().display());
    let first = clavis(dir.path())
        .args(["migrate", "--dsn", &dsn])
        .output()
        .unwrap();
    assert!(first.status.success(), "{first:?}");
    let applied = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        applied.starts_with("Applied ")
            && applied.contains("m20261122_000001_identities_sessions_flows"),
        "{applied}"
    );
    let second = clavis(dir.path())
        .args(["migrate", "--dsn", &dsn])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));

    // The migrated database now serves outside development mode.
    let mut command = clavis(dir.path());
    command
        .args(["serve"])
        .env("CLAVIS_DSN", &dsn)
        .env("CLAVIS_SECRETS__COOKIE", "a-long-enough-cookie-secret")
        .env("CLAVIS_SERVE__PUBLIC__PORT", "0")
        .env("CLAVIS_SERVE__ADMIN__PORT", "0");
    let served = serve(command);
    assert_eq!(get(&format!("{}health/ready", served.public)).0, 200);
}

#[test]
fn migrate_without_dsn_is_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = clavis(dir.path()).args(["migrate"]).output().unwrap();
    let line = one_line_error(&output);
    assert!(line.contains("dsn") && line.contains("--dsn"), "{line}");
}

#[test]
fn config_check_accepts_valid_and_refuses_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        "dsn: memory\nsecrets:\n  cookie: [a-long-enough-cookie-secret]\n",
    )
    .unwrap();
    let ok = clavis(dir.path())
        .args(["config", "check"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("is valid"));

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "dsn: memory\nsecrets:\n  cookie: [a-long-enough-cookie-secret]\nsession:\n  lifespan: forever\n").unwrap();
    let line = one_line_error(
        &clavis(dir.path())
            .args(["config", "check"])
            .arg(&bad)
            .output()
            .unwrap(),
    );
    assert!(line.contains("session.lifespan"), "{line}");
    assert!(line.contains("bad.yaml"), "{line}");

    let missing_schema = dir.path().join("schema.yaml");
    std::fs::write(
        &missing_schema,
        "dsn: memory\nsecrets:\n  cookie: [a-long-enough-cookie-secret]\nidentity:\n  default_schema_id: people\n  schemas:\n    - id: people\n      url: file:///nonexistent/people.json\n",
    )
    .unwrap();
    let line = one_line_error(
        &clavis(dir.path())
            .args(["config", "check"])
            .arg(&missing_schema)
            .output()
            .unwrap(),
    );
    assert!(
        line.contains("identity schema `people`") && line.contains("/nonexistent/people.json"),
        "{line}"
    );
}

#[test]
fn version_flag_prints_version() {
    let dir = tempfile::tempdir().unwrap();
    let output = clavis(dir.path()).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("clavis {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn serve_log_format_json_writes_json_lines_with_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = clavis(dir.path());
    command
        .args(["serve", "--dev", "--log-format", "json"])
        .env("RUST_LOG", "info")
        .env("CLAVIS_SERVE__PUBLIC__PORT", "0")
        .env("CLAVIS_SERVE__ADMIN__PORT", "0");
    let mut served = serve(command);
    let stderr = served.child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{}health/alive", served.public))
            .header("X-Request-Id", "json-log-probe")
            .send()
            .await
            .unwrap();
    });
    let mut saw_request = false;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        let record: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(record["level"].is_string(), "{line}");
        if record["message"] == "handled request" {
            assert_eq!(record["span"]["request_id"], "json-log-probe", "{line}");
            assert_eq!(record["status"], 200, "{line}");
            saw_request = true;
            break;
        }
    }
    assert!(saw_request, "the request was logged");
}

/// Runs `clavis identities ...` against a served admin listener from the server's directory.
fn identities(dir: &Path, admin: &str, args: &[&str]) -> Output {
    clavis(dir)
        .arg("identities")
        .args(args)
        .args(["--endpoint", admin])
        .output()
        .unwrap()
}

fn password_login(public: &str, identifier: &str, password: &str) -> u16 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let flow: serde_json::Value = client
            .get(format!("{public}self-service/login/api"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        client
            .post(flow["ui"]["action"].as_str().unwrap())
            .json(&serde_json::json!({
                "method": "password", "identifier": identifier, "password": password
            }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn identities_cli_imports_10000_bcrypt_users_who_then_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = clavis(dir.path());
    command
        .args(["serve", "--dev"])
        .env("CLAVIS_SERVE__PUBLIC__PORT", "0")
        .env("CLAVIS_SERVE__ADMIN__PORT", "0");
    let served = serve(command);
    let key = std::fs::read_to_string(dir.path().join("clavis-data/admin-api-key")).unwrap();
    assert!(key.trim().starts_with("clv_ak_"), "the dev key is kept");

    let malformed = dir.path().join("malformed.json");
    std::fs::write(&malformed, "[{\"schema_id\": \"default\"}, 7]").unwrap();
    let output = identities(
        dir.path(),
        &served.admin,
        &["import", malformed.to_str().unwrap()],
    );
    assert!(one_line_error(&output).contains("nothing was imported"));

    let hash = bcrypt::hash("migrated passphrase", 4).unwrap();
    let mut entries: Vec<serde_json::Value> = (0..10_000)
        .map(|i| {
            serde_json::json!({
                "schema_id": "default",
                "traits": {"email": format!("user{i}@example.org")},
                "credentials": {"password": {"config": {"hashed_password": hash}}},
            })
        })
        .collect();
    entries.push(serde_json::json!({"schema_id": "default", "traits": {"email": "broken"}}));
    let file = dir.path().join("users.json");
    std::fs::write(&file, serde_json::to_string(&entries).unwrap()).unwrap();
    let output = identities(
        dir.path(),
        &served.admin,
        &["import", file.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stdout.contains("imported 10000 of 10001"),
        "{stdout}{stderr}"
    );
    assert!(stderr.contains("entry 10000 (broken)"), "{stderr}");
    for user in ["user0", "user4999", "user9999"] {
        assert_eq!(
            password_login(
                &served.public,
                &format!("{user}@example.org"),
                "migrated passphrase"
            ),
            200,
            "{user}"
        );
    }
    assert_eq!(
        password_login(&served.public, "user1@example.org", "wrong passphrase"),
        400
    );

    let output = identities(dir.path(), &served.admin, &["list"]);
    assert!(output.status.success());
    let listing = String::from_utf8_lossy(&output.stdout);
    assert_eq!(listing.lines().count(), 10_000);
    let first = listing.lines().next().unwrap();
    let id = first.split('\t').next().unwrap();
    let output = identities(dir.path(), &served.admin, &["get", id]);
    assert!(output.status.success());
    let identity: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(identity["id"], id);
    assert_eq!(
        identity["credentials"]["password"]["config"],
        serde_json::json!({})
    );
    let output = identities(dir.path(), &served.admin, &["delete", id]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("deleted {id}")
    );
    let output = identities(dir.path(), &served.admin, &["get", id]);
    assert!(one_line_error(&output).contains("(404)"));
    let output = identities(
        dir.path(),
        &served.admin,
        &["list", "--api-key", "a-wrong-admin-key-0000"],
    );
    assert!(one_line_error(&output).contains("(401)"));
}

//! Clavis integration tests: the real server in-process, driven through HTTP only. Each test
//! runs on SQLite and, when `CLAVIS_TEST_DATABASE_URL` is set, on PostgreSQL.

// Test code: a failed expectation should stop the test where it happened.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod admin;
mod app_passwords;
mod browser;
mod device_approval;
mod errors;
mod health;
mod login;
mod login_flow_v2;
mod logout;
mod mfa;
mod mfa_lookup;
mod native;
mod ocs;
mod openapi;
mod recovery;
mod registration;
mod schemas;
mod sessions;
mod settings;
mod snapshots;
mod startup;
mod ui;
mod verification;
mod webhooks;

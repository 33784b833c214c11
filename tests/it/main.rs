//! Clavis integration tests: the real server in-process, driven through HTTP only. Each test
//! runs on SQLite and, when `CLAVIS_TEST_DATABASE_URL` is set, on PostgreSQL.

mod health;
mod schemas;
mod sessions;
mod startup;

//! The performance harness behind `cargo bench -p clavis-bench` and `bench/run`.
//!
//! It measures Clavis against what the machine itself can do in the same run: the argon2id
//! implementations on crates.io ([`argon`]), a hello-world server built with the same
//! framework ([`hello`]), and load rounds driven by wrk whose results [`report`] turns into
//! ratios. [`seed`] fills a running server with identities and sessions through its own API.
//! Nothing here is linked into the `clavis` binary, and nothing here asserts a time.

pub mod argon;
pub mod hello;
pub mod report;
pub mod seed;

//! The composition root of Clavis: it reads the configuration, opens and migrates the database,
//! builds the core services over the storage ports, registers everything in an explicit order
//! and starts the public and admin listeners. The `clavis` binary (`main.rs`) is a thin shell
//! over [`cli`].
//!
//! This crate wires; it holds no business rules of its own.

pub mod admin_cli;
pub mod app;
pub mod cli;
pub mod config;
pub mod dev;
pub mod logging;

pub use app::{Running, Runtime, StartError, start};

//! Structured logs through `tracing`: human-readable text by default, JSON with
//! `log.format: json` or `--log-format json`. `RUST_LOG` overrides `log.level`.

use crate::config::{Log, LogFormat};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (in tests) keeps the first.
pub fn init(log: &Log) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match log.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

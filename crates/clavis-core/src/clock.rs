//! The `Clock` port: the only way the domain learns the time, so tests can move it.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current time, truncated to microseconds (the precision both databases keep).
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
    fn now(&self) -> DateTime<Utc> {
        truncate_to_micros(Utc::now())
    }
}

/// Drops sub-microsecond precision, so that a time survives a round trip through storage.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

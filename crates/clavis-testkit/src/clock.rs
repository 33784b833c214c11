//! A clock that moves only when the test says so.

use chrono::{DateTime, TimeDelta, Utc};
use clavis_core::Clock;
use std::sync::Mutex;

/// Starts at a fixed instant; [`FakeClock::advance`] moves it.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<DateTime<Utc>>,
}

impl Default for FakeClock {
    fn default() -> Self {
        let start = DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
        Self {
            now: Mutex::new(start),
        }
    }
}

impl FakeClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: TimeDelta) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().map(|now| *now).unwrap_or_default()
    }
}

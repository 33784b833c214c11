//! Rate limits on public endpoints that anyone can call without credentials (starting and
//! polling a device login): a fixed window per action and client address, counted in storage
//! so that every replica sees the same count. This module never touches HTTP or SQL.

use crate::clock::Clock;
use crate::error::CoreError;
use crate::storage::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;

/// The storage rate limits need.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one hit for `bucket` in the window that started at `window_start` and returns
    /// the window's hits including this one; windows of the same action (buckets sharing the
    /// text before the first `:`) that started before `forget_before` may be dropped on the way.
    async fn hit(
        &self,
        bucket: &str,
        window_start: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u32, StorageError>;
}

/// At most `max` requests per `per`; a `max` of 0 turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub per: TimeDelta,
}

impl Limit {
    /// `max` requests a minute.
    pub fn per_minute(max: u32) -> Self {
        Self {
            max,
            per: TimeDelta::minutes(1),
        }
    }
}

/// Counts requests and refuses those over their limit.
#[derive(Clone)]
pub struct RateLimiter {
    store: Arc<dyn RateLimitStore>,
    clock: Arc<dyn Clock>,
}

impl RateLimiter {
    /// Builds the limiter over its ports.
    pub fn new(store: Arc<dyn RateLimitStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Counts a request of `action` from `client`; [`CoreError::RateLimited`] when it is over
    /// `limit`, with the seconds until the window ends.
    pub async fn check(&self, action: &str, client: &str, limit: Limit) -> Result<(), CoreError> {
        if limit.max == 0 {
            return Ok(());
        }
        let seconds = limit.per.num_seconds().max(1);
        let now = self.clock.now().timestamp();
        let start = now - now.rem_euclid(seconds);
        let (Some(window_start), Some(forget_before)) = (
            DateTime::from_timestamp(start, 0),
            DateTime::from_timestamp(start - seconds, 0),
        ) else {
            return Err(CoreError::Internal("the clock is out of range".to_owned()));
        };
        let hits = self
            .store
            .hit(&format!("{action}:{client}"), window_start, forget_before)
            .await?;
        if hits > limit.max {
            let retry_after = u64::try_from(start + seconds - now).unwrap_or(1).max(1);
            return Err(CoreError::RateLimited { retry_after });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    struct FixedClock(Mutex<DateTime<Utc>>);

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    #[derive(Default)]
    struct Memory(Mutex<HashMap<(String, DateTime<Utc>), u32>>);

    #[async_trait]
    impl RateLimitStore for Memory {
        async fn hit(
            &self,
            bucket: &str,
            window_start: DateTime<Utc>,
            forget_before: DateTime<Utc>,
        ) -> Result<u32, StorageError> {
            let mut map = self.0.lock().unwrap();
            map.retain(|(_, start), _| *start >= forget_before);
            let hits = map.entry((bucket.to_owned(), window_start)).or_default();
            *hits += 1;
            Ok(*hits)
        }
    }

    fn limiter(at: &str) -> (RateLimiter, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock(Mutex::new(at.parse().unwrap())));
        (
            RateLimiter::new(Arc::new(Memory::default()), clock.clone()),
            clock,
        )
    }

    #[tokio::test]
    async fn requests_over_the_limit_are_refused_until_the_window_ends() {
        let (limiter, clock) = limiter("2026-01-01T10:00:45Z");
        let limit = Limit::per_minute(2);
        assert!(limiter.check("init", "192.0.2.1", limit).await.is_ok());
        assert!(limiter.check("init", "192.0.2.1", limit).await.is_ok());
        let refused = limiter.check("init", "192.0.2.1", limit).await;
        assert!(matches!(
            refused,
            Err(CoreError::RateLimited { retry_after: 15 })
        ));
        // Another address and another action count separately.
        assert!(limiter.check("init", "192.0.2.2", limit).await.is_ok());
        assert!(limiter.check("poll", "192.0.2.1", limit).await.is_ok());
        *clock.0.lock().unwrap() = "2026-01-01T10:01:00Z".parse().unwrap();
        assert!(limiter.check("init", "192.0.2.1", limit).await.is_ok());
    }

    #[tokio::test]
    async fn a_limit_of_zero_is_off() {
        let (limiter, _) = limiter("2026-01-01T10:00:00Z");
        for _ in 0..5 {
            assert!(
                limiter
                    .check("init", "192.0.2.1", Limit::per_minute(0))
                    .await
                    .is_ok()
            );
        }
    }
}

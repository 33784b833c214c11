//! The `Rng` port: the only source of randomness for tokens, ids and secrets.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A cryptographically secure source of random bytes.
pub trait Rng: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]);
}

/// The operating system's CSPRNG (through `rand`'s thread-local, OS-seeded generator).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&self, dest: &mut [u8]) {
        rand::fill(dest);
    }
}

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters of `[0-9A-Za-z]`, each uniformly distributed (rejection sampling).
pub fn alphanumeric(rng: &dyn Rng, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut buf);
        for byte in buf {
            // 248 = 4 * 62: bytes above it would bias the first characters.
            if byte < 248 && out.len() < len {
                out.push(char::from(ALPHANUMERIC[usize::from(byte % 62)]));
            }
        }
    }
    out
}

/// A random (version 4) UUID drawn from `rng`.
pub fn uuid_v4(rng: &dyn Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A time-ordered (version 7) UUID: the milliseconds of `now`, then 74 random bits from `rng`.
/// Rows keyed by such ids are appended to their index instead of landing on a random page of
/// it, so inserting many of them writes few pages; the random part keeps them unguessable.
pub fn uuid_v7(rng: &dyn Rng, now: DateTime<Utc>) -> Uuid {
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_ids_follow_the_clock_and_stay_random_within_a_millisecond() {
        let at = |ms| DateTime::<Utc>::from_timestamp_millis(ms).unwrap();
        let first = uuid_v7(&OsRng, at(1_795_000_000_000));
        let same_ms = uuid_v7(&OsRng, at(1_795_000_000_000));
        let later = uuid_v7(&OsRng, at(1_795_000_000_001));
        assert_eq!(first.get_version_num(), 7);
        assert_ne!(
            first, same_ms,
            "ids of one millisecond differ by their random part"
        );
        assert!(
            later > first && later > same_ms,
            "a later millisecond sorts after"
        );
        assert_eq!(
            first.get_timestamp().map(|t| t.to_unix().0),
            Some(1_795_000_000),
            "the id carries its creation time"
        );
    }

    #[test]
    fn alphanumeric_has_requested_length_and_alphabet() {
        let token = alphanumeric(&OsRng, 128);
        assert_eq!(token.len(), 128);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(token, alphanumeric(&OsRng, 128));
    }

    #[test]
    fn uuid_v4_is_version_4() {
        assert_eq!(uuid_v4(&OsRng).get_version_num(), 4);
    }
}

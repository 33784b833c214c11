//! Hashing and verifying passwords off the async runtime, at most N at a time.
//!
//! A login burst cannot exhaust memory: each argon2id hash holds `memory` bytes, and no more
//! than `max_concurrent` run at once; the rest wait for a permit. The implementation is
//! `argon2-rust`, the fastest of the candidates `bench/run` measures for Clavis' costs (it
//! picks AVX-512, AVX2 or SSE at run time and maps each hash's memory straight from the
//! operating system).
//!
//! While hashes follow one another, their memory (one arena per concurrent hash, so never more
//! than `max_concurrent`) is kept and reused: mapping, faulting in and unmapping 19 MiB costs
//! about a tenth of a hash. An arena is wiped after every hash, and all of them go back to the
//! operating system one second after the last hash ends unless another has started meanwhile,
//! so a server that logs someone in now and then keeps its arenas between logins close
//! together, and an idle one holds none.

use argon2_rust::params::Memory;
use argon2_rust::{Algorithm, Argon2, Params, Version};
use clavis_core::Rng;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// Why hashing failed (a configuration or resource problem, never a wrong password).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// A password as received: no `Debug`, no `Display`.
pub struct Password(String);

impl Password {
    /// Wraps a submitted password.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The characters, for policy checks.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Hashes with argon2id and verifies argon2id and imported hashes.
pub struct PasswordHasher {
    argon2: Argon2,
    permits: Arc<Semaphore>,
    arenas: Arc<Arenas>,
    rng: Arc<dyn Rng>,
    dummy_hash: String,
}

/// How long kept arenas outlive the last hash.
const RELEASE_AFTER: Duration = Duration::from_secs(1);

/// argon2 memory kept between hashes while hashing is busy (see the module documentation).
struct Arenas {
    idle: Mutex<Vec<argon2_rust::Hasher>>,
    running: AtomicUsize,
    /// Hashes started so far: a release scheduled when hashing went quiet goes ahead only if
    /// none started since.
    started: AtomicU64,
    release_after: Duration,
}

impl Arenas {
    fn new(release_after: Duration) -> Self {
        Self {
            idle: Mutex::default(),
            running: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            release_after,
        }
    }

    /// Runs `work` with an arena: a kept one if any, else a new one (mapped at first use).
    fn with<T>(
        self: &Arc<Self>,
        argon2: &Argon2,
        work: impl FnOnce(&mut argon2_rust::Hasher) -> T,
    ) -> T {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.running.fetch_add(1, Ordering::SeqCst);
        let kept = self.idle().pop();
        let mut arena = kept.unwrap_or_else(|| argon2.hasher());
        // The hasher wipes its arena after every hash; dropping one also unmaps it.
        let out = work(&mut arena);
        self.idle().push(arena);
        if self.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.release_later();
        }
        out
    }

    /// Releases the kept arenas after `release_after` if no hash starts meanwhile; at once
    /// outside an async runtime, where nothing could do it later.
    fn release_later(self: &Arc<Self>) {
        let seen = self.started.load(Ordering::SeqCst);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if !self.release_after.is_zero() => {
                let this = Arc::clone(self);
                runtime.spawn(async move {
                    tokio::time::sleep(this.release_after).await;
                    this.release_if_quiet(seen);
                });
            }
            _ => self.release_if_quiet(seen),
        }
    }

    /// Releases the kept arenas if no hash runs and none started since `seen` hashes had.
    fn release_if_quiet(&self, seen: u64) {
        let mut idle = self.idle();
        // Checked under the lock a starting hash takes its arena under, after counting itself.
        if self.running.load(Ordering::SeqCst) == 0 && self.started.load(Ordering::SeqCst) == seen {
            let kept = std::mem::take(&mut *idle);
            drop(idle);
            drop(kept);
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<argon2_rust::Hasher>> {
        // A panic inside `work` happens outside the lock; a poisoned list is still a list.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arenas kept right now (for tests).
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.idle().len()
    }
}

impl PasswordHasher {
    /// A hasher with these costs, running at most `max_concurrent` hashes at once.
    pub fn new(
        params: Argon2Params,
        max_concurrent: usize,
        rng: Arc<dyn Rng>,
    ) -> Result<Self, HashError> {
        let params = Params::builder()
            .memory(Memory::kib(u64::from(params.memory_kib)))
            .passes(params.iterations)
            .lanes(params.parallelism)
            .build()
            .map_err(|e| HashError::Params(e.to_string()))?;
        let mut hasher = Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            arenas: Arc::new(Arenas::new(RELEASE_AFTER)),
            rng,
            dummy_hash: String::new(),
        };
        let mut random = [0u8; 32];
        hasher.rng.fill(&mut random);
        hasher.dummy_hash = hasher.hash_now(&random)?;
        // Nothing is hashed at start-up but this: an idle server keeps no arena.
        hasher
            .arenas
            .release_if_quiet(hasher.arenas.started.load(Ordering::SeqCst));
        Ok(hasher)
    }

    fn hash_now(&self, password: &[u8]) -> Result<String, HashError> {
        let mut salt = [0u8; 16];
        self.rng.fill(&mut salt);
        self.arenas
            .with(&self.argon2, |arena| arena.hash_encoded(password, &salt))
            .map_err(|e| HashError::Hashing(e.to_string()))
    }

    /// Verifies on a kept arena when `hash` has the configured algorithm and costs (nearly
    /// every login); other hashes (older costs, imports) are verified on memory of their own,
    /// so an imported cost never grows the kept arenas.
    fn verify_now(&self, password: &[u8], hash: &str) -> bool {
        match argon2_rust::decode_phc(hash) {
            Ok(decoded)
                if decoded.algorithm == self.argon2.algorithm()
                    && decoded.version == self.argon2.version()
                    && decoded.params == *self.argon2.params() =>
            {
                self.arenas.with(&self.argon2, |arena| {
                    arena.verify(password, &decoded.salt, &decoded.hash).is_ok()
                })
            }
            _ => crate::imported::verify(password, hash),
        }
    }

    /// Whether `hash` is argon2id with the configured costs; anything else (bcrypt, argon2i,
    /// older costs) is upgraded at the next successful login.
    pub fn is_current(&self, hash: &str) -> bool {
        let params = self.argon2.params();
        let prefix = format!(
            "$argon2id$v=19$m={},t={},p={}$",
            params.memory_kib(),
            params.passes(),
            params.lanes()
        );
        hash.starts_with(&prefix)
    }

    /// An argon2id PHC string for `password`.
    pub async fn hash(self: &Arc<Self>, password: &Password) -> Result<String, HashError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashError::Hashing(e.to_string()))?;
        let this = self.clone();
        let bytes = password.0.as_bytes().to_vec();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.hash_now(&bytes)
        })
        .await
        .map_err(|e| HashError::Hashing(e.to_string()))?
    }

    /// Whether `password` matches `hash` (argon2id, or an imported format, see
    /// [`crate::imported`]). `None` spends the
    /// same work on a hash nobody knows the password of, so unknown accounts cost as much as
    /// wrong passwords.
    pub async fn verify(
        self: &Arc<Self>,
        password: &Password,
        hash: Option<&str>,
    ) -> Result<bool, HashError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashError::Hashing(e.to_string()))?;
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let bytes = password.0.as_bytes().to_vec();
        let this = self.clone();
        let matched = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.verify_now(&bytes, &hash)
        })
        .await
        .map_err(|e| HashError::Hashing(e.to_string()))?;
        Ok(known && matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clavis_core::OsRng;

    fn cheap() -> Arc<PasswordHasher> {
        Arc::new(
            PasswordHasher::new(
                Argon2Params {
                    memory_kib: 64,
                    iterations: 1,
                    parallelism: 1,
                },
                2,
                Arc::new(OsRng),
            )
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn hash_is_argon2id_and_verifies() {
        let hasher = cheap();
        let hash = hasher
            .hash(&Password::new("correct horse".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(
            hasher
                .verify(&Password::new("correct horse".into()), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(&Password::new("wrong horse".into()), Some(&hash))
                .await
                .unwrap()
        );
    }

    #[test]
    fn arenas_are_kept_while_hashes_overlap_and_released_when_none_runs() {
        let hasher = cheap();
        let arenas = &hasher.arenas;
        let (outer, inner) = arenas.with(&hasher.argon2, |outer| {
            let inner = arenas.with(&hasher.argon2, |inner| {
                inner.hash_encoded(b"inner", b"saltsaltsalt").unwrap()
            });
            assert_eq!(arenas.kept(), 1, "the inner arena waits for the next hash");
            let again = arenas.with(&hasher.argon2, |reused| {
                assert!(reused.reserved_blocks() > 0, "a kept arena is reused");
                reused.hash_encoded(b"inner", b"saltsaltsalt").unwrap()
            });
            assert_eq!(again, inner, "a reused arena hashes alike");
            (
                outer.hash_encoded(b"outer", b"saltsaltsalt").unwrap(),
                inner,
            )
        });
        assert_eq!(arenas.kept(), 0, "nothing kept once no hash runs");
        assert_eq!(
            inner,
            hasher
                .argon2
                .hash_encoded(b"inner", b"saltsaltsalt")
                .unwrap()
        );
        assert_ne!(outer, inner);
    }

    #[tokio::test]
    async fn kept_arenas_outlive_the_last_hash_and_go_after_the_pause() {
        let hasher = cheap();
        let arenas = Arc::new(Arenas::new(Duration::from_millis(20)));
        arenas.with(&hasher.argon2, |arena| {
            arena.hash_encoded(b"one", b"saltsaltsalt").unwrap()
        });
        // The release runs on this runtime's thread, which has not yielded yet.
        assert_eq!(arenas.kept(), 1, "kept for the next hash");
        let mut waited = Duration::ZERO;
        while arenas.kept() > 0 && waited < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += Duration::from_millis(10);
        }
        assert_eq!(arenas.kept(), 0, "released once hashing stayed quiet");
    }

    #[tokio::test]
    async fn a_hash_started_during_the_pause_calls_the_release_off() {
        let hasher = cheap();
        let arenas = Arc::new(Arenas::new(Duration::from_secs(3600)));
        let hash = |arenas: &Arc<Arenas>| {
            arenas.with(&hasher.argon2, |arena| {
                arena.hash_encoded(b"one", b"saltsaltsalt").unwrap()
            })
        };
        hash(&arenas);
        let scheduled_at = arenas.started.load(Ordering::SeqCst);
        hash(&arenas);
        arenas.release_if_quiet(scheduled_at);
        assert_eq!(arenas.kept(), 1, "a hash started since: kept");
        arenas.release_if_quiet(arenas.started.load(Ordering::SeqCst));
        assert_eq!(arenas.kept(), 0, "quiet since: released");
    }

    #[tokio::test]
    async fn a_new_hasher_keeps_no_arena() {
        assert_eq!(cheap().arenas.kept(), 0);
    }

    #[tokio::test]
    async fn hashes_with_other_costs_still_verify() {
        let costlier = Arc::new(
            PasswordHasher::new(
                Argon2Params {
                    memory_kib: 128,
                    iterations: 2,
                    parallelism: 1,
                },
                1,
                Arc::new(OsRng),
            )
            .unwrap(),
        );
        let hash = costlier.hash(&Password::new("pw".into())).await.unwrap();
        let hasher = cheap();
        assert!(!hasher.is_current(&hash));
        assert!(
            hasher
                .verify(&Password::new("pw".into()), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(&Password::new("pv".into()), Some(&hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn only_argon2id_with_the_configured_costs_is_current() {
        let hasher = cheap();
        let hash = hasher.hash(&Password::new("pw".into())).await.unwrap();
        assert!(hasher.is_current(&hash));
        let costlier = hash.replace("m=64,", "m=128,");
        assert!(!hasher.is_current(&costlier));
        assert!(!hasher.is_current(&bcrypt::hash("pw", 4).unwrap()));
        assert!(!hasher.is_current(&hash.replace("$argon2id$", "$argon2i$")));
    }

    #[tokio::test]
    async fn salts_differ_between_hashes() {
        let hasher = cheap();
        let a = hasher.hash(&Password::new("same".into())).await.unwrap();
        let b = hasher.hash(&Password::new("same".into())).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn unknown_hash_never_verifies() {
        let hasher = cheap();
        assert!(
            !hasher
                .verify(&Password::new(String::new()), None)
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(&Password::new("x".into()), Some("plaintext"))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn argon2id_hashes_of_rustcrypto_verify_and_the_reverse() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = cheap();
        let rustcrypto = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(64, 1, 1, None).unwrap(),
        );
        let theirs = rustcrypto
            .hash_password_with_salt(b"moved over", b"sixteen byte slt")
            .unwrap()
            .to_string();
        assert!(hasher.is_current(&theirs), "{theirs}");
        let moved = Password::new("moved over".into());
        assert!(hasher.verify(&moved, Some(&theirs)).await.unwrap());
        let ours = hasher.hash(&moved).await.unwrap();
        assert!(
            rustcrypto
                .verify_password(b"moved over", ours.as_str())
                .is_ok()
        );
        assert!(
            rustcrypto
                .verify_password(b"moved ovez", ours.as_str())
                .is_err()
        );
    }

    #[tokio::test]
    async fn bcrypt_hashes_verify() {
        let hasher = cheap();
        let hash = bcrypt::hash("imported", 4).unwrap();
        assert!(
            hasher
                .verify(&Password::new("imported".into()), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(&Password::new("other".into()), Some(&hash))
                .await
                .unwrap()
        );
    }
}

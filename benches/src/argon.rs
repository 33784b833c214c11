//! The argon2id implementations Clavis could hash passwords with, behind one signature, so the
//! harness can check they agree bit for bit and measure which is fastest for a given cost.

use std::time::{Duration, Instant};

/// argon2id cost parameters, as `hashers.argon2` configures them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Cost {
    /// Clavis' default (OWASP's minimum for argon2id): 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// One implementation from crates.io.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    /// RustCrypto's `argon2` (portable Rust).
    RustCrypto,
    /// `argon2-rust`, a port of the reference implementation with runtime-dispatched SIMD.
    Argon2Rust,
    /// `argon2-rust` keeping one arena per thread between hashes, as Clavis does while logins
    /// follow one another: no mapping, page faults or unmapping per hash.
    Argon2RustReused,
    /// `rust-argon2` (portable Rust, the oldest of the three).
    RustArgon2,
}

/// Why a candidate could not hash.
#[derive(Debug, thiserror::Error)]
#[error("{candidate}: {reason}")]
pub struct HashFailed {
    pub candidate: &'static str,
    pub reason: String,
}

impl Candidate {
    /// Every candidate, in a fixed order.
    pub const ALL: [Candidate; 4] = [
        Candidate::RustCrypto,
        Candidate::Argon2Rust,
        Candidate::Argon2RustReused,
        Candidate::RustArgon2,
    ];

    /// The crate and version, as reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Candidate::RustCrypto => "argon2 0.6 (RustCrypto)",
            Candidate::Argon2Rust => "argon2-rust 1.1 (SIMD)",
            Candidate::Argon2RustReused => "argon2-rust 1.1 (SIMD, arena reused)",
            Candidate::RustArgon2 => "rust-argon2 3.0",
        }
    }

    /// The raw 32-byte argon2id tag of `password` under `salt` at `cost`.
    pub fn hash(
        self,
        cost: Cost,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8; 32],
    ) -> Result<(), HashFailed> {
        let failed = |reason: String| HashFailed {
            candidate: self.name(),
            reason,
        };
        match self {
            Candidate::RustCrypto => {
                let params = argon2::Params::new(
                    cost.memory_kib,
                    cost.iterations,
                    cost.parallelism,
                    Some(32),
                )
                .map_err(|e| failed(e.to_string()))?;
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                    .hash_password_into(password, salt, out)
                    .map_err(|e| failed(e.to_string()))
            }
            Candidate::Argon2Rust => argon2_rust(cost)
                .map_err(failed)?
                .hash_into(password, salt, out)
                .map_err(|e| failed(e.to_string())),
            Candidate::Argon2RustReused => {
                let argon2 = argon2_rust(cost).map_err(failed)?;
                ARENA
                    .with(|slot| {
                        let mut slot = slot.borrow_mut();
                        let arena = slot.get_or_insert_with(|| argon2.hasher());
                        arena.set_argon2(argon2);
                        arena.hash_into(password, salt, out)
                    })
                    .map_err(|e| failed(e.to_string()))
            }
            Candidate::RustArgon2 => {
                let config = rust_argon2::Config {
                    variant: rust_argon2::Variant::Argon2id,
                    version: rust_argon2::Version::Version13,
                    mem_cost: cost.memory_kib,
                    time_cost: cost.iterations,
                    lanes: cost.parallelism,
                    secret: &[],
                    ad: &[],
                    hash_length: 32,
                    thread_mode: rust_argon2::ThreadMode::from_threads(cost.parallelism),
                };
                let tag = rust_argon2::hash_raw(password, salt, &config)
                    .map_err(|e| failed(e.to_string()))?;
                out.copy_from_slice(&tag);
                Ok(())
            }
        }
    }
}

thread_local! {
    /// The arena [`Candidate::Argon2RustReused`] keeps on each hashing thread.
    static ARENA: std::cell::RefCell<Option<argon2_rust::Hasher>> =
        const { std::cell::RefCell::new(None) };
}

fn argon2_rust(cost: Cost) -> Result<argon2_rust::Argon2, String> {
    let params = argon2_rust::Params::builder()
        .memory(argon2_rust::params::Memory::kib(u64::from(cost.memory_kib)))
        .passes(cost.iterations)
        .lanes(cost.parallelism)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(argon2_rust::Argon2::new(
        argon2_rust::Algorithm::Argon2id,
        argon2_rust::Version::V0x13,
        params,
    ))
}

/// The PHC string (`$argon2id$v=19$m=…`) of `password` under `salt` at `cost`, as Clavis
/// stores passwords; computed with RustCrypto's `argon2`.
pub fn phc(cost: Cost, password: &[u8], salt: &[u8]) -> Result<String, HashFailed> {
    use argon2::PasswordHasher as _;
    let failed = |reason: String| HashFailed {
        candidate: Candidate::RustCrypto.name(),
        reason,
    };
    let params = argon2::Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| failed(e.to_string()))?;
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_with_salt(password, salt)
        .map(|hash| hash.to_string())
        .map_err(|e| failed(e.to_string()))
}

/// How fast one candidate hashed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HashRate {
    pub candidate: String,
    /// Median time of one hash on one thread.
    pub ms_per_hash: f64,
    /// Hashes per second with every thread busy.
    pub hashes_per_second: f64,
}

/// Checks that every candidate computes the same tag as RustCrypto's for the same input, so
/// the fastest one is also a correct one.
pub fn agree(cost: Cost) -> Result<(), HashFailed> {
    let (password, salt) = (b"correct horse battery staple", b"sixteen byte slt");
    let mut expected = [0u8; 32];
    Candidate::RustCrypto.hash(cost, password, salt, &mut expected)?;
    for candidate in Candidate::ALL {
        let mut tag = [0u8; 32];
        candidate.hash(cost, password, salt, &mut tag)?;
        if tag != expected {
            return Err(HashFailed {
                candidate: candidate.name(),
                reason: "computed a different tag than RustCrypto's argon2".to_owned(),
            });
        }
    }
    Ok(())
}

/// Measures `candidate`: the median of `samples` single hashes, then how many hashes
/// `threads` threads complete in `window`.
pub fn measure(
    candidate: Candidate,
    cost: Cost,
    samples: usize,
    threads: usize,
    window: Duration,
) -> Result<HashRate, HashFailed> {
    let mut tag = [0u8; 32];
    candidate.hash(cost, b"warm-up", b"sixteen byte slt", &mut tag)?;
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples.max(1) {
        let started = Instant::now();
        candidate.hash(cost, &i.to_le_bytes(), b"sixteen byte slt", &mut tag)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let ms_per_hash = median(&mut times);
    let started = Instant::now();
    let done = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(move || -> Result<u64, HashFailed> {
                    let mut tag = [0u8; 32];
                    let mut count = 0u64;
                    while started.elapsed() < window {
                        candidate.hash(
                            cost,
                            &count.to_le_bytes(),
                            b"sixteen byte slt",
                            &mut tag,
                        )?;
                        count += 1;
                    }
                    Ok(count)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(HashFailed {
                        candidate: candidate.name(),
                        reason: "a hashing thread panicked".to_owned(),
                    })
                })
            })
            .sum::<Result<u64, HashFailed>>()
    })?;
    Ok(HashRate {
        candidate: candidate.name().to_owned(),
        ms_per_hash,
        hashes_per_second: done as f64 / started.elapsed().as_secs_f64(),
    })
}

/// The median of `values` (sorted in place); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Cost = Cost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn candidates_agree_with_each_other() {
        agree(CHEAP).unwrap();
        agree(Cost {
            parallelism: 2,
            ..CHEAP
        })
        .unwrap();
    }

    #[test]
    fn tags_depend_on_the_password() {
        // Otherwise `agree` would hold for candidates that ignore their input.
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        for candidate in Candidate::ALL {
            candidate
                .hash(CHEAP, b"one", b"sixteen byte slt", &mut a)
                .unwrap();
            candidate
                .hash(CHEAP, b"two", b"sixteen byte slt", &mut b)
                .unwrap();
            assert_ne!(a, b, "{}", candidate.name());
        }
    }

    #[test]
    fn measure_counts_hashes() {
        let rate = measure(
            Candidate::Argon2Rust,
            CHEAP,
            3,
            2,
            Duration::from_millis(50),
        )
        .unwrap();
        assert!(rate.hashes_per_second > 0.0);
        assert!(rate.ms_per_hash > 0.0);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }
}

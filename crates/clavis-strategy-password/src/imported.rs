//! Password hashes made by other systems, accepted on import and verified at login until the
//! first successful login replaces them with argon2id.
//!
//! The formats are Kratos' (`hash/hash_comparator.go`): PHC argon2id and argon2i, bcrypt
//! (`$2a$`, `$2b$`, `$2y$`), `$pbkdf2-<digest>$i=<iterations>,l=<length>$<salt>$<hash>` with
//! unpadded standard base64, and `$scrypt$ln=<N>,r=<r>,p=<p>$<salt>$<hash>` with padded
//! standard base64 (`ln` is the cost N itself, a power of two). Derived keys are compared in
//! constant time.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use clavis_core::secret::constant_time_eq;

/// The families of hashes Clavis can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFamily {
    Argon2,
    Bcrypt,
    Pbkdf2,
    Scrypt,
}

impl HashFamily {
    /// The family a stored hash belongs to, judged by its prefix.
    pub fn of(hash: &str) -> Option<HashFamily> {
        if hash.starts_with("$argon2id$") || hash.starts_with("$argon2i$") {
            Some(HashFamily::Argon2)
        } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            Some(HashFamily::Bcrypt)
        } else if hash.starts_with("$pbkdf2-") {
            Some(HashFamily::Pbkdf2)
        } else if hash.starts_with("$scrypt$") {
            Some(HashFamily::Scrypt)
        } else {
            None
        }
    }
}

/// Why an imported hash cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashFormatError {
    #[error(
        "the hash format is not supported; use argon2id, argon2i, bcrypt, pbkdf2 or scrypt in the formats Kratos accepts"
    )]
    Unsupported,
    #[error("the {0} hash is malformed")]
    Malformed(&'static str),
}

/// Checks that `hash` is one Clavis can verify, without a password. Import refuses anything
/// else, so no account is created that nobody could sign in to.
pub fn check_format(hash: &str) -> Result<HashFamily, HashFormatError> {
    let family = HashFamily::of(hash).ok_or(HashFormatError::Unsupported)?;
    let well_formed = match family {
        HashFamily::Argon2 => argon2_rust::decode_phc(hash).is_ok(),
        HashFamily::Bcrypt => bcrypt_well_formed(hash),
        HashFamily::Pbkdf2 => Pbkdf2Hash::parse(hash).is_some(),
        HashFamily::Scrypt => ScryptHash::parse(hash).is_some(),
    };
    if well_formed {
        Ok(family)
    } else {
        Err(HashFormatError::Malformed(match family {
            HashFamily::Argon2 => "argon2",
            HashFamily::Bcrypt => "bcrypt",
            HashFamily::Pbkdf2 => "pbkdf2",
            HashFamily::Scrypt => "scrypt",
        }))
    }
}

/// Whether `password` matches `hash`; unknown or malformed hashes never match. Blocking: call
/// it off the async runtime.
pub fn verify(password: &[u8], hash: &str) -> bool {
    match HashFamily::of(hash) {
        Some(HashFamily::Argon2) => verify_argon2(password, hash),
        Some(HashFamily::Bcrypt) => bcrypt::verify(password, hash).unwrap_or(false),
        Some(HashFamily::Pbkdf2) => Pbkdf2Hash::parse(hash).is_some_and(|h| h.verify(password)),
        Some(HashFamily::Scrypt) => ScryptHash::parse(hash).is_some_and(|h| h.verify(password)),
        None => false,
    }
}

/// argon2id or argon2i, with the algorithm, version and costs read from the hash itself.
fn verify_argon2(password: &[u8], hash: &str) -> bool {
    argon2_rust::decode_phc(hash).is_ok_and(|decoded| {
        argon2_rust::Argon2::new(decoded.algorithm, decoded.version, decoded.params)
            .verify(password, &decoded.salt, &decoded.hash)
            .is_ok()
    })
}

fn bcrypt_well_formed(hash: &str) -> bool {
    // `$2b$<cost>$<22 characters salt><31 characters hash>`
    let parts: Vec<&str> = hash.split('$').collect();
    parts.len() == 4
        && parts[2]
            .parse::<u32>()
            .is_ok_and(|cost| (4..=31).contains(&cost))
        && parts[3].len() == 53
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digest {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

struct Pbkdf2Hash {
    digest: Digest,
    iterations: u32,
    salt: Vec<u8>,
    key: Vec<u8>,
}

/// Iterations above this are refused: a hostile import must not pin a CPU for minutes.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

impl Pbkdf2Hash {
    fn parse(hash: &str) -> Option<Self> {
        let parts: Vec<&str> = hash.split('$').collect();
        let [empty, algorithm, params, salt, key] = parts.as_slice() else {
            return None;
        };
        if !empty.is_empty() {
            return None;
        }
        let digest = match algorithm.strip_prefix("pbkdf2-")? {
            "sha1" => Digest::Sha1,
            "sha224" => Digest::Sha224,
            "sha256" => Digest::Sha256,
            "sha384" => Digest::Sha384,
            "sha512" => Digest::Sha512,
            _ => return None,
        };
        let params = parse_params(params)?;
        let iterations: u32 = params.get("i")?.parse().ok()?;
        let length: usize = params.get("l")?.parse().ok()?;
        let salt = STANDARD_NO_PAD.decode(salt).ok()?;
        let key = STANDARD_NO_PAD.decode(key).ok()?;
        let usable = (1..=MAX_PBKDF2_ITERATIONS).contains(&iterations)
            && !key.is_empty()
            && key.len() == length;
        usable.then_some(Self {
            digest,
            iterations,
            salt,
            key,
        })
    }

    fn verify(&self, password: &[u8]) -> bool {
        let mut derived = vec![0u8; self.key.len()];
        let (salt, rounds, out) = (&self.salt, self.iterations, derived.as_mut_slice());
        match self.digest {
            Digest::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, out),
            Digest::Sha224 => pbkdf2::pbkdf2_hmac::<sha2::Sha224>(password, salt, rounds, out),
            Digest::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, out),
            Digest::Sha384 => pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, rounds, out),
            Digest::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, out),
        }
        constant_time_eq(&derived, &self.key)
    }
}

struct ScryptHash {
    params: scrypt::Params,
    salt: Vec<u8>,
    key: Vec<u8>,
}

/// Costs above this (N = 2^20, r = 32, p = 16) are refused for the same reason as above.
const MAX_SCRYPT_LOG_N: u8 = 20;

impl ScryptHash {
    fn parse(hash: &str) -> Option<Self> {
        let parts: Vec<&str> = hash.split('$').collect();
        let [empty, "scrypt", params, salt, key] = parts.as_slice() else {
            return None;
        };
        if !empty.is_empty() {
            return None;
        }
        let params = parse_params(params)?;
        let cost: u64 = params.get("ln")?.parse().ok()?;
        let r: u32 = params.get("r")?.parse().ok()?;
        let p: u32 = params.get("p")?.parse().ok()?;
        if cost < 2 || !cost.is_power_of_two() || r > 32 || p > 16 {
            return None;
        }
        let log_n = u8::try_from(cost.trailing_zeros()).ok()?;
        if log_n > MAX_SCRYPT_LOG_N {
            return None;
        }
        let params = scrypt::Params::new(log_n, r, p).ok()?;
        let salt = STANDARD.decode(salt).ok()?;
        let key = STANDARD.decode(key).ok()?;
        (!key.is_empty()).then_some(Self { params, salt, key })
    }

    fn verify(&self, password: &[u8]) -> bool {
        let mut derived = vec![0u8; self.key.len()];
        scrypt::scrypt(password, &self.salt, &self.params, &mut derived).is_ok()
            && constant_time_eq(&derived, &self.key)
    }
}

/// `a=1,b=2` as pairs; `None` when a pair has no `=`.
fn parse_params(text: &str) -> Option<std::collections::HashMap<&str, &str>> {
    text.split(',')
        .map(|pair| pair.split_once('='))
        .collect::<Option<_>>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};

    fn pbkdf2_hash(algorithm: &str, password: &str, iterations: u32) -> String {
        let salt = b"0123456789abcdef";
        let mut key = [0u8; 32];
        match algorithm {
            "sha256" => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut key)
            }
            "sha512" => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), salt, iterations, &mut key)
            }
            _ => unreachable!("test helper"),
        }
        format!(
            "$pbkdf2-{algorithm}$i={iterations},l=32${}${}",
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(key)
        )
    }

    #[test]
    fn pbkdf2_sha256_and_sha512_verify() {
        for algorithm in ["sha256", "sha512"] {
            let hash = pbkdf2_hash(algorithm, "imported secret", 1000);
            assert_eq!(check_format(&hash), Ok(HashFamily::Pbkdf2));
            assert!(verify(b"imported secret", &hash), "{algorithm}");
            assert!(!verify(b"imported secreT", &hash), "{algorithm}");
        }
    }

    #[test]
    fn pbkdf2_reference_vector_verifies() {
        // RFC 6070's PBKDF2-HMAC-SHA1 vector: P = "password", S = "salt", c = 2, dkLen = 20.
        let key = [
            0xea, 0x6c, 0x01, 0x4d, 0xc7, 0x2d, 0x6f, 0x8c, 0xcd, 0x1e, 0xd9, 0x2a, 0xce, 0x1d,
            0x41, 0xf0, 0xd8, 0xde, 0x89, 0x57,
        ];
        let hash = format!(
            "$pbkdf2-sha1$i=2,l=20${}${}",
            STANDARD_NO_PAD.encode(b"salt"),
            STANDARD_NO_PAD.encode(key)
        );
        assert!(verify(b"password", &hash));
        assert!(!verify(b"passwore", &hash));
    }

    #[test]
    fn scrypt_reference_vector_verifies() {
        // RFC 7914 section 12: P = "password", S = "NaCl", N = 1024, r = 8, p = 16, dkLen = 64.
        let key = hex(
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
        );
        let hash = format!(
            "$scrypt$ln=1024,r=8,p=16${}${}",
            STANDARD.encode(b"NaCl"),
            STANDARD.encode(&key)
        );
        assert_eq!(check_format(&hash), Ok(HashFamily::Scrypt));
        assert!(verify(b"password", &hash));
        assert!(!verify(b"Password", &hash));
    }

    #[test]
    fn argon2i_and_argon2id_verify_with_their_own_parameters() {
        for algorithm in [Algorithm::Argon2i, Algorithm::Argon2id] {
            let hasher = Argon2::new(
                algorithm,
                Version::V0x13,
                Params::new(64, 2, 1, None).unwrap(),
            );
            let hash = hasher
                .hash_password_with_salt(b"pw", b"saltsaltsaltsalt")
                .unwrap()
                .to_string();
            assert_eq!(check_format(&hash), Ok(HashFamily::Argon2));
            assert!(verify(b"pw", &hash), "{hash}");
            assert!(!verify(b"px", &hash), "{hash}");
        }
    }

    #[test]
    fn bcrypt_verifies() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        assert_eq!(check_format(&hash), Ok(HashFamily::Bcrypt));
        assert!(verify(b"pw", &hash));
        assert!(!verify(b"px", &hash));
    }

    #[test]
    fn unknown_and_malformed_hashes_are_refused_and_never_match() {
        assert_eq!(check_format("plaintext"), Err(HashFormatError::Unsupported));
        assert_eq!(
            check_format("{SSHA}abcd"),
            Err(HashFormatError::Unsupported)
        );
        assert_eq!(check_format("$md5$abc"), Err(HashFormatError::Unsupported));
        for malformed in [
            "$2b$04$short",
            "$argon2id$v=19$nonsense",
            "$pbkdf2-sha256$i=1000$c2FsdA$a2V5",
            "$pbkdf2-md5$i=1000,l=3$c2FsdA$a2V5",
            "$pbkdf2-sha256$i=0,l=3$c2FsdA$a2V5",
            "$pbkdf2-sha256$i=1000,l=9$c2FsdA$a2V5",
            "$scrypt$ln=1000,r=8,p=1$c2FsdA==$a2V5",
            "$scrypt$ln=1073741824,r=8,p=1$c2FsdA==$a2V5",
        ] {
            assert!(
                matches!(check_format(malformed), Err(HashFormatError::Malformed(_))),
                "{malformed}"
            );
            assert!(!verify(b"", malformed), "{malformed}");
        }
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}

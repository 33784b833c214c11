//! Secrets that must be read back (a TOTP seed) are sealed with XChaCha20-Poly1305 under keys
//! derived from `secrets.cipher`; low-entropy single-use codes (backup codes) are kept as
//! HMAC-SHA256 digests under the same keys, so a copy of the database alone opens nothing.
//!
//! The first configured secret seals and digests; every secret opens and verifies, so secrets
//! can be rotated by putting the new one first. This module holds keys in memory only; it never
//! stores, logs or prints them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit as AeadKeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::random::Rng;

/// The prefix of a sealed value: algorithm and format version.
const SEALED_PREFIX: &str = "xc1:";
const NONCE_LEN: usize = 24;

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    /// No cipher secret is configured.
    #[error("no cipher secret is configured (secrets.cipher)")]
    NoKey,
    /// The value is not in the sealed format, or no configured key opens it.
    #[error("the sealed value cannot be opened with the configured cipher secrets")]
    Unreadable,
}

/// One derived key, kept out of `Debug` output.
#[derive(Clone)]
struct Key([u8; 32]);

/// Seals, opens and digests with the keys derived from `secrets.cipher`.
#[derive(Clone)]
pub struct Cipher {
    keys: Vec<Key>,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cipher {{ {} keys }}", self.keys.len())
    }
}

impl Cipher {
    /// Derives one key per configured secret, in order (the first one seals).
    pub fn new<S: AsRef<str>>(secrets: &[S]) -> Self {
        let keys = secrets
            .iter()
            .map(|secret| {
                let mut hasher = Sha256::new();
                hasher.update(b"clavis cipher key v1\0");
                hasher.update(secret.as_ref().as_bytes());
                Key(hasher.finalize().into())
            })
            .collect();
        Self { keys }
    }

    /// Seals `plaintext` with the first key and a random nonce.
    pub fn seal(&self, rng: &dyn Rng, plaintext: &[u8]) -> Result<String, CipherError> {
        let key = self.keys.first().ok_or(CipherError::NoKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let sealed = <XChaCha20Poly1305 as AeadKeyInit>::new(&key.0.into())
            .encrypt(&XNonce::from(nonce), plaintext)
            .map_err(|_| CipherError::Unreadable)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens a value sealed by [`Cipher::seal`] under any configured key.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, CipherError> {
        if self.keys.is_empty() {
            return Err(CipherError::NoKey);
        }
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok())
            .filter(|raw| raw.len() > NONCE_LEN)
            .ok_or(CipherError::Unreadable)?;
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CipherError::Unreadable)?;
        let nonce = XNonce::from(nonce);
        self.keys
            .iter()
            .find_map(|key| {
                <XChaCha20Poly1305 as AeadKeyInit>::new(&key.0.into())
                    .decrypt(&nonce, body)
                    .ok()
            })
            .ok_or(CipherError::Unreadable)
    }

    /// The hex HMAC-SHA256 of `data` for `purpose` under the first key.
    pub fn keyed_digest(&self, purpose: &str, data: &[u8]) -> Result<String, CipherError> {
        let key = self.keys.first().ok_or(CipherError::NoKey)?;
        Ok(hex(&mac(key, purpose, data)))
    }

    /// Whether `stored` is the keyed digest of `data` for `purpose` under any configured key,
    /// compared in constant time.
    pub fn matches_keyed_digest(&self, purpose: &str, data: &[u8], stored: &str) -> bool {
        self.keys.iter().fold(false, |found, key| {
            let candidate = hex(&mac(key, purpose, data));
            found | bool::from(candidate.as_bytes().ct_eq(stored.as_bytes()))
        })
    }
}

fn mac(key: &Key, purpose: &str, data: &[u8]) -> [u8; 32] {
    // HMAC zero-pads keys shorter than its block, so this is HMAC under the 32-byte key.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(&key.0);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRng;

    #[test]
    fn sealed_value_opens_with_same_secret_and_not_with_another() {
        let cipher = Cipher::new(&["first-secret-0123456789"]);
        let sealed = cipher.seal(&OsRng, b"JBSWY3DPEHPK3PXP").unwrap();
        assert!(sealed.starts_with("xc1:"));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(cipher.open(&sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
        let other = Cipher::new(&["other-secret-0123456789"]);
        assert_eq!(other.open(&sealed), Err(CipherError::Unreadable));
    }

    #[test]
    fn rotated_secret_still_opens_and_verifies_old_values() {
        let old = Cipher::new(&["first-secret-0123456789"]);
        let sealed = old.seal(&OsRng, b"seed").unwrap();
        let digest = old.keyed_digest("lookup", b"abcd1234").unwrap();
        let rotated = Cipher::new(&["second-secret-012345678", "first-secret-0123456789"]);
        assert_eq!(rotated.open(&sealed).unwrap(), b"seed");
        assert!(rotated.matches_keyed_digest("lookup", b"abcd1234", &digest));
        assert!(!rotated.matches_keyed_digest("lookup", b"abcd1235", &digest));
        assert!(!rotated.matches_keyed_digest("other", b"abcd1234", &digest));
    }

    #[test]
    fn tampered_or_foreign_values_are_refused() {
        let cipher = Cipher::new(&["first-secret-0123456789"]);
        let mut sealed = cipher.seal(&OsRng, b"seed").unwrap();
        let last = sealed.pop().unwrap();
        sealed.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(cipher.open(&sealed), Err(CipherError::Unreadable));
        assert_eq!(cipher.open("plain"), Err(CipherError::Unreadable));
        let empty = Cipher::new::<&str>(&[]);
        assert_eq!(empty.seal(&OsRng, b"x"), Err(CipherError::NoKey));
    }
}

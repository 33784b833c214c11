//! Signing of the values Clavis puts into cookies.
//!
//! A session cookie carries the session token followed by an HMAC-SHA256 tag made with the
//! first configured cookie secret. Every configured secret verifies, so operators rotate by
//! putting a new secret first and keeping the old ones until their cookies have expired.

use crate::secret::BearerToken;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs and verifies cookie values with the configured cookie secrets.
#[derive(Clone)]
pub struct CookieSigner {
    secrets: Vec<Vec<u8>>,
}

impl std::fmt::Debug for CookieSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CookieSigner({} secrets)", self.secrets.len())
    }
}

/// Signing needs at least one secret.
#[derive(Debug, thiserror::Error)]
#[error("at least one cookie secret is required")]
pub struct NoCookieSecret;

impl CookieSigner {
    /// A signer whose first secret signs and whose every secret verifies.
    pub fn new(secrets: Vec<Vec<u8>>) -> Result<Self, NoCookieSecret> {
        if secrets.is_empty() {
            return Err(NoCookieSecret);
        }
        Ok(Self { secrets })
    }

    /// `token.tag`, where `tag` binds the token to this cookie `purpose`.
    pub fn sign(&self, purpose: &str, token: &BearerToken) -> String {
        let tag = self
            .secrets
            .first()
            .map(|key| tag(key, purpose, token.expose()));
        format!("{}.{}", token.expose(), tag.unwrap_or_default())
    }

    /// The token inside a signed cookie value, if any configured secret made its tag.
    pub fn verify(&self, purpose: &str, value: &str) -> Option<BearerToken> {
        let (token, tag_b64) = value.rsplit_once('.')?;
        let tag_bytes = URL_SAFE_NO_PAD.decode(tag_b64).ok()?;
        let valid = self.secrets.iter().any(|key| {
            let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
                return false;
            };
            mac.update(purpose.as_bytes());
            mac.update(b"\x00");
            mac.update(token.as_bytes());
            mac.verify_slice(&tag_bytes).is_ok()
        });
        valid.then(|| BearerToken::new(token))
    }
}

fn tag(key: &[u8], purpose: &str, token: &str) -> String {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(purpose.as_bytes());
            mac.update(b"\x00");
            mac.update(token.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(secrets: &[&str]) -> CookieSigner {
        CookieSigner::new(secrets.iter().map(|s| s.as_bytes().to_vec()).collect()).unwrap()
    }

    #[test]
    fn signed_value_verifies_and_yields_token() {
        let s = signer(&["first-secret-0123456789"]);
        let value = s.sign("session", &BearerToken::new("tok"));
        assert_eq!(s.verify("session", &value).unwrap().expose(), "tok");
    }

    #[test]
    fn tampered_token_or_tag_is_refused() {
        let s = signer(&["first-secret-0123456789"]);
        let value = s.sign("session", &BearerToken::new("tok"));
        let (_, tag) = value.rsplit_once('.').unwrap();
        assert!(s.verify("session", &format!("other.{tag}")).is_none());
        assert!(s.verify("session", "tok.AAAA").is_none());
        assert!(s.verify("session", "tok").is_none());
        assert!(s.verify("csrf", &value).is_none());
    }

    #[test]
    fn rotation_old_secret_still_verifies_new_one_signs() {
        let old = signer(&["old-secret-0123456789"]);
        let value = old.sign("session", &BearerToken::new("tok"));
        let rotated = signer(&["new-secret-0123456789", "old-secret-0123456789"]);
        assert!(rotated.verify("session", &value).is_some());
        let fresh = rotated.sign("session", &BearerToken::new("tok"));
        assert!(old.verify("session", &fresh).is_none());
        let retired = signer(&["new-secret-0123456789"]);
        assert!(retired.verify("session", &value).is_none());
    }

    #[test]
    fn empty_secret_list_is_refused() {
        assert!(CookieSigner::new(Vec::new()).is_err());
    }
}

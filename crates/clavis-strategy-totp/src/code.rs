//! Checking a TOTP code (RFC 6238: HMAC-SHA1, six digits, 30-second steps) against a seed at a
//! given time, allowing one step of clock skew either way, and minting seeds and their
//! `otpauth://` QR codes.

use totp_rs::{Builder, Secret, Totp};

/// The length of a time step.
pub const TIME_STEP_SECONDS: u64 = 30;

/// Seed length: 160 bits, as RFC 4226 recommends for HMAC-SHA1.
pub const SEED_BYTES: usize = 20;

/// A seed with the names an authenticator app shows.
pub struct Seed {
    totp: Totp,
}

impl Seed {
    /// A seed from raw bytes, labelled for apps with `issuer` and `account`.
    pub fn new(bytes: Vec<u8>, issuer: &str, account: &str) -> Result<Self, String> {
        // `:` separates issuer and account in otpauth labels; apps would split on it.
        let issuer = issuer.replace(':', " ");
        let account = account.replace(':', " ");
        let totp = Builder::new()
            .with_secret(Secret::from(bytes))
            .with_skew(1)
            .with_step_duration(TIME_STEP_SECONDS)
            .with_account_name(account)
            .with_issuer(Some(issuer))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { totp })
    }

    /// The seed as Base32, for typing into an app.
    pub fn base32(&self) -> String {
        self.totp.secret().to_base32()
    }

    /// The `otpauth://` URL as a PNG QR code data URI.
    pub fn qr_data_uri(&self) -> Result<String, String> {
        self.totp
            .to_qr_base64()
            .map(|png| format!("data:image/png;base64,{png}"))
            .map_err(|e| e.to_string())
    }

    /// The time step `code` belongs to at `unix_seconds` (within one step either way), or
    /// `None` when it matches none. Codes are compared in constant time.
    pub fn matching_step(&self, code: &str, unix_seconds: u64) -> Option<u64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp.check(code, unix_seconds)
    }

    /// The code for `unix_seconds`.
    #[cfg(test)]
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.totp.generate(unix_seconds).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 seed "12345678901234567890"; the RFC lists 8 digits, whose
    /// last six are the 6-digit codes.
    #[test]
    fn codes_match_rfc_6238_vectors() {
        let seed = Seed::new(b"12345678901234567890".to_vec(), "Clavis", "a@b.c").unwrap();
        assert_eq!(seed.code_at(59), "287082");
        assert_eq!(seed.code_at(1_111_111_109), "081804");
        assert_eq!(seed.code_at(2_000_000_000), "279037");
    }

    #[test]
    fn one_step_of_skew_is_accepted_and_two_are_not() {
        let seed = Seed::new(vec![7; SEED_BYTES], "Clavis", "a@b.c").unwrap();
        let now = 1_800_000_015;
        let step = now / TIME_STEP_SECONDS;
        let code_now = seed.code_at(now);
        assert_eq!(seed.matching_step(&code_now, now), Some(step));
        let previous = seed.code_at(now - TIME_STEP_SECONDS);
        assert_eq!(seed.matching_step(&previous, now), Some(step - 1));
        let next = seed.code_at(now + TIME_STEP_SECONDS);
        assert_eq!(seed.matching_step(&next, now), Some(step + 1));
        let too_old = seed.code_at(now - 2 * TIME_STEP_SECONDS);
        assert_eq!(seed.matching_step(&too_old, now), None);
    }

    #[test]
    fn malformed_codes_match_nothing() {
        let seed = Seed::new(vec![7; SEED_BYTES], "Clavis", "a@b.c").unwrap();
        for code in ["", "12345", "1234567", "12 456", "abcdef"] {
            assert_eq!(seed.matching_step(code, 1_800_000_000), None, "{code}");
        }
    }

    #[test]
    fn qr_code_is_a_png_data_uri_and_labels_lose_colons() {
        let seed = Seed::new(vec![7; SEED_BYTES], "Cla:vis", "a:b@c.d").unwrap();
        assert!(
            seed.qr_data_uri()
                .unwrap()
                .starts_with("data:image/png;base64,iVBOR")
        );
        assert_eq!(seed.base32().len(), 32);
    }
}

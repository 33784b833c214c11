//! Minting backup codes and recognising one: eight characters of `[a-z0-9]` (about 41 bits
//! each), compared as HMAC digests bound to the credential's generation.

use clavis_core::cipher::Cipher;
use clavis_core::random::Rng;

/// How many codes a set has.
pub const CODE_COUNT: usize = 12;

const CODE_LEN: usize = 8;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// The HMAC purpose, so a code digest can never be confused with another keyed digest.
const PURPOSE: &str = "lookup_secret";

/// A fresh set of codes.
pub fn mint(rng: &dyn Rng) -> Vec<String> {
    (0..CODE_COUNT).map(|_| one(rng)).collect()
}

fn one(rng: &dyn Rng) -> String {
    let mut code = String::with_capacity(CODE_LEN);
    let mut buf = [0u8; 16];
    while code.len() < CODE_LEN {
        rng.fill(&mut buf);
        for byte in buf {
            // 252 = 7 * 36: larger bytes would favour the first characters.
            if byte < 252 && code.len() < CODE_LEN {
                code.push(char::from(ALPHABET[usize::from(byte % 36)]));
            }
        }
    }
    code
}

/// A code as typed: without surrounding space, inner spaces or dashes, in lower case.
pub fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The digest stored for `code` in the set named `generation`.
pub fn digest(cipher: &Cipher, generation: &str, code: &str) -> Result<String, String> {
    cipher
        .keyed_digest(PURPOSE, format!("{generation}:{code}").as_bytes())
        .map_err(|e| e.to_string())
}

/// The position of `code` among `digests`. Every digest is compared, in constant time each,
/// so the answer's timing does not tell which position matched.
pub fn position(
    cipher: &Cipher,
    generation: &str,
    code: &str,
    digests: &[String],
) -> Option<usize> {
    let data = format!("{generation}:{code}");
    digests
        .iter()
        .enumerate()
        .fold(None, |found, (index, stored)| {
            let matched = cipher.matches_keyed_digest(PURPOSE, data.as_bytes(), stored);
            found.or(matched.then_some(index))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clavis_core::random::OsRng;

    #[test]
    fn minted_codes_are_twelve_distinct_lowercase_codes() {
        let codes = mint(&OsRng);
        assert_eq!(codes.len(), CODE_COUNT);
        for code in &codes {
            assert_eq!(code.len(), CODE_LEN);
            assert!(code.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), CODE_COUNT);
    }

    #[test]
    fn a_code_is_found_in_its_own_set_only() {
        let cipher = Cipher::new(&["cipher-secret-0123456789"]);
        let codes = ["abcd1234".to_owned(), "wxyz9876".to_owned()];
        let digests: Vec<String> = codes
            .iter()
            .map(|c| digest(&cipher, "gen1", c).unwrap())
            .collect();
        assert_eq!(position(&cipher, "gen1", "wxyz9876", &digests), Some(1));
        assert_eq!(position(&cipher, "gen2", "wxyz9876", &digests), None);
        assert_eq!(position(&cipher, "gen1", "wxyz9877", &digests), None);
        assert_eq!(normalise(" WXYZ-9876 "), "wxyz9876");
    }
}

//! Password rules after NIST SP 800-63B: a minimum length, long passwords allowed, no
//! composition rules, nothing too close to the identifier, and nothing on the offline list of
//! breached passwords.

use crate::breached::BreachedPasswords;
use clavis_core::flow::method::FieldMessage;
use clavis_types::message;

/// The rules in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub identifier_similarity_check: bool,
    /// Refuse passwords on the embedded list of the 100,000 most common breached passwords.
    pub breached_check: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 1024,
            identifier_similarity_check: true,
            breached_check: true,
        }
    }
}

impl PasswordPolicy {
    /// The first rule `password` breaks for an identity with these identifiers, as a message on
    /// the `password` field.
    pub fn check(&self, password: &str, identifiers: &[String]) -> Option<FieldMessage> {
        let length = password.chars().count();
        if length < self.min_length {
            return Some(FieldMessage::on(
                "password",
                message::password_too_short(self.min_length, length),
            ));
        }
        if length > self.max_length {
            return Some(FieldMessage::on(
                "password",
                message::password_too_long(self.max_length, length),
            ));
        }
        if self.identifier_similarity_check
            && identifiers.iter().any(|id| too_similar(id, password))
        {
            return Some(FieldMessage::on(
                "password",
                message::password_too_similar(),
            ));
        }
        if self.breached_check && BreachedPasswords::embedded().contains(password) {
            return Some(FieldMessage::on("password", message::password_breached()));
        }
        None
    }
}

/// Too similar: one contains the other, or they share a run of characters at least half as
/// long as the password (case-insensitive). `alice@example.org` / `alice@example` is refused.
fn too_similar(identifier: &str, password: &str) -> bool {
    let id: Vec<char> = identifier.to_lowercase().chars().collect();
    let pw: Vec<char> = password.to_lowercase().chars().collect();
    if id.is_empty() || pw.is_empty() {
        return false;
    }
    let common = longest_common_substring(&id, &pw);
    common * 2 >= pw.len() && common >= 4 || contains(&id, &pw) || contains(&pw, &id)
}

fn contains(haystack: &[char], needle: &[char]) -> bool {
    needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn longest_common_substring(a: &[char], b: &[char]) -> usize {
    let mut previous = vec![0usize; b.len() + 1];
    let mut best = 0;
    for x in a {
        let mut current = vec![0usize; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            if x == y {
                current[j + 1] = previous[j] + 1;
                best = best.max(current[j + 1]);
            }
        }
        previous = current;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Vec<String> {
        vec![s.to_owned()]
    }

    #[test]
    fn short_and_long_passwords_are_refused_with_their_ids() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.check("1234567", &[]).unwrap().message.id, 4000032);
        assert_eq!(
            policy.check(&"x".repeat(1025), &[]).unwrap().message.id,
            4000033
        );
        assert!(
            policy
                .check("12345678-a-long-enough-passphrase", &[])
                .is_none()
        );
    }

    #[test]
    fn passwords_like_the_identifier_are_refused() {
        let policy = PasswordPolicy::default();
        let email = id("alice@example.org");
        assert_eq!(
            policy.check("alice@example", &email).unwrap().message.id,
            4000031
        );
        assert_eq!(
            policy
                .check("ALICE@EXAMPLE.ORG", &email)
                .unwrap()
                .message
                .id,
            4000031
        );
        assert_eq!(
            policy
                .check("xxalice@example.orgxx", &email)
                .unwrap()
                .message
                .id,
            4000031
        );
        assert!(
            policy
                .check("correct horse battery staple", &email)
                .is_none()
        );
    }

    #[test]
    fn breached_passwords_are_refused_unless_the_check_is_off() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.check("iloveyou", &[]).unwrap().message.id, 4000034);
        assert_eq!(policy.check("Password1", &[]).unwrap().message.id, 4000034);
        let lenient = PasswordPolicy {
            breached_check: false,
            ..PasswordPolicy::default()
        };
        assert!(lenient.check("iloveyou", &[]).is_none());
    }

    #[test]
    fn no_composition_rules() {
        assert!(
            PasswordPolicy::default()
                .check("all lowercase words here", &[])
                .is_none()
        );
    }
}

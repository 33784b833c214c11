//! The stored password credential, versioned so later formats can be read next to old ones.

use serde::{Deserialize, Serialize};

/// `identity_credentials.config` of a password credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum PasswordConfig {
    /// A PHC-format hash (`$argon2id$...`) or an imported bcrypt hash (`$2b$...`).
    #[serde(rename = "1")]
    V1 { hashed_password: String },
}

impl PasswordConfig {
    /// The stored hash.
    pub fn hash(&self) -> &str {
        match self {
            PasswordConfig::V1 { hashed_password } => hashed_password,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_carries_its_version() {
        let config = PasswordConfig::V1 {
            hashed_password: "$argon2id$x".into(),
        };
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"v": "1", "hashed_password": "$argon2id$x"})
        );
        assert_eq!(
            serde_json::from_value::<PasswordConfig>(json).unwrap(),
            config
        );
    }
}

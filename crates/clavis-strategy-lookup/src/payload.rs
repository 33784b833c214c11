//! What lookup-secret submissions carry, with Kratos' field names. Forms send strings, JSON
//! may send booleans; both are accepted.

use serde::Deserialize;
use serde_json::Value;

/// `{"method":"lookup_secret","lookup_secret":"abcd1234"}`.
#[derive(Debug, Default, Deserialize)]
pub struct LoginBody {
    pub lookup_secret: Option<String>,
}

/// One of the settings actions, each a flag.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsBody {
    pub lookup_secret_reveal: Option<Value>,
    pub lookup_secret_regenerate: Option<Value>,
    pub lookup_secret_confirm: Option<Value>,
    pub lookup_secret_disable: Option<Value>,
}

/// Whether a flag field is set (`true` or `"true"`).
pub fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

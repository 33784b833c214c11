//! What TOTP submissions carry, with Kratos' field names. Forms send strings, JSON may send
//! booleans; both are accepted.

use serde::Deserialize;
use serde_json::Value;

/// `{"method":"totp","totp_code":"123456"}`.
#[derive(Debug, Default, Deserialize)]
pub struct LoginBody {
    pub totp_code: Option<String>,
}

/// `{"method":"totp","totp_code":"…"}` to enrol, `{"method":"totp","totp_unlink":true}` to unlink.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsBody {
    pub totp_code: Option<String>,
    pub totp_unlink: Option<Value>,
}

/// Whether a flag field is set (`true` or `"true"`).
pub fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

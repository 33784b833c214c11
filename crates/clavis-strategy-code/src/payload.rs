//! The fields of a code submission (`updateRecoveryFlowWithCodeMethod`,
//! `updateVerificationFlowWithCodeMethod`).

use serde_json::Value;

/// What a submission asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// Send a (new) code to this address.
    Send(String),
    /// Check this code against the one sent.
    Check(String),
    /// Neither field was given.
    Empty,
}

/// Reads a submission: an `email` (also the resend button) sends, otherwise a `code` is
/// checked. Kratos documents that a submission with both sends a new code.
pub fn read(body: &Value) -> Request {
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    match (field("email"), field("code")) {
        (Some(email), _) => Request::Send(email.to_lowercase()),
        (None, Some(code)) => Request::Check(code),
        (None, None) => Request::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn email_sends_code_checks_and_email_wins() {
        assert_eq!(
            read(&json!({"email": " Ada@Example.org "})),
            Request::Send("ada@example.org".into())
        );
        assert_eq!(
            read(&json!({"code": "123456"})),
            Request::Check("123456".into())
        );
        assert_eq!(
            read(&json!({"code": "123456", "email": "a@b.c"})),
            Request::Send("a@b.c".into())
        );
        assert_eq!(read(&json!({"code": "", "email": 3})), Request::Empty);
    }
}

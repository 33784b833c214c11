//! Kratos' message catalogue: numeric ids that drive UIs and translations, with their English
//! default texts. Only ids Clavis emits are listed; each constructor fills the context keys
//! Kratos fills, so clients can translate with placeholders.

use crate::ui::Message;
use serde_json::{Map, Value, json};

fn context(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// 1010001 "Sign in" (the submit label of a refresh login).
pub fn login() -> Message {
    Message::info(1010001, "Sign in")
}

/// 1010022 "Sign in with password".
pub fn login_with_password() -> Message {
    Message::info(1010022, "Sign in with password")
}

/// 1040001 "Sign up".
pub fn registration() -> Message {
    Message::info(1040001, "Sign up")
}

/// 1070001 "Password".
pub fn label_password() -> Message {
    Message::info(1070001, "Password")
}

/// 1070002: a label generated from a schema `title`.
pub fn label_generated(title: &str, name: &str) -> Message {
    Message::info(1070002, title)
        .with_context(context(&[("title", json!(title)), ("name", json!(name))]))
}

/// 1070003 "Save".
pub fn label_save() -> Message {
    Message::info(1070003, "Save")
}

/// 1070004 "ID".
pub fn label_id() -> Message {
    Message::info(1070004, "ID")
}

/// 1010004: an aal2 login flow asks for the second factor.
pub fn login_mfa() -> Message {
    Message::info(
        1010004,
        "Please complete the second authentication challenge.",
    )
}

/// 1010006 "Authentication code" (the TOTP code label at login).
pub fn label_totp_code() -> Message {
    Message::info(1010006, "Authentication code")
}

/// 1010007 "Backup recovery code".
pub fn label_lookup_secret() -> Message {
    Message::info(1010007, "Backup recovery code")
}

/// 1010009 "Use Authenticator".
pub fn login_with_totp() -> Message {
    Message::info(1010009, "Use Authenticator")
}

/// 1010010 "Use backup recovery code".
pub fn login_with_lookup_secret() -> Message {
    Message::info(1010010, "Use backup recovery code")
}

/// 1050004 "Unlink TOTP Authenticator App".
pub fn settings_unlink_totp() -> Message {
    Message::info(1050004, "Unlink TOTP Authenticator App")
}

/// 1050005 "Authenticator app QR code".
pub fn settings_totp_qr() -> Message {
    Message::info(1050005, "Authenticator app QR code")
}

/// 1050006: the TOTP secret itself, to type into an app that cannot scan.
pub fn settings_totp_secret(secret: &str) -> Message {
    Message::info(1050006, secret).with_context(context(&[("secret", json!(secret))]))
}

/// 1050017: the label of the TOTP secret.
pub fn settings_totp_secret_label() -> Message {
    Message::info(
        1050017,
        "This is your authenticator app secret. Use it if you can not scan the QR code.",
    )
}

/// 1050007 "Reveal backup recovery codes".
pub fn settings_reveal_lookup() -> Message {
    Message::info(1050007, "Reveal backup recovery codes")
}

/// 1050008 "Generate new backup recovery codes".
pub fn settings_regenerate_lookup() -> Message {
    Message::info(1050008, "Generate new backup recovery codes")
}

/// 1050009: one backup code (or its state, once it can no longer be shown).
pub fn settings_lookup_secret(secret: &str) -> Message {
    Message::info(1050009, secret).with_context(context(&[("secret", json!(secret))]))
}

/// 1050010: the label of the backup code list.
pub fn settings_lookup_secret_label() -> Message {
    Message::info(
        1050010,
        "These are your back up recovery codes. Please keep them in a safe place!",
    )
}

/// 1050011 "Confirm backup recovery codes".
pub fn settings_confirm_lookup() -> Message {
    Message::info(1050011, "Confirm backup recovery codes")
}

/// 1050014 "Secret was used at %s".
pub fn settings_lookup_secret_used(used_at: chrono::DateTime<chrono::Utc>) -> Message {
    let at = used_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Message::info(1050014, format!("Secret was used at {at}")).with_context(context(&[
        ("used_at", json!(at)),
        ("used_at_unix", json!(used_at.timestamp())),
    ]))
}

/// 1050015: the list of backup codes; each entry is a 1050009 or 1050014 message.
pub fn settings_lookup_secret_list(entries: &[Message]) -> Message {
    let text = entries
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Message::info(1050015, text).with_context(context(&[("secrets", json!(entries))]))
}

/// 1050016 "Disable this method".
pub fn settings_disable_lookup() -> Message {
    Message::info(1050016, "Disable this method")
}

/// 1070006 "Verify code".
pub fn label_verify_code() -> Message {
    Message::info(1070006, "Verify code")
}

/// 4000008: a wrong (or already used) TOTP code.
pub fn totp_code_invalid() -> Message {
    Message::error(
        4000008,
        "The provided authentication code is invalid, please try again.",
    )
}

/// 4000012: a backup code used before.
pub fn lookup_secret_used() -> Message {
    Message::error(4000012, "This backup recovery code has already been used.")
}

/// 4000014: no backup codes are set up.
pub fn lookup_secret_none() -> Message {
    Message::error(4000014, "You have no backup recovery codes set up.")
}

/// 4000016: a code that is not one of the backup codes.
pub fn lookup_secret_invalid() -> Message {
    Message::error(4000016, "The backup recovery code is not valid.")
}

/// 4000001: a validation failure with a free-form reason.
pub fn validation_generic(reason: &str) -> Message {
    Message::error(4000001, reason).with_context(context(&[("reason", json!(reason))]))
}

/// 4000002 "Property %s is missing.".
pub fn required(property: &str) -> Message {
    Message::error(4000002, format!("Property {property} is missing."))
        .with_context(context(&[("property", json!(property))]))
}

/// 1050001 "Your changes have been saved!".
pub fn settings_saved() -> Message {
    Message::success(1050001, "Your changes have been saved!")
}

/// 1010003: a refresh login asks the user to confirm who they are.
pub fn login_reauth() -> Message {
    Message::info(
        1010003,
        "Please confirm this action by verifying that it is you.",
    )
}

/// 4000005: the password policy refused the password for `reason`.
pub fn password_policy(reason: &str) -> Message {
    Message::error(
        4000005,
        format!("The password can not be used because {reason}."),
    )
    .with_context(context(&[("reason", json!(reason))]))
}

/// 4000006: wrong identifier or password.
pub fn invalid_credentials() -> Message {
    Message::error(
        4000006,
        "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
    )
}

/// 4000007: the identifier is taken.
pub fn duplicate_credentials() -> Message {
    Message::error(
        4000007,
        "An account with the same identifier (email, phone, username, ...) exists already.",
    )
}

/// 4000009: the schema marks no identifier for this method.
pub fn identifier_missing() -> Message {
    Message::error(
        4000009,
        "Could not find any login identifiers. Did you forget to set them? This could also be caused by a server misconfiguration.",
    )
}

/// 4000031: the password is too similar to the identifier.
pub fn password_too_similar() -> Message {
    Message::error(
        4000031,
        "The password can not be used because it is too similar to the identifier.",
    )
}

/// 4000032: the password is shorter than the minimum.
pub fn password_too_short(min: usize, actual: usize) -> Message {
    Message::error(
        4000032,
        format!("The password must be at least {min} characters long, but got {actual}."),
    )
    .with_context(context(&[
        ("min_length", json!(min)),
        ("actual_length", json!(actual)),
    ]))
}

/// 4000033: the password is longer than the maximum.
pub fn password_too_long(max: usize, actual: usize) -> Message {
    Message::error(
        4000033,
        format!("The password must be at most {max} characters long, but got {actual}."),
    )
    .with_context(context(&[
        ("max_length", json!(max)),
        ("actual_length", json!(actual)),
    ]))
}

/// 4000034: the password appears in breach corpora.
pub fn password_breached() -> Message {
    Message::error(
        4000034,
        "The password has been found in data breaches and must no longer be used.",
    )
    .with_context(context(&[("breaches", json!(1))]))
}

/// 4010002: no method matches the submission (login).
pub fn login_no_strategy() -> Message {
    Message::error(
        4010002,
        "Could not find a strategy to log you in with. Did you fill out the form correctly?",
    )
}

/// 4010003: no method matches the submission (registration).
pub fn registration_no_strategy() -> Message {
    Message::error(
        4010003,
        "Could not find a strategy to sign you up with. Did you fill out the form correctly?",
    )
}

/// 4010004: no method matches the submission (settings).
pub fn settings_no_strategy() -> Message {
    Message::error(
        4010004,
        "Could not find a strategy to update your settings. Did you fill out the form correctly?",
    )
}

/// 4000039: the new password is the current one.
pub fn password_same_as_old() -> Message {
    Message::error(
        4000039,
        "The new password must be different from the old password.",
    )
}

/// 4010011: the identity is disabled.
pub fn identity_disabled() -> Message {
    Message::error(
        4010011,
        "This account has been disabled. Please contact support for assistance.",
    )
}

/// 4010005: no method matches the submission (recovery).
pub fn recovery_no_strategy() -> Message {
    Message::error(
        4010005,
        "Could not find a strategy to recover your account with. Did you fill out the form correctly?",
    )
}

/// 4010006: no method matches the submission (verification).
pub fn verification_no_strategy() -> Message {
    Message::error(
        4010006,
        "Could not find a strategy to verify your account with. Did you fill out the form correctly?",
    )
}

/// 1060001: the account is recovered; credentials may be changed for the privileged window.
pub fn recovery_successful(minutes: f64, until: chrono::DateTime<chrono::Utc>) -> Message {
    Message::success(
        1060001,
        format!(
            "You successfully recovered your account. Please change your password or set up an alternative login method (e.g. social sign in) within the next {minutes:.2} minutes."
        ),
    )
    .with_context(context(&[
        ("privilegedSessionExpiresAt", json!(until)),
        ("privileged_session_expires_at", json!(until)),
        ("privileged_session_expires_at_unix", json!(until.timestamp())),
    ]))
}

/// 1060003: a recovery code was sent (said whether or not the address is known).
pub fn recovery_code_sent() -> Message {
    Message::info(
        1060003,
        "An email containing a recovery code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.",
    )
}

/// 1080003: a verification code was sent (said whether or not the address is known).
pub fn verification_code_sent() -> Message {
    Message::info(
        1080003,
        "An email containing a verification code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.",
    )
}

/// 1080002: the address is verified.
pub fn verification_successful() -> Message {
    Message::success(1080002, "You successfully verified your email address.")
}

/// 4060006: a wrong, used or exhausted recovery code.
pub fn recovery_code_invalid() -> Message {
    Message::error(
        4060006,
        "The recovery code is invalid or has already been used. Please try again.",
    )
}

/// 4070006: a wrong, used or exhausted verification code.
pub fn verification_code_invalid() -> Message {
    Message::error(
        4070006,
        "The verification code is invalid or has already been used. Please try again.",
    )
}

/// 1070005 "Submit".
pub fn label_submit() -> Message {
    Message::info(1070005, "Submit")
}

/// 1070007 "Email".
pub fn label_email() -> Message {
    Message::info(1070007, "Email")
}

/// 1070008 "Resend code".
pub fn label_resend_code() -> Message {
    Message::info(1070008, "Resend code")
}

/// 1070009 "Continue".
pub fn label_continue() -> Message {
    Message::info(1070009, "Continue")
}

/// 1070010 "Recovery code".
pub fn label_recovery_code() -> Message {
    Message::info(1070010, "Recovery code")
}

/// 1070011 "Verification code".
pub fn label_verification_code() -> Message {
    Message::info(1070011, "Verification code")
}

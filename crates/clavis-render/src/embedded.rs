//! The templates and locale files of `ui-templates/`, compiled into the binary.

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        /// Every embedded file, by its path under `ui-templates/`.
        const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../../ui-templates/", $name)))),*
        ];
    };
}

embed!(
    "layout.html",
    "pages/login.html",
    "pages/registration.html",
    "pages/settings.html",
    "pages/recovery.html",
    "pages/verification.html",
    "pages/error.html",
    "pages/welcome.html",
    "pages/logout.html",
    "pages/consent.html",
    "pages/device.html",
    "partials/flow.html",
    "partials/prompt.html",
    "partials/messages.html",
    "partials/node.html",
    "partials/node_input.html",
    "partials/node_text.html",
    "partials/node_img.html",
    "partials/node_a.html",
    "partials/node_script.html",
    "partials/node_div.html",
    "email/recovery_code_valid/subject.txt.j2",
    "email/recovery_code_valid/body.txt.j2",
    "email/recovery_code_valid/body.html.j2",
    "email/recovery_code_invalid/subject.txt.j2",
    "email/recovery_code_invalid/body.txt.j2",
    "email/recovery_code_invalid/body.html.j2",
    "email/verification_code_valid/subject.txt.j2",
    "email/verification_code_valid/body.txt.j2",
    "email/verification_code_valid/body.html.j2",
    "email/verification_code_invalid/subject.txt.j2",
    "email/verification_code_invalid/body.txt.j2",
    "email/verification_code_invalid/body.html.j2",
    "locales/en.json",
    "locales/de.json",
);

/// The pages, checked when a renderer is built.
pub fn pages() -> impl Iterator<Item = &'static str> {
    FILES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| name.starts_with("pages/"))
}

/// The mail templates, checked when a renderer is built.
pub fn mails() -> impl Iterator<Item = &'static str> {
    FILES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| name.starts_with("email/"))
}

/// The embedded file at `name`.
pub fn template(name: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The embedded locale files, as `(language, JSON text)`.
pub fn locales() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES.iter().filter_map(|(name, text)| {
        let lang = name.strip_prefix("locales/")?.strip_suffix(".json")?;
        Some((lang, *text))
    })
}

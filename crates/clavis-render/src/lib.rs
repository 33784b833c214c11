//! Clavis' own pages, rendered from `ui-templates/`.
//!
//! A [`Renderer`] holds a minijinja environment whose templates are embedded in the binary and
//! can be overridden file by file from a directory (`ui.templates_dir`), and the message
//! catalogues of `ui-templates/locales/`. Flow pages are rendered from a flow's `ui` container
//! alone: one form per method group, one partial per node type, so a method added later renders
//! without template changes. Messages are translated by their Kratos id; a message the chosen
//! language does not know keeps the flow's English text.

mod embedded;
pub mod locale;
pub mod view;

pub use locale::Locales;
pub use view::{
    Account, AccountApp, AccountMethod, AccountSession, DeviceDecision, DeviceView, ErrorView,
    FlowPage, Links, LogoutView, PageKind, Prompt, TraitItem,
};

use minijinja::value::Serde;
use minijinja::{Environment, context};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a page could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template is missing or broken.
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
    /// A locale file is unreadable.
    #[error("locale `{file}`: {problem}")]
    Locale { file: String, problem: String },
    /// The override directory is unusable.
    #[error("templates directory `{0}` is not a readable directory")]
    Directory(String),
}

/// A rendered mail.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// Renders pages in a language chosen per request.
#[derive(Clone)]
pub struct Renderer {
    env: Arc<Environment<'static>>,
    locales: Arc<Locales>,
}

/// What every page needs besides its own data.
#[derive(Debug, Clone)]
pub struct Common {
    /// The language tag the page is rendered in (from [`Renderer::language`]).
    pub lang: String,
    /// The nonce of the page's `Content-Security-Policy` (for its style and scripts).
    pub nonce: String,
}

impl Renderer {
    /// The embedded templates, each replaced by a file of the same relative path under
    /// `templates_dir` when there is one (`pages/login.html`, `locales/de.json`, …).
    pub fn new(templates_dir: Option<&Path>) -> Result<Self, RenderError> {
        let dir: Option<PathBuf> = match templates_dir {
            Some(dir) if dir.is_dir() => Some(dir.to_owned()),
            Some(dir) => return Err(RenderError::Directory(dir.display().to_string())),
            None => None,
        };
        let locales = Locales::load(dir.as_deref())?;
        let mut env = Environment::new();
        // Plain-text mail parts (`*.txt.j2`) are not HTML: escaping would garble them.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".txt.j2") {
                minijinja::AutoEscape::None
            } else {
                minijinja::AutoEscape::Html
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.set_loader(move |name| {
            if name.split('/').any(|part| part == ".." || part.is_empty()) {
                return Ok(None);
            }
            if let Some(dir) = &dir {
                let path = dir.join(name);
                if path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::TemplateNotFound,
                            format!("cannot read {}: {e}", path.display()),
                        )
                    });
                }
            }
            Ok(embedded::template(name).map(str::to_owned))
        });
        let renderer = Self {
            env: Arc::new(env),
            locales: Arc::new(locales),
        };
        // Broken templates are found at start-up, not on the first visitor.
        for name in embedded::pages().chain(embedded::mails()) {
            renderer.env.get_template(name)?;
        }
        Ok(renderer)
    }

    /// A mail from `ui-templates/email/<template>/`: its subject (one line), plain-text body
    /// and HTML body, rendered from `model`.
    pub fn mail(
        &self,
        template: &str,
        model: &serde_json::Value,
    ) -> Result<RenderedMail, RenderError> {
        let part = |file: &str| -> Result<String, RenderError> {
            let name = format!("email/{template}/{file}");
            Ok(self.env.get_template(&name)?.render(Serde(model))?)
        };
        let subject = part("subject.txt.j2")?
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(RenderedMail {
            subject,
            body_text: part("body.txt.j2")?,
            body_html: part("body.html.j2")?,
        })
    }

    /// The best language for an `Accept-Language` header (English when nothing matches).
    pub fn language(&self, accept_language: Option<&str>) -> String {
        self.locales.negotiate(accept_language)
    }

    fn render(
        &self,
        template: &str,
        common: &Common,
        title: &str,
        page: minijinja::Value,
    ) -> Result<String, RenderError> {
        let template = self.env.get_template(template)?;
        Ok(template.render(context! {
            lang => &common.lang,
            nonce => &common.nonce,
            title => title,
            t => self.locales.ui(&common.lang),
            ..page
        })?)
    }

    /// A login, registration, settings, recovery or verification flow.
    pub fn flow_page(&self, page: &FlowPage<'_>, common: &Common) -> Result<String, RenderError> {
        let view = page.view(&self.locales, &common.lang);
        let title = self.locales.ui_text(&common.lang, page.title_key());
        self.render(
            page.kind.template(),
            common,
            &title,
            context! {
                flow => Serde(&view),
                links => Serde(&page.links),
                signed_in => page.second_factor || page.refresh,
            },
        )
    }

    /// The error page.
    pub fn error_page(
        &self,
        error: &ErrorView,
        links: &Links,
        common: &Common,
    ) -> Result<String, RenderError> {
        let title = self.locales.ui_text(&common.lang, "error.title");
        self.render(
            "pages/error.html",
            common,
            &title,
            context! { error => Serde(error), links => Serde(links) },
        )
    }

    /// The account page of a signed-in identity.
    pub fn welcome_page(
        &self,
        account: &Account,
        csrf_token: &str,
        links: &Links,
        common: &Common,
    ) -> Result<String, RenderError> {
        let title = self.locales.ui_text(&common.lang, "welcome.title");
        self.render(
            "pages/welcome.html",
            common,
            &title,
            context! { account => Serde(account), csrf_token => csrf_token, links => Serde(links) },
        )
    }

    /// The "sign out?" confirmation.
    pub fn logout_page(
        &self,
        logout: &LogoutView,
        links: &Links,
        common: &Common,
    ) -> Result<String, RenderError> {
        let title = self.locales.ui_text(&common.lang, "logout.title");
        self.render(
            "pages/logout.html",
            common,
            &title,
            context! { logout => Serde(logout), links => Serde(links) },
        )
    }

    /// The consent prompt (`pages/consent.html`).
    pub fn consent_page(
        &self,
        prompt: &Prompt<'_>,
        common: &Common,
    ) -> Result<String, RenderError> {
        let title = self.locales.ui_text(&common.lang, "consent.title");
        let view = prompt.view(&self.locales, &common.lang);
        self.render(
            "pages/consent.html",
            common,
            &title,
            context! { prompt => Serde(&view) },
        )
    }

    /// The device-approval page (`pages/device.html`): the request and the decision buttons,
    /// or, once decided, what happened.
    pub fn device_page(
        &self,
        device: &DeviceView,
        links: &Links,
        common: &Common,
    ) -> Result<String, RenderError> {
        let title = self.locales.ui_text(&common.lang, "device.title");
        self.render(
            "pages/device.html",
            common,
            &title,
            context! { device => Serde(device), links => Serde(links) },
        )
    }
}

#[cfg(test)]
mod tests;

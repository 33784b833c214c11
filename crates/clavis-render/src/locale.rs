//! Message catalogues by language: `ui` strings for the pages' own text, `messages` by Kratos
//! message id, `{name}` placeholders filled from a message's `context`.

use crate::RenderError;
use crate::embedded;
use clavis_types::ui::Message;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The language pages fall back to.
pub const DEFAULT_LANGUAGE: &str = "en";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalogue {
    #[serde(default)]
    ui: BTreeMap<String, String>,
    #[serde(default)]
    messages: BTreeMap<u32, String>,
}

/// Every language's catalogue.
#[derive(Debug)]
pub struct Locales {
    catalogues: BTreeMap<String, Catalogue>,
}

impl Locales {
    /// The embedded catalogues, each merged with `<dir>/locales/<lang>.json` when it exists; a
    /// file there for a new language adds that language.
    pub fn load(dir: Option<&Path>) -> Result<Self, RenderError> {
        let mut catalogues = BTreeMap::new();
        for (lang, text) in embedded::locales() {
            catalogues.insert(
                lang.to_owned(),
                parse(&format!("locales/{lang}.json"), text)?,
            );
        }
        if let Some(dir) = dir.map(|d| d.join("locales")).filter(|d| d.is_dir()) {
            let entries = std::fs::read_dir(&dir)
                .map_err(|_| RenderError::Directory(dir.display().to_string()))?;
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(lang) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_owned)
                else {
                    continue;
                };
                let file = path.display().to_string();
                let text = std::fs::read_to_string(&path).map_err(|e| RenderError::Locale {
                    file: file.clone(),
                    problem: e.to_string(),
                })?;
                let extra = parse(&file, &text)?;
                let target: &mut Catalogue = catalogues.entry(lang).or_default();
                target.ui.extend(extra.ui);
                target.messages.extend(extra.messages);
            }
        }
        Ok(Self { catalogues })
    }

    /// The best language for an `Accept-Language` header: the highest-weighted tag whose
    /// primary subtag has a catalogue.
    pub fn negotiate(&self, accept_language: Option<&str>) -> String {
        let mut wanted: Vec<(f32, String)> = accept_language
            .unwrap_or_default()
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim();
                let primary = tag.split('-').next()?.to_ascii_lowercase();
                let weight = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (weight > 0.0 && !primary.is_empty()).then_some((weight, primary))
            })
            .collect();
        // Stable: among equal weights, the header's order wins.
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        wanted
            .into_iter()
            .map(|(_, lang)| lang)
            .find(|lang| self.catalogues.contains_key(lang))
            .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned())
    }

    /// The page strings of `lang`, English where it has none.
    pub fn ui(&self, lang: &str) -> BTreeMap<String, String> {
        let mut strings = self
            .catalogues
            .get(DEFAULT_LANGUAGE)
            .map(|c| c.ui.clone())
            .unwrap_or_default();
        if let Some(catalogue) = self.catalogues.get(lang) {
            strings.extend(catalogue.ui.clone());
        }
        strings
    }

    /// One page string of `lang` (English, then the key itself, when missing).
    pub fn ui_text(&self, lang: &str, key: &str) -> String {
        self.ui_lookup(lang, key).unwrap_or_else(|| key.to_owned())
    }

    /// One page string of `lang`, or English, if either has it.
    pub fn ui_lookup(&self, lang: &str, key: &str) -> Option<String> {
        [lang, DEFAULT_LANGUAGE]
            .iter()
            .find_map(|l| self.catalogues.get(*l)?.ui.get(key))
            .cloned()
    }

    /// `message` in `lang`: the catalogue's text with the context filled in, or the message's
    /// own (English) text when the catalogue does not know its id.
    pub fn message(&self, lang: &str, message: &Message) -> String {
        let Some(template) = self
            .catalogues
            .get(lang)
            .and_then(|c| c.messages.get(&message.id))
        else {
            return message.text.clone();
        };
        let mut text = template.clone();
        if let Some(context) = &message.context {
            for (key, value) in context {
                let shown = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                text = text.replace(&format!("{{{key}}}"), &shown);
            }
        }
        // A placeholder the context cannot fill would show as `{name}`: keep the flow's text.
        if has_placeholder(&text) {
            return message.text.clone();
        }
        text
    }
}

/// Whether `text` still holds a `{name}` placeholder.
fn has_placeholder(text: &str) -> bool {
    text.split('{').skip(1).any(|rest| {
        rest.split_once('}').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

fn parse(file: &str, text: &str) -> Result<Catalogue, RenderError> {
    serde_json::from_str(text).map_err(|e| RenderError::Locale {
        file: file.to_owned(),
        problem: e.to_string(),
    })
}

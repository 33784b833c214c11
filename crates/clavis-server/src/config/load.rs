//! Merging defaults, the YAML file, `CLAVIS_*` environment variables and flags.

use super::Config;
use figment::providers::{Format, Yaml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use std::path::{Path, PathBuf};

/// The environment variable prefix.
pub const ENV_PREFIX: &str = "CLAVIS_";

/// Top-level keys an environment variable may address; other `CLAVIS_*` variables belong to
/// something else (the test harness, the shell) and are reported as ignored, not rejected.
const ENV_SECTIONS: &[&str] = &[
    "dsn",
    "dev",
    "serve",
    "log",
    "secrets",
    "identity",
    "session",
    "hashers",
    "selfservice",
    "ui",
];

/// Where configuration comes from, besides the built-in defaults.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub file: Option<PathBuf>,
    /// The process environment (or a test's stand-in for it).
    pub env: Vec<(String, String)>,
    pub overrides: Overrides,
}

/// Values given as command-line flags; they win over everything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub dev: Option<bool>,
    pub dsn: Option<String>,
    pub log_format: Option<String>,
}

/// A loaded configuration and what was noticed while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// `CLAVIS_*` variables that name no configuration key.
    pub ignored_env: Vec<String>,
}

/// Why the configuration cannot be used. Each message names the key and where it came from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("configuration file {path} cannot be read: {problem}")]
    UnreadableFile { path: PathBuf, problem: String },
    #[error("configuration error in {source_name}: {problem}")]
    Parse {
        source_name: String,
        problem: String,
    },
    #[error("configuration key `{key}` is invalid: {problem}")]
    Invalid { key: String, problem: String },
}

/// Merges every source over the defaults and checks the result.
pub fn load(sources: &ConfigSources) -> Result<Loaded, ConfigError> {
    let mut figment = Figment::new();
    if let Some(path) = &sources.file {
        figment = figment.merge(yaml_file(path)?);
    }
    let env = EnvVars::new(&sources.env);
    let ignored_env = env.ignored.clone();
    figment = figment
        .merge(env)
        .merge(FlagValues(sources.overrides.clone()));
    let config: Config = figment.extract().map_err(describe)?;
    config.validate()?;
    Ok(Loaded {
        config,
        ignored_env,
    })
}

fn yaml_file(path: &Path) -> Result<Figment, ConfigError> {
    if !path.exists() {
        return Err(ConfigError::MissingFile(path.to_owned()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::UnreadableFile {
        path: path.to_owned(),
        problem: e.to_string(),
    })?;
    if text.trim().is_empty() {
        return Ok(Figment::new());
    }
    Ok(Figment::from(Yaml::file_exact(path)))
}

fn describe(error: figment::Error) -> ConfigError {
    let profile = error.profile.clone().unwrap_or_default();
    let key = error.path.join(".");
    let source_name = match &error.metadata {
        Some(meta) => match &meta.source {
            Some(figment::Source::File(path)) => format!("file {}", path.display()),
            Some(figment::Source::Custom(name)) => name.clone(),
            _ if meta.name == ENV_METADATA && !error.path.is_empty() => {
                format!(
                    "environment variable {}",
                    meta.interpolate(&profile, &error.path)
                )
            }
            _ => meta.name.to_string(),
        },
        None => "the configuration".to_owned(),
    };
    let kind = match &error.kind {
        figment::error::Kind::UnknownField(field, expected) => {
            format!(
                "`{field}` is not a configuration key here; expected one of: {}",
                expected.join(", ")
            )
        }
        other => other.to_string(),
    };
    let problem = if key.is_empty() {
        kind
    } else {
        format!("key `{key}`: {kind}")
    };
    ConfigError::Parse {
        source_name,
        problem,
    }
}

const ENV_METADATA: &str = "environment";

/// `CLAVIS_SERVE__PUBLIC__PORT=4455` as `serve.public.port = 4455`.
struct EnvVars {
    values: Dict,
    ignored: Vec<String>,
}

impl EnvVars {
    fn new(vars: &[(String, String)]) -> Self {
        let mut values = Dict::new();
        let mut ignored = Vec::new();
        for (name, raw) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let keys: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            if keys.iter().any(String::is_empty) || !ENV_SECTIONS.contains(&keys[0].as_str()) {
                ignored.push(name.clone());
                continue;
            }
            let value: Value = raw.parse().unwrap_or_else(|_| Value::from(raw.clone()));
            insert_nested(&mut values, &keys, value);
        }
        Self { values, ignored }
    }
}

fn insert_nested(dict: &mut Dict, keys: &[String], value: Value) {
    match keys {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if entry.as_dict().is_none() {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

impl Provider for EnvVars {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_METADATA).interpolater(|_: &Profile, keys: &[&str]| {
            format!(
                "{ENV_PREFIX}{}",
                keys.iter()
                    .map(|k| k.to_ascii_uppercase())
                    .collect::<Vec<_>>()
                    .join("__")
            )
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.values.clone()))
    }
}

struct FlagValues(Overrides);

impl Provider for FlagValues {
    fn metadata(&self) -> Metadata {
        Metadata::named("command-line flags")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut values = Dict::new();
        if let Some(dev) = self.0.dev {
            values.insert("dev".to_owned(), Value::from(dev));
        }
        if let Some(dsn) = &self.0.dsn {
            values.insert("dsn".to_owned(), Value::from(dsn.clone()));
        }
        if let Some(format) = &self.0.log_format {
            insert_nested(
                &mut values,
                &["log".to_owned(), "format".to_owned()],
                Value::from(format.clone()),
            );
        }
        Ok(Profile::Default.collect(values))
    }
}

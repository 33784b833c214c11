//! `clavis serve --dev`: everything needed to run with nothing installed. The data directory
//! (`./clavis-data/`) holds the SQLite database and secrets generated on first start.

use crate::config::Config;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clavis_core::Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The data directory, relative to the working directory.
pub const DATA_DIR: &str = "clavis-data";

/// Why development defaults could not be prepared.
#[derive(Debug, thiserror::Error)]
#[error("cannot prepare the development data directory {path}: {problem}")]
pub struct DevError {
    pub path: PathBuf,
    pub problem: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredSecrets {
    cookie: Vec<String>,
    cipher: Vec<String>,
}

/// What `prepare` did, for the start-up log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DevNotes {
    pub generated_secrets: Option<PathBuf>,
    pub loaded_secrets: Option<PathBuf>,
    pub sqlite_file: Option<PathBuf>,
    /// The admin API key file, when `--dev` supplied the key (generated or loaded).
    pub admin_api_key: Option<PathBuf>,
}

/// The file holding the admin API key `--dev` generates.
pub const ADMIN_API_KEY_FILE: &str = "admin-api-key";

/// Fills in what `--dev` may default: the DSN and missing secrets (generated once, then kept).
pub fn prepare(config: &mut Config, data_dir: &Path, rng: &dyn Rng) -> Result<DevNotes, DevError> {
    let fail = |problem: String| DevError {
        path: data_dir.to_owned(),
        problem,
    };
    let mut notes = DevNotes::default();
    std::fs::create_dir_all(data_dir).map_err(|e| fail(e.to_string()))?;
    if config.dsn.is_none() {
        let file = data_dir.join("clavis.sqlite");
        config.dsn = Some(format!("sqlite://{}?mode=rwc", file.display()));
        notes.sqlite_file = Some(file);
    }
    if config.secrets.cookie.is_empty() || config.secrets.cipher.is_empty() {
        let path = data_dir.join("secrets.json");
        let stored = if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
            notes.loaded_secrets = Some(path.clone());
            serde_json::from_str::<StoredSecrets>(&text).map_err(|e| {
                fail(format!(
                    "{} is not readable ({e}); delete it to generate new secrets",
                    path.display()
                ))
            })?
        } else {
            let stored = StoredSecrets {
                cookie: vec![secret(rng)],
                cipher: vec![secret(rng)],
            };
            write_private(
                &path,
                &serde_json::to_string_pretty(&stored).map_err(|e| fail(e.to_string()))?,
            )
            .map_err(|e| fail(e.to_string()))?;
            notes.generated_secrets = Some(path.clone());
            stored
        };
        if config.secrets.cookie.is_empty() {
            config.secrets.cookie = stored.cookie;
        }
        if config.secrets.cipher.is_empty() {
            config.secrets.cipher = stored.cipher;
        }
    }
    if config.serve.admin.api_keys.is_empty() {
        let path = data_dir.join(ADMIN_API_KEY_FILE);
        let key = if path.exists() {
            std::fs::read_to_string(&path)
                .map_err(|e| fail(e.to_string()))?
                .trim()
                .to_owned()
        } else {
            let key = format!("clv_ak_{}", secret(rng));
            write_private(&path, &format!("{key}\n")).map_err(|e| fail(e.to_string()))?;
            key
        };
        if key.len() < crate::config::MIN_API_KEY_LEN {
            return Err(fail(format!(
                "{} holds no usable key; delete it to generate a new one",
                path.display()
            )));
        }
        config.serve.admin.api_keys = vec![key];
        notes.admin_api_key = Some(path);
    }
    Ok(notes)
}

fn secret(rng: &dyn Rng) -> String {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clavis_core::OsRng;

    #[test]
    fn secrets_are_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Config {
            dev: true,
            ..Config::default()
        };
        let notes = prepare(&mut first, dir.path(), &OsRng).unwrap();
        assert!(notes.generated_secrets.is_some());
        assert!(first.dsn.as_deref().unwrap().starts_with("sqlite://"));
        assert!(first.secrets.cookie[0].len() >= 32);

        let mut second = Config {
            dev: true,
            ..Config::default()
        };
        let notes = prepare(&mut second, dir.path(), &OsRng).unwrap();
        assert!(notes.generated_secrets.is_none());
        assert!(notes.loaded_secrets.is_some());
        assert_eq!(first.secrets.cookie, second.secrets.cookie);
        assert_eq!(first.secrets.cipher, second.secrets.cipher);
        assert_eq!(first.serve.admin.api_keys.len(), 1);
        assert!(first.serve.admin.api_keys[0].starts_with("clv_ak_"));
        assert_eq!(first.serve.admin.api_keys, second.serve.admin.api_keys);
        assert!(notes.admin_api_key.is_some());
    }

    #[test]
    fn configured_dsn_and_secrets_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            dev: true,
            dsn: Some("memory".into()),
            ..Config::default()
        };
        config.secrets.cookie = vec!["configured-secret-123".into()];
        config.serve.admin.api_keys = vec!["configured-admin-key-123".into()];
        let notes = prepare(&mut config, dir.path(), &OsRng).unwrap();
        assert_eq!(
            config.serve.admin.api_keys,
            vec!["configured-admin-key-123".to_owned()]
        );
        assert!(notes.admin_api_key.is_none());
        assert!(!dir.path().join(ADMIN_API_KEY_FILE).exists());
        assert_eq!(config.dsn.as_deref(), Some("memory"));
        assert_eq!(
            config.secrets.cookie,
            vec!["configured-secret-123".to_owned()]
        );
        assert!(!config.secrets.cipher.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn secrets_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        prepare(
            &mut Config {
                dev: true,
                ..Config::default()
            },
            dir.path(),
            &OsRng,
        )
        .unwrap();
        let mode = std::fs::metadata(dir.path().join("secrets.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

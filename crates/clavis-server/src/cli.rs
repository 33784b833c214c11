//! The `clavis` command line: `serve`, `migrate`, `config check`, `identities ...`.

use crate::admin_cli;
use crate::app::{self, Runtime, StartError};
use crate::config::{self, ConfigError, ConfigSources, Overrides};
use crate::dev;
use crate::logging;
use clap::{Parser, Subcommand};
use clavis_core::identity::SchemaRegistry;
use clavis_store::{ConnectError, Database};
use std::path::PathBuf;

/// Clavis, an identity server compatible with Ory Kratos' API.
#[derive(Debug, Parser)]
#[command(name = "clavis", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the public and admin listeners.
    Serve {
        /// Development mode: SQLite in ./clavis-data/, generated secrets, migrations applied.
        #[arg(long)]
        dev: bool,
        /// The configuration file (YAML).
        #[arg(long, short = 'c')]
        config: Option<PathBuf>,
        /// Log format: `text` or `json`.
        #[arg(long, value_parser = ["text", "json"])]
        log_format: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate {
        /// The database to migrate (overrides the configuration and CLAVIS_DSN).
        #[arg(long)]
        dsn: Option<String>,
        /// The configuration file (YAML).
        #[arg(long, short = 'c')]
        config: Option<PathBuf>,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage identities through a running server's admin API.
    Identities {
        /// The admin API's base URL.
        #[arg(
            long,
            env = "CLAVIS_ADMIN_URL",
            default_value = "http://127.0.0.1:4434/",
            global = true
        )]
        endpoint: url::Url,
        /// An admin API key (default: the key `serve --dev` keeps in ./clavis-data/).
        #[arg(
            long,
            env = "CLAVIS_ADMIN_API_KEY",
            hide_env_values = true,
            global = true
        )]
        api_key: Option<String>,
        #[command(subcommand)]
        command: IdentitiesCommand,
    },
}

/// `clavis identities ...`.
#[derive(Debug, Subcommand)]
pub enum IdentitiesCommand {
    /// Create identities from a JSON array of Kratos `createIdentityBody` objects (`-`: stdin),
    /// with cleartext or hashed passwords; refused entries are reported.
    Import {
        /// The file to import, or `-` for standard input.
        file: PathBuf,
    },
    /// List every identity: id, state and e-mail, one per line.
    List {
        /// Print each identity as one line of JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Print one identity as JSON.
    Get {
        /// The identity's id.
        id: String,
    },
    /// Delete an identity with its credentials and sessions.
    Delete {
        /// The identity's id.
        id: String,
    },
}

/// `clavis config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file (with CLAVIS_* variables applied) and its identity schemas.
    Check {
        /// The configuration file (YAML).
        file: Option<PathBuf>,
    },
}

/// A command that failed; the message is one sentence for a person.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Database(#[from] ConnectError),
    #[error(transparent)]
    Dev(#[from] dev::DevError),
    #[error(transparent)]
    Admin(#[from] admin_cli::AdminCliError),
    #[error("{0}")]
    Other(String),
}

/// Runs a parsed command line against the given environment.
pub async fn run(cli: Cli, env: Vec<(String, String)>) -> Result<(), CliError> {
    match cli.command {
        Command::Serve {
            dev,
            config,
            log_format,
        } => {
            let overrides = Overrides {
                dev: dev.then_some(true),
                log_format,
                ..Overrides::default()
            };
            serve(ConfigSources {
                file: config,
                env,
                overrides,
            })
            .await
        }
        Command::Migrate { dsn, config } => {
            migrate(ConfigSources {
                file: config,
                env,
                overrides: Overrides {
                    dsn,
                    ..Overrides::default()
                },
            })
            .await
        }
        Command::Config {
            command: ConfigCommand::Check { file },
        } => config_check(ConfigSources {
            file,
            env,
            overrides: Overrides::default(),
        }),
        Command::Identities {
            endpoint,
            api_key,
            command,
        } => {
            let target = admin_cli::AdminTarget::new(endpoint, api_key);
            match command {
                IdentitiesCommand::Import { file } => admin_cli::import(target, &file).await,
                IdentitiesCommand::List { json } => admin_cli::list(target, json).await,
                IdentitiesCommand::Get { id } => admin_cli::get(target, &id).await,
                IdentitiesCommand::Delete { id } => admin_cli::delete(target, &id).await,
            }
            .map_err(CliError::from)
        }
    }
}

async fn serve(sources: ConfigSources) -> Result<(), CliError> {
    let loaded = config::load(&sources)?;
    let mut config = loaded.config;
    logging::init(&config.log);
    for name in &loaded.ignored_env {
        tracing::warn!(variable = %name, "environment variable names no configuration key; ignored");
    }
    let runtime = Runtime::default();
    let mut admin_key_file = None;
    if config.dev {
        let notes = dev::prepare(
            &mut config,
            std::path::Path::new(dev::DATA_DIR),
            runtime.rng.as_ref(),
        )?;
        tracing::warn!("development mode: do not use --dev in production");
        if let Some(path) = notes.generated_secrets {
            tracing::warn!(file = %path.display(), "generated cookie and cipher secrets; keep this file private");
        }
        admin_key_file = notes.admin_api_key;
    }
    config.validate_for_serve()?;
    let dev = config.dev;
    let admin_key = admin_key_file
        .as_ref()
        .and_then(|path| Some((path.clone(), config.serve.admin.api_keys.first()?.clone())));
    let running = app::start(config, runtime).await?;
    println!("{}", banner(&running, dev));
    if let Some((path, key)) = admin_key {
        // Printed for the developer at the terminal, never written to the log.
        println!(
            "  admin key:  {key}\n              (kept in {}; send it as `Authorization: Bearer <key>`)",
            path.display()
        );
    }
    tracing::info!(public = %running.public_base_url, admin = %running.admin_base_url, "clavis started");
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    running.stop(true).await;
    running
        .wait()
        .await
        .map_err(|e| CliError::Other(format!("a listener failed: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

fn banner(running: &app::Running, dev: bool) -> String {
    let mode = if dev { " in development mode" } else { "" };
    format!(
        "Clavis {}{mode} is ready.\n  sign up:    {}ui/registration\n  account:    {}ui/welcome\n  public API: {}\n  admin API:  {}\n  health:     {}health/ready",
        app::VERSION,
        running.public_base_url,
        running.public_base_url,
        running.public_base_url,
        running.admin_base_url,
        running.public_base_url,
    )
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn migrate(sources: ConfigSources) -> Result<(), CliError> {
    let config = config::load(&sources)?.config;
    logging::init(&config.log);
    let dsn = config.dsn.ok_or_else(|| ConfigError::Invalid {
        key: "dsn".to_owned(),
        problem: "is not set; pass --dsn, set CLAVIS_DSN or put `dsn:` in the configuration file"
            .to_owned(),
    })?;
    let database = Database::connect(&dsn).await?;
    let before = database.migration_status().await?;
    database.migrate().await?;
    if before.pending.is_empty() {
        println!("The database schema is up to date; nothing to apply.");
    } else {
        println!(
            "Applied {} migration(s): {}",
            before.pending.len(),
            before.pending.join(", ")
        );
    }
    Ok(())
}

fn config_check(sources: ConfigSources) -> Result<(), CliError> {
    let described = sources
        .file
        .as_ref()
        .map_or("defaults and environment".to_owned(), |f| {
            f.display().to_string()
        });
    let config = config::load(&sources)?.config;
    config.validate_for_serve()?;
    let documents = config::load_schema_documents(&config.identity).map_err(StartError::from)?;
    let count = documents.len();
    SchemaRegistry::new(&config.identity.default_schema_id, documents).map_err(StartError::from)?;
    println!("The configuration ({described}) is valid; {count} identity schema(s) compiled.");
    Ok(())
}

//! `clavis-bench`: the pieces `bench/run` drives. `hello` serves the baseline, `hashrate`
//! measures the argon2id candidates, `seed` fills a running Clavis, `report` writes the tables.

use clap::{Parser, Subcommand};
use clavis_bench::argon::{self, Candidate, Cost};
use clavis_bench::report::{self, Hashing, Memory, Round};
use clavis_bench::seed;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "clavis-bench", about = "Clavis' load harness (see bench/run)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct CostArgs {
    #[arg(long, default_value_t = Cost::default().memory_kib)]
    memory_kib: u32,
    #[arg(long, default_value_t = Cost::default().iterations)]
    iterations: u32,
    #[arg(long, default_value_t = Cost::default().parallelism)]
    parallelism: u32,
}

impl CostArgs {
    fn cost(&self) -> Cost {
        Cost {
            memory_kib: self.memory_kib,
            iterations: self.iterations,
            parallelism: self.parallelism,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the hello-world baseline on 127.0.0.1 (port 0 picks one); prints the address.
    Hello {
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Check that the argon2id candidates agree, then measure each; prints JSON.
    Hashrate {
        #[command(flatten)]
        cost: CostArgs,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        #[arg(long, default_value_t = 15)]
        samples: usize,
    },
    /// Create identities through the admin API and sessions through API logins; writes
    /// identities.txt, tokens.txt and cookies.txt into `out`.
    Seed {
        #[arg(long)]
        public: String,
        #[arg(long)]
        admin: String,
        /// The admin API key, when the admin listener requires one.
        #[arg(long, env = "CLAVIS_BENCH_ADMIN_KEY")]
        admin_key: Option<String>,
        #[arg(long, default_value_t = 10_000)]
        identities: usize,
        #[arg(long, default_value_t = 1_000)]
        sessions: usize,
        #[arg(long)]
        password: String,
        /// The server's `secrets.cookie[0]`, to sign the session cookies.
        #[arg(long)]
        cookie_secret: String,
        #[command(flatten)]
        cost: CostArgs,
        #[arg(long)]
        out: PathBuf,
    },
    /// Build report.md and report.json from a results directory.
    Report {
        /// Fail when any request failed or any scenario completed nothing.
        #[arg(long)]
        strict: bool,
        dir: PathBuf,
    },
}

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Hash(#[from] argon::HashFailed),
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Failed(String),
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn hashrate(cost: Cost, threads: usize, seconds: f64, samples: usize) -> Result<(), BenchError> {
    argon::agree(cost)?;
    let mut rates = Vec::new();
    for candidate in Candidate::ALL {
        eprintln!("measuring {}", candidate.name());
        rates.push(argon::measure(
            candidate,
            cost,
            samples,
            threads,
            Duration::from_secs_f64(seconds),
        )?);
    }
    let hashing = Hashing {
        cost,
        threads,
        rates,
    };
    println!("{}", serde_json::to_string_pretty(&hashing)?);
    Ok(())
}

#[allow(clippy::too_many_arguments)] // the command line's options, passed on one by one
async fn seed_all(
    public: &str,
    admin: &str,
    admin_key: Option<&str>,
    counts: (usize, usize),
    password: &str,
    cookie_secret: &str,
    cost: Cost,
    out: &std::path::Path,
) -> Result<(), BenchError> {
    let (identities, sessions) = counts;
    let client = reqwest::Client::builder().build()?;
    // One hash for every identity: seeding measures nothing, so it should cost no hashing.
    let hash = argon::phc(cost, password.as_bytes(), b"clavis bench slt")?;
    let concurrency = 4 * cores();
    seed::identities(&client, admin, admin_key, identities, &hash, concurrency).await?;
    eprintln!("created {identities} identities");
    let tokens =
        seed::sessions(&client, public, identities, sessions, password, cores() * 2).await?;
    eprintln!("started {} sessions", tokens.len());
    let cookies = seed::session_cookies(cookie_secret, &tokens)?;
    let emails: Vec<String> = (0..identities).map(seed::email).collect();
    std::fs::write(out.join("identities.txt"), emails.join("\n") + "\n")?;
    std::fs::write(out.join("tokens.txt"), tokens.join("\n") + "\n")?;
    std::fs::write(out.join("cookies.txt"), cookies.join("\n") + "\n")?;
    Ok(())
}

fn read_lines<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<Vec<T>, BenchError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(BenchError::from))
        .collect()
}

fn write_report(dir: &std::path::Path, strict: bool) -> Result<(), BenchError> {
    let rounds: Vec<Round> = read_lines(&dir.join("rounds.jsonl"))?;
    let memory: Vec<Memory> = read_lines(&dir.join("memory.jsonl"))?;
    let hashing: Hashing =
        serde_json::from_str(&std::fs::read_to_string(dir.join("hashing.json"))?)?;
    let machine = match std::fs::read_to_string(dir.join("machine.json")) {
        Ok(text) => serde_json::from_str(&text)?,
        Err(_) => serde_json::Value::Null,
    };
    let report = report::build(&rounds, &memory, hashing, machine);
    let markdown = report::markdown(&report);
    std::fs::write(dir.join("report.md"), &markdown)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    print!("{markdown}");
    let problems = report::problems(&report);
    if strict && !problems.is_empty() {
        return Err(BenchError::Failed(problems.join("; ")));
    }
    Ok(())
}

fn run(cli: Cli) -> Result<(), BenchError> {
    match cli.command {
        Command::Hello { port, workers } => {
            let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
            println!("http://{}/hello", listener.local_addr()?);
            actix_web::rt::System::new().block_on(clavis_bench::hello::serve(
                listener,
                workers.unwrap_or_else(cores),
            ))?;
            Ok(())
        }
        Command::Hashrate {
            cost,
            threads,
            seconds,
            samples,
        } => hashrate(cost.cost(), threads.unwrap_or_else(cores), seconds, samples),
        Command::Seed {
            public,
            admin,
            admin_key,
            identities,
            sessions,
            password,
            cookie_secret,
            cost,
            out,
        } => tokio::runtime::Runtime::new()?.block_on(seed_all(
            &public,
            &admin,
            admin_key.as_deref(),
            (identities, sessions),
            &password,
            &cookie_secret,
            cost.cost(),
            &out,
        )),
        Command::Report { dir, strict } => write_report(&dir, strict),
    }
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("clavis-bench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

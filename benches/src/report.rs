//! Turns the raw results of `bench/run` (one JSON line per wrk round, memory readings and the
//! argon2id measurements) into the published table: medians over rounds, each figure's ratio
//! to its baseline from the same run, and whether the target ratio was met.

use crate::argon::{HashRate, median};
use serde::{Deserialize, Serialize};

/// What one wrk round reported (printed by `bench/lua/common.lua`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Wrk {
    /// Requests sent, whatever their answer.
    pub requests: u64,
    /// Responses with the status the scenario expects (for login and registration: completed
    /// logins and registrations, not their flow requests).
    pub completed: u64,
    /// Responses with any other status.
    pub unexpected: u64,
    /// Connect, read, write and timeout errors.
    pub socket_errors: u64,
    pub duration_us: u64,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// One round of one scenario against one database.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Round {
    pub db: String,
    pub scenario: String,
    pub round: u32,
    /// CPU time the measured server spent during the round.
    pub cpu_ms: f64,
    /// The measured server's peak resident set during the round (its high-water mark is
    /// reset before each round), where the kernel allows the reset.
    #[serde(default)]
    pub peak_rss_kib: Option<u64>,
    pub wrk: Wrk,
}

impl Round {
    fn rate(&self) -> f64 {
        self.wrk.completed as f64 / (self.wrk.duration_us as f64 / 1e6).max(1e-9)
    }

    fn cpu_per_completed(&self) -> f64 {
        self.cpu_ms / (self.wrk.completed.max(1) as f64)
    }
}

/// Memory of one server run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Memory {
    pub db: String,
    pub idle_rss_kib: u64,
    pub peak_rss_kib: u64,
    /// The peak while the harness seeded identities and sessions, before the rounds.
    #[serde(default)]
    pub seed_peak_rss_kib: Option<u64>,
}

/// The argon2id measurements (`clavis-bench hashrate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hashing {
    pub cost: crate::argon::Cost,
    pub threads: usize,
    pub rates: Vec<HashRate>,
}

impl Hashing {
    /// The fastest candidate: the raw-hash baseline of password logins.
    pub fn fastest(&self) -> Option<&HashRate> {
        self.rates
            .iter()
            .max_by(|a, b| a.hashes_per_second.total_cmp(&b.hashes_per_second))
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub scenario: String,
    pub rounds: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub cpu_ms_per_request: f64,
    /// The highest peak resident set of the server over the scenario's rounds.
    pub peak_rss_mib: Option<f64>,
    /// Completed requests that got an unexpected answer or a socket error, over all rounds.
    pub failures: u64,
    pub baseline: Option<String>,
    pub ratio: Option<f64>,
    pub cpu_ratio: Option<f64>,
    pub target: Option<String>,
    pub met: Option<bool>,
}

/// One database's part of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Database {
    pub db: String,
    pub rows: Vec<Row>,
    pub idle_rss_mib: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    pub seed_peak_rss_mib: Option<f64>,
    pub memory_met: Option<bool>,
}

/// The whole report, as written to `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub machine: serde_json::Value,
    pub hashing: Hashing,
    pub databases: Vec<Database>,
}

/// The target a scenario's ratio is held to: (baseline, minimum ratio).
fn target(db: &str, scenario: &str) -> Option<(&'static str, f64)> {
    match scenario {
        "whoami-header" | "whoami-cookie" if db == "sqlite" => Some(("hello", 0.6)),
        "whoami-header" | "whoami-cookie" => Some(("hello", 0.3)),
        "whoami-invalid" => Some(("hello", 0.0)),
        "login-flow" => Some(("hello", 0.3)),
        "login" => Some(("raw hash", 0.9)),
        "registration" => Some(("raw hash", 0.0)),
        _ => None,
    }
}

/// The p99 a scenario's latency is held to, in milliseconds.
fn latency_target(scenario: &str) -> Option<f64> {
    (scenario == "whoami-half-rate").then_some(5.0)
}

const IDLE_RSS_MIB: f64 = 25.0;
const PEAK_RSS_MIB: f64 = 80.0;

fn row(db: &str, scenario: &str, rounds: &[&Round], hello: Option<&Row>, hash: f64) -> Row {
    let mut rates: Vec<f64> = rounds.iter().map(|r| r.rate()).collect();
    let mut p50: Vec<f64> = rounds.iter().map(|r| r.wrk.p50_us / 1000.0).collect();
    let mut p99: Vec<f64> = rounds.iter().map(|r| r.wrk.p99_us / 1000.0).collect();
    let mut cpu: Vec<f64> = rounds.iter().map(|r| r.cpu_per_completed()).collect();
    let failures = rounds
        .iter()
        .map(|r| r.wrk.unexpected + r.wrk.socket_errors)
        .sum();
    let mut row = Row {
        scenario: scenario.to_owned(),
        rounds: rounds.len(),
        per_second: median(&mut rates),
        p50_ms: median(&mut p50),
        p99_ms: median(&mut p99),
        cpu_ms_per_request: median(&mut cpu),
        peak_rss_mib: rounds
            .iter()
            .filter_map(|r| r.peak_rss_kib)
            .max()
            .map(|kib| kib as f64 / 1024.0),
        failures,
        baseline: None,
        ratio: None,
        cpu_ratio: None,
        target: None,
        met: None,
    };
    match target(db, scenario) {
        Some(("hello", minimum)) => {
            // A baseline that completed nothing gives no ratio (the run shows its failures).
            if let Some(hello) = hello.filter(|h| h.per_second > 0.0) {
                let ratio = row.per_second / hello.per_second;
                row.baseline = Some(format!("hello {:.0}/s", hello.per_second));
                row.ratio = Some(ratio);
                row.cpu_ratio = Some(row.cpu_ms_per_request / hello.cpu_ms_per_request.max(1e-9));
                if minimum > 0.0 {
                    row.target = Some(format!(">= {minimum}x"));
                    row.met = Some(ratio >= minimum && failures == 0);
                }
            }
        }
        Some((_, minimum)) if hash > 0.0 => {
            let ratio = row.per_second / hash;
            row.baseline = Some(format!("raw argon2id {hash:.1}/s"));
            row.ratio = Some(ratio);
            if minimum > 0.0 {
                row.target = Some(format!(">= {minimum}x"));
                row.met = Some(ratio >= minimum && failures == 0);
            }
        }
        Some(_) | None => {}
    }
    if let Some(limit) = latency_target(scenario) {
        row.target = Some(format!("p99 < {limit} ms"));
        row.met = Some(row.p99_ms < limit && failures == 0);
    }
    row
}

/// The report over every round, memory reading and the hashing measurement.
pub fn build(
    rounds: &[Round],
    memory: &[Memory],
    hashing: Hashing,
    machine: serde_json::Value,
) -> Report {
    let hash = hashing.fastest().map_or(0.0, |f| f.hashes_per_second);
    let mut dbs: Vec<&str> = Vec::new();
    for r in rounds {
        if !dbs.contains(&r.db.as_str()) {
            dbs.push(&r.db);
        }
    }
    let databases = dbs
        .into_iter()
        .map(|db| {
            let mut scenarios: Vec<&str> = Vec::new();
            for r in rounds.iter().filter(|r| r.db == db) {
                if !scenarios.contains(&r.scenario.as_str()) {
                    scenarios.push(&r.scenario);
                }
            }
            let of = |scenario: &str| -> Vec<&Round> {
                rounds
                    .iter()
                    .filter(|r| r.db == db && r.scenario == scenario)
                    .collect()
            };
            let hello = scenarios
                .contains(&"hello")
                .then(|| row(db, "hello", &of("hello"), None, hash));
            let rows = scenarios
                .iter()
                .map(|s| match (&hello, *s) {
                    (Some(hello), "hello") => hello.clone(),
                    _ => row(db, s, &of(s), hello.as_ref(), hash),
                })
                .collect();
            let reading = memory.iter().find(|m| m.db == db);
            let idle = reading.map(|m| m.idle_rss_kib as f64 / 1024.0);
            let peak = reading.map(|m| m.peak_rss_kib as f64 / 1024.0);
            Database {
                db: db.to_owned(),
                rows,
                idle_rss_mib: idle,
                peak_rss_mib: peak,
                seed_peak_rss_mib: reading
                    .and_then(|m| m.seed_peak_rss_kib)
                    .map(|kib| kib as f64 / 1024.0),
                memory_met: idle
                    .zip(peak)
                    .map(|(i, p)| i <= IDLE_RSS_MIB && p <= PEAK_RSS_MIB),
            }
        })
        .collect();
    Report {
        machine,
        hashing,
        databases,
    }
}

/// What makes a run unusable: failed requests, scenarios that completed nothing, a database
/// that was not measured.
pub fn problems(report: &Report) -> Vec<String> {
    let mut found = Vec::new();
    if report.databases.is_empty() {
        found.push("no database was measured".to_owned());
    }
    for db in &report.databases {
        for row in &db.rows {
            if row.failures > 0 {
                found.push(format!(
                    "{} {}: {} requests failed",
                    db.db, row.scenario, row.failures
                ));
            }
            if row.per_second <= 0.0 {
                found.push(format!("{} {}: nothing completed", db.db, row.scenario));
            }
        }
    }
    found
}

fn yes_no(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "",
    }
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(String::new, |r| format!("{r:.2}x"))
}

/// The report as Markdown, as `docs/performance.md` quotes it.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let h = &report.hashing;
    out.push_str(&format!(
        "### argon2id, m={} KiB, t={}, p={}, {} threads\n\n",
        h.cost.memory_kib, h.cost.iterations, h.cost.parallelism, h.threads
    ));
    out.push_str("| implementation | ms per hash (1 thread) | hashes/s (all threads) |\n");
    out.push_str("|---|---:|---:|\n");
    for rate in &h.rates {
        out.push_str(&format!(
            "| {} | {:.2} | {:.1} |\n",
            rate.candidate, rate.ms_per_hash, rate.hashes_per_second
        ));
    }
    for db in &report.databases {
        out.push_str(&format!("\n### {}\n\n", db.db));
        out.push_str(
            "| scenario | req/s | p50 ms | p99 ms | CPU ms/req | peak RSS MiB | baseline | ratio | CPU ratio | target | |\n",
        );
        out.push_str("|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|\n");
        for row in &db.rows {
            let failures = if row.failures > 0 {
                format!(" ({} failed)", row.failures)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "| {} | {:.0}{} | {:.2} | {:.2} | {:.3} | {} | {} | {} | {} | {} | {} |\n",
                row.scenario,
                row.per_second,
                failures,
                row.p50_ms,
                row.p99_ms,
                row.cpu_ms_per_request,
                row.peak_rss_mib
                    .map_or_else(String::new, |mib| format!("{mib:.1}")),
                row.baseline.as_deref().unwrap_or(""),
                ratio(row.ratio),
                ratio(row.cpu_ratio),
                row.target.as_deref().unwrap_or(""),
                yes_no(row.met),
            ));
        }
        if let (Some(idle), Some(peak)) = (db.idle_rss_mib, db.peak_rss_mib) {
            out.push_str(&format!(
                "\nMemory: idle RSS {idle:.1} MiB (target <= {IDLE_RSS_MIB}), peak RSS {peak:.1} MiB (target <= {PEAK_RSS_MIB}): {}\n",
                yes_no(db.memory_met)
            ));
            if let Some(seeding) = db.seed_peak_rss_mib {
                out.push_str(&format!(
                    "(peak while seeding: {seeding:.1} MiB; each scenario's own peak is in the table)\n"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argon::Cost;

    fn round(db: &str, scenario: &str, n: u32, completed: u64, p99_us: f64) -> Round {
        Round {
            db: db.to_owned(),
            scenario: scenario.to_owned(),
            round: n,
            cpu_ms: completed as f64 / 10.0,
            peak_rss_kib: Some(40 * 1024 + u64::from(n)),
            wrk: Wrk {
                requests: completed,
                completed,
                unexpected: 0,
                socket_errors: 0,
                duration_us: 1_000_000,
                p50_us: p99_us / 2.0,
                p99_us,
            },
        }
    }

    fn hashing(rate: f64) -> Hashing {
        Hashing {
            cost: Cost::default(),
            threads: 2,
            rates: vec![
                HashRate {
                    candidate: "slow".to_owned(),
                    ms_per_hash: 20.0,
                    hashes_per_second: rate / 2.0,
                },
                HashRate {
                    candidate: "fast".to_owned(),
                    ms_per_hash: 10.0,
                    hashes_per_second: rate,
                },
            ],
        }
    }

    #[test]
    fn ratios_use_medians_against_the_same_databases_hello() {
        let rounds = vec![
            round("sqlite", "hello", 1, 1000, 900.0),
            round("sqlite", "hello", 2, 3000, 900.0),
            round("sqlite", "hello", 3, 2000, 900.0),
            round("sqlite", "whoami-header", 1, 1300, 900.0),
            round("sqlite", "whoami-header", 2, 1100, 900.0),
            round("sqlite", "whoami-header", 3, 1200, 900.0),
            round("postgres", "hello", 1, 4000, 900.0),
            round("postgres", "whoami-header", 1, 1000, 900.0),
        ];
        let report = build(&rounds, &[], hashing(100.0), serde_json::Value::Null);
        let sqlite = &report.databases[0].rows[1];
        assert_eq!(sqlite.per_second, 1200.0);
        assert_eq!(sqlite.ratio, Some(0.6));
        assert_eq!(sqlite.met, Some(true));
        let postgres = &report.databases[1].rows[1];
        assert_eq!(postgres.ratio, Some(0.25));
        assert_eq!(postgres.target.as_deref(), Some(">= 0.3x"));
        assert_eq!(postgres.met, Some(false));
    }

    #[test]
    fn a_baseline_that_completed_nothing_gives_no_ratio() {
        let rounds = vec![
            round("sqlite", "hello", 1, 0, 900.0),
            round("sqlite", "whoami-header", 1, 1000, 900.0),
        ];
        let report = build(&rounds, &[], hashing(100.0), serde_json::Value::Null);
        let whoami = &report.databases[0].rows[1];
        assert_eq!((whoami.ratio, whoami.met), (None, None));
        assert!(problems(&report).contains(&"sqlite hello: nothing completed".to_owned()));
    }

    #[test]
    fn logins_are_held_to_the_fastest_raw_hash_rate() {
        let rounds = vec![round("sqlite", "login", 1, 95, 20_000.0)];
        let report = build(&rounds, &[], hashing(100.0), serde_json::Value::Null);
        let login = &report.databases[0].rows[0];
        assert_eq!(login.ratio, Some(0.95));
        assert_eq!(login.met, Some(true));
        let slower = build(
            &[round("sqlite", "login", 1, 85, 20_000.0)],
            &[],
            hashing(100.0),
            serde_json::Value::Null,
        );
        assert_eq!(slower.databases[0].rows[0].met, Some(false));
    }

    #[test]
    fn each_scenario_shows_its_highest_peak_over_the_rounds() {
        let mut unmeasured = round("sqlite", "registration", 1, 90, 20_000.0);
        unmeasured.peak_rss_kib = None;
        let rounds = vec![
            round("sqlite", "login", 1, 95, 20_000.0),
            round("sqlite", "login", 2, 95, 20_000.0),
            unmeasured,
        ];
        let report = build(&rounds, &[], hashing(100.0), serde_json::Value::Null);
        let rows = &report.databases[0].rows;
        assert_eq!(rows[0].peak_rss_mib, Some((40.0 * 1024.0 + 2.0) / 1024.0));
        assert_eq!(rows[1].peak_rss_mib, None);
        let table = markdown(&report);
        assert!(
            table.contains("| login | 95 | 10.00 | 20.00 | 0.100 | 40.0 |"),
            "{table}"
        );
    }

    #[test]
    fn failures_miss_the_target_and_show_in_the_table() {
        let mut failing = round("sqlite", "whoami-half-rate", 1, 1000, 1_000.0);
        failing.wrk.unexpected = 3;
        let report = build(
            &[failing],
            &[Memory {
                db: "sqlite".to_owned(),
                idle_rss_kib: 20 * 1024,
                peak_rss_kib: 90 * 1024,
                seed_peak_rss_kib: Some(30 * 1024),
            }],
            hashing(100.0),
            serde_json::Value::Null,
        );
        let db = &report.databases[0];
        assert_eq!(db.rows[0].met, Some(false));
        assert_eq!(
            problems(&report),
            ["sqlite whoami-half-rate: 3 requests failed"]
        );
        assert_eq!(
            problems(&build(&[], &[], hashing(1.0), serde_json::Value::Null)),
            ["no database was measured"]
        );
        assert_eq!(db.memory_met, Some(false));
        let table = markdown(&report);
        assert!(
            table.contains("| whoami-half-rate | 1000 (3 failed) |"),
            "{table}"
        );
        assert!(
            table.contains("peak RSS 90.0 MiB (target <= 80): **missed**"),
            "{table}"
        );
        assert!(table.contains("| fast | 10.00 | 100.0 |"), "{table}");
        assert!(table.contains("peak while seeding: 30.0 MiB"), "{table}");
    }
}

//! `loudhailer status` and `loudhailer next`: each job's state, with its URL, error, or why
//! it waits; from the running daemon when there is one, else from the store.

use std::collections::BTreeMap;
use std::io::Write;

use super::plan::{table, Format, JobView};
use super::{load_config, open_existing_store, Cli, CliError};
use crate::config::Config;
use crate::control::{self, Request};
use crate::job::{JobRecord, JobState};
use crate::plan;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct NextArgs {
    /// How many jobs to show.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub count: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// What a running daemon says beside its jobs (accounts the server holds back, workers that
/// stopped, and a config edit it refused); with no daemon, the holds the store keeps; and the
/// suggested points (from the store when no daemon runs).
#[derive(Debug, Default)]
pub struct Live {
    pub holds: BTreeMap<String, String>,
    pub workers: BTreeMap<String, String>,
    pub reload: Option<String>,
    pub suggestions: Vec<plan::Suggestion>,
}

/// Every job, the paused accounts and what only a running daemon knows.
type Gathered = (Vec<JobRecord>, BTreeMap<String, String>, Live);

/// Every job and the paused accounts: from the daemon, the store, or (before any run) the plan.
pub fn gather(config: &Config) -> Result<Gathered, CliError> {
    if let Some(stream) = control::client::connect(&config.state_dir) {
        return ask(config, stream);
    }
    let store = match open_existing_store(&config.state_dir) {
        Err(CliError::Store(e @ crate::store::StoreError::Locked { .. })) => {
            // A daemon holds the store but does not listen yet: it is starting up.
            return match control::client::connect_when_up(&config.state_dir, control::client::STARTING_UP) {
                Some(stream) => ask(config, stream),
                None => Err(CliError::Failed(format!("{e}; it has not answered on its control socket"))),
            };
        }
        other => other?,
    };
    from_store(config, store)
}

/// Asks the running daemon.
fn ask(config: &Config, mut stream: std::os::unix::net::UnixStream) -> Result<Gathered, CliError> {
    let path = control::socket_path(&config.state_dir);
    let r =
        control::client::request(&mut stream, &Request::Status, &path).map_err(|e| CliError::Failed(e.to_string()))?;
    if !r.ok {
        return Err(CliError::Failed(r.error.unwrap_or_default()));
    }
    let live = Live {
        holds: r.holds.unwrap_or_default(),
        workers: r.workers.unwrap_or_default(),
        reload: r.reload,
        suggestions: r.suggestions.unwrap_or_default(),
    };
    Ok((r.jobs.unwrap_or_default(), r.paused.unwrap_or_default(), live))
}

/// Reads the stored state (no daemon runs), or plans when nothing is stored yet.
fn from_store(config: &Config, store: Option<crate::store::Store>) -> Result<Gathered, CliError> {
    let mut paused = BTreeMap::new();
    let mut records = Vec::new();
    let mut live = Live::default();
    let mut approved = plan::Approvals::default();
    if let Some(store) = store {
        records = store.jobs()?;
        approved = store.adjustments()?.approved;
        let now = chrono::Utc::now();
        for a in &config.accounts {
            let state = store.account(&a.id)?;
            if let Some(why) = state.paused {
                paused.insert(a.id.clone(), why);
            }
            // A hold the server put on the account, stored for the next run to honour.
            if let Some(until) = state.hold_until.filter(|u| *u > now) {
                let why = state.hold_reason.unwrap_or_else(|| "the server asked to wait".into());
                let local = until.with_timezone(&config.event.timezone).format("%Y-%m-%d %H:%M:%S");
                live.holds.insert(a.id.clone(), format!("until {local} ({why})"));
            }
        }
    }
    if records.is_empty() {
        // Nothing has run yet: everything planned is pending.
        let counters = plan::counters(config, &Default::default());
        let planned = plan::plan(config, &counters, &approved).map_err(|e| CliError::Failed(e.to_string()))?;
        records = planned.jobs.into_iter().map(JobRecord::new).collect();
    }
    records.sort_by(|a, b| a.ready_at().cmp(&b.ready_at()).then_with(|| a.spec.id.cmp(&b.spec.id)));
    live.suggestions = plan::suggestions(config, &approved);
    Ok((records, paused, live))
}

fn print(
    config: &Config,
    records: &[JobRecord],
    paused: &BTreeMap<String, String>,
    live: &Live,
    format: Format,
) -> Result<(), CliError> {
    let views: Vec<JobView> = records.iter().map(JobView::stored).collect();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &views).map_err(|e| CliError::Failed(e.to_string()))?;
            writeln!(out).ok();
        }
        Format::Table => {
            writeln!(out, "{}", table(&views, config.event.timezone, true)).ok();
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for v in &views {
                *counts.entry(v.state.unwrap_or("pending")).or_default() += 1;
            }
            let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            writeln!(out, "{} jobs: {}", views.len(), summary.join(", ")).ok();
            for (account, why) in paused {
                writeln!(out, "account {account} is paused: {why}").ok();
            }
            for (account, hold) in &live.holds {
                writeln!(out, "account {account} is held back by its server {hold}").ok();
            }
            for (account, why) in &live.workers {
                writeln!(out, "account {account}'s worker stopped on its own and was restarted: {why}").ok();
            }
            if let Some(refused) = &live.reload {
                writeln!(out, "{refused}").ok();
            }
            for line in super::plan::suggestion_lines(&live.suggestions) {
                writeln!(out, "{line}").ok();
            }
            for line in published_lines(config) {
                writeln!(out, "{line}").ok();
            }
        }
    }
    Ok(())
}

/// `[schedule] url`: the address, the copy in use and its age, and the last fetch, from the
/// record kept beside the copy (written by the daemon after each fetch).
pub fn published_lines(config: &Config) -> Vec<String> {
    let Some(source) = &config.published else { return Vec::new() };
    let record = crate::published::read_record(&source.record)
        .filter(|r| r.url == source.url.as_str())
        .unwrap_or_else(|| crate::published::Record::new(&source.url));
    record.describe(source.refresh, chrono::Utc::now(), config.event.timezone)
}

pub fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let (mut records, paused, live) = gather(&config)?;
    records.sort_by(|a, b| a.spec.at.cmp(&b.spec.at).then_with(|| a.spec.id.cmp(&b.spec.id)));
    print(&config, &records, &paused, &live, args.format)
}

/// The next jobs to go out, soonest first.
pub fn next(cli: &Cli, args: &NextArgs) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let (records, paused, live) = gather(&config)?;
    let upcoming: Vec<JobRecord> = records
        .into_iter()
        .filter(|r| matches!(r.state, JobState::Pending | JobState::InFlight))
        .take(args.count)
        .map(|mut r| {
            // Show when it will go, not when it was first planned.
            r.spec.at = r.ready_at();
            r
        })
        .collect();
    if upcoming.is_empty() && args.format == Format::Table {
        println!("nothing is waiting to go out");
        return Ok(());
    }
    print(&config, &upcoming, &paused, &live, args.format)
}

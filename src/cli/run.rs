//! `loudhailer run`: the daemon.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{clients, limiters, load_config, load_secrets, stop_token, Cli, CliError};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::Config;
use crate::control::server::{Envelope, SocketFile};
use crate::control::{self, Request};
use crate::engine::watcher::{self, Watcher};
use crate::engine::{self, Setup, Summary};
use crate::job::{JobKind, JobState};
use crate::platform::{dryrun::DryRun, Client};
use crate::report::collector::{self, Collector};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Send nothing: print each post as it would appear, with its account and time, and end
    /// with a summary. No credentials needed. Plays the whole event at once unless --speed says
    /// how fast.
    #[arg(long)]
    pub dry_run: bool,
    /// Run the clock N times faster, from the first session's start (for demos); N from 0.001
    /// to 1000000.
    #[arg(long, value_name = "N")]
    pub speed: Option<f64>,
    /// Exit once every job has gone out (or cannot go without a person's word).
    #[arg(long)]
    pub exit_when_done: bool,
}

/// The slowest and fastest `--speed`.
const MIN_SPEED: f64 = 0.001;
const MAX_SPEED: f64 = 1_000_000.0;

/// Removes the pid file when the daemon ends, however it ends.
struct PidFile(std::path::PathBuf);

/// What a live (not dry) daemon holds while it runs: dropped at the end, they remove the pid
/// file and the socket and stop watching the files.
struct Live {
    _pid: PidFile,
    _socket: SocketFile,
    _watcher: Option<FileWatcher>,
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let mut config = Arc::new(load_config(cli)?);
    // A published programme is fetched before anything is planned; a new version is read.
    let mut published = None;
    if let Some(source) = config.published.clone() {
        let (refresher, first) = crate::engine::published::at_start(&config, &source, Clock::Wall)
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?;
        if first.outcome == crate::published::Outcome::Stored {
            config = Arc::new(load_config(cli)?);
        }
        published = Some((refresher, first));
    }
    if let Some(speed) = args.speed {
        if !(speed.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&speed)) {
            return Err(CliError::Usage(format!(
                "--speed {speed}: expected a number from {MIN_SPEED} to {MAX_SPEED} (times real time)"
            )));
        }
    }
    // One token stops every task, and the tracker waits for them. Made before anything else,
    // so a SIGTERM during start-up is handled, not fatal. A simulated run ends on its own at
    // once; listening for signals would also keep tokio's paused clock from jumping ahead.
    let tasks = TaskTracker::new();
    let shutdown = if args.dry_run && args.speed.is_none() { CancellationToken::new() } else { stop_token(&tasks) };
    let origin = first_start(&config);
    let clock = match (args.speed, args.dry_run) {
        (Some(speed), _) => Clock::scaled(origin.unwrap_or_else(Utc::now), speed),
        // The runtime's clock is paused (see main): real time does not pass, only deadlines.
        (None, true) => Clock::scaled(origin.unwrap_or_else(Utc::now), 1.0),
        (None, false) => Clock::Wall,
    };
    if !args.dry_run {
        if let Some(w) = super::advice::over(&config, clock.now()) {
            tracing::warn!("{w}");
        }
    }
    let limiters = limiters(&config, clock);
    let mut prepared = None;
    let (store, clients, control, engine_tx, _live) = if args.dry_run {
        let counter = Arc::new(AtomicU64::new(0));
        let clients: HashMap<String, Arc<Client>> = config
            .accounts
            .iter()
            .map(|a| {
                let c = DryRun::new(&a.id, a.network, a.server.clone(), clock, config.event.timezone, counter.clone());
                (a.id.clone(), Arc::new(Client::DryRun(c)))
            })
            .collect();
        println!(
            "Dry run of {}: nothing is sent. Times are {} ({}).",
            config.event.name,
            config.event.timezone,
            match args.speed {
                Some(s) => format!("the clock runs {s}× from the first session"),
                None => "the whole event plays at once".into(),
            }
        );
        (Store::temporary()?, clients, None, None, None)
    } else {
        let secrets = load_secrets(&config, None)?;
        // A daemon started afresh after its plan (below) finds the plan written; the store may
        // be held for a moment by a command that looked in between.
        let afresh = std::env::var_os(AFRESH_ENV).is_some();
        let store = if afresh { reopen(&config.state_dir).await? } else { Store::open(&config.state_dir)? };
        let pid_path = config.state_dir.join("daemon.pid");
        std::fs::write(&pid_path, format!("{}\n", std::process::id()))
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", pid_path.display())))?;
        let pid = PidFile(pid_path);
        let made = clients(&config, secrets, &limiters, clock, &store)?;
        // Plan before anything else holds the store. A first start (or a big edit) writes the
        // whole event, and the heap it churns through stays fragmented around whatever is
        // allocated after it: the daemon then starts itself afresh, and waits as a restart on
        // the written plan does (BENCHMARKS.md, "Idle memory"). Once only: a fresh start that
        // still wrote a big plan (the config changed in between) goes on.
        let planned = tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                tracing::info!("shutting down before the start finished");
                return Ok(());
            }
            planned = engine::prepare(&config, &store, &made) => planned?,
        };
        let written = planned.written;
        prepared = Some(planned);
        let (store, made) = if written >= AFRESH_AFTER && !afresh {
            tracing::info!(jobs = written, "the plan is written; starting afresh, as a restart would");
            drop(made);
            drop(store);
            let failed = start_afresh();
            // Only back when the binary cannot be started again (replaced or removed since):
            // the store is opened again in this process instead.
            tracing::warn!(error = %failed, "cannot start afresh; opening the store again instead");
            let store = reopen(&config.state_dir).await?;
            let made = clients(&config, load_secrets(&config, None)?, &limiters, clock, &store)?;
            (store, made)
        } else {
            (store, made)
        };
        let clients = made;
        let (tx, rx, socket, watcher) = listen(&config, &tasks, &shutdown)?;
        tracing::info!(event = %config.event.name, state = %config.state_dir.display(), "loudhailer starting");
        (store, clients, Some(rx), Some(tx), Some(Live { _pid: pid, _socket: socket, _watcher: watcher }))
    };
    // Engagement is read beside the engine, through the same clients and so the same rate
    // budgets; a dry run posts nothing, so there is nothing to read.
    let sent = Arc::new(tokio::sync::Notify::new());
    if !args.dry_run {
        let collector = Collector {
            settings: config.report.clone(),
            timezone: config.event.timezone,
            store: store.clone(),
            clock,
            clients: clients.clone(),
            sent: sent.clone(),
        };
        // It needs nothing before the engine's start-up is done (the engine signals `sent` once
        // then), and reading every job beside it would slow the first due job.
        let started = sent.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            tokio::select! {
                biased;
                _ = stop.cancelled() => return,
                _ = started.notified() => {}
            }
            if let Err(e) = collector::run(collector, stop.cancelled_owned()).await {
                tracing::error!(error = %e, "the engagement collector stopped");
            }
        });
    }
    // The live desk, beside the engine: it reads and acts through the engine's control channel.
    let _desk = match (&engine_tx, config.desk.enabled) {
        (Some(tx), true) => match crate::desk::start(&config, tx.clone(), &tasks, &shutdown).await {
            Ok(running) => Some(running),
            // A certificate that cannot be used is a setting to fix before the day.
            Err(e @ crate::desk::DeskError::Tls(_)) => {
                shutdown.cancel();
                return Err(CliError::Usage(e.to_string()));
            }
            // A busy port must not keep the event from running.
            Err(e) => {
                tracing::error!(error = %e, "the event runs without its desk");
                None
            }
        },
        _ => None,
    };
    // Watching for posts made by hand, beside the engine: what it finds goes to the engine's
    // control channel, so the engine stays the one writer.
    let engine_tx_published = engine_tx.clone();
    let watches_over = match engine_tx.filter(|_| !config.follows.is_empty()) {
        Some(tx) => {
            let (over_tx, over_rx) = tokio::sync::watch::channel(false);
            let watcher = Watcher {
                config: config.clone(),
                store: store.clone(),
                clock,
                clients: clients.clone(),
                limiters: limiters.clone(),
                engine: tx,
            };
            tasks.spawn(watcher::run(watcher, shutdown.clone().cancelled_owned(), over_tx));
            Some(over_rx)
        }
        None => None,
    };
    // The published programme, fetched again every `refresh`: a new version reloads the config
    // through the engine's control channel, as an edited file does.
    if let (Some(tx), Some((refresher, first))) = (&engine_tx_published, published) {
        let files = (config.path.clone(), config.state_dir.clone());
        let task = crate::engine::published::run(
            refresher,
            first,
            files,
            Clock::Wall,
            tx.clone(),
            shutdown.clone().cancelled_owned(),
        );
        tasks.spawn(task);
    }
    let setup = Setup {
        config: config.clone(),
        store: store.clone(),
        clock,
        clients,
        limiters,
        exit_when_done: args.exit_when_done || args.dry_run,
        only: None,
        control,
        sent: Some(sent),
        watches_over,
        prepared,
    };
    let ran = engine::run(setup, shutdown.clone()).await;
    // The engine is done (asked to stop, or nothing left): every other task stops too, and is
    // waited for.
    shutdown.cancel();
    tasks.close();
    if tokio::time::timeout(TASKS_GRACE, tasks.wait()).await.is_err() {
        tracing::warn!(
            tasks = tasks.len(),
            "tasks still running {}s after the stop; leaving them",
            TASKS_GRACE.as_secs()
        );
    }
    let summary = ran?;
    print_summary(&config, &store, &summary)?;
    if args.exit_when_done && summary.unsent() > 0 {
        return Err(CliError::Unsent(summary.unsent()));
    }
    Ok(())
}

/// A start that wrote at least this many jobs starts afresh before it runs (see `run`).
const AFRESH_AFTER: usize = 1_000;

/// Set in the environment of a daemon started afresh after writing its plan.
const AFRESH_ENV: &str = "LOUDHAILER_STARTED_AFRESH";

/// Replaces this process with the same binary, arguments and environment (and [`AFRESH_ENV`]):
/// the same pid, the same open standard streams, nothing of this process's heap. Returns only
/// if that fails.
#[cfg(unix)]
fn start_afresh() -> std::io::Error {
    use std::io::Write as _;
    use std::os::unix::process::CommandExt as _;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return e,
    };
    let _ = std::io::stdout().flush();
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        cmd.arg0(arg0);
    }
    cmd.args(args).env(AFRESH_ENV, "1").exec()
}

#[cfg(not(unix))]
fn start_afresh() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Unsupported, "a process cannot replace itself here")
}

/// Opens the store again after closing it. A command that opened it in that instant (commands
/// wait for a starting daemon's socket, but one may have looked just before) is waited for,
/// for up to five seconds.
async fn reopen(dir: &std::path::Path) -> Result<Store, CliError> {
    let mut tries = 0;
    loop {
        match Store::open(dir) {
            Err(crate::store::StoreError::Locked { .. }) if tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return Ok(other?),
        }
    }
}

/// How long the other tasks may take to stop after the engine has.
const TASKS_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The control socket, SIGHUP and edits to the config or schedule file, all feeding the
/// engine's control channel. The socket file is removed when the returned guard drops.
type Listening = (mpsc::UnboundedSender<Envelope>, mpsc::UnboundedReceiver<Envelope>, SocketFile, Option<FileWatcher>);

fn listen(config: &Config, tasks: &TaskTracker, stop: &CancellationToken) -> Result<Listening, CliError> {
    let (tx, rx) = mpsc::unbounded_channel::<Envelope>();
    let path = control::socket_path(&config.state_dir);
    let (listener, socket) = control::server::bind(&path).map_err(|e| CliError::Failed(e.to_string()))?;
    tasks.spawn(control::server::serve(listener, tx.clone(), stop.clone()));
    #[cfg(unix)]
    {
        let hup_tx = tx.clone();
        let stop = stop.clone();
        if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            tasks.spawn(async move {
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        got = hup.recv() => if got.is_none() { break },
                    }
                    tracing::info!("SIGHUP: reading the config again");
                    if hup_tx.send((Request::Reload, None)).is_err() {
                        break;
                    }
                }
            });
        }
    }
    let mut files = vec![config.path.clone()];
    files.extend(config.inputs.iter().cloned());
    let watcher = watch(files, tx.clone(), tasks, stop);
    Ok((tx, rx, socket, watcher))
}

type FileWatcher = notify::RecommendedWatcher;

/// Watches the config and schedule files (their folders, since editors replace files) and asks
/// for a reload once a burst of changes has settled. Only changes to content or names count:
/// reading the files (as a reload does) must not set off another reload.
fn watch(
    files: Vec<std::path::PathBuf>,
    tx: mpsc::UnboundedSender<Envelope>,
    tasks: &TaskTracker,
    stop: &CancellationToken,
) -> Option<FileWatcher> {
    use notify::event::{EventKind, ModifyKind};
    use notify::{RecursiveMode, Watcher as _};
    let names: Vec<std::path::PathBuf> =
        files.iter().map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())).collect();
    let watched = names.clone();
    let (changed_tx, mut changed_rx) = mpsc::unbounded_channel::<()>();
    let handler = move |result: notify::Result<notify::Event>| {
        let Ok(event) = result else { return };
        let content = match event.kind {
            EventKind::Create(_) | EventKind::Remove(_) => true,
            EventKind::Modify(ModifyKind::Metadata(_)) => false,
            EventKind::Modify(_) => true,
            _ => false,
        };
        let ours =
            event.paths.iter().any(|p| watched.contains(&std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
        if content && ours {
            let _ = changed_tx.send(());
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the config for edits; SIGHUP and `loudhailer reload` still work");
            return None;
        }
    };
    let mut dirs: Vec<std::path::PathBuf> = names.iter().filter_map(|f| f.parent().map(|p| p.to_path_buf())).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot watch for edits");
        }
    }
    let stop = stop.clone();
    tasks.spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                got = changed_rx.recv() => if got.is_none() { break },
            }
            // Let an editor finish writing: wait for 300 ms without further changes.
            while let Ok(Some(())) =
                tokio::time::timeout(std::time::Duration::from_millis(300), changed_rx.recv()).await
            {}
            tracing::info!("a watched file changed: reading the config again");
            if tx.send((Request::Reload, None)).is_err() {
                break;
            }
        }
    });
    Some(watcher)
}

/// When the first session (or recurring post) is due.
fn first_start(config: &Config) -> Option<DateTime<Utc>> {
    let sessions = config.sessions.earliest_start();
    let recurring =
        config.recurring.iter().flat_map(|r| crate::config::recurring_instants(config, r).into_iter().take(1));
    sessions.into_iter().chain(recurring).min()
}

/// What happened, per state and account.
pub fn print_summary(config: &Config, store: &Store, summary: &Summary) -> Result<(), CliError> {
    // Read one record at a time: at the end of a big event, every job at once would be the
    // run's largest peak.
    let mut total = 0;
    let mut missed = 0;
    let mut failed = Vec::new();
    let mut per_account: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for j in store.each_job() {
        let j = j?;
        total += 1;
        match j.state {
            JobState::Done => {
                let e = per_account.entry(j.spec.account).or_default();
                if j.spec.kind == JobKind::Boost {
                    e.1 += 1;
                } else {
                    e.0 += 1;
                }
            }
            JobState::Failed => failed.push((j.spec.id, j.error)),
            JobState::Missed => missed += 1,
            _ => {}
        }
    }
    println!();
    println!("Summary of {}:", config.event.name);
    let states: Vec<String> = summary.by_state.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!("  {total} jobs: {}; {} sent in this run", states.join(", "), summary.sent);
    for (account, (posts, boosts)) in per_account {
        println!("  {account}: {posts} posts, {boosts} boosts");
    }
    for (id, error) in failed {
        println!("  failed: {id} ({})", error.as_deref().unwrap_or("no reason stored"));
    }
    if missed > 0 {
        println!("  missed: {missed} (see `loudhailer status`; `loudhailer send JOB` sends one)");
    }
    for n in &summary.notes {
        println!("  note: {n}");
    }
    Ok(())
}

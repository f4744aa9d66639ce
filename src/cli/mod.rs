//! The command line: one file per subcommand, sharing how configs, stores and clients are
//! opened, and how errors become exit codes (2 for a config or usage problem, 1 otherwise).

mod advice;
mod check;
mod collect;
mod desk;
mod init;
mod live;
pub mod log;
mod login;
mod plan;
mod report;
pub mod run;
mod shell;
mod state;
mod status;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::config::{Config, ConfigError, Role};
use crate::limit::{self, Limiter};
use crate::platform::{Client, PlatformError};
use crate::secret::{self, SecretError};
use crate::store::{Store, StoreError};

/// loudhailer amplifies a live event on social media: it posts each session's title and key
/// points as a thread from the delegate's accounts and boosts them from organisation accounts.
#[derive(Debug, Parser)]
#[command(name = "loudhailer", version, about, max_term_width = 100)]
pub struct Cli {
    /// The event's config file.
    #[arg(short, long, global = true, env = "LOUDHAILER_CONFIG", default_value = "loudhailer.toml")]
    pub config: PathBuf,
    /// Use this state dir instead of the config's `[state] dir`.
    #[arg(long, global = true, env = "LOUDHAILER_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// How log lines look: text (coloured only on a terminal) or json (one object a line, for
    /// log collectors).
    #[arg(long, global = true, value_enum, env = "LOUDHAILER_LOG_FORMAT", default_value_t)]
    pub log_format: log::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter config (to --config, loudhailer.toml by default) from a schedule
    /// and your handles, given as flags or, at a terminal, asked for.
    Init(init::Args),
    /// Check the config, the schedule and the credentials; say what would be split or dropped.
    Check(check::Args),
    /// Show every job that would go out, and when (no credentials or network needed).
    Plan(plan::Args),
    /// Run the event: post and boost at the planned times.
    Run(run::Args),
    /// Show each job's state (pending, in-flight, done, failed, missed) with its URL or error.
    Status(status::Args),
    /// Show what goes out next, and when.
    Next(status::NextArgs),
    /// Send a job, or a session's unsent posts, now (a missed one, say); boosts follow.
    Send(live::JobArg),
    /// Move a session's pending jobs (or every session's, with --all): +15m, -5m.
    Shift(live::ShiftArgs),
    /// Cancel a session's pending jobs.
    Skip(live::SessionArg),
    /// Post a suggested point (a sentence from the session's abstract) into the session's
    /// thread, at its place in the session; without N, list the session's suggestions.
    Approve(live::ApproveArgs),
    /// Post something now from the primary accounts, amplified like the rest ("coffee break!").
    Say(live::SayArgs),
    /// Boost a post, by its link, at a time (now when --at is left out) from the amplifier
    /// accounts on its network; a repeat of an earlier boost undoes and redoes it.
    Repost(live::RepostArgs),
    /// Hold an account's jobs (all accounts when none is named).
    Pause(live::AccountArg),
    /// Let a paused account's jobs go again.
    Resume(live::AccountArg),
    /// Try a failed job again, now.
    Retry(live::JobArg),
    /// Make the running daemon read the config and schedule again (as SIGHUP does).
    Reload,
    /// Print a one-time sign-in link to the live desk (and its QR code) for the phone;
    /// `desk revoke` signs every phone out.
    Desk(desk::Args),
    /// Read every post's likes, reposts, replies and quotes now (the daemon does this by itself
    /// at the `[report] checkpoints`).
    Collect(collect::Args),
    /// What landed: engagement per session, post, network, account and hour, as a table, CSV,
    /// JSON, Markdown or a self-contained HTML page.
    Report(report::Args),
    /// Write all state as JSON Lines.
    Export(state::ExportArgs),
    /// Restore an export into a new, empty state dir.
    ImportState(state::ImportArgs),
    /// Sign an account in through a browser and keep its token in the state dir: Mastodon
    /// (registers loudhailer on the server; no token to copy), X, LinkedIn, Facebook or Threads
    /// with OAuth 2.0.
    Login(login::Args),
    /// Read a published schedule (frab/Pentabarf/pretalx XML, c3voc JSON, iCalendar, Sessionize,
    /// CSV) and write loudhailer's TOML to standard output, to edit before the day.
    Import(Box<crate::schedule::ImportArgs>),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions(shell::CompletionsArgs),
    /// Print loudhailer's manual page (roff), or write every page into a folder.
    Man(shell::ManArgs),
}

/// Why a command failed, and with which exit code: 2 for a config or usage problem, 3 for a run
/// that ended with jobs not sent, 1 otherwise.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Import(#[from] crate::schedule::ImportError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("{0}")]
    Failed(String),
    /// `run --exit-when-done` ended with jobs that did not go out.
    #[error("{0} jobs did not go out (failed or missed): see `loudhailer status`")]
    Unsent(usize),
}

impl CliError {
    /// 2 for what the user can fix in the config or the command line, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Secret(_) | CliError::Usage(_) | CliError::Import(_) => 2,
            CliError::Unsent(_) => 3,
            _ => 1,
        }
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Init(args) => init::run(&cli, args).await,
        Command::Check(args) => check::run(&cli, args).await,
        Command::Plan(args) => plan::run(&cli, args),
        Command::Run(args) => run::run(&cli, args).await,
        Command::Status(args) => status::run(&cli, args),
        Command::Next(args) => status::next(&cli, args),
        Command::Send(args) => {
            let config = load_config(&cli)?;
            live::finish(
                live::control(&cli, &config, crate::control::Request::Send { target: args.job.clone() }).await?,
            )
        }
        Command::Shift(args) => live::shift(&cli, args).await,
        Command::Skip(args) => live::skip(&cli, args).await,
        Command::Approve(args) => live::approve(&cli, args).await,
        Command::Say(args) => live::say(&cli, args).await,
        Command::Repost(args) => live::repost(&cli, args).await,
        Command::Pause(args) => live::pause(&cli, args, true).await,
        Command::Resume(args) => live::pause(&cli, args, false).await,
        Command::Retry(args) => live::retry(&cli, args).await,
        Command::Reload => live::reload(&cli).await,
        Command::Desk(args) => desk::run(&cli, args).await,
        Command::Collect(args) => collect::run(&cli, args).await,
        Command::Report(args) => report::run(&cli, args),
        Command::Export(args) => state::export(&cli, args),
        Command::ImportState(args) => state::import(&cli, args),
        Command::Login(args) => login::run(&cli, args).await,
        Command::Import(args) if crate::schedule::is_address(args) => {
            let bytes = fetch_once(&args.file.to_string_lossy()).await?;
            Ok(crate::schedule::run_import_fetched(args, &bytes, &mut std::io::stdout().lock())?)
        }
        Command::Import(args) => Ok(crate::schedule::run_import(args, &mut std::io::stdout().lock())?),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
    }
}

/// Loads and validates the config, applying `--state-dir`; prints its warnings.
/// `loudhailer import URL`: the document at the address, fetched as `[schedule] url` is (HTTPS,
/// or plain HTTP on this machine; compressed, with a timeout and a size cap).
async fn fetch_once(address: &str) -> Result<Vec<u8>, CliError> {
    let url = crate::published::rules::check_url(address, false).map_err(CliError::Usage)?;
    let fetcher = crate::published::Fetcher::new(false).map_err(|e| CliError::Failed(e.to_string()))?;
    match fetcher.get(&url, None).await {
        Ok(crate::published::Fetched::Document { bytes, .. }) => Ok(bytes),
        Ok(crate::published::Fetched::NotModified { .. }) => {
            Err(CliError::Failed(format!("{url}: the server answered 304 Not Modified to a plain request")))
        }
        Err(e) => Err(CliError::Failed(format!("{url}: {e}"))),
    }
}

fn load_config(cli: &Cli) -> Result<Config, CliError> {
    let mut config = Config::load_in(&cli.config, cli.state_dir.as_deref())?;
    if let Some(dir) = &cli.state_dir {
        config.state_dir = dir.clone();
    }
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    Ok(config)
}

/// Opens the store if the state dir exists (commands that only read never create one).
fn open_existing_store(dir: &Path) -> Result<Option<Store>, CliError> {
    if !dir.join("db").exists() {
        return Ok(None);
    }
    Ok(Some(Store::open(dir)?))
}

/// Each account's limiter: the network's published budgets, and the configured rate for
/// amplifiers (or an account's own `rate`).
fn limiters(config: &Config, clock: Clock) -> HashMap<String, Arc<Limiter>> {
    config
        .accounts
        .iter()
        .map(|a| {
            let mut budgets = limit::published(a.network);
            match (a.rate, a.role) {
                (Some(rate), _) => budgets.push(limit::configured(rate)),
                (None, Role::Amplifier) => budgets.push(limit::configured(config.amplify.rate)),
                (None, Role::Primary) => {}
            }
            (a.id.clone(), Arc::new(Limiter::new(clock, budgets).with_longest_hold(config.max_server_wait)))
        })
        .collect()
}

/// Reads every account's secret; the first missing one stops everything before anything is sent.
fn load_secrets(config: &Config, only: Option<&[String]>) -> Result<HashMap<String, secret::Credentials>, CliError> {
    let mut out = HashMap::new();
    for account in &config.accounts {
        if only.is_some_and(|o| !o.contains(&account.id)) {
            continue;
        }
        out.insert(account.id.clone(), secret::load(account)?);
    }
    Ok(out)
}

/// Real network clients for the accounts whose secrets were loaded.
fn clients(
    config: &Config,
    secrets: HashMap<String, secret::Credentials>,
    limiters: &HashMap<String, Arc<Limiter>>,
    clock: Clock,
    store: &Store,
) -> Result<HashMap<String, Arc<Client>>, CliError> {
    let mut out = HashMap::new();
    for (id, secret) in secrets {
        let (Some(account), Some(limiter)) = (config.account(&id), limiters.get(&id)) else {
            continue;
        };
        let secret = match secret {
            secret::Credentials::SignedIn => secret::Credentials::Token(signed_in_token(account, store)?),
            other => other,
        };
        let client = Client::connect(account, secret, limiter.clone(), clock, Arc::new(store.clone()))
            .map_err(|e: PlatformError| CliError::Failed(format!("account {id}: {e}")))?;
        out.insert(id, Arc::new(client));
    }
    Ok(out)
}

/// The token `loudhailer login mastodon` stored for `account`, for the server the config names.
fn signed_in_token(account: &crate::config::Account, store: &Store) -> Result<secret::Secret, CliError> {
    let login = format!("run `loudhailer login mastodon --account {}`", account.id);
    match crate::platform::mastodon::oauth::load(store, &account.id).map_err(CliError::Failed)? {
        Some(token) if token.server == account.server => Ok(token.access),
        Some(token) => Err(CliError::Usage(format!(
            "account {} was signed in on {}, but the config now says {}: {login} again",
            account.id, token.server, account.server
        ))),
        None => Err(CliError::Usage(format!(
            "account {} has no token_env or token_file and is not signed in{}: {login} (or set token_env)",
            account.id,
            store.dir().map(|d| format!(" (no token in {})", d.display())).unwrap_or_default()
        ))),
    }
}

/// The one way to stop a long-running command: a token cancelled on SIGINT or SIGTERM (or by the
/// command itself, when it is done), which every task it starts observes; `tracker` waits for
/// them. The handlers are installed now, so a signal during start-up is not lost (nor fatal).
fn stop_token(tracker: &tokio_util::task::TaskTracker) -> tokio_util::sync::CancellationToken {
    let token = tokio_util::sync::CancellationToken::new();
    let signalled = shutdown_signal();
    let stop = token.clone();
    tracker.spawn(async move {
        tokio::select! {
            _ = signalled => {
                tracing::info!("asked to stop: finishing what is under way");
                stop.cancel();
            }
            _ = stop.cancelled() => {}
        }
    });
    token
}

/// Resolves when the process is asked to stop (SIGINT or SIGTERM). The handlers are installed
/// when this is called, not when the future is first polled, so a signal that arrives while the
/// daemon is still starting is not lost (nor fatal).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let int = signal(SignalKind::interrupt());
    let term = signal(SignalKind::terminate());
    async move {
        match (int, term) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Shortens text to `max` characters for a table cell, on one line.
fn cell(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ⏎ ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut s: String = one_line.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

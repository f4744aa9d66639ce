//! Commands that change a running event: through the daemon's control socket when one runs,
//! on the store directly when none does (same operations, same output).

use std::collections::HashSet;
use std::sync::Arc;

use super::{clients, limiters, load_config, load_secrets, stop_token, Cli, CliError};
use crate::clock::Clock;
use crate::config::Config;
use crate::control::{self, ops::Book, ControlError, Request, Response};
use crate::engine::{self, Setup};
use crate::job::{JobId, JobState};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct ShiftArgs {
    /// The session (its id, or its title); leave out with --all.
    #[arg(required_unless_present = "all")]
    pub session: Option<String>,
    /// How far: +15m, -5m, +1h; at most a year (366 days) either way, shifts added up.
    #[arg(allow_hyphen_values = true)]
    pub by: Option<String>,
    /// Move every session's pending jobs.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, clap::Args)]
pub struct SessionArg {
    /// The session (its id, or its title).
    pub session: String,
}

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The session (its id, or its title).
    pub session: String,
    /// Which suggestion, from 1 (as `plan`, `status` and this command without N number them).
    pub n: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct SayArgs {
    /// What to post, e.g. "coffee break!".
    pub text: String,
    /// Post it as a reply in this session's thread.
    #[arg(long, value_name = "SESSION")]
    pub thread: Option<String>,
    /// Attach an image (up to four; repeat the option), each followed by its --alt.
    #[arg(long = "image", value_name = "FILE")]
    pub images: Vec<std::path::PathBuf>,
    /// What the image before it shows, for people who cannot see it (`--alt ""`: decorative).
    #[arg(long = "alt", value_name = "TEXT", allow_hyphen_values = true)]
    pub alts: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RepostArgs {
    /// The post's link: https://mastodon.example/@ada/123, https://bsky.app/profile/…/post/…,
    /// https://x.com/…/status/…
    pub url: String,
    /// When: HH:MM today (the event's time zone), or a date-time; now when left out.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Repost from this account (repeat for more); every amplifier on the post's network when
    /// left out.
    #[arg(long = "account", value_name = "ACCOUNT")]
    pub accounts: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct AccountArg {
    /// One account; all accounts when left out.
    pub account: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct JobArg {
    /// The job's id, as `loudhailer status` shows it.
    pub job: String,
}

/// Sends `request` to the running daemon, or applies it to the store when none runs. Requests
/// that post (`send`, `say`, `retry`) then run those jobs at once, boosts included.
pub async fn control(cli: &Cli, config: &Config, request: Request) -> Result<Response, CliError> {
    let path = control::socket_path(&config.state_dir);
    if let Some(mut stream) = control::client::connect(&config.state_dir) {
        return control::client::request(&mut stream, &request, &path).map_err(control_error);
    }
    let store = match Store::open(&config.state_dir) {
        Ok(s) => s,
        Err(e @ crate::store::StoreError::Locked { .. }) => {
            // A daemon holds the store but does not listen yet: it is starting up.
            return match control::client::connect_when_up(&config.state_dir, control::client::STARTING_UP) {
                Some(mut stream) => control::client::request(&mut stream, &request, &path).map_err(control_error),
                None => Err(CliError::Failed(format!("{e}; it has not answered on its control socket"))),
            };
        }
        Err(e) => return Err(e.into()),
    };
    store.bind_event(&config.event.name)?;
    if store.jobs()?.is_empty() {
        // Nothing has run yet: plan first, so there is something to change.
        let counters = crate::plan::counters(config, &store.known_counters()?);
        let planned = crate::plan::plan(config, &counters, &store.adjustments()?.approved)
            .map_err(|e| CliError::Failed(e.to_string()))?;
        let merged = crate::plan::merge(&Default::default(), planned.jobs, &store.adjustments()?);
        store.put_jobs(&merged.write)?;
    }
    let now = chrono::Utc::now();
    let mut outcome = Book { config, store: &store, now }.apply(&request).map_err(control_error)?;
    if outcome.replan {
        // Written now; a daemon started later finds it planned.
        match engine::plan_and_store(config, &store)? {
            Ok(planned) => outcome.changed.extend(planned.written),
            Err(e) => return Err(CliError::Failed(e.to_string())),
        }
    }
    let posts_now = match &request {
        Request::Send { .. } | Request::Say { .. } | Request::Retry { .. } => true,
        Request::Repost { at, .. } => at.is_none_or(|t| t <= now),
        _ => false,
    };
    if posts_now && !outcome.changed.is_empty() {
        let only: HashSet<JobId> = outcome.changed.iter().cloned().collect();
        send_now(cli, config, &store, only).await?;
        let mut response = outcome.response;
        let lines: Vec<String> = outcome
            .changed
            .iter()
            .filter_map(|id| store.job(id).ok().flatten())
            .map(|r| match r.state {
                JobState::Done => format!("{}: sent {}", r.spec.id, r.remote.and_then(|x| x.url).unwrap_or_default()),
                s => format!("{}: {} {}", r.spec.id, s.as_str(), r.error.or(r.waiting).unwrap_or_default()),
            })
            .collect();
        response.message = Some(format!(
            "{} (no daemon is running, so loudhailer sent them itself)\n{}",
            response.message.unwrap_or_default(),
            lines.join("\n")
        ));
        return Ok(response);
    }
    Ok(outcome.response)
}

fn control_error(e: ControlError) -> CliError {
    match e {
        ControlError::Refused(text) => CliError::Usage(text),
        ControlError::Store(e) => CliError::Store(e),
        other => CliError::Failed(other.to_string()),
    }
}

/// Runs the engine on just these jobs, now, with the credentials of the accounts they use.
async fn send_now(cli: &Cli, config: &Config, store: &Store, only: HashSet<JobId>) -> Result<(), CliError> {
    let _ = cli;
    let mut accounts: Vec<String> =
        only.iter().filter_map(|id| store.job(id).ok().flatten()).map(|r| r.spec.account).collect();
    accounts.sort();
    accounts.dedup();
    let secrets = load_secrets(config, Some(&accounts))?;
    let clock = Clock::Wall;
    let limiters = limiters(config, clock);
    let clients = clients(config, secrets, &limiters, clock, store)?;
    let setup = Setup {
        config: Arc::new(config.clone()),
        store: store.clone(),
        clock,
        clients,
        limiters,
        exit_when_done: true,
        only: Some(only),
        control: None,
        sent: None,
        watches_over: None,
        prepared: None,
    };
    let tracker = tokio_util::task::TaskTracker::new();
    let stop = stop_token(&tracker);
    let ran = engine::run(setup, stop.clone()).await;
    stop.cancel();
    tracker.close();
    tracker.wait().await;
    ran?;
    Ok(())
}

/// Prints a response's message; a refusal becomes an error.
pub fn finish(response: Response) -> Result<(), CliError> {
    if !response.ok {
        return Err(CliError::Usage(response.error.unwrap_or_else(|| "the daemon refused".into())));
    }
    if let Some(m) = response.message {
        println!("{m}");
    }
    if let Some(posts) = response.posts.filter(|p| !p.is_empty()) {
        let ids: Vec<&str> = posts.iter().map(JobId::as_str).collect();
        println!("jobs: {}", ids.join(", "));
    }
    Ok(())
}

pub async fn shift(cli: &Cli, args: &ShiftArgs) -> Result<(), CliError> {
    let config = load_config(cli)?;
    // `shift --all +15m` puts the offset where the session would be.
    let (session, by) = match (args.all, &args.session, &args.by) {
        (true, Some(by), None) | (true, None, Some(by)) => (None, by.clone()),
        (false, Some(session), Some(by)) => (Some(session.clone()), by.clone()),
        _ => return Err(CliError::Usage("usage: loudhailer shift SESSION +15m, or loudhailer shift --all -5m".into())),
    };
    let by_secs = control::ops::parse_offset(&by).map_err(CliError::Usage)?;
    finish(control(cli, &config, Request::Shift { session, by_secs }).await?)
}

pub async fn skip(cli: &Cli, args: &SessionArg) -> Result<(), CliError> {
    let config = load_config(cli)?;
    finish(control(cli, &config, Request::Skip { session: args.session.clone() }).await?)
}

pub async fn approve(cli: &Cli, args: &ApproveArgs) -> Result<(), CliError> {
    let config = load_config(cli)?;
    finish(control(cli, &config, Request::Approve { session: args.session.clone(), n: args.n }).await?)
}

pub async fn say(cli: &Cli, args: &SayArgs) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let images = say_images(&args.images, &args.alts)?;
    finish(
        control(cli, &config, Request::Say { text: args.text.clone(), thread: args.thread.clone(), key: None, images })
            .await?,
    )
}

/// `--image FILE --alt TEXT` pairs, in order, each file by its full path (the daemon reads it
/// from wherever it runs).
fn say_images(files: &[std::path::PathBuf], alts: &[String]) -> Result<Vec<crate::job::Image>, CliError> {
    if files.len() != alts.len() {
        return Err(CliError::Usage(format!(
            "{} --image and {} --alt: give each image its --alt (--alt \"\" marks a decorative image)",
            files.len(),
            alts.len()
        )));
    }
    let mut out = Vec::new();
    for (file, alt) in files.iter().zip(alts) {
        let full =
            std::path::absolute(file).map_err(|e| CliError::Usage(format!("--image {}: {e}", file.display())))?;
        let Some(name) = full.to_str() else {
            return Err(CliError::Usage(format!("--image {}: the path is not UTF-8; rename the file", file.display())));
        };
        out.push(crate::job::Image { file: name.to_string(), alt: alt.clone() });
    }
    Ok(out)
}

pub async fn repost(cli: &Cli, args: &RepostArgs) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let at = match &args.at {
        Some(text) => Some(repost_time(text, config.event.timezone, chrono::Utc::now()).map_err(CliError::Usage)?),
        None => None,
    };
    let request = Request::Repost { url: args.url.clone(), at, accounts: args.accounts.clone() };
    finish(control(cli, &config, request).await?)
}

/// `--at`: `HH:MM` on today's date in the event's time zone, or a date-time.
pub fn repost_time(
    text: &str,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let today = now.with_timezone(&tz).date_naive();
    crate::config::values::instant(&toml::Value::String(text.to_string()), tz, Some(today))
        .map_err(|e| format!("--at {text}: {e}"))
}

pub async fn pause(cli: &Cli, args: &AccountArg, pause: bool) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let request = if pause {
        Request::Pause { account: args.account.clone() }
    } else {
        Request::Resume { account: args.account.clone() }
    };
    finish(control(cli, &config, request).await?)
}

pub async fn retry(cli: &Cli, args: &JobArg) -> Result<(), CliError> {
    let config = load_config(cli)?;
    finish(control(cli, &config, Request::Retry { job: args.job.clone() }).await?)
}

pub async fn reload(cli: &Cli) -> Result<(), CliError> {
    // A broken config is exactly when the daemon's own answer matters: with --state-dir, ask it.
    let state_dir = match (load_config(cli), &cli.state_dir) {
        (Ok(config), _) => config.state_dir,
        (Err(_), Some(dir)) => dir.clone(),
        (Err(e), None) => return Err(e),
    };
    let Some(mut stream) = control::client::connect(&state_dir) else {
        println!("no daemon is running; the next `loudhailer run` reads {}", cli.config.display());
        return Ok(());
    };
    let path = control::socket_path(&state_dir);
    finish(control::client::request(&mut stream, &Request::Reload, &path).map_err(control_error)?)
}

//! `loudhailer check`: is the config sound, are the credentials there, what will be split.

use super::{clients, limiters, load_config, load_secrets, plan::known_counters, Cli, CliError};
use crate::clock::Clock;
use crate::plan;
use crate::platform::Platform;
use crate::secret::Credentials;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also log in to every account and read each server's limits.
    #[arg(long)]
    pub online: bool,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let mut config = load_config(cli)?;
    // A published programme is fetched (unless a running daemon keeps it), and read if new.
    if let Some(source) = config.published.clone() {
        if crate::control::client::connect(&config.state_dir).is_none() {
            let (_, first) = crate::engine::published::at_start(&config, &source, Clock::Wall)
                .await
                .map_err(|e| CliError::Failed(e.to_string()))?;
            if first.outcome == crate::published::Outcome::Stored {
                config = load_config(cli)?;
            }
        }
    }
    let mut secrets = load_secrets(&config, None)?;
    let mut known = known_counters(&config)?;
    // Tokens from `loudhailer login` live in the state dir: read it when no daemon holds it.
    let (store, held) = match super::open_existing_store(&config.state_dir) {
        Ok(store) => (store, false),
        Err(CliError::Store(crate::store::StoreError::Locked { .. })) => (None, true),
        Err(e) => return Err(e),
    };
    let signed_in: Vec<String> =
        secrets.iter().filter(|(_, c)| matches!(c, Credentials::SignedIn)).map(|(id, _)| id.clone()).collect();
    let mut notes = Vec::new();
    for id in &signed_in {
        if held {
            notes.push(format!(
                "account {id}: its token is in the state dir, which a running loudhailer holds: not checked here"
            ));
            secrets.remove(id);
        } else if !args.online && !has_token(store.as_ref(), id)? {
            notes.push(format!("account {id}: not signed in yet: run `loudhailer login mastodon --account {id}` before `loudhailer run`"));
        }
    }
    for n in &notes {
        println!("warning: {n}");
    }
    if args.online {
        let clock = Clock::Wall;
        let limiters = limiters(&config, clock);
        let store = match store {
            Some(store) => store,
            None => crate::store::Store::temporary()?,
        };
        let clients = clients(&config, secrets, &limiters, clock, &store)?;
        let mut failed = Vec::new();
        for account in &config.accounts {
            let Some(client) = clients.get(&account.id) else {
                continue;
            };
            match client.verify().await {
                Ok(_) => println!("account {}: signed in on {}", account.id, account.server),
                Err(e) => {
                    println!("account {}: {}", account.id, super::advice::sign_in_advice(account, &e));
                    failed.push(account.id.clone());
                }
            }
            if let Ok(counter) = client.limits().await {
                println!("account {}: posts up to {} characters", account.id, counter.max());
                known.insert(account.id.clone(), counter);
            }
        }
        if !failed.is_empty() {
            return Err(CliError::Failed(format!("cannot sign in to: {}", failed.join(", "))));
        }
    }
    let counters = plan::counters(&config, &known);
    let approved = super::plan::known_approvals(&config)?;
    let planned = plan::plan(&config, &counters, &approved).map_err(|e| CliError::Failed(e.to_string()))?;
    let tz = config.event.timezone;
    println!(
        "{}: {} sessions, {} accounts ({} primary)",
        config.event.name,
        config.sessions.len(),
        config.accounts.len(),
        config.primaries().count()
    );
    if let (Some(first), Some(last)) = (planned.jobs.first(), planned.jobs.last()) {
        println!(
            "{} jobs from {} to {} ({})",
            planned.jobs.len(),
            first.at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            last.at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            tz
        );
    }
    for w in &config.warnings {
        println!("warning: {w}");
    }
    if let Some(w) = super::advice::over(&config, chrono::Utc::now()) {
        println!("warning: {w}");
    }
    for n in &planned.notes {
        println!("note: {n}");
    }
    if let Some(estimate) = crate::cost::Estimate::of(&config, &planned.jobs) {
        println!("cost: {estimate} ({})", crate::cost::X_NOTE);
    }
    println!("state: {}", config.state_dir.display());
    for line in super::status::published_lines(&config) {
        println!("{line}");
    }
    println!("ok");
    Ok(())
}

/// Whether `loudhailer login` stored a token for `account` in `store`.
fn has_token(store: Option<&Store>, account: &str) -> Result<bool, CliError> {
    match store {
        Some(store) => Ok(crate::platform::mastodon::oauth::load(store, account).map_err(CliError::Failed)?.is_some()),
        None => Ok(false),
    }
}

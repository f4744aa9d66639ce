//! `loudhailer check`: is the config sound, are the credentials there, what will be split, and
//! does every photo decode and fit each network it goes to.

use super::{clients, limiters, load_config, load_secrets, plan::known_counters, Cli, CliError};
use std::collections::BTreeMap;

use crate::clock::Clock;
use crate::config::Config;
use crate::media::{self, Limits};
use crate::network::Network;
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
    // What each posting account's server takes as an image: the published limits, or with
    // --online the server's own.
    let mut image_limits: BTreeMap<String, Limits> =
        config.primaries().filter_map(|a| Some((a.id.clone(), published(a.network)?))).collect();
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
            if image_limits.contains_key(&account.id) {
                if let Ok(limits) = client.image_limits().await {
                    image_limits.insert(account.id.clone(), limits);
                }
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
    check_photos(&config, &image_limits)?;
    println!("state: {}", config.state_dir.display());
    for line in super::status::published_lines(&config) {
        println!("{line}");
    }
    println!("ok");
    Ok(())
}

/// The network's published image limits; `None` where loudhailer sends no photos.
fn published(network: Network) -> Option<Limits> {
    match network {
        Network::Mastodon => Some(Limits::mastodon_default()),
        Network::Bluesky => Some(Limits::bluesky()),
        Network::X => Some(Limits::x()),
        Network::LinkedIn | Network::Facebook | Network::Threads => None,
    }
}

/// Decodes every photo the config names and makes it for each posting account's limits, as the
/// run will: a photo that reads but cannot be decoded or made to fit is refused here, with the
/// reason, rather than failing its post on the day. (Loading the config only read the files'
/// headers.)
fn check_photos(config: &Config, limits: &BTreeMap<String, Limits>) -> Result<(), CliError> {
    let mut files: Vec<String> = config
        .sessions
        .iter()
        .flat_map(|s| s.images.into_iter().chain(s.points.into_iter().flat_map(|p| p.images)))
        .map(|i| i.file)
        .collect();
    files.sort_unstable();
    files.dedup();
    if files.is_empty() {
        return Ok(());
    }
    let mut distinct: Vec<&Limits> = Vec::new();
    for l in limits.values() {
        if !distinct.contains(&l) {
            distinct.push(l);
        }
    }
    let started = std::time::Instant::now();
    let mut problems = Vec::new();
    for file in &files {
        let path = std::path::Path::new(file);
        let made = media::read(path, config.media.max_file_bytes).map_err(|e| e.to_string()).and_then(|bytes| {
            let decoded = media::decode(&bytes).map_err(|e| e.in_file(path).to_string())?;
            distinct.iter().try_for_each(|l| decoded.fit(l).map(drop).map_err(|e| e.in_file(path).to_string()))
        });
        if let Err(e) = made {
            problems.push(e);
        }
    }
    crate::heap::give_back();
    if !problems.is_empty() {
        return Err(CliError::Usage(format!("photos that cannot be posted:\n{}", problems.join("\n"))));
    }
    let mut networks: Vec<String> = distinct.iter().map(|l| l.network.to_string()).collect();
    networks.dedup();
    println!(
        "photos: {} {}, each decoded and made to fit {} ({:.1} s)",
        files.len(),
        if files.len() == 1 { "file" } else { "files" },
        networks.join(", "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
/// Whether `loudhailer login` stored a token for `account` in `store`.
fn has_token(store: Option<&Store>, account: &str) -> Result<bool, CliError> {
    match store {
        Some(store) => Ok(crate::platform::mastodon::oauth::load(store, account).map_err(CliError::Failed)?.is_some()),
        None => Ok(false),
    }
}

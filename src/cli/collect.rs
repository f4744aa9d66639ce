//! `loudhailer collect`: read every post's engagement now, with the daemon stopped (days after
//! the event, say), and store it beside the checkpoint snapshots.

use std::collections::BTreeSet;

use super::{clients, limiters, load_config, load_secrets, open_existing_store, shutdown_signal, Cli, CliError};
use crate::clock::Clock;
use crate::job::JobRecord;
use crate::report::collect::{self, readable};
use crate::report::Snapshot;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read only the posts due a snapshot by `[report] checkpoints`, not every post.
    #[arg(long)]
    pub due_only: bool,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let Some(store) = open_existing_store(&config.state_dir)? else {
        return Err(CliError::Usage(format!(
            "no state in {}: nothing has been posted for this event yet",
            config.state_dir.display()
        )));
    };
    store.bind_event(&config.event.name)?;
    let clock = Clock::Wall;
    let jobs = store.jobs()?;
    let posts: Vec<&JobRecord> = if args.due_only {
        let taken = collect::taken(&store.metrics::<Snapshot>()?);
        let due = collect::due(&jobs, &taken, &config.report.checkpoints, clock.now());
        jobs.iter().filter(|j| due.jobs.binary_search(&j.spec.id).is_ok()).collect()
    } else {
        jobs.iter().filter(|j| readable(j)).collect()
    };
    if posts.is_empty() {
        println!(
            "Nothing to read: {}",
            if args.due_only { "no post is due a snapshot" } else { "no post has gone out" }
        );
        return Ok(());
    }
    // Only the accounts whose posts are read need their secret.
    let accounts: Vec<String> = posts
        .iter()
        .map(|p| p.spec.account.clone())
        .filter(|a| config.account(a).is_some())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let secrets = load_secrets(&config, Some(&accounts))?;
    let limiters = limiters(&config, clock);
    let clients = clients(&config, secrets, &limiters, clock, &store)?;
    let now = move || clock.now();
    let swept = tokio::select! {
        biased;
        _ = shutdown_signal() => {
            store.flush()?;
            return Err(CliError::Failed("stopped; what was read so far is stored".into()));
        }
        s = collect::sweep(&store, &clients, &posts, &now) => s?,
    };
    println!(
        "Read {} posts: {} with counts, {} gone, {} unknown (the read failed){}.",
        posts.len(),
        swept.read,
        swept.gone,
        swept.failed,
        if swept.deferred > 0 { format!(", {} not read (rate limited)", swept.deferred) } else { String::new() }
    );
    for p in &swept.problems {
        println!("  {p}");
    }
    if swept.read + swept.gone == 0 {
        return Err(CliError::Failed("no post could be read".into()));
    }
    Ok(())
}

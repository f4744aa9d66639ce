//! `loudhailer send JOB`: send a job now (a missed or failed one, say), then its boosts.

use std::collections::HashSet;
use std::sync::Arc;

use super::{clients, limiters, load_config, load_secrets, shutdown_signal, Cli, CliError};
use crate::clock::Clock;
use crate::engine::{self, Setup};
use crate::job::{JobId, JobKind, JobState};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job's id, as `loudhailer status` shows it.
    pub job: String,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let config = Arc::new(load_config(cli)?);
    let store = Store::open(&config.state_dir)?;
    let id = JobId(args.job.clone());
    let jobs = store.jobs()?;
    let Some(rec) = jobs.iter().find(|j| j.spec.id == id).cloned() else {
        let near: Vec<&str> = jobs
            .iter()
            .map(|j| j.spec.id.as_str())
            .filter(|j| j.contains(args.job.split('.').next().unwrap_or("")))
            .take(5)
            .collect();
        return Err(CliError::Usage(format!(
            "no job {id} in {}{}",
            config.state_dir.display(),
            if near.is_empty() {
                "; `loudhailer status` lists the jobs".to_string()
            } else {
                format!("; did you mean {}?", near.join(", "))
            }
        )));
    };
    if rec.state == JobState::Done {
        println!("{id} was already sent: {}", rec.remote.as_ref().and_then(|r| r.url.as_deref()).unwrap_or("(no URL)"));
        return Ok(());
    }
    // The job, and the boosts of it that have not gone out.
    let mut only: HashSet<JobId> = HashSet::from([id.clone()]);
    let mut revive = vec![rec];
    for j in &jobs {
        if j.spec.kind == JobKind::Boost && j.spec.parent.as_ref() == Some(&id) && j.state != JobState::Done {
            only.insert(j.spec.id.clone());
            revive.push(j.clone());
        }
    }
    for r in &mut revive {
        if r.state != JobState::InFlight {
            r.state = JobState::Pending;
        }
        r.not_before = None;
        r.waiting = None;
        r.error = None;
    }
    store.put_jobs(&revive)?;
    let accounts: Vec<String> = revive.iter().map(|r| r.spec.account.clone()).collect();
    let secrets = load_secrets(&config, Some(&accounts))?;
    let clock = Clock::Wall;
    let limiters = limiters(&config, clock);
    let clients = clients(&config, secrets, &limiters, clock, &store)?;
    let setup = Setup {
        config: config.clone(),
        store: store.clone(),
        clock,
        clients,
        limiters,
        exit_when_done: true,
        only: Some(only.clone()),
    };
    engine::run(setup, shutdown_signal()).await?;
    let mut failed = false;
    let mut ids: Vec<&JobId> = only.iter().collect();
    ids.sort();
    for id in ids {
        let Some(r) = store.job(id)? else { continue };
        match r.state {
            JobState::Done => println!("{id}: sent {}", r.remote.as_ref().and_then(|x| x.url.as_deref()).unwrap_or("")),
            state => {
                failed = true;
                println!("{id}: {} {}", state.as_str(), r.error.or(r.waiting).unwrap_or_default());
            }
        }
    }
    if failed {
        return Err(CliError::Failed("not everything was sent".into()));
    }
    Ok(())
}

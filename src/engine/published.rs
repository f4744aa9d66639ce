//! The task the daemon runs beside the engine for `[schedule] url`: it fetches the published
//! programme every `refresh` and, when a new version reads, keeps it as the copy and asks the
//! engine to reload, through the same control channel (and the same reload) as an edited file.
//! A fetch that fails, or a document that does not read, changes nothing: it is logged, and the
//! record beside the copy keeps it for `status` until a good fetch.
//!
//! [`at_start`] is the one fetch `run` and `check` make before they read the config.

use std::future::Future;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::control::server::Envelope;
use crate::control::Request;
use crate::published::rules::{self, Outcome};
use crate::published::{PublishedError, Refreshed, Refresher, Source};

/// What a new version is checked with: the config read with it in place of the copy. A
/// version that reads but leaves the event with no session at all is refused too: a programme
/// emptied in the middle of an event is a placeholder or an export gone wrong far more often
/// than a conference that cancelled everything, and taking it would cancel every pending post.
pub fn checker(config: &Path, state_dir: &Path, copy: &Path) -> impl Fn(&[u8]) -> Result<(), String> + Send + Sync {
    let (config, state_dir, copy) = (config.to_owned(), state_dir.to_owned(), copy.to_owned());
    move |bytes: &[u8]| {
        let read =
            Config::load_replacing(&config, Some(&state_dir), Some((&copy, bytes))).map_err(|e| e.to_string())?;
        if read.sessions.is_empty() {
            return Err("it has no sessions at all (an empty or placeholder programme?): the copy in use stays".into());
        }
        Ok(())
    }
}

/// Fetches once, before the config is read for good: a new version is kept (the caller reads
/// the config again); without one, the copy in use is said, with its age.
pub async fn at_start(
    config: &Config,
    source: &Source,
    clock: Clock,
) -> Result<(Refresher, Refreshed), PublishedError> {
    let mut refresher = Refresher::open(source.clone())?;
    let check = checker(&config.path, &config.state_dir, &source.copy);
    let refreshed = refresher.refresh(clock.now(), &check).await?;
    log(&refresher, &refreshed.outcome);
    if !refreshed.outcome.is_good() {
        match &refresher.record().copy {
            Some(copy) => warn!(
                url = %source.url,
                "using the copy of the programme fetched {} ({})",
                copy.fetched_at.with_timezone(&config.event.timezone).format("%Y-%m-%d %H:%M"),
                rules::age(copy.fetched_at, clock.now())
            ),
            None => {
                error!(url = %source.url, "no copy of the programme yet: no sessions from it until it can be fetched")
            }
        }
    }
    Ok((refresher, refreshed))
}

fn log(refresher: &Refresher, outcome: &Outcome) {
    let url = &refresher.source.url;
    match outcome {
        Outcome::Stored => info!(%url, "a new version of the published programme: kept, planning again"),
        Outcome::NotModified | Outcome::Unchanged => debug!(%url, "the published programme is unchanged"),
        Outcome::Refused { why } => {
            error!(%url, "the published programme no longer reads; nothing changed, the copy in use stays:\n{why}")
        }
        Outcome::Failed { why } => warn!(%url, "cannot fetch the published programme; nothing changed: {why}"),
    }
}

/// Fetches every `refresh` (longer when the server asks) until `shutdown`; a new version
/// that reads is kept and the engine asked to reload.
pub async fn run(
    mut refresher: Refresher,
    first: Refreshed,
    config: (PathBuf, PathBuf),
    clock: Clock,
    engine: mpsc::UnboundedSender<Envelope>,
    shutdown: impl Future<Output = ()>,
) {
    let (path, state_dir) = config;
    let check = checker(&path, &state_dir, &refresher.source.copy);
    let mut retry_after = first.retry_after;
    tokio::pin!(shutdown);
    loop {
        let wait = rules::next_delay(refresher.source.refresh, retry_after);
        let until = crate::checked::saturating_after(clock.now(), wait);
        tokio::select! {
            _ = &mut shutdown => return,
            _ = clock.sleep_until(until) => {}
        }
        let refreshed = tokio::select! {
            _ = &mut shutdown => return,
            r = refresher.refresh(clock.now(), &check) => r,
        };
        match refreshed {
            Ok(r) => {
                log(&refresher, &r.outcome);
                retry_after = r.retry_after;
                if r.outcome == Outcome::Stored && engine.send((Request::Reload, None)).is_err() {
                    return;
                }
            }
            Err(e) => {
                error!(error = %e, "cannot keep the published programme's copy or record");
                retry_after = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_version_must_read_and_bring_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("event.toml");
        let state = dir.path().join("state");
        std::fs::write(
            &config,
            "[event]\nname = \"E\"\ntimezone = \"Europe/London\"\ndate = 2030-03-18\n\n\
             [[account]]\nid = \"d\"\nplatform = \"mastodon\"\nserver = \"https://m.example\"\n\
             token_env = \"LH_D\"\n\n[schedule]\nurl = \"https://x.example/s.toml\"\n",
        )
        .unwrap();
        let copy = Config::load_in(&config, Some(&state)).unwrap().published.unwrap().copy;
        let check = checker(&config, &state, &copy);
        assert_eq!(check(b"[[session]]\ntitle = \"Opening\"\nstart = \"09:00\"\n"), Ok(()));
        assert!(check(b"").unwrap_err().contains("no sessions at all"));
        assert!(check(b"[[session]]\ntitle = ").is_err(), "a document that does not read");
    }
}

//! The collector the daemon runs beside the engine: sleeps on the daemon's clock until the next
//! checkpoint (or cron sweep), reads what is due, and stores it. Shutdown is a parameter, as for
//! the engine; a read cut short by it is simply due again on the next start.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tracing::{info, warn};

use super::collect;
use crate::clock::Clock;
use crate::config::ReportSettings;
use crate::platform::Client;
use crate::store::{Store, StoreError};

/// After the engine says something went out, wait this long (on the daemon's clock) for the
/// rest of a burst, so a burst costs one look at the store, not one per post.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Everything the collector runs with: the daemon's clients, so reads share their limiters.
pub struct Collector {
    pub settings: ReportSettings,
    pub timezone: Tz,
    pub store: Store,
    pub clock: Clock,
    pub clients: HashMap<String, Arc<Client>>,
    /// Signalled by the engine whenever a post or boost goes out: it brings instants of its own
    /// (a boost's "before" reading, a post's checkpoints). Between signals and checkpoints the
    /// collector sleeps.
    pub sent: Arc<tokio::sync::Notify>,
}

/// The next instant of a cron sweep after `after`, in the event's time zone.
pub fn next_cron(schedule: &cron::Schedule, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule.after(&after.with_timezone(&tz)).next().map(|t| t.with_timezone(&Utc))
}

/// Runs until `shutdown` resolves. Store errors end it (the engine will meet them too).
pub async fn run(c: Collector, shutdown: impl Future<Output = ()>) -> Result<(), StoreError> {
    tokio::pin!(shutdown);
    let mut live = Live::start();
    let mut cron_at = c.settings.cron.as_ref().and_then(|s| next_cron(s, c.timezone, c.clock.now()));
    let now_fn = move || c.clock.now();
    loop {
        let now = c.clock.now();
        // Only jobs that went out can be read or bring an instant (a post, its boosts, an
        // external post): the pending ones, most of the store before and during an event, are
        // never read; of those that went out, only the new ones and the posts due now (`Live`),
        // except on a cron sweep, which reads every post.
        let sweep_all = cron_at.is_some_and(|t| t <= now);
        let wake = live.wake(&c.store, sweep_all, &c.settings.checkpoints, now)?;
        if !wake.posts.is_empty() {
            info!(posts = wake.posts.len(), cron = sweep_all, "reading engagement");
            let posts: Vec<_> = wake.posts.iter().collect();
            let swept = tokio::select! {
                biased;
                _ = &mut shutdown => return Ok(()),
                s = collect::sweep(&c.store, &c.clients, &posts, &now_fn) => s?,
            };
            for p in &swept.problems {
                warn!("engagement: {p}");
            }
        }
        live.read(&c.store, &wake.posts, &c.settings.checkpoints, now)?;
        if sweep_all {
            cron_at = c.settings.cron.as_ref().and_then(|s| next_cron(s, c.timezone, now));
        }
        let next = [wake.next, cron_at].into_iter().flatten().min();
        // The records read are not kept while it sleeps.
        drop(wake);
        crate::heap::give_back();
        let clock = c.clock;
        tokio::select! {
            biased;
            _ = &mut shutdown => return Ok(()),
            _ = async move {
                match next {
                    Some(t) => clock.sleep_until(t).await,
                    None => std::future::pending().await,
                }
            } => {}
            _ = c.sent.notified() => clock.sleep(SETTLE).await,
        }
    }
}

mod live;

use live::Live;

#[cfg(test)]
mod tests;

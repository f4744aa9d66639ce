//! The task the daemon runs beside the engine for `[[follow]]`: one loop per watched account
//! that sleeps on the daemon's clock until the event's hours, polls the account's posts since
//! its stored position, keeps the ones it wants and hands them to the engine through the
//! control channel (so the engine stays the one writer), and sleeps until the next poll. On
//! Mastodon a configured account's own live stream wakes it as soon as the account posts.
//!
//! Shutdown is a parameter, as for the engine; a poll cut short by it is simply read again on
//! the next start (a post seen twice plans nothing new).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::retry;
use crate::clock::Clock;
use crate::config::{self, Config, Watch, Watched};
use crate::control::server::Envelope;
use crate::control::Request;
use crate::follow::stream::update_author;
use crate::follow::{in_hours, interval, wanted, watching, WatchState, Watching, STREAM_POLL};
use crate::limit::Limiter;
use crate::network::Network;
use crate::platform::{Client, Platform, PlatformError};
use crate::store::Store;

/// A stream that says nothing (not even a keep-alive) for this long is taken as broken.
pub const STREAM_IDLE: Duration = Duration::from_secs(90);
/// A poll that failed for good (refused credentials, say) is tried again this much later.
pub const AFTER_REFUSAL: Duration = Duration::from_secs(300);

/// Everything the watches run with: the daemon's clients and limiters, so reads share their
/// rate budgets with posting.
pub struct Watcher {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Clock,
    pub clients: HashMap<String, Arc<Client>>,
    pub limiters: HashMap<String, Arc<Limiter>>,
    /// The engine's control channel.
    pub engine: mpsc::UnboundedSender<Envelope>,
}

/// Runs every watch until `shutdown` resolves. `over` turns true once every watch has ended:
/// its hours are over and its closing read is handed over (with `always`, never).
pub async fn run(w: Watcher, shutdown: impl Future<Output = ()>, over: watch::Sender<bool>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let w = Arc::new(w);
    let mut tasks = JoinSet::new();
    for watch in w.config.follows.clone() {
        tasks.spawn(one(w.clone(), watch, stop_rx.clone()));
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            ended = tasks.join_next() => {
                if ended.is_none() {
                    let _ = over.send(true);
                    shutdown.await;
                    break;
                }
            }
        }
    }
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
}

/// Sleeps until `until` on the daemon's clock, or until stopped (then `false`).
async fn nap(clock: Clock, until: DateTime<Utc>, stop: &mut watch::Receiver<bool>, wake: Option<&Notify>) -> bool {
    tokio::select! {
        biased;
        _ = stop.wait_for(|s| *s) => false,
        _ = clock.sleep_until(until) => true,
        _ = async {
            match wake {
                Some(n) => n.notified().await,
                None => std::future::pending().await,
            }
        } => true,
    }
}

async fn one(w: Arc<Watcher>, watch: Watch, mut stop: watch::Receiver<bool>) {
    let (Some(client), Some(limiter)) = (w.clients.get(&watch.reader), w.limiters.get(&watch.reader)) else {
        warn!(watch = %watch.key, reader = %watch.reader, "no client to read with (its secret was not loaded): not watched");
        return;
    };
    let hours = config::event_hours(&w.config);
    let sharing = w.config.follows.iter().filter(|x| x.reader == watch.reader).count();
    let mut saved = true;
    let mut state = match w.store.watch_state(&watch.key) {
        Ok(Some(s)) => s,
        Ok(None) => {
            saved = false;
            WatchState { cursor: None, since: w.clock.now() }
        }
        Err(e) => {
            warn!(watch = %watch.key, error = %e, "cannot read where the watch was: not watched");
            return;
        }
    };
    let wake = Arc::new(Notify::new());
    let streaming = Arc::new(AtomicBool::new(false));
    let mut listening = false;
    let mut failures = 0u32;
    // Set once the hours are over: one closing read takes what was posted while loudhailer
    // was not running, then the watch ends.
    let mut closing = false;
    loop {
        let now = w.clock.now();
        let end = match watching(&hours, now, watch.always) {
            Watching::Over => {
                closing = true;
                None
            }
            Watching::From(start) => {
                info!(watch = %watch.key, from = %start, "outside the event's hours: watching from then");
                if !nap(w.clock, start, &mut stop, None).await {
                    return;
                }
                continue;
            }
            Watching::Until(end) => end,
        };
        let live = watch.network == Network::Mastodon && matches!(watch.watched, Watched::Account(_));
        if live && !listening && !closing {
            listening = true;
            tokio::spawn(listen(client.clone(), wake.clone(), streaming.clone(), stop.clone()));
        }
        let mut next = interval(watch.poll, limiter.last_hint().as_ref(), now, sharing);
        let read = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            r = client.recent(&watch, state.cursor.as_ref()) => r,
        };
        // Whether this read is over with (a failure worth trying again is not).
        let settled = !matches!(
            read,
            Err(PlatformError::Retry(_) | PlatformError::MediaGone(_) | PlatformError::RateLimited { .. })
        );
        match read {
            Ok(recent) => {
                failures = 0;
                let found = recent.posts.len();
                let posts: Vec<_> = recent
                    .posts
                    .into_iter()
                    .filter(|p| wanted(&watch, p) && in_hours(&hours, &state, watch.always, p.created_at))
                    .collect();
                debug!(watch = %watch.key, read = found, wanted = posts.len(), "polled");
                let mut after = state.clone();
                after.cursor = recent.cursor;
                if posts.is_empty() && after == state && saved {
                    // Nothing new and nothing to move: no need to bother the engine.
                } else {
                    let (tx, rx) = oneshot::channel();
                    let request = Request::Found { watch: watch.key.clone(), posts, state: after.clone() };
                    if w.engine.send((request, Some(tx))).is_err() {
                        return;
                    }
                    match rx.await {
                        Ok(r) if r.ok => {
                            if let Some(m) = r.message.filter(|_| found > 0) {
                                debug!(watch = %watch.key, "{m}");
                            }
                            state = after;
                            saved = true;
                        }
                        Ok(r) => {
                            warn!(watch = %watch.key, error = r.error.as_deref().unwrap_or(""), "the engine refused what the watch found")
                        }
                        Err(_) => return,
                    }
                }
            }
            Err(PlatformError::RateLimited { until }) => {
                let until = until.unwrap_or_else(|| crate::checked::saturating_add(now, chrono::Duration::seconds(60)));
                next = next.max((until - now).to_std().unwrap_or_default());
            }
            Err(
                e @ (PlatformError::Auth { .. }
                | PlatformError::NoCredentials(_)
                | PlatformError::Permanent { .. }
                | PlatformError::Internal { .. }
                | PlatformError::NotSent),
            ) => {
                warn!(watch = %watch.key, error = %e, "cannot read the watched account's posts; trying again later");
                next = next.max(AFTER_REFUSAL);
            }
            // Reading posts uploads nothing: a lost upload cannot be the reason.
            Err(PlatformError::Retry(why) | PlatformError::MediaGone(why)) => {
                failures += 1;
                let backoff = retry::backoff(failures, retry::BASE, retry::CAP, 1.0);
                warn!(watch = %watch.key, error = %why, "reading the watched account's posts failed; trying again");
                next = next.max(backoff).min(retry::CAP.max(watch.poll));
            }
        }
        if closing && settled {
            info!(watch = %watch.key, "the event's hours are over: no longer watching");
            return;
        }
        if streaming.load(Ordering::Relaxed) {
            next = next.max(STREAM_POLL);
        }
        let mut at = crate::checked::saturating_after(w.clock.now(), next);
        if let Some(end) = end {
            at = at.min(end);
        }
        if !nap(w.clock, at, &mut stop, Some(&wake)).await {
            return;
        }
    }
}

/// Listens to a Mastodon account's own live stream and wakes the watch whenever the account
/// posts, and each time the stream (re)connects (to read what came while it was down). Gives up
/// where the server offers no streaming: polling alone then finds the posts.
async fn listen(client: Arc<Client>, wake: Arc<Notify>, up: Arc<AtomicBool>, mut stop: watch::Receiver<bool>) {
    let Some(mastodon) = client.mastodon() else { return };
    let mut failures = 0u32;
    loop {
        let me = mastodon.own_id().await;
        let opened = match me {
            Ok(me) => mastodon.open_stream().await.map(|r| (me, r)),
            Err(e) => Err(e),
        };
        match opened {
            Ok((me, response)) => {
                info!("listening to the account's live stream");
                up.store(true, Ordering::Relaxed);
                wake.notify_one();
                failures = 0;
                let mut events = response.bytes_stream().eventsource();
                loop {
                    let event = tokio::select! {
                        biased;
                        _ = stop.wait_for(|s| *s) => return,
                        e = tokio::time::timeout(STREAM_IDLE, events.next()) => e,
                    };
                    match event {
                        Ok(Some(Ok(e))) => {
                            if update_author(&e.event, &e.data).as_deref() == Some(me.as_str()) {
                                wake.notify_one();
                            }
                        }
                        Ok(Some(Err(_)) | None) | Err(_) => break,
                    }
                }
                up.store(false, Ordering::Relaxed);
                debug!("the live stream ended; reconnecting");
            }
            Err(
                e @ (PlatformError::Permanent { .. }
                | PlatformError::Auth { .. }
                | PlatformError::NoCredentials(_)
                | PlatformError::Internal { .. }),
            ) => {
                info!(reason = %e, "no live stream: polling only");
                up.store(false, Ordering::Relaxed);
                return;
            }
            Err(e) => {
                failures += 1;
                debug!(error = %e, "cannot open the live stream; trying again");
            }
        }
        let pause = retry::backoff(failures.max(1), Duration::from_secs(2), retry::CAP, 1.0);
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

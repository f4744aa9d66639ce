//! Which posts are due an engagement snapshot (pure, the clock passed in), and the sweep that
//! reads them: grouped per account, in the network's batch size, through the account's own
//! client (so reads come out of the same rate budget as posts), each answer appended to the
//! store's time series. A failed read is stored as [`Snapshot::Unknown`], never as 0.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::Snapshot;
use crate::job::{JobId, JobKind, JobRecord, JobState, RemoteRef};
use crate::network::Network;
use crate::platform::{Client, Platform, PlatformError};
use crate::store::{Store, StoreError};

/// What is known of a post's snapshots so far: when the last was taken and whether it said
/// the post is gone (a deleted post is not read again by checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub last: DateTime<Utc>,
    pub gone: bool,
}

/// The latest snapshot of each job, from the stored series.
pub fn taken(series: &[(JobId, DateTime<Utc>, Snapshot)]) -> HashMap<JobId, Taken> {
    let mut out: HashMap<JobId, Taken> = HashMap::new();
    for (id, at, snap) in series {
        let entry = out.entry(id.clone()).or_insert(Taken { last: *at, gone: false });
        if *at >= entry.last {
            *entry = Taken { last: *at, gone: matches!(snap, Snapshot::Gone) };
        }
    }
    out
}

/// Whether a job stands for a post that can be read: a post (not a boost) that went out, or
/// one a watch found or a repost looked up.
pub fn readable(rec: &JobRecord) -> bool {
    rec.spec.kind.has_post() && rec.state == JobState::Done && rec.remote.is_some()
}

/// External jobs that name a post loudhailer made itself (a repost of its own post, later in
/// the day), each with that post's job: the post is read and reported once, under its own job.
pub fn same_posts(jobs: &[JobRecord]) -> HashMap<JobId, JobId> {
    let made: Vec<&JobRecord> = jobs.iter().filter(|j| j.spec.kind.is_post() && readable(j)).collect();
    let mut out = HashMap::new();
    for ext in jobs.iter().filter(|j| j.spec.kind == JobKind::External && readable(j)) {
        let Some(r) = ext.remote.as_ref() else { continue };
        let twin = made.iter().find(|m| {
            m.remote.as_ref().is_some_and(|mr| {
                let uri = matches!((&mr.uri, &r.uri), (Some(a), Some(b)) if a == b);
                let url = matches!((&mr.url, &r.url), (Some(a), Some(b)) if a == b);
                uri || url || (m.spec.account == ext.spec.account && mr.id == r.id)
            })
        });
        if let Some(m) = twin {
            out.insert(ext.spec.id.clone(), m.spec.id.clone());
        }
    }
    out
}

/// The post a job hangs off: a reply's or a boost's parent; through an unboost (an evergreen
/// repeat) to the post; and from an external job naming one of loudhailer's own posts, that post.
pub fn post_of<'a>(
    job: &'a JobRecord,
    by_id: &HashMap<&JobId, &'a JobRecord>,
    same: &'a HashMap<JobId, JobId>,
) -> Option<&'a JobId> {
    let mut parent = job.spec.parent.as_ref()?;
    if let Some(p) = by_id.get(parent).filter(|p| p.spec.kind == JobKind::Unboost) {
        parent = p.spec.parent.as_ref()?;
    }
    Some(same.get(parent).unwrap_or(parent))
}

/// The boosts among `jobs`, by the post each hangs off ([`post_of`]; `same` from [`same_posts`]).
pub fn boosts_by_post<'a>(
    jobs: &'a [JobRecord],
    same: &'a HashMap<JobId, JobId>,
) -> HashMap<&'a JobId, Vec<&'a JobRecord>> {
    let by_id: HashMap<&JobId, &JobRecord> = jobs.iter().map(|j| (&j.spec.id, j)).collect();
    let mut boosts: HashMap<&JobId, Vec<&JobRecord>> = HashMap::new();
    for j in jobs.iter().filter(|j| j.spec.kind == JobKind::Boost) {
        if let Some(post) = post_of(j, &by_id, same) {
            boosts.entry(post).or_default().push(j);
        }
    }
    boosts
}

/// When a job was posted.
pub fn posted_at(rec: &JobRecord) -> DateTime<Utc> {
    rec.done_at.unwrap_or(rec.spec.at)
}

/// The instants a post is read at: each checkpoint after posting, and each boost of it going out.
pub fn instants(post: &JobRecord, boosts: &[&JobRecord], checkpoints: &[Duration]) -> Vec<DateTime<Utc>> {
    let posted = posted_at(post);
    let mut out: Vec<DateTime<Utc>> = checkpoints.iter().filter_map(|c| crate::checked::after(posted, *c)).collect();
    out.extend(boosts.iter().filter(|b| b.state == JobState::Done).filter_map(|b| b.done_at));
    out.sort();
    out.dedup();
    out
}

/// What is due at `now`, and when the next known instant falls.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Due {
    /// Posts to read now, in id order.
    pub jobs: Vec<JobId>,
    /// The earliest instant after `now` at which a post falls due (new posts and boosts can
    /// add earlier ones: the engine tells the collector when one goes out).
    pub next: Option<DateTime<Utc>>,
}

/// Posts due a snapshot at `now`: one of their instants has passed and no snapshot was taken at
/// or after the latest that has. Several instants missed while nothing ran need one snapshot,
/// not one each. A post last seen gone is not read again.
pub fn due(jobs: &[JobRecord], taken: &HashMap<JobId, Taken>, checkpoints: &[Duration], now: DateTime<Utc>) -> Due {
    let same = same_posts(jobs);
    let boosts = boosts_by_post(jobs, &same);
    let mut out = Due::default();
    for post in jobs.iter().filter(|j| readable(j) && !same.contains_key(&j.spec.id)) {
        let id = &post.spec.id;
        let seen = taken.get(id);
        if seen.is_some_and(|t| t.gone) {
            continue;
        }
        let at = instants(post, boosts.get(id).map_or(&[][..], Vec::as_slice), checkpoints);
        let passed = at.iter().copied().filter(|t| *t <= now).max();
        if let Some(passed) = passed {
            if seen.is_none_or(|t| t.last < passed) {
                out.jobs.push(id.clone());
            }
        }
        if let Some(next) = at.into_iter().find(|t| *t > now) {
            out.next = Some(out.next.map_or(next, |n| n.min(next)));
        }
    }
    out.jobs.sort();
    out
}

/// How many posts one metrics call carries: the network's own batch size (Mastodon's
/// `GET /api/v1/statuses?id[]=` takes 20, Bluesky's `getPosts` 25, X's lookup 100), so a failed
/// call costs at most one batch of readings.
pub fn batch_size(network: Network) -> usize {
    match network {
        Network::Mastodon => 20,
        Network::Bluesky => 25,
        Network::X => 100,
        // One post per read: socialMetadata and analytics, a Graph post's fields, insights.
        Network::LinkedIn | Network::Facebook | Network::Threads => 1,
    }
}

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Snapshots with counts.
    pub read: usize,
    pub gone: usize,
    /// Stored as unknown (the read failed).
    pub failed: usize,
    /// Not read now (the server asked us to wait); still due.
    pub deferred: usize,
    /// What went wrong, one line per account and error.
    pub problems: Vec<String>,
}

/// Reads `posts` through their accounts' clients and appends a snapshot for each. `now` stamps
/// each snapshot with the clock's time as its answer arrived.
pub async fn sweep(
    store: &Store,
    clients: &HashMap<String, Arc<Client>>,
    posts: &[&JobRecord],
    now: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
) -> Result<Swept, StoreError> {
    let mut by_account: BTreeMap<&str, Vec<(&JobId, &RemoteRef)>> = BTreeMap::new();
    for p in posts {
        if let Some(remote) = &p.remote {
            by_account.entry(p.spec.account.as_str()).or_default().push((&p.spec.id, remote));
        }
    }
    let mut out = Swept::default();
    for (account, list) in by_account {
        let Some(client) = clients.get(account) else {
            let why = format!("no client for account {account} (not in the config, or its secret was not loaded)");
            out.problems.push(why.clone());
            for (id, _) in &list {
                store.append_metric(id, now(), &Snapshot::Unknown { why: why.clone() })?;
                out.failed += 1;
            }
            continue;
        };
        for chunk in list.chunks(batch_size(client.network())) {
            let refs: Vec<RemoteRef> = chunk.iter().map(|(_, r)| (*r).clone()).collect();
            let answer = client.metrics(&refs).await;
            let at = now();
            match answer {
                Ok(readings) if readings.len() == chunk.len() => {
                    for ((id, _), reading) in chunk.iter().zip(readings) {
                        let snap = Snapshot::from(reading);
                        match snap {
                            Snapshot::Gone => out.gone += 1,
                            _ => out.read += 1,
                        }
                        store.append_metric(id, at, &snap)?;
                    }
                }
                Ok(readings) => {
                    let why = format!("the server answered {} readings for {} posts", readings.len(), chunk.len());
                    out.problems.push(format!("{account}: {why}"));
                    for (id, _) in chunk {
                        store.append_metric(id, at, &Snapshot::Unknown { why: why.clone() })?;
                        out.failed += 1;
                    }
                }
                Err(PlatformError::RateLimited { until }) => {
                    warn!(account, ?until, "engagement reads rate limited; they stay due");
                    out.problems.push(format!("{account}: {}", PlatformError::RateLimited { until }));
                    out.deferred += chunk.len();
                }
                Err(e) => {
                    warn!(account, error = %e, posts = chunk.len(), "engagement read failed; stored as unknown");
                    out.problems.push(format!("{account}: {e}"));
                    for (id, _) in chunk {
                        store.append_metric(id, at, &Snapshot::Unknown { why: e.to_string() })?;
                        out.failed += 1;
                    }
                }
            }
            store.flush()?;
        }
    }
    info!(read = out.read, gone = out.gone, failed = out.failed, deferred = out.deferred, "engagement sweep done");
    Ok(out)
}

#[cfg(test)]
mod tests;

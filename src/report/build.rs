//! Stored jobs and snapshots → a [`Report`] (pure, the time passed in): per session and post,
//! growth, boosts joined to the posts they boosted, totals per network and account, top posts,
//! posts that got nothing, engagement by hour, and what the amplification added.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};

use super::collect::{self, posted_at, readable};
use super::model::*;
use super::Snapshot;
use crate::config::{Config, Role};
use crate::job::{JobId, JobKind, JobRecord, JobState, Origin};
use crate::network::Network;

/// A snapshot counts as taken "as the boost went out" when it is at most this much later.
pub const AT_BOOST: chrono::Duration = chrono::Duration::minutes(5);

/// How many posts `top` lists at most.
pub const TOP: usize = 10;

/// A checkpoint as people write it: "15m", "1h", "72h", "90s".
pub fn checkpoint_label(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

fn view(snap: &Snapshot) -> CountsView {
    match snap {
        Snapshot::Counts(c) => {
            CountsView { likes: c.likes, reposts: c.reposts, replies: c.replies, quotes: c.quotes, views: c.views }
        }
        _ => CountsView::default(),
    }
}

/// When the event's own boosts of a post, and its thread's replies to it, went out.
#[derive(Debug, Clone, Default)]
struct OwnEvents {
    boosts: Vec<DateTime<Utc>>,
    replies: Vec<DateTime<Utc>>,
}

impl OwnEvents {
    /// What of the server's counts at `t` is the event's own doing.
    fn at(&self, t: DateTime<Utc>) -> Own {
        let upto = |list: &[DateTime<Utc>]| list.iter().filter(|x| **x <= t).count() as u64;
        Own { reposts: upto(&self.boosts), replies: upto(&self.replies) }
    }

    /// Engagement by others in a snapshot taken at `t`.
    fn engagement(&self, snap: &Snapshot, t: DateTime<Utc>) -> Option<u64> {
        snap.counts().and_then(|_| view(snap).engagement(self.at(t)))
    }
}

/// The report on `jobs` and their `snapshots` as of `now`.
pub fn report(
    config: &Config,
    jobs: &[JobRecord],
    snapshots: &[(JobId, DateTime<Utc>, Snapshot)],
    now: DateTime<Utc>,
) -> Report {
    let tz = config.event.timezone;
    let mut series: HashMap<&JobId, Vec<(DateTime<Utc>, &Snapshot)>> = HashMap::new();
    for (id, at, snap) in snapshots {
        series.entry(id).or_default().push((*at, snap));
    }
    for list in series.values_mut() {
        list.sort_by_key(|(at, _)| *at);
    }
    let same = collect::same_posts(jobs);
    let by_id: HashMap<&JobId, &JobRecord> = jobs.iter().map(|j| (&j.spec.id, j)).collect();
    let mut boosts_of: HashMap<&JobId, Vec<&JobRecord>> = HashMap::new();
    let mut own: HashMap<&JobId, OwnEvents> = HashMap::new();
    for j in jobs {
        // An undo is nothing to count; a Page's quote or digest is a post of its own, on another
        // network than the post it names (read and reported under the Page).
        if matches!(j.spec.kind, JobKind::Unboost | JobKind::Quote | JobKind::Digest) {
            continue;
        }
        let Some(parent) = collect::post_of(j, &by_id, &same) else { continue };
        if j.spec.kind == JobKind::Boost {
            boosts_of.entry(parent).or_default().push(j);
        }
        if let (JobState::Done, Some(at)) = (j.state, j.done_at) {
            // LinkedIn's points as comments all sit under the session's title post, so that is
            // the post whose comment count they are in.
            let on_linkedin_as_comment = j.spec.kind == JobKind::Reply
                && config.linkedin.points == crate::config::Points::Comments
                && config.account(&j.spec.account).is_some_and(|a| a.network == Network::LinkedIn);
            let parent = match (&j.spec.root, on_linkedin_as_comment) {
                (Some(root), true) => by_id.get(root).map_or(parent, |r| &r.spec.id),
                _ => parent,
            };
            let events = own.entry(parent).or_default();
            match j.spec.kind {
                JobKind::Boost => events.boosts.push(at),
                _ => events.replies.push(at),
            }
        }
    }
    let network_of = |account: &str, rec: &JobRecord| -> Network {
        config.account(account).map(|a| a.network).unwrap_or_else(|| {
            let bluesky = rec.remote.as_ref().is_some_and(|r| r.id.starts_with("at://"));
            if bluesky {
                Network::Bluesky
            } else {
                Network::Mastodon
            }
        })
    };
    let checkpoints: Vec<chrono::Duration> =
        config.report.checkpoints.iter().filter_map(|c| crate::checked::span(*c)).collect();

    let ctx = Context { checkpoints: &checkpoints, tz, network_of: &network_of };
    let mut posts: Vec<PostReport> = Vec::new();
    for rec in jobs.iter().filter(|j| readable(j) && !same.contains_key(&j.spec.id)) {
        let empty = Vec::new();
        let snaps = series.get(&rec.spec.id).unwrap_or(&empty);
        let boosts = boosts_of.get(&rec.spec.id).cloned().unwrap_or_default();
        let own = own.get(&rec.spec.id).cloned().unwrap_or_default();
        posts.push(post(rec, snaps, &boosts, &own, &ctx));
    }
    posts.sort_by(|a, b| a.posted_at.cmp(&b.posted_at).then_with(|| a.job.cmp(&b.job)));

    let done_boosts: Vec<&JobRecord> =
        jobs.iter().filter(|j| j.spec.kind == JobKind::Boost && j.state == JobState::Done).collect();
    let not_sent = jobs.iter().filter(|j| j.spec.kind.is_post() && j.state != JobState::Done).count();

    let mut headline = Headline {
        posts: posts.len(),
        boosts: done_boosts.len(),
        not_sent,
        read: 0,
        gone: 0,
        unread: 0,
        engaged: 0,
        nothing: 0,
        totals: Totals::default(),
        own: Own::default(),
    };
    for p in &posts {
        match p.status {
            PostStatus::Read | PostStatus::Stale => headline.read += 1,
            PostStatus::Gone => headline.gone += 1,
            PostStatus::Unread => headline.unread += 1,
        }
        match p.engagement {
            Some(0) => headline.nothing += 1,
            Some(_) => headline.engaged += 1,
            None => {}
        }
        headline.totals.add(p);
        if p.engagement.is_some() {
            headline.own.reposts += p.own.reposts;
            headline.own.replies += p.own.replies;
        }
    }

    let sessions = sessions(config, &posts, &series, &own);

    let mut networks: BTreeMap<Network, NetworkTotals> = BTreeMap::new();
    for p in &posts {
        let n = networks.entry(p.network).or_insert_with(|| NetworkTotals {
            network: p.network,
            posts: 0,
            boosts: 0,
            totals: Totals::default(),
        });
        n.posts += 1;
        n.totals.add(p);
        n.boosts += p.boosts.iter().filter(|b| b.state == "done").count();
    }

    let accounts = accounts(config, &posts, &done_boosts, &network_of);

    let as_ref = |p: &PostReport| PostRef {
        job: p.job.clone(),
        origin: p.origin,
        session: p.session.clone(),
        text: p.text.clone(),
        network: p.network,
        account: p.account.clone(),
        url: p.url.clone(),
        posted_local: p.posted_local.clone(),
        counts: p.counts,
        engagement: p.engagement,
        status: p.status,
        images: p.images.len(),
    };
    let mut ranked: Vec<&PostReport> = posts.iter().filter(|p| p.engagement.unwrap_or(0) > 0).collect();
    ranked.sort_by(|a, b| b.engagement.cmp(&a.engagement).then_with(|| a.posted_at.cmp(&b.posted_at)));
    let top = ranked.iter().take(TOP).map(|p| as_ref(p)).collect();
    let nothing = posts.iter().filter(|p| p.engagement == Some(0)).map(as_ref).collect();
    let unknown = posts.iter().filter(|p| p.engagement.is_none()).map(as_ref).collect();

    let mut hours: BTreeMap<u32, HourTotals> = BTreeMap::new();
    for p in &posts {
        let hour = p.posted_at.with_timezone(&tz).hour();
        let h = hours.entry(hour).or_insert_with(|| HourTotals { hour, posts: 0, totals: Totals::default() });
        h.posts += 1;
        h.totals.add(p);
    }

    let mut amplification = Amplification {
        boosted_posts: 0,
        not_boosted_posts: 0,
        boosted: Tally::default(),
        not_boosted: Tally::default(),
        before_boost: Tally::default(),
        since_boost: Tally::default(),
    };
    for p in &posts {
        if p.boosts.iter().any(|b| b.state == "done") {
            amplification.boosted_posts += 1;
            amplification.boosted.add(p.engagement);
            if let Some(before) = p.before_boost.and_then(|b| b.engagement) {
                amplification.before_boost.add(Some(before));
                amplification.since_boost.add(p.engagement.map(|now| now.saturating_sub(before)));
            }
        } else {
            amplification.not_boosted_posts += 1;
            amplification.not_boosted.add(p.engagement);
        }
    }

    Report {
        format: FORMAT,
        event: EventInfo { name: config.event.name.clone(), timezone: tz.name().to_string() },
        generated_at: now,
        checkpoints: config.report.checkpoints.iter().map(|c| checkpoint_label(*c)).collect(),
        headline,
        sessions,
        networks: networks.into_values().collect(),
        accounts,
        top,
        nothing,
        unknown,
        by_hour: hours.into_values().collect(),
        amplification,
    }
}

/// What every post is read against.
struct Context<'a> {
    checkpoints: &'a [chrono::Duration],
    tz: chrono_tz::Tz,
    network_of: &'a dyn Fn(&str, &JobRecord) -> Network,
}

/// One post with its counts now, growth, readings and boosts.
fn post(
    rec: &JobRecord,
    snaps: &[(DateTime<Utc>, &Snapshot)],
    boosts: &[&JobRecord],
    own: &OwnEvents,
    ctx: &Context<'_>,
) -> PostReport {
    let (checkpoints, tz, network_of) = (ctx.checkpoints, ctx.tz, ctx.network_of);
    let network = network_of(&rec.spec.account, rec);
    let posted = posted_at(rec);
    // The latest snapshot that says something (a failed read says nothing).
    let latest = snaps.iter().rev().find(|(_, s)| !matches!(s, Snapshot::Unknown { .. }));
    let last_failed = match snaps.last() {
        Some((_, Snapshot::Unknown { why })) => Some(why.clone()),
        _ => None,
    };
    let (status, counts, as_of, note) = match latest {
        Some((at, s @ Snapshot::Counts(_))) if last_failed.is_none() => (PostStatus::Read, view(s), Some(*at), None),
        Some((at, s @ Snapshot::Counts(_))) => (
            PostStatus::Stale,
            view(s),
            Some(*at),
            last_failed.map(|w| format!("the latest read failed ({w}); counts as of the read before")),
        ),
        Some((at, _)) => (
            PostStatus::Gone,
            CountsView::default(),
            Some(*at),
            Some("the server no longer has this post (deleted?)".to_string()),
        ),
        None => (
            PostStatus::Unread,
            CountsView::default(),
            None,
            Some(match last_failed {
                Some(w) => format!("every read failed (last: {w})"),
                None => "not read yet: `loudhailer collect` reads it".to_string(),
            }),
        ),
    };
    let own_now = as_of.map(|t| own.at(t)).unwrap_or_default();
    let engagement = match status {
        PostStatus::Read | PostStatus::Stale => counts.engagement(own_now),
        _ => None,
    };
    let growth = (0..checkpoints.len())
        .map(|i| {
            let from = posted + checkpoints[i];
            let until = checkpoints.get(i + 1).map(|c| posted + *c);
            snaps
                .iter()
                .find(|(at, _)| *at >= from && until.is_none_or(|u| *at < u))
                .and_then(|(at, s)| own.engagement(s, *at))
        })
        .collect();
    let readings = snaps
        .iter()
        .map(|(at, s)| ReadingView {
            at: *at,
            minutes_after: (*at - posted).num_minutes(),
            status: match s {
                Snapshot::Counts(_) => "counts",
                Snapshot::Gone => "gone",
                Snapshot::Unknown { .. } => "unknown",
            },
            counts: view(s),
            engagement: own.engagement(s, *at),
            why: match s {
                Snapshot::Unknown { why } => Some(why.clone()),
                _ => None,
            },
        })
        .collect();
    let mut boost_views: Vec<BoostView> = boosts
        .iter()
        .map(|b| BoostView {
            job: b.spec.id.to_string(),
            account: b.spec.account.clone(),
            network: network_of(&b.spec.account, b),
            state: b.state.as_str(),
            boosted_at: if b.state == JobState::Done { b.done_at } else { None },
            url: b.remote.as_ref().and_then(|r| r.url.clone()),
        })
        .collect();
    boost_views.sort_by(|a, b| a.account.cmp(&b.account));
    let first_boost = boost_views.iter().filter_map(|b| b.boosted_at).min();
    let before_boost = first_boost.and_then(|t0| {
        snaps
            .iter()
            .find(|(at, s)| *at >= t0 && *at <= crate::checked::saturating_add(t0, AT_BOOST) && s.counts().is_some())
            .map(|(at, s)| Moment { at: *at, counts: view(s), engagement: own.engagement(s, *at) })
    });
    PostReport {
        job: rec.spec.id.to_string(),
        kind: rec.spec.kind.as_str(),
        origin: origin(rec),
        session: rec.spec.session.clone(),
        text: rec.spec.text.clone().unwrap_or_default(),
        network,
        account: rec.spec.author().to_string(),
        remote_id: rec.remote.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
        url: rec.remote.as_ref().and_then(|r| r.url.clone()),
        posted_at: posted,
        posted_local: posted.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        status,
        counts,
        own: own_now,
        engagement,
        as_of,
        note,
        growth,
        readings,
        boosts: boost_views,
        before_boost,
        images: images(rec),
    }
}

/// A post's images, each with the thumbnail stored with its upload.
fn images(rec: &JobRecord) -> Vec<ImageView> {
    let uploads = rec.intent.as_ref().map(|i| i.media.as_slice()).unwrap_or_default();
    rec.spec
        .images
        .iter()
        .enumerate()
        .map(|(n, image)| ImageView {
            file: image.file.clone(),
            alt: image.alt.clone(),
            thumbnail: uploads.iter().find(|u| u.image == n).and_then(|u| u.thumbnail.clone()),
        })
        .collect()
}

/// Whether a post was planned (made from the schedule) or hand-made (typed while running, or
/// made by a person and amplified: found by a watch, or named for a repost).
pub fn origin(rec: &JobRecord) -> &'static str {
    if rec.spec.kind.is_post() && rec.spec.origin == Origin::Plan {
        "planned"
    } else {
        "hand-made"
    }
}

/// Posts grouped by session: the config's sessions in order (with or without posts), sessions
/// no longer in the config, then posts outside any session.
fn sessions(
    config: &Config,
    posts: &[PostReport],
    series: &HashMap<&JobId, Vec<(DateTime<Utc>, &Snapshot)>>,
    own: &HashMap<&JobId, OwnEvents>,
) -> Vec<SessionReport> {
    let mut groups: Vec<(Option<String>, String, Option<DateTime<Utc>>)> =
        config.sessions.iter().map(|s| (Some(s.id.clone()), s.title.clone(), Some(s.start))).collect();
    for p in posts {
        if let Some(s) = &p.session {
            if !groups.iter().any(|g| g.0.as_deref() == Some(s.as_str())) {
                groups.push((Some(s.clone()), s.clone(), None));
            }
        }
    }
    if posts.iter().any(|p| p.session.is_none()) {
        groups.push((None, "Other posts".into(), None));
    }
    groups
        .into_iter()
        .map(|(id, title, start)| {
            let mine: Vec<PostReport> = posts.iter().filter(|p| p.session == id).cloned().collect();
            let mut totals = Totals::default();
            for p in &mine {
                totals.add(p);
            }
            let series = session_series(&mine, series, own);
            SessionReport { id, title, start, posts: mine, totals, series }
        })
        .collect()
}

/// At each instant one of the posts went out or was read: the sum of each post's latest
/// known engagement (0 from when it went out until its first read; unknown once gone).
fn session_series(
    posts: &[PostReport],
    series: &HashMap<&JobId, Vec<(DateTime<Utc>, &Snapshot)>>,
    own: &HashMap<&JobId, OwnEvents>,
) -> Vec<SeriesPoint> {
    let none = OwnEvents::default();
    let ids: Vec<JobId> = posts.iter().map(|p| JobId(p.job.clone())).collect();
    let mut instants: Vec<DateTime<Utc>> = posts.iter().map(|p| p.posted_at).collect();
    for id in &ids {
        instants.extend(series.get(id).into_iter().flatten().map(|(at, _)| *at));
    }
    instants.sort();
    instants.dedup();
    instants
        .into_iter()
        .map(|t| {
            let mut engagement = Tally::default();
            for (p, id) in posts.iter().zip(&ids) {
                if p.posted_at > t {
                    continue;
                }
                let latest = series
                    .get(id)
                    .into_iter()
                    .flatten()
                    .rev()
                    .find(|(at, s)| *at <= t && !matches!(s, Snapshot::Unknown { .. }));
                engagement.add(match latest {
                    Some((at, s)) => own.get(id).unwrap_or(&none).engagement(s, *at),
                    None => Some(0),
                });
            }
            SeriesPoint { at: t, engagement }
        })
        .collect()
}

fn accounts(
    config: &Config,
    posts: &[PostReport],
    done_boosts: &[&JobRecord],
    network_of: &dyn Fn(&str, &JobRecord) -> Network,
) -> Vec<AccountTotals> {
    let mut names: Vec<String> = config.accounts.iter().map(|a| a.id.clone()).collect();
    for a in posts.iter().map(|p| &p.account).chain(done_boosts.iter().map(|b| &b.spec.account)) {
        if !names.contains(a) {
            names.push(a.clone());
        }
    }
    let by_job: HashMap<&str, &PostReport> = posts.iter().map(|p| (p.job.as_str(), p)).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let mine: Vec<&PostReport> = posts.iter().filter(|p| p.account == name).collect();
            let boosts: Vec<&&JobRecord> = done_boosts.iter().filter(|b| b.spec.account == name).collect();
            let network = match (config.account(&name), mine.first(), boosts.first()) {
                (Some(a), _, _) => a.network,
                (None, Some(p), _) => p.network,
                (None, None, Some(b)) => network_of(&name, b),
                (None, None, None) => return None,
            };
            let role = match config.account(&name).map(|a| a.role) {
                Some(Role::Primary) => "primary",
                Some(Role::Amplifier) => "amplifier",
                None => "unknown",
            };
            let mut totals = Totals::default();
            for p in &mine {
                totals.add(p);
            }
            let mut boosted_engagement = Tally::default();
            for b in &boosts {
                let target = b.spec.parent.as_ref().and_then(|p| by_job.get(p.as_str()));
                boosted_engagement.add(target.and_then(|p| p.engagement));
            }
            Some(AccountTotals {
                account: name,
                network,
                role,
                posts: mine.len(),
                boosts: boosts.len(),
                totals,
                boosted_engagement,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;

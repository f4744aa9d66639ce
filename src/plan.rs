//! Config + sessions -> jobs with stable ids and due times, and merging a new plan into the
//! jobs already stored (pure).
//!
//! Every primary account posts each session as a thread; every amplifier boosts every post made
//! on its own network `delay` ± `jitter` after it. Ids come from the session, the item and the
//! account, so the same schedule always plans the same ids, and the jitter is derived from the
//! id, so the same job always gets the same time.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::compose::{ComposeError, Composer, Piece, NUMBERING_ROOM};
use crate::config::{self, Config};
use crate::count::Counter;
use crate::job::{JobId, JobKind, JobSpec, Origin};
use crate::network::Network;

/// The jobs of a plan, sorted by due time, and what the user should know about them.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub jobs: Vec<JobSpec>,
    /// E.g. which points were too long and continue in the thread.
    pub notes: Vec<String>,
}

/// The counter each account's posts are measured with (defaults when the server is unknown).
pub fn counters(config: &Config, known: &HashMap<String, Counter>) -> HashMap<String, Counter> {
    config
        .accounts
        .iter()
        .map(|a| {
            let c = known.get(&a.id).copied().unwrap_or_else(|| Counter::default_for(a.network));
            (a.id.clone(), c)
        })
        .collect()
}

/// Suggested sentences approved by hand: per session, each sentence and when it was approved.
pub type Approvals = BTreeMap<String, BTreeMap<String, DateTime<Utc>>>;

/// Plans every job of the event; `approved` suggestions are posted like points.
pub fn plan(config: &Config, counters: &HashMap<String, Counter>, approved: &Approvals) -> Result<Plan, ComposeError> {
    let composer = Composer::new(&config.compose, &config.event.hashtags, config.event.timezone)?;
    let sessions = config.sessions.to_vec();
    let mut plan = Plan::default();
    let mut posts: Vec<JobSpec> = Vec::new();
    for account in config.primaries() {
        let mut counter = counters.get(&account.id).copied().unwrap_or_else(|| Counter::default_for(account.network));
        if account.network == Network::X {
            // X may refuse the thread's replies; then they go out numbered ("2/4 …").
            counter = counter.reserve(NUMBERING_ROOM);
        }
        let composed = compose_sessions(&composer, &sessions, account.network, &counter)?;
        for (session, mut pieces) in sessions.iter().zip(composed) {
            if let Some(ok) = approved.get(&session.id) {
                insert_by_time(&mut pieces, composer.approved(session, ok, account.network, &counter)?);
            }
            note_splits(&mut plan.notes, &session.id, &account.id, &pieces);
            let language =
                session.language.clone().or_else(|| account.language.clone()).or_else(|| config.event.language.clone());
            thread(&mut posts, &session.id, Some(&session.id), &account.id, pieces, JobKind::Post, language);
        }
        for rec in config.recurring.iter().filter(|r| r.accounts.contains(&account.id)) {
            for at in config::recurring_instants(config, rec) {
                let local = at.with_timezone(&config.event.timezone);
                let item = local.format("%Y%m%d-%H%M").to_string();
                let pieces = composer.note(&item, &rec.text, at, &counter)?;
                note_splits(&mut plan.notes, &rec.id, &account.id, &pieces);
                let language = account.language.clone().or_else(|| config.event.language.clone());
                thread(&mut posts, &rec.id, None, &account.id, pieces, JobKind::Recurring, language);
            }
        }
    }
    let mut boosts = Vec::new();
    for post in &posts {
        let Some(network) = config.account(&post.account).map(|a| a.network) else {
            continue;
        };
        if !reshareable(config, network, post) {
            continue;
        }
        for amp in config.amplifiers().filter(|a| a.network == network) {
            boosts.push(boost(post, &amp.id, config.amplify.delay, config.amplify.jitter));
        }
    }
    boosts.extend(pages(config, &sessions, &composer, &posts)?);
    without_photos(&mut plan.notes, config, &mut posts);
    note_x(&mut plan.notes, config, &posts);
    note_linkedin(&mut plan.notes, config, &posts);
    plan.jobs = posts;
    plan.jobs.extend(boosts);
    for r in &config.reposts {
        plan.jobs.extend(repost_jobs(&r.url, r.at, &r.accounts, Origin::Plan, config.event.timezone));
    }
    plan.jobs =
        sorted_moving_once(std::mem::take(&mut plan.jobs), |a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    Ok(plan)
}

/// Each session's pieces on one network. Sessions do not depend on each other: a long
/// programme is composed on up to four threads, in parts kept in order, and the error is the
/// first session's that fails, as one thread would find it.
fn compose_sessions(
    composer: &Composer,
    sessions: &[crate::schedule::Session],
    network: Network,
    counter: &Counter,
) -> Result<Vec<Vec<Piece>>, ComposeError> {
    let parts = crate::parts::in_parts(sessions, PARALLEL_FROM, |part| {
        part.iter().map(|s| composer.session(s, network, counter)).collect::<Result<Vec<_>, _>>()
    });
    let mut out = Vec::with_capacity(sessions.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// Below this many sessions one thread composes them (starting threads would cost more).
const PARALLEL_FROM: usize = 500;

/// Posts on a network loudhailer sends no photos to go without them, said once per account.
fn without_photos(notes: &mut Vec<String>, config: &Config, posts: &mut [JobSpec]) {
    let mut said = std::collections::BTreeSet::new();
    for post in posts.iter_mut().filter(|p| !p.images.is_empty()) {
        let Some(account) = config.account(&post.account) else { continue };
        if account.network.takes_photos() {
            continue;
        }
        post.images.clear();
        if said.insert(account.id.clone()) {
            notes.push(format!(
                "account {} is on {}: loudhailer sends no photos there yet, so its posts go without them",
                account.id, account.network
            ));
        }
    }
}

/// What to know beforehand about X: it may refuse the replies of a thread, and it refuses a
/// post whose text repeats one of the account's recent posts.
fn note_x(notes: &mut Vec<String>, config: &Config, posts: &[JobSpec]) {
    for account in config.primaries().filter(|a| a.network == Network::X) {
        let mine: Vec<&JobSpec> = posts.iter().filter(|p| p.account == account.id).collect();
        if mine.iter().any(|p| p.kind == JobKind::Reply) {
            notes.push(format!(
                "X may refuse {}'s replies: since 2026-02-23 self-serve API apps may reply only where the author mentioned or quoted them; if X refuses, each point goes out as a standalone numbered post (\"2/4 …\")",
                account.id
            ));
        }
        let mut seen: BTreeMap<&str, &JobId> = BTreeMap::new();
        for p in &mine {
            let Some(text) = p.text.as_deref() else { continue };
            if let Some(first) = seen.insert(text, &p.id) {
                notes.push(format!(
                    "X refuses a post whose text repeats a recent one: {} has the same text as {first}; reword one of them",
                    p.id
                ));
            }
        }
    }
}

/// What Facebook Pages post to amplify, since a Page cannot share (`[facebook] mode`): a quote of
/// each post of the primary account the Page amplifies, on the boosts' timer; or one digest of
/// each session, as it ends (with the amplify delay), after that account's title post.
fn pages(
    config: &Config,
    sessions: &[crate::schedule::Session],
    composer: &Composer,
    posts: &[JobSpec],
) -> Result<Vec<JobSpec>, ComposeError> {
    let mut out = Vec::new();
    for page in config.amplifiers().filter(|a| a.network == Network::Facebook) {
        let Some(source) = page.amplifies.as_deref() else { continue };
        match config.facebook.mode {
            config::Mode::Quote => {
                for post in posts.iter().filter(|p| p.account == source) {
                    let mut quote = boost(post, &page.id, config.amplify.delay, config.amplify.jitter);
                    quote.kind = JobKind::Quote;
                    quote.text = post.text.clone();
                    quote.language = post.language.clone();
                    out.push(quote);
                }
            }
            config::Mode::Digest => {
                for session in sessions {
                    let head = JobId::post(&session.id, "title", source);
                    let Some(title) = posts.iter().find(|p| p.id == head) else { continue };
                    let id = JobId::post(&session.id, "digest", &page.id);
                    let at = crate::checked::saturating_add(
                        crate::checked::saturating_after(session.end, config.amplify.delay),
                        jitter_offset(&id, config.amplify.jitter),
                    );
                    out.push(JobSpec {
                        id,
                        kind: JobKind::Digest,
                        account: page.id.clone(),
                        session: Some(session.id.clone()),
                        at,
                        text: Some(composer.digest(session, Network::Facebook)?),
                        parent: Some(head),
                        root: None,
                        language: title.language.clone(),
                        origin: Origin::Plan,
                        thread: None,
                        author: None,
                        url: None,
                        images: Vec::new(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Whether a post can be boosted on its network: on LinkedIn, with a session's points as
/// comments (`[linkedin] points`), only the title post is a post; comments cannot be reshared.
fn reshareable(config: &Config, network: Network, post: &JobSpec) -> bool {
    !(network == Network::LinkedIn && config.linkedin.points == config::Points::Comments && post.kind == JobKind::Reply)
}

/// What to know beforehand about LinkedIn: it refuses a post whose text repeats one of the
/// account's, even one deleted a day or two before (NOTES.md §1, §4).
fn note_linkedin(notes: &mut Vec<String>, config: &Config, posts: &[JobSpec]) {
    for account in config.primaries().filter(|a| a.network == Network::LinkedIn) {
        let mut seen: BTreeMap<&str, &JobId> = BTreeMap::new();
        // Comments have no such check: only posts are compared.
        for p in posts.iter().filter(|p| p.account == account.id && reshareable(config, Network::LinkedIn, p)) {
            let Some(text) = p.text.as_deref() else { continue };
            if let Some(first) = seen.insert(text, &p.id) {
                notes.push(format!(
                    "LinkedIn refuses a post whose text repeats one of the account's: {} has the same text as {first}; reword one of them",
                    p.id
                ));
            }
        }
    }
}

/// Puts each of `extra` into a session's thread after the title, before the first post due
/// later than it (so the thread is in the order the posts go; continuations stay together).
fn insert_by_time(pieces: &mut Vec<Piece>, extra: Vec<Piece>) {
    for piece in extra {
        let at = pieces.iter().skip(1).position(|p| p.at > piece.at).map_or(pieces.len(), |i| i + 1);
        pieces.insert(at, piece);
    }
}

/// Every session's suggestions (sentences from its abstract), numbered from 1 as `approve`
/// takes them, and when each was approved, if it was.
pub fn suggestions(config: &Config, approved: &Approvals) -> Vec<Suggestion> {
    config.sessions.iter().flat_map(|s| suggestions_of(&s, approved)).collect()
}

/// One session's suggestions, as [`suggestions`] lists them.
pub fn suggestions_of(session: &crate::schedule::Session, approved: &Approvals) -> Vec<Suggestion> {
    let ok = approved.get(&session.id);
    (1..)
        .zip(&session.suggested)
        .map(|(n, text)| Suggestion {
            session: session.id.clone(),
            n,
            text: text.clone(),
            approved: ok.and_then(|m| m.get(text)).copied(),
        })
        .collect()
}

/// A sentence offered as a key point: posted once approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub session: String,
    /// Its place among the session's suggestions, from 1 (`loudhailer approve SESSION N`).
    pub n: usize,
    pub text: String,
    /// When it was approved; `None` while it is only suggested.
    #[serde(default)]
    pub approved: Option<DateTime<Utc>>,
}

fn note_splits(notes: &mut Vec<String>, scope: &str, account: &str, pieces: &[Piece]) {
    for p in pieces.iter().filter(|p| p.split && !p.item.contains('-')) {
        let parts = pieces.iter().filter(|q| q.item == p.item || q.item.starts_with(&format!("{}-", p.item))).count();
        notes.push(format!(
            "{scope}.{}.{account} is too long for one post: it continues in the thread over {parts} posts",
            p.item
        ));
    }
}

/// Turns a thread's pieces into post jobs: the first is the head, each next one replies to the
/// one before.
fn thread(
    out: &mut Vec<JobSpec>,
    scope: &str,
    session: Option<&str>,
    account: &str,
    pieces: Vec<Piece>,
    head_kind: JobKind,
    language: Option<String>,
) {
    let mut root: Option<JobId> = None;
    let mut previous: Option<JobId> = None;
    let total = pieces.len() as u32;
    for (n, piece) in (1..).zip(pieces) {
        let id = JobId::post(scope, &piece.item, account);
        let kind = if previous.is_none() { head_kind } else { JobKind::Reply };
        out.push(JobSpec {
            id: id.clone(),
            kind,
            account: account.to_string(),
            session: session.map(str::to_string),
            at: piece.at,
            text: Some(piece.text),
            parent: previous.clone(),
            root: root.clone(),
            language: language.clone(),
            origin: Origin::Plan,
            thread: (total > 1).then_some((n, total)),
            author: None,
            url: None,
            images: piece.images,
        });
        root.get_or_insert(id.clone());
        previous = Some(id);
    }
}

/// The boost of `post` by `amplifier`, `delay` ± a jitter drawn from the boost's id.
pub fn boost(post: &JobSpec, amplifier: &str, delay: Duration, jitter: Duration) -> JobSpec {
    let id = JobId::boost(&post.id, amplifier);
    let offset = jitter_offset(&id, jitter);
    JobSpec {
        id,
        kind: JobKind::Boost,
        account: amplifier.to_string(),
        session: post.session.clone(),
        at: crate::checked::saturating_add(crate::checked::saturating_after(post.at, delay), offset),
        text: None,
        parent: Some(post.id.clone()),
        root: None,
        language: None,
        origin: post.origin,
        thread: None,
        author: None,
        url: None,
        images: Vec::new(),
    }
}

/// A stable offset in [-jitter, +jitter], whole seconds, from the id.
pub fn jitter_offset(id: &JobId, jitter: Duration) -> chrono::Duration {
    // The config holds jitter to a week; the clamp keeps this total for any value.
    let j = i64::try_from(jitter.as_secs()).unwrap_or(i64::MAX).min(i64::MAX / 4_000);
    if j == 0 {
        return chrono::Duration::zero();
    }
    let hash = Sha256::digest(id.as_str().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    let n = u64::from_be_bytes(first) % (2 * j.unsigned_abs() + 1);
    chrono::Duration::seconds(i64::try_from(n).unwrap_or(0) - j)
}

/// The id of a scheduled repost's lookup: `repost.<hash of the address>-<local time>`.
pub fn repost_id(url: &str, at: DateTime<Utc>, tz: Tz) -> JobId {
    let local = at.with_timezone(&tz).format("%Y%m%d-%H%M");
    JobId(format!("repost.{}-{local}", crate::job::short_hash(url.trim())))
}

/// A scheduled repost's jobs: looking the post up by its address (by the first account), and
/// for each account the undoing of its earlier boost of it, then the boost, all at `at`.
pub fn repost_jobs(url: &str, at: DateTime<Utc>, accounts: &[String], origin: Origin, tz: Tz) -> Vec<JobSpec> {
    let Some(first) = accounts.first() else {
        return Vec::new();
    };
    let id = repost_id(url, at, tz);
    let spec = |id: JobId, kind, account: &str, parent: Option<JobId>| JobSpec {
        id,
        kind,
        account: account.to_string(),
        session: None,
        at,
        text: None,
        parent,
        root: None,
        language: None,
        origin,
        thread: None,
        author: None,
        url: (kind == JobKind::External).then(|| url.trim().to_string()),
        images: Vec::new(),
    };
    let mut out = vec![spec(id.clone(), JobKind::External, first, None)];
    for a in accounts {
        let undo = JobId::unboost(&id, a);
        out.push(spec(undo.clone(), JobKind::Unboost, a, Some(id.clone())));
        out.push(spec(JobId::boost(&id, a), JobKind::Boost, a, Some(undo)));
    }
    out
}

/// `items` sorted (stably) by `cmp`, each moved once: sorting the items themselves moves each
/// of them many times, and a plan's jobs are a hundred thousand structs of several hundred
/// bytes.
fn sorted_moving_once<T>(items: Vec<T>, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    if items.is_sorted_by(|a, b| cmp(a, b).is_le()) {
        return items;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

pub mod announce;
mod merge;
pub use merge::{merge, Adjustments, Merge};
#[cfg(test)]
mod tests;

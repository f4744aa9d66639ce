//! The desk's view, put into words for the page: times in the event's zone, states and counts
//! as text (never as colour alone), share links. Pure, so what a person reads is tested here.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::control::view::{AccountView, DeskView, JobLine, PostCopy, SessionView};
use crate::control::Response;
use crate::job::{JobKind, JobState};
use crate::metrics::Counts;
use crate::network::Network;

/// Everything the desk page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub event: String,
    pub timezone: String,
    /// "Thursday 18 March, 13:50".
    pub as_of: String,
    pub attention: Vec<String>,
    pub current: Option<Card>,
    pub next: Option<Card>,
    pub threads: Vec<Thread>,
    pub upcoming: Vec<Line>,
    pub failed: Vec<Line>,
    pub accounts: Vec<Account>,
    pub snippets: Vec<Snippet>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub id: String,
    pub title: String,
    /// "13:30–14:45".
    pub when: String,
    /// "moved by +15m", when moved.
    pub moved: Option<String>,
    /// "3 posts still to go" / "nothing left to send".
    pub left: String,
    pub next_point: Option<String>,
    pub posts: Vec<Post>,
    /// Sentences from the abstract: not posted unless approved with one tap.
    pub suggested: Vec<Suggested>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggested {
    pub n: usize,
    pub text: String,
    /// "approved at 10:42" once approved.
    pub approved: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Post {
    pub text: String,
    pub time: String,
    pub copies: Vec<Copy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Copy {
    /// "Mastodon (delegate)".
    pub place: String,
    /// "posted" / "sending".
    pub state: String,
    pub url: Option<String>,
    /// "4 likes, 1 boost, 0 replies" / "no counts read yet".
    pub counts: String,
    /// "boosted 1 of 1".
    pub boosts: Option<String>,
    /// Facebook's own share dialog for the post's link.
    pub share: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Thread {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub job: String,
    pub time: String,
    pub place: String,
    pub what: String,
    pub state: String,
    pub why: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    /// "Mastodon, posts" / "Bluesky, boosts".
    pub kind: String,
    /// "Running" / "Paused: paused by hand" / "Held by the server until 14:00: …".
    pub status: String,
    pub paused: bool,
    pub trouble: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snippet {
    pub label: String,
    pub text: String,
    pub thread: bool,
}

pub fn network_name(n: Network) -> &'static str {
    match n {
        Network::Mastodon => "Mastodon",
        Network::Bluesky => "Bluesky",
        Network::X => "X",
        Network::LinkedIn => "LinkedIn",
        Network::Facebook => "Facebook",
        Network::Threads => "Threads",
    }
}

fn clock(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A post's counts in words; an unknown count is "?" (never 0).
pub fn counts_text(counts: Option<&Counts>, network: Network, gone: bool) -> String {
    if gone {
        return "no longer on the server".into();
    }
    let Some(c) = counts else {
        return "no counts read yet".into();
    };
    let boost = if network == Network::Mastodon { ("boost", "boosts") } else { ("repost", "reposts") };
    let part = |v: Option<u64>, one: &str, many: &str| match v {
        Some(n) => plural(n, one, many),
        None => format!("? {many}"),
    };
    let mut parts =
        vec![part(c.likes, "like", "likes"), part(c.reposts, boost.0, boost.1), part(c.replies, "reply", "replies")];
    if let Some(q) = c.quotes {
        parts.push(plural(q, "quote", "quotes"));
    }
    if let Some(v) = c.views {
        parts.push(plural(v, "view", "views"));
    }
    parts.join(", ")
}

/// Facebook's share dialog for a link: a personal profile cannot be posted to by any API, so
/// the person shares it themselves, in one tap.
pub fn share_url(link: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(link.as_bytes()).collect();
    format!("https://www.facebook.com/sharer/sharer.php?u={encoded}")
}

fn copy(c: &PostCopy, tz: Tz, posted: DateTime<Utc>) -> Copy {
    let state = match c.state {
        JobState::Done => format!("posted {}", clock(posted, tz)),
        JobState::InFlight => "sending".into(),
        other => other.as_str().to_string(),
    };
    let boost_word = if c.network == Network::Mastodon { "boosted" } else { "reposted" };
    Copy {
        place: format!("{} ({})", network_name(c.network), c.account),
        state,
        url: c.url.clone(),
        counts: counts_text(c.counts.as_ref(), c.network, c.gone),
        boosts: (c.boosts > 0).then(|| format!("{boost_word} {} of {}", c.boosts_done, c.boosts)),
        share: c.url.as_deref().map(share_url),
    }
}

fn card(s: &SessionView, tz: Tz) -> Card {
    Card {
        id: s.id.clone(),
        title: s.title.clone(),
        when: format!("{}–{}", clock(s.start, tz), clock(s.end, tz)),
        moved: (s.shift_secs != 0).then(|| format!("moved by {}", crate::checked::signed_text(s.shift_secs))),
        left: match s.pending {
            0 => "nothing left to send".into(),
            n => format!("{} still to go", plural(n as u64, "post", "posts")),
        },
        next_point: s.next_point.clone(),
        suggested: s
            .suggested
            .iter()
            .map(|x| Suggested {
                n: x.n,
                text: x.text.clone(),
                approved: x.approved.map(|t| format!("approved at {}", clock(t, tz))),
            })
            .collect(),
        posts: s
            .posts
            .iter()
            .map(|p| Post {
                text: p.text.clone(),
                time: clock(p.at, tz),
                copies: p.copies.iter().map(|c| copy(c, tz, p.at)).collect(),
            })
            .collect(),
    }
}

fn line(l: &JobLine, tz: Tz, now: DateTime<Utc>) -> Line {
    let place = match l.network {
        Some(n) => format!("{} ({})", network_name(n), l.account),
        None => l.account.clone(),
    };
    let what = match (&l.text, l.kind) {
        (Some(t), _) => t.clone(),
        (None, JobKind::Boost) => format!("boost of {}", l.job.as_str().split('+').next().unwrap_or("")),
        (None, k) => k.as_str().to_string(),
    };
    let state = match l.state {
        JobState::Pending if l.at < now => "late".to_string(),
        JobState::Pending => "waiting".to_string(),
        s => s.as_str().to_string(),
    };
    Line { job: l.job.to_string(), time: clock(l.at, tz), place, what, state, why: l.why.clone() }
}

fn account(a: &AccountView, tz: Tz) -> Account {
    let kind = format!("{}, {}", network_name(a.network), if a.role == "primary" { "posts" } else { "boosts" });
    let mut status = Vec::new();
    if let Some(p) = &a.paused {
        status.push(format!("Paused: {p}"));
    }
    if let Some(until) = a.held_until {
        let why = a.held_why.as_deref().map(|w| format!(": {w}")).unwrap_or_default();
        status.push(format!("Held by the server's rate limit until {}{why}", clock(until, tz)));
    }
    if a.failing > 0 {
        status.push(format!("{} failed or being retried", plural(a.failing as u64, "job", "jobs")));
    }
    let trouble = !status.is_empty();
    if status.is_empty() {
        status.push("Running".into());
    }
    Account { id: a.id.clone(), kind, status: status.join(". "), paused: a.paused.is_some(), trouble }
}

impl Page {
    /// The page for a view; `extra` is the rest of the engine's answer (a refused reload and
    /// workers that stopped, where the engine reports them).
    pub fn new(view: &DeskView, extra: &Response, chosen_thread: Option<&str>) -> Page {
        let tz: Tz = view.timezone.parse().unwrap_or(chrono_tz::UTC);
        let local = view.now.with_timezone(&tz);
        let mut attention: Vec<String> = view
            .accounts
            .iter()
            .map(|a| account(a, tz))
            .filter(|a| a.trouble)
            .map(|a| format!("{} ({}): {}", a.id, a.kind, a.status))
            .collect();
        if let Some(reload) = &extra.reload {
            attention.push(reload.clone());
        }
        for (a, why) in extra.workers.iter().flatten() {
            attention.push(format!("{a}: its worker stopped, {why}"));
        }
        let default_thread = chosen_thread.map(str::to_string).or_else(|| view.current.as_ref().map(|c| c.id.clone()));
        Page {
            event: view.event.clone(),
            timezone: view.timezone.clone(),
            as_of: local.format("%A %-d %B, %H:%M").to_string(),
            attention,
            current: view.current.as_ref().map(|s| card(s, tz)),
            next: view.next.as_ref().map(|s| card(s, tz)),
            threads: view
                .sessions
                .iter()
                .map(|s| Thread {
                    id: s.id.clone(),
                    label: format!("{} ({})", s.title, clock(s.start, tz)),
                    selected: default_thread.as_deref() == Some(s.id.as_str()),
                })
                .collect(),
            upcoming: view.upcoming.iter().map(|l| line(l, tz, view.now)).collect(),
            failed: view.failed.iter().map(|l| line(l, tz, view.now)).collect(),
            accounts: view.accounts.iter().map(|a| account(a, tz)).collect(),
            snippets: view
                .snippets
                .iter()
                .map(|s| Snippet { label: s.label.clone(), text: s.text.clone(), thread: s.thread })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;

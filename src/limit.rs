//! Rate limits, in one place: one limiter per account, built from the network's published
//! budget and the config's rate, and tightened by what the server says.
//!
//! Each account gets governor limiters for every budget that applies to it (Mastodon: 300
//! requests per 5 minutes and 300 posts per 3 hours; Bluesky: 5,000 write points per hour and
//! 35,000 per day, a create costing 3, and 30 logins per 5 minutes and 300 per day; X: 100
//! posts and 50 retweets per 15 minutes, and 300 of both together per 3 hours; LinkedIn: about
//! 150 writes a day). On top of
//! those, the server's own word holds the
//! account back: `X-RateLimit-Remaining: 0` until its reset, `RateLimit-*`, `Retry-After`, and
//! a 429. Waiting happens on the daemon's [`Clock`], so sped-up demos and paused tests agree.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::{Quota, RateLimiter};
use reqwest::header::HeaderMap;

use crate::clock::Clock;
use crate::config::Rate;
use crate::network::Network;

/// What a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Every HTTP request (charged by the HTTP layer).
    Request,
    /// Every post or boost, at this many points (charged before a job is claimed).
    Write(u32),
    /// Every login with the account's password (Bluesky's `createSession`).
    Login,
    /// Every post (not boosts), one each.
    Posts,
    /// Every boost (not posts), one each.
    Boosts,
}

/// What is about to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    Request,
    /// A post, reply or recurring post.
    Post,
    /// A boost (repost, retweet).
    Boost,
    /// A login with the account's password (Bluesky's `createSession`).
    Login,
}

impl Charge {
    /// The write a job of this kind makes: a post or a boost. Looking a post up and undoing a
    /// boost are charged only as the requests they make.
    pub fn write(kind: crate::job::JobKind) -> Option<Charge> {
        use crate::job::JobKind;
        match kind {
            JobKind::Boost => Some(Charge::Boost),
            JobKind::External | JobKind::Unboost => None,
            _ => Some(Charge::Post),
        }
    }
}

/// One budget: `rate`, allowing bursts of `burst`, counting what `per` says.
#[derive(Debug, Clone)]
pub struct Budget {
    pub label: String,
    pub rate: Rate,
    pub burst: u32,
    pub per: Per,
}

impl Budget {
    fn cost(&self, charge: Charge) -> u32 {
        match (self.per, charge) {
            (Per::Request, Charge::Request) => 1,
            (Per::Write(points), Charge::Post | Charge::Boost) => points,
            (Per::Posts, Charge::Post) | (Per::Boosts, Charge::Boost) => 1,
            (Per::Login, Charge::Login) => 1,
            _ => 0,
        }
    }
}

/// The budgets a network publishes for one account.
pub fn published(network: Network) -> Vec<Budget> {
    let b = |label: &str, count, secs, per| Budget {
        label: label.into(),
        rate: Rate::new(count, Duration::from_secs(secs)),
        burst: count,
        per,
    };
    match network {
        Network::Mastodon => vec![
            b("Mastodon's 300 requests per 5 minutes", 300, 300, Per::Request),
            b("Mastodon's 300 posts per 3 hours", 300, 3 * 3600, Per::Write(1)),
        ],
        Network::Bluesky => vec![
            b("Bluesky's 3,000 requests per 5 minutes", 3000, 300, Per::Request),
            b("Bluesky's 5,000 write points per hour", 5000, 3600, Per::Write(3)),
            b("Bluesky's 35,000 write points per day", 35000, 86_400, Per::Write(3)),
            b("Bluesky's 30 logins per 5 minutes", 30, 300, Per::Login),
            b("Bluesky's 300 logins per day", 300, 86_400, Per::Login),
        ],
        // The per-user limits of POST /2/tweets and POST /2/users/:id/retweets, and the older
        // shared cap on both (X's rate-limits and manage-tweets pages; see PLATFORMS.md §3.4).
        Network::X => vec![
            b("X's 100 posts per 15 minutes", 100, 900, Per::Posts),
            b("X's 50 retweets per 15 minutes", 50, 900, Per::Boosts),
            b("X's 300 posts and retweets per 3 hours", 300, 3 * 3600, Per::Write(1)),
        ],
        // LinkedIn publishes no figures: limits are per member and per app per UTC day, shown
        // only in the developer portal (NOTES.md §0 "Rate limits", L-RATE). About 150 posts a
        // member a day is third parties' figure (UNCONFIRMED); posts, comments and reshares are
        // held to it together. A 429 holds the account (see `platform::linkedin`).
        Network::LinkedIn => vec![b("LinkedIn's ~150 posts per member per day", 150, 86_400, Per::Write(1))],
        // Graph API Pages: 4,800 calls per Page per 24 hours times its engaged users (the Rate
        // Limits page, Business Use Case limits); a small Page's share of that is what is held
        // to. The server's X-Business-Use-Case-Usage tightens it (see `platform::meta`).
        Network::Facebook => vec![b("Facebook's 4,800 Page calls per 24 hours", 4800, 86_400, Per::Request)],
        // Threads: 250 API-published posts and 1,000 replies per user per 24 hours ("Overview",
        // Rate Limiting); the quota is also read from threads_publishing_limit before posting.
        Network::Threads => vec![
            b("Threads' 250 posts per 24 hours", 250, 86_400, Per::Posts),
            b("Threads' 1,000 replies per 24 hours", 1000, 86_400, Per::Write(1)),
        ],
    }
}

/// A rate from the config (`[amplify] rate`, an account's `rate`): evenly spaced, with
/// bursts of a tenth of the count (at least one), counting posts and boosts.
pub fn configured(rate: Rate) -> Budget {
    Budget { label: format!("the configured rate of {rate}"), rate, burst: 1 + rate.count / 10, per: Per::Write(1) }
}

type Governor = RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    Clock,
    governor::middleware::NoOpMiddleware<Duration>,
>;

/// A hold the server put on an account: no request before `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub until: DateTime<Utc>,
    pub why: String,
}

/// What a limiter is waiting for: until when, and which budget (or the server's hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    pub until: DateTime<Utc>,
    pub why: String,
}

/// One account's limiter.
pub struct Limiter {
    clock: Clock,
    /// The longest hold a server's answer may put on the account.
    longest_hold: Duration,
    budgets: Vec<(Budget, Governor)>,
    /// The server's hold, published: the engine stores it, so a restart honours it.
    hold: tokio::sync::watch::Sender<Option<Hold>>,
    /// The wait in progress, published: a job's worker and `status` read why it is late.
    waiting: tokio::sync::watch::Sender<Option<Wait>>,
    /// The last word the server said about its rate limit (for pacing reads, see `follow`).
    last: Mutex<Option<ServerHint>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("budgets", &self.budgets.iter().map(|b| &b.0.label).collect::<Vec<_>>())
            .finish()
    }
}

impl Limiter {
    pub fn new(clock: Clock, budgets: Vec<Budget>) -> Limiter {
        let budgets = budgets
            .into_iter()
            .map(|b| {
                let count = b.rate.count.max(1);
                let period = (b.rate.per / count).max(Duration::from_nanos(1));
                let burst = NonZeroU32::new(b.burst.max(1)).unwrap_or(NonZeroU32::MIN);
                let quota =
                    Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
                let gov = RateLimiter::direct_with_clock(quota, clock);
                (b, gov)
            })
            .collect();
        Limiter {
            clock,
            longest_hold: crate::checked::MAX_SERVER_WAIT,
            budgets,
            hold: tokio::sync::watch::Sender::new(None),
            waiting: tokio::sync::watch::Sender::new(None),
            last: Mutex::new(None),
        }
    }

    /// The longest a server's answer may hold the account (`[run] max_server_wait`).
    pub fn with_longest_hold(mut self, longest: Duration) -> Limiter {
        self.longest_hold = longest;
        self
    }

    pub fn longest_hold(&self) -> Duration {
        self.longest_hold
    }

    /// Waits until `charge` may happen, publishing each wait (until when, and why) to
    /// [`Limiter::waits`] while it lasts.
    pub async fn acquire(&self, charge: Charge) {
        'again: loop {
            if let Some((until, why)) = self.held() {
                self.wait_until(until, why).await;
                continue;
            }
            for (budget, gov) in &self.budgets {
                let Some(cost) = NonZeroU32::new(budget.cost(charge)) else {
                    continue;
                };
                match gov.check_n(cost) {
                    Ok(Ok(())) => {}
                    Ok(Err(not_until)) => {
                        let now = governor::clock::Clock::now(&self.clock);
                        let wait = not_until.wait_time_from(now);
                        let until = crate::checked::saturating_after(self.clock.now(), wait);
                        self.wait_until(until, budget.label.clone()).await;
                        continue 'again;
                    }
                    // A cost above the burst can never pass; budgets are built so it cannot happen.
                    Err(_) => {}
                }
            }
            return;
        }
    }

    /// Sleeps until `until`, published as the wait in progress while it lasts. (Requests of
    /// the same account waiting at once publish the latest; each clears it when done.)
    async fn wait_until(&self, until: DateTime<Utc>, why: String) {
        self.waiting.send_replace(Some(Wait { until, why }));
        self.clock.sleep_until(until).await;
        self.waiting.send_replace(None);
    }

    /// Every wait for the budget or the server's hold, as it starts (and `None` as it ends).
    pub fn waits(&self) -> tokio::sync::watch::Receiver<Option<Wait>> {
        self.waiting.subscribe()
    }

    /// The wait in progress, if any.
    pub fn waiting(&self) -> Option<Wait> {
        self.waiting.borrow().clone()
    }

    /// The server's hold on the account, if it is still in force.
    pub fn held(&self) -> Option<(DateTime<Utc>, String)> {
        let now = self.clock.now();
        self.hold.borrow().as_ref().filter(|h| h.until > now).map(|h| (h.until, h.why.clone()))
    }

    /// Holds the account until `until` (the later of this and any hold already in force).
    pub fn hold_until(&self, until: DateTime<Utc>, why: impl Into<String>) {
        let why = why.into();
        self.hold.send_if_modified(|hold| match hold {
            Some(h) if h.until >= until => false,
            _ => {
                *hold = Some(Hold { until, why });
                true
            }
        });
    }

    /// Every hold the server puts on the account, as it happens.
    pub fn holds(&self) -> tokio::sync::watch::Receiver<Option<Hold>> {
        self.hold.subscribe()
    }

    /// What the server said last about how many requests are left, and until when.
    pub fn last_hint(&self) -> Option<ServerHint> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Tightens the limiter by what a response's headers say.
    pub fn observe(&self, hint: &ServerHint) {
        if hint.remaining.is_some() {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(hint.clone());
        }
        if let Some(until) = hint.retry_after {
            self.hold_until(until, "the server asked to retry later (Retry-After)");
        }
        if hint.remaining == Some(0) {
            if let Some(reset) = hint.reset {
                self.hold_until(reset, "the server's rate limit is used up until its reset");
            }
        }
    }
}

/// What a response said about the rate limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHint {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// When the window resets.
    pub reset: Option<DateTime<Utc>>,
    /// `Retry-After`, as an instant.
    pub retry_after: Option<DateTime<Utc>>,
    /// A wait the server asked for that was beyond [`crate::checked::MAX_SERVER_WAIT`] and was
    /// capped: the header, its value, and what is done instead.
    pub capped: Option<String>,
}

impl ServerHint {
    pub fn is_empty(&self) -> bool {
        *self == ServerHint::default()
    }
}

/// Reads `X-RateLimit-*` (Mastodon, GoToSocial: reset as ISO 8601 or Unix seconds),
/// `RateLimit-*` (Bluesky: Unix seconds; the IETF draft: seconds from now), `x-rate-limit-*`
/// (X: Unix seconds) and `Retry-After` (seconds or an HTTP date).
///
/// Whatever the values, the instants are safe: one in the past becomes a second from now, and
/// one beyond [`crate::checked::MAX_SERVER_WAIT`] is capped there, noted in `capped`.
pub fn read_headers(headers: &HeaderMap, now: DateTime<Utc>, longest: Duration) -> ServerHint {
    fn get<'h>(headers: &'h HeaderMap, names: &[&'static str]) -> Option<(&'static str, &'h str)> {
        names.iter().find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()).map(|v| (*n, v.trim())))
    }
    let number = |names: &[&'static str]| get(headers, names).and_then(|(_, v)| v.parse::<u64>().ok());
    let mut capped = None;
    let mut safe = |said: Option<(&str, &str, DateTime<Utc>)>| {
        let (name, value, at) = said?;
        let (at, warning) = crate::checked::server_wait(now, at, &format!("{name}: {value}"), longest);
        capped = capped.take().or(warning);
        Some(at)
    };
    let reset = safe(
        get(headers, &["x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset"])
            .and_then(|(n, v)| Some((n, v, reset_instant(v, now)?))),
    );
    let retry_after = safe(get(headers, &["retry-after"]).and_then(|(n, v)| Some((n, v, retry_after(v, now)?))));
    ServerHint {
        limit: number(&["x-ratelimit-limit", "ratelimit-limit", "x-rate-limit-limit"]),
        remaining: number(&["x-ratelimit-remaining", "ratelimit-remaining", "x-rate-limit-remaining"]),
        reset,
        retry_after,
        capped,
    }
}

/// `Retry-After`: seconds from now, or an HTTP date (RFC 9110 §10.2.3).
fn retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for any integer type is still a (very long) wait, for the cap.
        let secs = value.parse::<u64>().ok().and_then(|s| i64::try_from(s).ok()).unwrap_or(i64::MAX);
        let span = chrono::Duration::try_seconds(secs).unwrap_or(chrono::Duration::MAX);
        return Some(crate::checked::saturating_add(now, span));
    }
    DateTime::parse_from_rfc2822(value).ok().map(|t| t.with_timezone(&Utc))
}

/// A reset given as ISO 8601, Unix seconds, or (small numbers) seconds from now. Whole Unix
/// seconds are rounded up by a second: servers truncate them, so the window may really end up
/// to a second later, and a request sent on the dot would be refused.
///
/// Values no calendar holds (`1e300`, a negative number) read as the far future or the past,
/// for [`read_headers`] to cap; `NaN` and text that is no number read as nothing.
pub fn reset_instant(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    let n: f64 = value.parse().ok().filter(|n: &f64| !n.is_nan())?;
    // Float-to-integer casts saturate; from there on the arithmetic is checked.
    let ms = (n * 1000.0) as i64;
    if n >= 1_000_000_000.0 {
        let whole = n.fract() == 0.0;
        let t = DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC);
        Some(if whole { crate::checked::saturating_add(t, chrono::Duration::seconds(1)) } else { t })
    } else {
        let span = chrono::Duration::try_milliseconds(ms).unwrap_or(if ms < 0 {
            chrono::Duration::MIN
        } else {
            chrono::Duration::MAX
        });
        Some(crate::checked::saturating_add(now, span))
    }
}

#[cfg(test)]
mod tests;

//! What an event costs where the network bills each request (X), estimated from the plan (pure).
//!
//! X's API is pay-per-use since 2026-02-06: a post costs $0.015, and $0.20 when it contains a
//! URL. X lists no separate price for a retweet; it is estimated here at the "User Interaction:
//! Create" price, $0.015. Reads (engagement counts, the look-ups before a resend) are billed too,
//! $0.005 per post read and $0.001 per owned read, deduplicated per UTC day; they depend on how
//! often counts are read and are not in the estimate. Source: docs.x.com
//! x-api/getting-started/pricing, via PLATFORMS.md §3.5 (xdevplatform/docs @2871328, 2026-08-22).

use std::fmt;

use crate::config::Config;
use crate::count::twitter;
use crate::job::{JobKind, JobSpec};
use crate::network::Network;

/// One price, in millionths of a US dollar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub what: &'static str,
    pub micro_usd: u64,
    /// Not a published price for exactly this: an estimate.
    pub estimate: bool,
}

/// X's prices for what loudhailer does (see the module doc for the source).
pub const X_PRICES: [Price; 3] = [X_POST, X_POST_WITH_URL, X_RETWEET];
pub const X_POST: Price = Price { what: "post", micro_usd: 15_000, estimate: false };
pub const X_POST_WITH_URL: Price = Price { what: "post with a URL", micro_usd: 200_000, estimate: false };
pub const X_RETWEET: Price = Price { what: "retweet", micro_usd: 15_000, estimate: true };

/// The price of one job, where its network bills per request.
pub fn price(config: &Config, job: &JobSpec) -> Option<Price> {
    if config.account(&job.account)?.network != Network::X {
        return None;
    }
    Some(match job.kind {
        JobKind::Boost => X_RETWEET,
        _ if job.text.as_deref().is_some_and(twitter::has_url) => X_POST_WITH_URL,
        _ => X_POST,
    })
}

/// The estimated cost of a plan's jobs on X.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Estimate {
    pub posts: u64,
    pub posts_with_url: u64,
    pub retweets: u64,
}

impl Estimate {
    /// `None` when no job goes to X.
    pub fn of(config: &Config, jobs: &[JobSpec]) -> Option<Estimate> {
        let mut e = Estimate::default();
        let mut any = false;
        for job in jobs {
            match price(config, job) {
                Some(p) if p == X_POST => e.posts += 1,
                Some(p) if p == X_POST_WITH_URL => e.posts_with_url += 1,
                Some(_) => e.retweets += 1,
                None => continue,
            }
            any = true;
        }
        any.then_some(e)
    }

    pub fn total_micro_usd(&self) -> u64 {
        self.posts * X_POST.micro_usd
            + self.posts_with_url * X_POST_WITH_URL.micro_usd
            + self.retweets * X_RETWEET.micro_usd
    }
}

impl fmt::Display for Estimate {
    /// "$0.93 on X: 42 posts at $0.015, 1 post with a URL at $0.20, 20 retweets at $0.015 (est.)"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on X", dollars(self.total_micro_usd()))?;
        let mut parts = Vec::new();
        for (n, p, one, many) in [
            (self.posts, X_POST, "post", "posts"),
            (self.posts_with_url, X_POST_WITH_URL, "post with a URL", "posts with a URL"),
            (self.retweets, X_RETWEET, "retweet", "retweets"),
        ] {
            if n > 0 {
                let est = if p.estimate { " (est.)" } else { "" };
                parts.push(format!("{n} {} at {}{est}", if n == 1 { one } else { many }, dollars(p.micro_usd)));
            }
        }
        if !parts.is_empty() {
            write!(f, ": {}", parts.join(", "))?;
        }
        Ok(())
    }
}

/// "$0.015", "$1.23", "$12.00": cents, and a third decimal only when there are mills.
pub fn dollars(micro_usd: u64) -> String {
    let mills = (micro_usd + 500) / 1000;
    if mills.is_multiple_of(10) {
        format!("${}.{:02}", mills / 1000, (mills % 1000) / 10)
    } else {
        format!("${}.{:03}", mills / 1000, mills % 1000)
    }
}

/// What the estimate leaves out, said once under it.
pub const X_NOTE: &str = "est.: X lists no price for a retweet; it is taken at the \"User Interaction: Create\" price. Reads (engagement counts) are extra: $0.005 per post read, once per UTC day.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_table() {
        for (micro, want) in [
            (15_000, "$0.015"),
            (200_000, "$0.20"),
            (0, "$0.00"),
            (1_230_000, "$1.23"),
            (12_000_000, "$12.00"),
            (1_245_000, "$1.245"),
        ] {
            assert_eq!(dollars(micro), want, "{micro}");
        }
    }

    #[test]
    fn an_estimate_reads_like_a_bill() {
        let e = Estimate { posts: 42, posts_with_url: 1, retweets: 20 };
        assert_eq!(e.total_micro_usd(), 42 * 15_000 + 200_000 + 20 * 15_000);
        assert_eq!(
            e.to_string(),
            "$1.13 on X: 42 posts at $0.015, 1 post with a URL at $0.20, 20 retweets at $0.015 (est.)"
        );
        assert_eq!(Estimate { posts: 1, ..Default::default() }.to_string(), "$0.015 on X: 1 post at $0.015");
    }
}

//! OAuth 2.0 access tokens kept across restarts, for the networks that sign in through a browser
//! or take a token from the config (LinkedIn): what is stored (through [`Sessions`], owner-only in
//! the state dir, never logged), which token to use, and when to refresh it (pure, tested).
//!
//! A token from the config (`token_env`, `token_file`) is the *seed*. Once a refresh (or a
//! `loudhailer login`) has stored tokens, those are used, unless the config now names another
//! seed than the one they grew from: then the new seed wins (a person put a fresh token in).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, MutexGuard};

use super::PlatformError;
use crate::clock::Clock;
use crate::secret::Secret;
use crate::sessions::Sessions;

/// An access token and what came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: Secret,
    pub refresh: Option<Secret>,
    /// When loudhailer got the access token (for a seed: when it first saw it).
    pub obtained_at: DateTime<Utc>,
    /// When the access token stops working, when known.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the refresh token stops working, when known.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub scope: Option<String>,
    /// A hash of the config token these grew from (none: from a login).
    pub seed: Option<String>,
}

/// When a token is refreshed: once it is `min_age` old (Threads refuses younger ones) and within
/// `window` of its expiry, or half its lifetime, whichever is nearer (a short-lived token is not
/// refreshed on every use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    pub window: chrono::Duration,
    pub min_age: chrono::Duration,
}

impl Tokens {
    /// Tokens seeded from the config's token, first seen `now`.
    pub fn seeded(token: &Secret, now: DateTime<Utc>) -> Tokens {
        Tokens {
            access: token.clone(),
            refresh: None,
            obtained_at: now,
            expires_at: None,
            refresh_expires_at: None,
            scope: None,
            seed: Some(seed_hash(token)),
        }
    }

    /// Whether the access token has expired (or will within a minute).
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| crate::checked::saturating_add(t, chrono::Duration::seconds(-60)) <= now)
    }

    /// Whether it is time to refresh under `policy` (pure).
    pub fn refresh_due(&self, policy: RefreshPolicy, now: DateTime<Utc>) -> bool {
        if now - self.obtained_at < policy.min_age {
            return false;
        }
        let Some(expires) = self.expires_at else {
            // Unknown expiry (a seed): refresh once it is old enough, to learn it.
            return policy.min_age > chrono::Duration::zero();
        };
        let half = (expires - self.obtained_at) / 2;
        expires - now <= policy.window.min(half)
    }

    /// What goes into the account's session slot (secrets included: the slot is owner-only and
    /// left out of exports).
    pub fn to_session(&self, kind: &str) -> serde_json::Value {
        let t = |d: Option<DateTime<Utc>>| d.map(|t| t.to_rfc3339());
        serde_json::json!({
            "kind": kind,
            "access_token": self.access.expose(),
            "refresh_token": self.refresh.as_ref().map(Secret::expose),
            "obtained_at": self.obtained_at.to_rfc3339(),
            "expires_at": t(self.expires_at),
            "refresh_expires_at": t(self.refresh_expires_at),
            "scope": self.scope,
            "seed": self.seed,
        })
    }

    /// Tokens from a session slot of this `kind`.
    pub fn from_session(v: &serde_json::Value, kind: &str) -> Option<Tokens> {
        if v.get("kind")?.as_str()? != kind {
            return None;
        }
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let time = |k: &str| text(k).and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.to_utc());
        Some(Tokens {
            access: Secret::new(text("access_token")?),
            refresh: text("refresh_token").map(Secret::new),
            obtained_at: time("obtained_at")?,
            expires_at: time("expires_at"),
            refresh_expires_at: time("refresh_expires_at"),
            scope: text("scope"),
            seed: text("seed"),
        })
    }
}

/// A short hash naming a config token without keeping it twice.
pub fn seed_hash(token: &Secret) -> String {
    Sha256::digest(token.expose().as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Which tokens to use: the stored ones, unless the config's seed is not the one they grew from.
pub fn choose(stored: Option<Tokens>, seed: Option<&Secret>, now: DateTime<Utc>) -> Option<Tokens> {
    match (stored, seed) {
        (Some(s), Some(seed)) if s.seed.is_some() && s.seed.as_deref() != Some(&seed_hash(seed)) => {
            Some(Tokens::seeded(seed, now))
        }
        (Some(s), _) => Some(s),
        (None, Some(seed)) => Some(Tokens::seeded(seed, now)),
        (None, None) => None,
    }
}

/// One account's tokens: loaded on first use, replaced (stored first, durably) when refreshed.
pub struct Keeper {
    pub account: String,
    /// The marker of these tokens in the session slot (`linkedin-oauth2`).
    pub kind: &'static str,
    seed: Option<Secret>,
    sessions: Arc<dyn Sessions>,
    pub clock: Clock,
    tokens: Mutex<Option<Option<Tokens>>>,
}

impl Keeper {
    pub fn new(
        account: &str,
        kind: &'static str,
        seed: Option<Secret>,
        sessions: Arc<dyn Sessions>,
        clock: Clock,
    ) -> Keeper {
        Keeper { account: account.to_string(), kind, seed, sessions, clock, tokens: Mutex::new(None) }
    }

    /// The tokens, locked while a caller refreshes them; `None` inside when there are none.
    pub async fn lock(&self) -> Result<MutexGuard<'_, Option<Option<Tokens>>>, PlatformError> {
        let mut guard = self.tokens.lock().await;
        if guard.is_none() {
            let stored = self
                .sessions
                .load(&self.account)
                .map_err(|e| PlatformError::Internal { message: format!("cannot read the stored tokens: {e}") })?
                .and_then(|v| Tokens::from_session(&v, self.kind));
            let chosen = choose(stored.clone(), self.seed.as_ref(), self.clock.now());
            // A seed seen for the first time is stored, so its age counts across restarts.
            if let Some(t) = chosen.as_ref().filter(|t| stored.as_ref() != Some(*t)) {
                if let Err(e) = self.sessions.save(&self.account, Some(t.to_session(self.kind))) {
                    tracing::warn!(account = %self.account, error = %e, "cannot store the token's first sight");
                }
            }
            *guard = Some(chosen);
        }
        Ok(guard)
    }

    /// Stores `fresh` durably, then makes it the tokens in use.
    pub fn replace(&self, slot: &mut Option<Option<Tokens>>, fresh: Tokens) -> Result<(), PlatformError> {
        self.sessions
            .save(&self.account, Some(fresh.to_session(self.kind)))
            .map_err(|e| PlatformError::Internal { message: format!("cannot store the refreshed tokens: {e}") })?;
        *slot = Some(Some(fresh));
        Ok(())
    }

    /// Stores tokens got by `loudhailer login`.
    pub fn save_login(sessions: &dyn Sessions, account: &str, kind: &str, tokens: &Tokens) -> Result<(), String> {
        sessions.save(account, Some(tokens.to_session(kind)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn tokens(obtained: &str, expires: Option<&str>) -> Tokens {
        Tokens {
            access: Secret::new("a"),
            refresh: Some(Secret::new("r")),
            obtained_at: at(obtained),
            expires_at: expires.map(at),
            refresh_expires_at: None,
            scope: None,
            seed: None,
        }
    }

    #[test]
    fn refresh_is_due_near_expiry_and_never_too_young() {
        let linkedin = RefreshPolicy { window: chrono::Duration::days(7), min_age: chrono::Duration::zero() };
        let threads = RefreshPolicy { window: chrono::Duration::days(30), min_age: chrono::Duration::hours(24) };
        let sixty = tokens("2026-01-01T00:00:00Z", Some("2026-03-02T00:00:00Z"));
        let short = tokens("2026-01-01T00:00:00Z", Some("2026-01-01T00:00:20Z"));
        let seed = Tokens { expires_at: None, ..tokens("2026-01-01T00:00:00Z", None) };
        let cases = [
            (&sixty, linkedin, "2026-02-20T00:00:00Z", false),
            (&sixty, linkedin, "2026-02-23T00:00:01Z", true),
            (&sixty, threads, "2026-01-01T12:00:00Z", false), // younger than 24 h
            (&sixty, threads, "2026-01-30T23:00:00Z", false), // 30 days and an hour left
            (&sixty, threads, "2026-01-31T00:00:01Z", true),
            (&short, linkedin, "2026-01-01T00:00:05Z", false), // half its 20 s life not yet gone
            (&short, linkedin, "2026-01-01T00:00:11Z", true),
            (&seed, linkedin, "2026-06-01T00:00:00Z", false), // LinkedIn: a seed is not refreshed
            (&seed, threads, "2026-01-01T23:00:00Z", false),
            (&seed, threads, "2026-01-02T00:00:00Z", true), // Threads: refreshed once a day old
        ];
        for (t, policy, now, want) in cases {
            assert_eq!(t.refresh_due(policy, at(now)), want, "{now} {policy:?}");
        }
    }

    #[test]
    fn a_new_seed_in_the_config_wins_over_tokens_grown_from_an_old_one() {
        let now = at("2026-01-05T00:00:00Z");
        let old = Secret::new("old-seed");
        let new = Secret::new("new-seed");
        let grown = Tokens {
            seed: Some(seed_hash(&old)),
            access: Secret::new("refreshed"),
            ..tokens("2026-01-02T00:00:00Z", None)
        };
        assert_eq!(choose(Some(grown.clone()), Some(&old), now).unwrap().access, Secret::new("refreshed"));
        assert_eq!(choose(Some(grown.clone()), Some(&new), now).unwrap().access, new);
        let login = tokens("2026-01-02T00:00:00Z", None);
        assert_eq!(choose(Some(login.clone()), Some(&new), now).unwrap().access, login.access);
        assert_eq!(choose(None, Some(&new), now).unwrap().seed, Some(seed_hash(&new)));
        assert_eq!(choose(None, None, now), None);
    }

    #[test]
    fn tokens_round_trip_through_the_session_slot() {
        let t = Tokens {
            scope: Some("w_member_social".into()),
            seed: Some("ab".into()),
            ..tokens("2026-01-01T00:00:00Z", Some("2026-03-02T00:00:00Z"))
        };
        let v = t.to_session("linkedin-oauth2");
        assert_eq!(Tokens::from_session(&v, "linkedin-oauth2"), Some(t));
        assert_eq!(Tokens::from_session(&v, "x-oauth2"), None);
        assert!(!format!("{:?}", Tokens::from_session(&v, "linkedin-oauth2")).contains("\"a\""));
    }
}

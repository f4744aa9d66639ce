//! `[amplify]` (how long after a post its boosts go, and how fast an amplifier may boost) and
//! `[run]` (how late a job may still go out after a stop).

use std::time::Duration;

use serde::Deserialize;

use super::error::Problems;
use super::values::{self, limit, Rate, S};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAmplify {
    #[serde(default)]
    pub delay: Option<S<String>>,
    #[serde(default)]
    pub jitter: Option<S<String>>,
    #[serde(default)]
    pub rate: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    #[serde(default)]
    pub catch_up: Option<S<String>>,
    /// The longest a server's rate-limit answer may hold an account ("1h").
    #[serde(default)]
    pub max_server_wait: Option<S<String>>,
}

#[derive(Debug, Clone)]
pub struct Amplify {
    pub delay: Duration,
    pub jitter: Duration,
    pub rate: Rate,
}

/// The rate amplifiers keep to when `[amplify] rate` is not given.
const DEFAULT_RATE: Rate = Rate { count: 20, per: Duration::from_secs(3600) };

pub(super) fn validate(raw: Option<RawAmplify>, p: &mut Problems<'_>) -> Amplify {
    let raw = raw.unwrap_or_default();
    let delay = bounded(raw.delay.as_ref(), "amplify.delay", Duration::from_secs(300), limit::AMPLIFY, p);
    let jitter = bounded(raw.jitter.as_ref(), "amplify.jitter", Duration::from_secs(60), limit::AMPLIFY, p);
    let rate = match &raw.rate {
        Some(r) => values::rate(r.get_ref()).unwrap_or_else(|e| {
            p.at(r.span(), "amplify.rate", e);
            DEFAULT_RATE
        }),
        None => DEFAULT_RATE,
    };
    if jitter > delay && !p.list.iter().any(|x| x.key.starts_with("amplify.")) {
        p.nowhere("amplify.jitter", "must not be longer than amplify.delay (a boost cannot precede its post)");
    }
    Amplify { delay, jitter, rate }
}

/// `[run] max_server_wait`: the longest a server's answer (`Retry-After`, a rate-limit reset)
/// may hold an account; at least a second, at most a day.
pub(super) fn max_server_wait(raw: Option<&RawRun>, p: &mut Problems<'_>) -> Duration {
    let v = raw.and_then(|r| r.max_server_wait.as_ref());
    let d = bounded(v, "run.max_server_wait", crate::checked::MAX_SERVER_WAIT, limit::SERVER_WAIT, p);
    if let (Some(v), true) = (v, d < Duration::from_secs(1)) {
        p.at(v.span(), "run.max_server_wait", "must be at least \"1s\"");
    }
    d
}

/// `[run] catch_up`: jobs due less than this long ago at start go out at once.
pub(super) fn catch_up(raw: Option<&RawRun>, p: &mut Problems<'_>) -> Duration {
    bounded(raw.and_then(|r| r.catch_up.as_ref()), "run.catch_up", Duration::from_secs(600), limit::CATCH_UP, p)
}

/// A duration no longer than `max`, or `default` when the key is absent.
pub(super) fn bounded(
    v: Option<&S<String>>,
    key: &str,
    default: Duration,
    max: Duration,
    p: &mut Problems<'_>,
) -> Duration {
    match v {
        Some(v) => values::duration_within(v.get_ref(), max).unwrap_or_else(|e| {
            p.at(v.span(), key, e);
            Duration::ZERO
        }),
        None => default,
    }
}

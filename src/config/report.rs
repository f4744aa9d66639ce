//! The `[report]` table: when engagement is read after posting (checkpoints), and an optional
//! cron sweep. Validated like the rest of the config, every problem with its place.

use std::time::Duration;

use serde::Deserialize;

use super::error::Problems;
use super::values::{self, S};

/// The checkpoints used when `[report] checkpoints` is not given.
pub const DEFAULT_CHECKPOINTS: [&str; 5] = ["15m", "1h", "6h", "24h", "72h"];

/// `[report]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// How long after posting each engagement snapshot is taken: ["15m", "1h", "6h", "24h", "72h"].
    #[serde(default)]
    pub checkpoints: Option<S<Vec<S<String>>>>,
    /// A cron expression (sec min hour day month weekday, or the classic five fields) at whose
    /// instants every post is read, besides the checkpoints.
    #[serde(default)]
    pub cron: Option<S<String>>,
}

/// When engagement is collected.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// After posting, in increasing order, no two equal. Empty: no snapshots by checkpoint.
    pub checkpoints: Vec<Duration>,
    /// Sweeps of every post at these instants (event time zone).
    pub cron: Option<cron::Schedule>,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            checkpoints: DEFAULT_CHECKPOINTS.iter().filter_map(|c| values::duration(c).ok()).collect(),
            cron: None,
        }
    }
}

/// Checks `[report]`; problems go to `p` and the defaults stand in for what was wrong.
pub fn validate(raw: Option<RawReport>, p: &mut Problems<'_>) -> ReportSettings {
    let mut settings = ReportSettings::default();
    let Some(raw) = raw else {
        return settings;
    };
    if let Some(list) = raw.checkpoints {
        let mut checkpoints = Vec::new();
        for item in list.get_ref() {
            match values::duration_within(item.get_ref(), values::limit::CHECKPOINT) {
                Ok(d) if d.is_zero() => p.at(
                    item.span(),
                    "report.checkpoints",
                    "a checkpoint of 0 would read a post before anyone saw it: expected a duration such as \"15m\"",
                ),
                Ok(d) if checkpoints.contains(&d) => {
                    p.at(item.span(), "report.checkpoints", format!("{:?} is listed twice", item.get_ref()))
                }
                Ok(d) => checkpoints.push(d),
                Err(e) => p.at(item.span(), "report.checkpoints", e),
            }
        }
        checkpoints.sort();
        settings.checkpoints = checkpoints;
    }
    if let Some(expr) = raw.cron {
        let text = expr.get_ref().trim();
        let six = if text.split_whitespace().count() == 5 { format!("0 {text}") } else { text.to_string() };
        match six.parse::<cron::Schedule>() {
            Ok(c) => settings.cron = Some(c),
            Err(e) => p.at(
                expr.span(),
                "report.cron",
                format!("expected a cron expression such as \"0 0 9 * * *\" (sec min hour day month weekday): {e}"),
            ),
        }
    }
    settings
}

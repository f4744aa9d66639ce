//! `[[recurring]]`: posts on a cron timetable inside the event's hours ("coffee break!").

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::Problems;
use super::event::{checked_id, event_hours};
use super::values::S;
use super::Config;
use crate::schedule;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecurring {
    #[serde(default)]
    pub id: Option<S<String>>,
    pub cron: S<String>,
    pub text: S<String>,
    /// Which primary accounts post it (default: all of them).
    #[serde(default)]
    pub accounts: Option<S<Vec<String>>>,
}

#[derive(Debug, Clone)]
pub struct Recurring {
    pub id: String,
    pub cron: cron::Schedule,
    pub text: String,
    /// Primary accounts that post it.
    pub accounts: Vec<String>,
}

/// Checks the `[[recurring]]` entries against the primary accounts.
pub(super) fn validate(raw: Vec<S<RawRecurring>>, primaries: &[String], p: &mut Problems<'_>) -> Vec<Recurring> {
    let mut recurring = Vec::new();
    let mut recurring_ids = HashSet::new();
    for (i, r) in raw.into_iter().enumerate() {
        let span = r.span();
        let r = r.into_inner();
        let key = format!("recurring[{}]", i + 1);
        let expr = r.cron.get_ref().trim();
        // Accept classic five-field cron by adding the seconds field.
        let expr6 = if expr.split_whitespace().count() == 5 { format!("0 {expr}") } else { expr.to_string() };
        let cron = match expr6.parse::<cron::Schedule>() {
            Ok(c) => Some(c),
            Err(e) => {
                p.at(
                    r.cron.span(),
                    format!("{key}.cron"),
                    format!(
                        "expected a cron expression such as \"0 0 15 * * *\" (sec min hour day month weekday): {e}"
                    ),
                );
                None
            }
        };
        let text = r.text.get_ref().trim().to_string();
        if text.is_empty() {
            p.at(r.text.span(), format!("{key}.text"), "must not be empty");
        }
        let id = match &r.id {
            Some(id) => checked_id(id, &format!("{key}.id"), p),
            None => schedule::slug(&text),
        };
        if !recurring_ids.insert(id.clone()) {
            p.at(
                span.clone(),
                format!("{key}.id"),
                format!("two [[recurring]] entries share the id {id:?}; give one an `id`"),
            );
        }
        let who = match &r.accounts {
            Some(list) => {
                for a in list.get_ref() {
                    if !primaries.contains(a) {
                        p.at(list.span(), format!("{key}.accounts"), format!("{a:?} is not a primary account"));
                    }
                }
                list.get_ref().clone()
            }
            None => primaries.to_vec(),
        };
        if let Some(cron) = cron {
            recurring.push(Recurring { id, cron, text, accounts: who });
        }
    }
    recurring
}

/// The instants of each recurring entry inside the event's hours, per day with sessions (or
/// `event.date` when there are none).
pub fn recurring_instants(config: &Config, rec: &Recurring) -> Vec<DateTime<Utc>> {
    let tz = config.event.timezone;
    let mut out = Vec::new();
    for (from, until) in event_hours(config) {
        let start = crate::checked::saturating_add(from, chrono::Duration::seconds(-1)).with_timezone(&tz);
        for t in rec.cron.after(&start) {
            let t = t.with_timezone(&Utc);
            if t > until {
                break;
            }
            out.push(t);
        }
    }
    out
}

//! Merging a fresh plan into the stored jobs, and the changes made by hand that the merge
//! keeps (`Adjustments`): what is new is added, what has not gone out takes its new time and
//! text, what is no longer planned is called off, and what went out is left alone.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Approvals;
use crate::job::{JobId, JobKind, JobRecord, JobSpec, JobState, Origin};

/// Changes made by hand to the plan: sessions shifted or skipped, suggestions approved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustments {
    /// Seconds each session's pending jobs are moved by.
    pub shifts: BTreeMap<String, i64>,
    /// Seconds every pending job is moved by.
    pub shift_all: i64,
    /// Sessions whose jobs are cancelled.
    pub skipped: BTreeSet<String>,
    /// Suggested sentences approved by hand (`approve`, the desk).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub approved: Approvals,
}

impl Adjustments {
    /// The due time of a planned job after the shifts.
    pub fn apply(&self, spec: &JobSpec) -> DateTime<Utc> {
        crate::checked::saturating_add(spec.at, chrono::Duration::seconds(self.total(spec.session.as_deref())))
    }

    /// Seconds a session's jobs (or, for `None`, jobs of no session) are moved by, within
    /// the calendar whatever the store holds.
    pub fn total(&self, session: Option<&str>) -> i64 {
        let own = session.and_then(|s| self.shifts.get(s)).copied().unwrap_or(0);
        let limit = i64::try_from(crate::checked::MAX_SHIFT.as_secs()).unwrap_or(i64::MAX).saturating_mul(2);
        self.shift_all.saturating_add(own).clamp(-limit, limit)
    }

    pub fn is_skipped(&self, spec: &JobSpec) -> bool {
        spec.session.as_ref().is_some_and(|s| self.skipped.contains(s))
    }
}

/// What merging a plan into the stored jobs changes.
#[derive(Debug, Default)]
pub struct Merge {
    /// New or changed records to write: the planned ones in the plan's order, then those no
    /// longer planned in id order.
    pub write: Vec<JobRecord>,
    /// For the user: changes that cannot be applied (already posted) and jobs cancelled.
    pub notes: Vec<String>,
}

/// Merges a freshly computed plan into what is stored: new jobs are added; jobs not yet sent
/// take the new time and text; jobs no longer planned are cancelled; anything already sent is
/// left alone and a change to it is reported, never edited remotely. The plan is taken, not
/// copied: a first plan's hundred thousand jobs become records as they are.
pub fn merge(stored: &HashMap<JobId, JobRecord>, planned: Vec<JobSpec>, adj: &Adjustments) -> Merge {
    let mut out = Merge::default();
    let (kept_distance, gone) = against_stored(stored, &planned);
    for (i, mut spec) in planned.into_iter().enumerate() {
        spec.at = adj.apply(&spec);
        if let Some(at) = kept_distance.get(&i) {
            spec.at = *at;
        }
        let skipped = adj.is_skipped(&spec);
        match stored.get(&spec.id) {
            None => {
                let mut r = JobRecord::new(spec);
                if skipped {
                    r.state = JobState::Cancelled;
                    r.error = Some("session skipped".into());
                }
                out.write.push(r);
            }
            // What went out, or may have (a request reached the server, or might have):
            // never reworded or moved; called off, it is recalled (checked, not sent again).
            Some(old) if old.state == JobState::Done || old.maybe_sent() => {
                let mut r = old.clone();
                if skipped && old.maybe_sent() {
                    if old.recall.is_none() {
                        r.call_off("session skipped");
                    }
                } else if old.recall.is_some() {
                    // Planned again: it goes, with its key, as it would have.
                    r.recall = None;
                } else if old.spec.text != spec.text {
                    out.notes.push(format!(
                        "{} was already posted (or may have been); its new text is not sent (loudhailer never edits a post)",
                        spec.id
                    ));
                } else if old.spec.images != spec.images {
                    out.notes.push(format!(
                        "{} was already posted (or may have been); its new images are not sent (loudhailer never edits a post)",
                        spec.id
                    ));
                }
                if r != *old {
                    out.write.push(r);
                }
            }
            Some(old) => {
                let state = old.state;
                // A failed post whose text or images were changed is tried again (a broken
                // image file replaced by a good one under another name, say).
                let content_changed = old.spec.text != spec.text || old.spec.images != spec.images;
                let reopen =
                    !skipped && (state == JobState::Cancelled || (state == JobState::Failed && content_changed));
                let newly_skipped =
                    skipped && (state != JobState::Cancelled || old.error.as_deref() != Some("session skipped"));
                // Most stored jobs are as planned: compared in place, not copied.
                if !reopen && !newly_skipped && old.spec == spec {
                    continue;
                }
                let mut r = old.clone();
                r.spec = spec;
                if skipped {
                    r.state = JobState::Cancelled;
                    r.error = Some("session skipped".into());
                } else if reopen {
                    r.state = JobState::Pending;
                    r.error = None;
                    r.attempts = 0;
                    r.not_before = None;
                }
                if r != *old {
                    out.write.push(r);
                }
            }
        }
    }
    for (r, note) in gone {
        out.notes.extend(note);
        out.write.extend(r);
    }
    out
}

/// Jobs no longer planned: each one's record to write and note for the user, if any.
type Gone = Vec<(Option<JobRecord>, Option<String>)>;

/// What the stored jobs change in a merge, worked out before the plan is taken: for each boost
/// (by its place in the plan) of a post that already went out, the time that keeps its planned
/// distance from that post whatever shifts its session has had since; and the jobs no longer
/// planned (in id order), each called off or cancelled, with what to tell the user.
fn against_stored(stored: &HashMap<JobId, JobRecord>, planned: &[JobSpec]) -> (HashMap<usize, DateTime<Utc>>, Gone) {
    if stored.is_empty() {
        return Default::default();
    }
    let by_id: HashMap<&JobId, &JobSpec> = planned.iter().map(|j| (&j.id, j)).collect();
    let kept_distance = planned
        .iter()
        .enumerate()
        .filter(|(_, spec)| spec.kind.amplifies())
        .filter_map(|(i, spec)| {
            let parent = spec.parent.as_ref()?;
            let sent = stored.get(parent).filter(|p| matches!(p.state, JobState::Done | JobState::InFlight))?;
            let planned_parent = by_id.get(parent)?;
            Some((i, sent.spec.at + (spec.at - planned_parent.at)))
        })
        .collect();
    let mut gone: Vec<(&JobId, Option<JobRecord>, Option<String>)> = Vec::new();
    for (id, old) in stored {
        if old.spec.origin != Origin::Plan || by_id.contains_key(id) {
            continue;
        }
        match old.state {
            _ if old.maybe_sent() => {
                if old.recall.is_none() {
                    let mut r = old.clone();
                    r.call_off("no longer in the schedule");
                    let note = format!(
                        "{id} is no longer in the schedule, but a request of it may have reached the server: checking, not sending it again"
                    );
                    gone.push((id, Some(r), Some(note)));
                }
            }
            JobState::Pending | JobState::Missed | JobState::Failed => {
                let mut r = old.clone();
                r.call_off("no longer in the schedule");
                gone.push((id, Some(r), Some(format!("{id} is no longer in the schedule: cancelled"))));
            }
            JobState::InFlight | JobState::Done => {
                if old.spec.kind != JobKind::Boost {
                    gone.push((
                        id,
                        None,
                        Some(format!("{id} is no longer in the schedule but was already posted; it stays")),
                    ));
                }
            }
            JobState::Cancelled => {}
        }
    }
    gone.sort_by(|a, b| a.0.cmp(b.0));
    (kept_distance, gone.into_iter().map(|(_, r, note)| (r, note)).collect())
}

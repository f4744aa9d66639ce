//! The engine's timetable: which job is next, and when.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::job::JobId;

/// Jobs by the instant they may go, each at most once.
#[derive(Debug, Default)]
pub struct Agenda {
    by_time: BTreeSet<(DateTime<Utc>, JobId)>,
    when: HashMap<JobId, DateTime<Utc>>,
}

impl Agenda {
    /// Puts `id` on the agenda at `at`, replacing any earlier entry for it.
    pub fn set(&mut self, id: JobId, at: DateTime<Utc>) {
        if let Some(old) = self.when.insert(id.clone(), at) {
            self.by_time.remove(&(old, id.clone()));
        }
        self.by_time.insert((at, id));
    }

    pub fn remove(&mut self, id: &JobId) {
        if let Some(old) = self.when.remove(id) {
            self.by_time.remove(&(old, id.clone()));
            super::index::shrink_sparse(&mut self.when);
        }
    }

    /// The next deadline.
    pub fn next(&self) -> Option<DateTime<Utc>> {
        self.by_time.first().map(|(t, _)| *t)
    }

    /// Takes every job due at `now`, earliest first.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<JobId> {
        let mut out = Vec::new();
        while let Some((t, _)) = self.by_time.first() {
            if *t > now {
                break;
            }
            if let Some((_, id)) = self.by_time.pop_first() {
                self.when.remove(&id);
                out.push(id);
            }
        }
        super::index::shrink_sparse(&mut self.when);
        out
    }

    pub fn is_empty(&self) -> bool {
        self.when.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_268_906_400 + secs, 0).unwrap()
    }

    #[test]
    fn the_next_deadline_is_the_earliest() {
        let mut a = Agenda::default();
        assert_eq!(a.next(), None);
        a.set(JobId("b".into()), t(20));
        a.set(JobId("a".into()), t(10));
        a.set(JobId("c".into()), t(10));
        assert_eq!(a.next(), Some(t(10)));
        // Moving a job replaces its entry.
        a.set(JobId("a".into()), t(30));
        assert_eq!(a.take_due(t(20)), [JobId("c".into()), JobId("b".into())]);
        assert_eq!(a.next(), Some(t(30)));
        a.remove(&JobId("a".into()));
        assert_eq!(a.take_due(t(30)), Vec::<JobId>::new());
        assert!(a.is_empty());
        assert!(a.take_due(t(100)).is_empty());
    }
}

//! What the engine keeps in memory of the jobs still to settle (pending or in flight): which
//! account sends each, which job it follows, and which jobs follow it. Everything else about a
//! job is read from the store when the job is due, shown or changed: the store is the memory.

use std::collections::{HashMap, HashSet};

use crate::job::{JobId, JobRecord};

/// One unsettled job.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    account: Box<str>,
    parent: Option<JobId>,
}

/// The unsettled jobs, by id, with the jobs that follow each job.
#[derive(Debug, Default)]
pub struct Index {
    entries: HashMap<JobId, Entry>,
    /// Followers of a job (its replies and boosts) that are still unsettled.
    children: HashMap<JobId, HashSet<JobId>>,
}

impl Index {
    /// Notes a job as the store now has it: kept while it is unsettled, forgotten once settled.
    pub fn update(&mut self, record: &JobRecord) {
        if record.state.is_settled() {
            self.remove(&record.spec.id);
        } else {
            self.insert(&record.spec.id, &record.spec.account, record.spec.parent.as_ref());
        }
    }

    pub fn insert(&mut self, id: &JobId, account: &str, parent: Option<&JobId>) {
        let entry = Entry { account: account.into(), parent: parent.cloned() };
        if let Some(old) = self.entries.insert(id.clone(), entry) {
            if old.parent.as_ref() != parent {
                self.unlink(id, old.parent.as_ref());
            }
        }
        if let Some(p) = parent {
            self.children.entry(p.clone()).or_default().insert(id.clone());
        }
    }

    pub fn remove(&mut self, id: &JobId) {
        if let Some(old) = self.entries.remove(id) {
            self.unlink(id, old.parent.as_ref());
            shrink_sparse(&mut self.entries);
            shrink_sparse(&mut self.children);
        }
    }

    fn unlink(&mut self, id: &JobId, parent: Option<&JobId>) {
        if let Some(p) = parent {
            if let Some(kids) = self.children.get_mut(p) {
                kids.remove(id);
                if kids.is_empty() {
                    self.children.remove(p);
                }
            }
        }
    }

    #[cfg(test)]
    pub fn contains(&self, id: &JobId) -> bool {
        self.entries.contains_key(id)
    }

    pub fn account(&self, id: &JobId) -> Option<&str> {
        self.entries.get(id).map(|e| &*e.account)
    }

    /// The unsettled jobs that follow `id`, in id order.
    pub fn children(&self, id: &JobId) -> Vec<JobId> {
        let mut kids: Vec<JobId> = self.children.get(id).map(|k| k.iter().cloned().collect()).unwrap_or_default();
        kids.sort();
        kids
    }

    /// The unsettled jobs of an account.
    pub fn of_account(&self, account: &str) -> Vec<JobId> {
        let mut ids: Vec<JobId> =
            self.entries.iter().filter(|(_, e)| &*e.account == account).map(|(id, _)| id.clone()).collect();
        ids.sort();
        ids
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Gives back a map's room once it is mostly empty (a hash map keeps the room of its busiest
/// moment: after a backlog of thousands of jobs, for the rest of the event). Halving it each
/// time it falls under a quarter keeps the cost of a removal constant on average.
pub(super) fn shrink_sparse<K: Eq + std::hash::Hash, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 64 && map.len() * 4 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> JobId {
        JobId(s.into())
    }

    #[test]
    fn followers_are_linked_and_forgotten() {
        let mut index = Index::default();
        index.insert(&id("s.title.a"), "a", None);
        index.insert(&id("s.p1.a"), "a", Some(&id("s.title.a")));
        index.insert(&id("s.title.a+b"), "b", Some(&id("s.title.a")));
        assert_eq!(index.children(&id("s.title.a")), [id("s.p1.a"), id("s.title.a+b")]);
        assert_eq!(index.of_account("a"), [id("s.p1.a"), id("s.title.a")]);
        // The post settles: its followers are still linked to it.
        index.remove(&id("s.title.a"));
        assert!(!index.contains(&id("s.title.a")));
        assert_eq!(index.children(&id("s.title.a")).len(), 2);
        // A follower re-parented (a re-plan) moves its link.
        index.insert(&id("s.p1.a"), "a", Some(&id("s.p0.a")));
        assert_eq!(index.children(&id("s.title.a")), [id("s.title.a+b")]);
        assert_eq!(index.children(&id("s.p0.a")), [id("s.p1.a")]);
        index.remove(&id("s.title.a+b"));
        assert!(index.children(&id("s.title.a")).is_empty());
        assert_eq!(index.len(), 1);
        assert_eq!(index.account(&id("s.p1.a")), Some("a"));
    }

    #[test]
    fn a_backlog_gone_gives_its_room_back() {
        let mut index = Index::default();
        for n in 0..10_000 {
            index.insert(&id(&format!("s{n}.p1.a")), "a", Some(&id(&format!("s{n}.title.a"))));
        }
        let busiest = index.entries.capacity();
        for n in 0..9_990 {
            index.remove(&id(&format!("s{n}.p1.a")));
        }
        assert_eq!(index.len(), 10);
        assert!(index.entries.capacity() * 50 < busiest, "{} of {busiest}", index.entries.capacity());
        assert!(index.children.capacity() < 100, "{}", index.children.capacity());
        assert_eq!(index.children(&id("s9995.title.a")), [id("s9995.p1.a")]);
    }
}

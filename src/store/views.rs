//! Bounded reads for pages that refresh while the event runs (the live desk): a prefix of the
//! jobs, the latest reading of one post, and the desk's sign-ins. None of them decodes every
//! job, so a page costs the same with a hundred jobs or a hundred thousand.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{codec, record, Store, StoreError};
use crate::job::{JobId, JobRecord};

/// The meta key of the desk's sign-ins.
const DESK_AUTH: &str = "desk.auth";

/// What the store keeps of the desk's sign-ins: only SHA-256 digests of the secrets, never
/// the secrets themselves, each with when it stops working.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskAuth {
    /// One-time sign-in links not yet used.
    #[serde(default)]
    pub links: Vec<Grant>,
    /// Signed-in browsers.
    #[serde(default)]
    pub sessions: Vec<Grant>,
}

/// A digest of a secret, and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Lower-case hex of the secret's SHA-256.
    pub hash: String,
    pub expires: DateTime<Utc>,
}

impl Store {
    /// The jobs whose ids start with `prefix`, in id order (a session's planned jobs are
    /// `{session}.…`).
    pub fn jobs_with_prefix(&self, prefix: &str) -> Result<Vec<JobRecord>, StoreError> {
        // The groups that may hold such a job: one whose key is `prefix` cut after one of its
        // dots (a group key ends at a dot or is a whole id), and those whose keys start with it.
        let mut groups = Vec::new();
        for (i, _) in prefix.match_indices('.').filter(|(i, _)| i + 1 < prefix.len()) {
            if let Some(v) = self.jobs.get(&prefix[..=i])? {
                groups.push((sled::IVec::from(&prefix.as_bytes()[..=i]), v));
            }
        }
        for item in self.jobs.scan_prefix(prefix.as_bytes()) {
            groups.push(item?);
        }
        let mut out = Vec::new();
        for (k, v) in groups {
            for (id, bytes) in super::group::entries(&k, &v)? {
                if id.starts_with(prefix) {
                    out.push(record::decode(id.as_bytes(), bytes)?);
                }
            }
        }
        out.sort_by(|a, b| a.spec.id.cmp(&b.spec.id));
        Ok(out)
    }

    /// The latest stored reading of a post, and when it was taken.
    pub fn latest_metric<T: serde::de::DeserializeOwned>(
        &self,
        job: &JobId,
    ) -> Result<Option<(DateTime<Utc>, T)>, StoreError> {
        let mut prefix = job.as_str().as_bytes().to_vec();
        prefix.push(0);
        let Some(item) = self.metrics.scan_prefix(&prefix).next_back() else {
            return Ok(None);
        };
        let (k, v) = item?;
        let ms = k[prefix.len()..].try_into().map(i64::from_be_bytes).unwrap_or(0);
        let at = DateTime::from_timestamp_millis(ms).unwrap_or_default();
        Ok(Some((at, codec::decode("metrics", &k, &v)?)))
    }

    /// Writes raw bytes as a job's record (tests of damaged records).
    #[cfg(test)]
    pub(crate) fn put_raw_job(&self, id: &str, bytes: &[u8]) {
        self.write_group(super::group::key(id), &[(id, bytes)]).expect("a raw write");
    }

    /// The desk's sign-ins (none before the first).
    pub fn desk_auth(&self) -> Result<DeskAuth, StoreError> {
        Ok(self
            .meta
            .get(DESK_AUTH)?
            .map(|v| codec::decode("meta", DESK_AUTH.as_bytes(), &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// Stores the desk's sign-ins, durably (a revoked session must stay revoked after a crash).
    pub fn put_desk_auth(&self, auth: &DeskAuth) -> Result<(), StoreError> {
        self.meta.insert(DESK_AUTH, codec::encode(auth))?;
        self.flush()
    }
}

//! The state store: jobs, accounts' server-side facts, hand-made adjustments, metrics.
//!
//! One sled database per event directory. Every value is an envelope — a magic byte, the
//! format version and a CRC32 of the JSON payload — so a torn or partial write is detected
//! when it is read, and old formats can be migrated. Intents are flushed to disk before the
//! request they describe is sent; results are flushed as soon as they arrive.
//!
//! Beside the jobs, the `due` and `done` trees index them by when they may go and by whether
//! they went out, and the `went` log lists what went out since the collector last looked
//! ([`index`]).

mod codec;
mod export;
mod group;
mod index;
mod jobs;
mod record;
mod views;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::count::Counter;
use crate::follow::WatchState;
use crate::job::JobId;
use crate::plan::Adjustments;

pub use codec::FORMAT_VERSION;
pub use export::ExportLine;
pub use index::PLANNED_BATCH;
use index::{DONE_BUILT, DUE_BUILT};
use jobs::JOB_GROUPS;
pub use views::{DeskAuth, Grant};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state dir {}: {source}", dir.display())]
    Io { dir: PathBuf, source: std::io::Error },
    #[error("state dir {} is in use by another loudhailer{}; stop it, or use its control commands", dir.display(), holder.map(|p| format!(" (process {p})")).unwrap_or_default())]
    Locked { dir: PathBuf, holder: Option<u32> },
    #[error("state store: {0}")]
    Sled(#[from] sled::Error),
    #[error("state store: record {key:?} in {tree} is damaged ({why}); export what is readable with `loudhailer export` and import it into a new state dir")]
    Corrupt { tree: String, key: String, why: String },
    #[error("state dir {} was written by a newer loudhailer (format {found}, this one reads up to {FORMAT_VERSION})", dir.display())]
    TooNew { dir: PathBuf, found: u32 },
    #[error("state dir {} belongs to the event {found:?}, not {wanted:?}; give this event its own [state] dir", dir.display())]
    OtherEvent { dir: PathBuf, found: String, wanted: String },
    #[error("import: line {line}: {why}")]
    Import { line: usize, why: String },
    #[error("import: the state dir {} is not empty; import only into a new one", dir.display())]
    NotEmpty { dir: PathBuf },
}

/// What the store knows about an account between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountState {
    /// Why the account is paused (an auth failure, or by hand), if it is.
    #[serde(default)]
    pub paused: Option<String>,
    /// The server's own length limits, once read.
    #[serde(default)]
    pub counter: Option<Counter>,
    /// The server asked us to hold off until then (a 429, `Retry-After`, a used-up window):
    /// honoured after a restart, so no burst of requests goes into a limit the server announced.
    #[serde(default)]
    pub hold_until: Option<DateTime<Utc>>,
    /// Why, in the limiter's words.
    #[serde(default)]
    pub hold_reason: Option<String>,
    /// Network session data that must survive restarts (Bluesky's JWTs), opaque here.
    #[serde(default)]
    pub session: Option<serde_json::Value>,
    /// The account's own id on its network, once known.
    #[serde(default)]
    pub remote_id: Option<String>,
}

/// The state store.
#[derive(Clone)]
pub struct Store {
    dir: Option<PathBuf>,
    /// Serialises read-modify-write of account records (the engine and a client refreshing
    /// its session may change the same account at once).
    account_lock: Arc<Mutex<()>>,
    db: sled::Db,
    meta: sled::Tree,
    jobs: sled::Tree,
    /// Unsettled jobs by when they may go (see the module's doc).
    due: sled::Tree,
    /// The jobs that went out (see the module's doc).
    done: sled::Tree,
    /// The jobs that went out since the engagement collector last looked (see the module's doc).
    went: sled::Tree,
    accounts: sled::Tree,
    metrics: sled::Tree,
}

impl Store {
    /// Opens (or creates, owner-only) the store in `dir`. Fails with [`StoreError::Locked`] when
    /// another process holds it.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io { dir: dir.to_owned(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        let db =
            sled::Config::new().path(dir.join("db")).cache_capacity(CACHE_BYTES).flush_every_ms(None).open().map_err(
                |e| match e {
                    // sled reports a held lock as an I/O error with this text.
                    sled::Error::Io(io_err) if io_err.to_string().contains("could not acquire lock") => {
                        StoreError::Locked { dir: dir.to_owned(), holder: read_pid(dir) }
                    }
                    other => StoreError::Sled(other),
                },
            )?;
        Store::from_db(Some(dir.to_owned()), db)
    }

    /// A store that lives in memory only (dry runs, tests).
    pub fn temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new().temporary(true).flush_every_ms(None).open()?;
        Store::from_db(None, db)
    }

    fn from_db(dir: Option<PathBuf>, db: sled::Db) -> Result<Store, StoreError> {
        let store = Store {
            meta: db.open_tree("meta")?,
            jobs: db.open_tree(JOB_GROUPS)?,
            due: {
                let due = db.open_tree("due")?;
                due.set_merge_operator(index::append_ids);
                due
            },
            done: db.open_tree("done")?,
            went: db.open_tree("went")?,
            accounts: db.open_tree("accounts")?,
            metrics: db.open_tree("metrics")?,
            dir,
            account_lock: Arc::default(),
            db,
        };
        store.group_jobs()?;
        store.check_format()?;
        store.build_due()?;
        store.build_done()?;
        Ok(store)
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The format mark, if the store has one.
    fn format(&self) -> Result<Option<u32>, StoreError> {
        Ok(self.meta.get("format")?.map(|v| v.as_ref().try_into().map(u32::from_be_bytes).unwrap_or(u32::MAX)))
    }

    fn check_format(&self) -> Result<(), StoreError> {
        match self.meta.get("format")? {
            None => {
                self.meta.insert("format", &FORMAT_VERSION.to_be_bytes())?;
                Ok(())
            }
            Some(v) => {
                let found = v.as_ref().try_into().map(u32::from_be_bytes).unwrap_or(u32::MAX);
                if found > FORMAT_VERSION {
                    return Err(StoreError::TooNew { dir: self.dir.clone().unwrap_or_default(), found });
                }
                // Format 1 stored each job as its whole record; format 2 (store/record.rs) reads
                // both; format 3 keeps the `due` index by minute (store/index.rs), rebuilt on
                // opening; format 4 keeps a scope's jobs under one key (store/group.rs), moved
                // on opening. What each writes an older loudhailer would misread: mark the store.
                if found < FORMAT_VERSION {
                    self.meta.insert("format", &FORMAT_VERSION.to_be_bytes())?;
                }
                Ok(())
            }
        }
    }

    /// Binds the store to an event on first use and refuses another event's config later.
    pub fn bind_event(&self, name: &str) -> Result<(), StoreError> {
        match self.meta.get("event")? {
            None => {
                self.meta.insert("event", name.as_bytes())?;
                Ok(())
            }
            Some(found) if found.as_ref() == name.as_bytes() => Ok(()),
            Some(found) => Err(StoreError::OtherEvent {
                dir: self.dir.clone().unwrap_or_default(),
                found: String::from_utf8_lossy(&found).into_owned(),
                wanted: name.to_string(),
            }),
        }
    }

    /// Reads every stored record once, so damage is found at start rather than mid-event.
    pub fn verify(&self) -> Result<usize, StoreError> {
        let mut jobs = 0;
        for item in self.jobs.iter() {
            let (k, v) = item?;
            for (id, bytes) in group::entries(&k, &v)? {
                codec::check("jobs", id.as_bytes(), bytes)?;
                jobs += 1;
            }
        }
        Ok(jobs + self.verify_except_jobs()?)
    }

    /// [`Store::verify`] but for the jobs, for a caller that is about to decode every job
    /// anyway (decoding checks each record the same way).
    pub fn verify_except_jobs(&self) -> Result<usize, StoreError> {
        self.verify_trees(&[("accounts", &self.accounts), ("metrics", &self.metrics)])
    }

    fn verify_trees(&self, trees: &[(&str, &sled::Tree)]) -> Result<usize, StoreError> {
        let mut n = 0;
        for &(name, tree) in trees {
            for item in tree.iter() {
                let (k, v) = item?;
                codec::check(name, &k, &v)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Writes everything to disk now.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn account(&self, id: &str) -> Result<AccountState, StoreError> {
        Ok(self
            .accounts
            .get(id)?
            .map(|v| codec::decode("accounts", id.as_bytes(), &v))
            .transpose()?
            .unwrap_or_default())
    }

    pub fn put_account(&self, id: &str, state: &AccountState) -> Result<(), StoreError> {
        self.accounts.insert(id, codec::encode(state))?;
        self.flush()
    }

    /// Changes one account's state in place, durably; concurrent changes do not lose each other.
    pub fn update_account(&self, id: &str, change: impl FnOnce(&mut AccountState)) -> Result<AccountState, StoreError> {
        let _guard = self.account_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut state = self.account(id)?;
        change(&mut state);
        self.put_account(id, &state)?;
        Ok(state)
    }

    /// Each account's server limits, where known.
    pub fn known_counters(&self) -> Result<HashMap<String, Counter>, StoreError> {
        let mut out = HashMap::new();
        for item in self.accounts.iter() {
            let (k, v) = item?;
            let state: AccountState = codec::decode("accounts", &k, &v)?;
            if let Some(c) = state.counter {
                out.insert(String::from_utf8_lossy(&k).into_owned(), c);
            }
        }
        Ok(out)
    }

    /// The fingerprint of the plan the stored jobs were last merged with (see `engine`).
    pub fn planned(&self) -> Result<Option<String>, StoreError> {
        Ok(self.meta.get(PLANNED)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Records that the stored jobs are merged with the plan of this fingerprint, durably.
    pub fn set_planned(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.meta.insert(PLANNED, fingerprint.as_bytes())?;
        self.flush()
    }

    pub fn adjustments(&self) -> Result<Adjustments, StoreError> {
        Ok(self
            .meta
            .get("adjustments")?
            .map(|v| codec::decode("meta", b"adjustments", &v))
            .transpose()?
            .unwrap_or_default())
    }

    pub fn put_adjustments(&self, adj: &Adjustments) -> Result<(), StoreError> {
        self.meta.insert("adjustments", codec::encode(adj))?;
        self.flush()
    }

    /// Appends a metrics snapshot for a job at `at`.
    pub fn append_metric<T: Serialize>(&self, job: &JobId, at: DateTime<Utc>, value: &T) -> Result<(), StoreError> {
        let mut key = job.as_str().as_bytes().to_vec();
        key.push(0);
        key.extend_from_slice(&at.timestamp_millis().to_be_bytes());
        self.metrics.insert(key, codec::encode(value))?;
        Ok(())
    }

    /// A job's latest metrics snapshot and when it was taken (one read at the end of its range).
    pub fn last_metric<T: serde::de::DeserializeOwned>(
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

    /// Every metrics snapshot, per job in time order.
    pub fn metrics<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<(JobId, DateTime<Utc>, T)>, StoreError> {
        let mut out = Vec::new();
        for item in self.metrics.iter() {
            let (k, v) = item?;
            let Some(split) = k.iter().position(|b| *b == 0) else {
                continue;
            };
            let id = JobId(String::from_utf8_lossy(&k[..split]).into_owned());
            let ms = k[split + 1..].try_into().map(i64::from_be_bytes).unwrap_or(0);
            let at = DateTime::from_timestamp_millis(ms).unwrap_or_default();
            out.push((id, at, codec::decode("metrics", &k, &v)?));
        }
        Ok(out)
    }

    /// The next number of a counter (1, 2, 3 …), durable across restarts.
    pub fn next_number(&self, counter: &str) -> Result<u64, StoreError> {
        let key = format!("counter.{counter}");
        let value = self.meta.update_and_fetch(key.as_bytes(), |old| {
            let n = old.and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        self.flush()?;
        Ok(value.and_then(|b| b.as_ref().try_into().ok()).map(u64::from_be_bytes).unwrap_or(1))
    }

    /// Where a `[[follow]]` watch has read up to, if it ever ran.
    pub fn watch_state(&self, key: &str) -> Result<Option<WatchState>, StoreError> {
        let k = watch_key(key);
        self.meta.get(&k)?.map(|v| codec::decode("meta", k.as_bytes(), &v)).transpose()
    }

    /// Stores a watch's position, durably (after the jobs of what it found).
    pub fn put_watch_state(&self, key: &str, state: &WatchState) -> Result<(), StoreError> {
        self.meta.insert(watch_key(key), codec::encode(state))?;
        self.flush()
    }

    /// Every watch's position, by its key.
    pub fn watch_states(&self) -> Result<Vec<(String, WatchState)>, StoreError> {
        let mut out = Vec::new();
        for item in self.meta.scan_prefix(WATCH_PREFIX) {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k[WATCH_PREFIX.len()..]).into_owned();
            out.push((key, codec::decode("meta", &k, &v)?));
        }
        Ok(out)
    }

    /// Whether the store holds nothing but its format marker.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        let marks = usize::from(self.meta.get(DUE_BUILT)?.is_some())
            + usize::from(self.meta.get(DONE_BUILT)?.is_some())
            + usize::from(self.meta.get(PLANNED)?.is_some());
        Ok(self.jobs.is_empty() && self.accounts.is_empty() && self.metrics.is_empty() && self.meta.len() <= 1 + marks)
    }
}

/// Clients keep their sessions and tokens in the account's record (`AccountState::session`).
impl crate::sessions::Sessions for Store {
    fn load(&self, account: &str) -> Result<Option<serde_json::Value>, String> {
        self.account(account).map(|a| a.session).map_err(|e| e.to_string())
    }

    fn save(&self, account: &str, value: Option<serde_json::Value>) -> Result<(), String> {
        self.update_account(account, |a| a.session = value).map(|_| ()).map_err(|e| e.to_string())
    }
}

const WATCH_PREFIX: &str = "watch.";

/// The meta key of the last merged plan's fingerprint.
const PLANNED: &str = "planned";

/// sled's cache, counted in bytes on disk (nodes in memory take several times that). Reads are
/// few and small (the jobs within the engine's horizon, a job when it is due or shown), so a
/// small cache costs nothing; 8 MB held 50 MB more of a 120,000-job store after a first plan.
const CACHE_BYTES: u64 = 1024 * 1024;

/// The meta key of a watch's position.
fn watch_key(key: &str) -> String {
    format!("{WATCH_PREFIX}{key}")
}

/// The pid a running daemon wrote into the state dir.
pub fn read_pid(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(dir.join("daemon.pid")).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests;

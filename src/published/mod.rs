//! A programme published at an address (`[schedule] url`), kept current: fetched with
//! conditional requests, and its last good copy kept in the state dir with what is known of it.
//!
//! The config reads the programme from the copy, exactly as from a file ([`rules::Source`] says
//! where it is), so checking a config stays pure. [`Refresher`] is what fetches: `loudhailer
//! run` and `check` use it once at start, and the daemon's task (`engine::published`) every
//! `refresh`. A new version is parsed with the config before it replaces the copy, so the copy
//! always reads; a 304, or the same bytes again, is not parsed at all. What happened is kept
//! beside the copy ([`rules::Record`]) for `check`, `status` and the desk.
//!
//! [`rules`] is pure; the fetching ([`fetch`]) and the files (here) are the I/O.

pub mod fetch;
pub mod rules;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use fetch::{FetchError, Fetched, Fetcher};
use rules::{Answer, Copy, Step, Validators};
pub use rules::{Outcome, Record, Source};

/// Why the copy or its record could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    #[error("{}: {source}", path.display())]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

/// What one refresh came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    pub outcome: Outcome,
    /// The server asked to wait this long before the next request.
    pub retry_after: Option<Duration>,
}

/// Fetches a source and keeps its copy: the record read from the state dir, and what it
/// remembers between fetches of a document it refused (so the same document is not parsed
/// again).
pub struct Refresher {
    pub source: Source,
    fetcher: Fetcher,
    record: Record,
    /// The validators and digest of the last document refused, while it is the latest.
    refused: Option<(Validators, String)>,
}

impl Refresher {
    /// Reads the record of `source` (a new one when there is none, or it is of no use: another
    /// address, or its copy is gone).
    pub fn open(source: Source) -> Result<Refresher, PublishedError> {
        let fetcher = Fetcher::new(source.allow_http)?;
        let mut record = read_record(&source.record)
            .filter(|r| r.url == source.url.as_str())
            .unwrap_or_else(|| Record::new(&source.url));
        if !source.copy.exists() {
            record.copy = None;
        }
        Ok(Refresher { source, fetcher, record, refused: None })
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Fetches once and acts on the answer: a new version is given to `check` (the config
    /// read with it) and kept when it reads; anything else leaves the copy as it is. The
    /// record is written in every case.
    pub async fn refresh(
        &mut self,
        now: DateTime<Utc>,
        check: &(dyn Fn(&[u8]) -> Result<(), String> + Sync),
    ) -> Result<Refreshed, PublishedError> {
        let held = self.refused.as_ref().map(|(v, _)| v);
        let held = self.record.validators(held).filter(|v| !v.is_empty()).cloned();
        let fetched = self.fetcher.get(&self.source.url, held.as_ref()).await;
        let mut retry_after = None;
        let outcome = match fetched {
            Err(e) => {
                retry_after = e.retry_after();
                Outcome::Failed { why: e.to_string() }
            }
            Ok(fetched) => {
                let answer = match &fetched {
                    Fetched::NotModified { .. } => Answer::NotModified,
                    Fetched::Document { bytes, .. } => Answer::Document(bytes),
                };
                let copy = self.record.copy.as_ref().map(|c| c.sha256.as_str());
                let refused = self.refused.as_ref().map(|(_, d)| d.as_str());
                match (rules::step(answer, copy, refused), fetched) {
                    (Step::NotModified, _) => match &self.refused {
                        Some(_) => self.refused_again(),
                        None => Outcome::NotModified,
                    },
                    (Step::Unchanged, Fetched::Document { validators, .. }) => {
                        self.refused = None;
                        if let Some(copy) = &mut self.record.copy {
                            copy.validators = validators;
                        }
                        Outcome::Unchanged
                    }
                    (Step::RefusedBefore, _) => self.refused_again(),
                    (Step::Check, Fetched::Document { bytes, validators }) => {
                        self.record.counts.parsed += 1;
                        match check(&bytes) {
                            Ok(()) => {
                                write_atomically(&self.source.copy, &bytes)?;
                                self.refused = None;
                                self.record.copy = Some(Copy {
                                    fetched_at: now,
                                    confirmed_at: now,
                                    bytes: bytes.len(),
                                    sha256: rules::digest(&bytes),
                                    validators,
                                });
                                Outcome::Stored
                            }
                            Err(why) => {
                                self.refused = Some((validators, rules::digest(&bytes)));
                                Outcome::Refused { why }
                            }
                        }
                    }
                    // `step` answers Unchanged and Check for documents only.
                    (_, Fetched::NotModified { .. }) => Outcome::NotModified,
                }
            }
        };
        self.record.note(now, outcome.clone());
        self.save()?;
        Ok(Refreshed { outcome, retry_after })
    }

    /// The document refused last time came again (or is still current): refused again, with
    /// the same reason, without parsing it.
    fn refused_again(&self) -> Outcome {
        let why = match self.record.last.as_ref().map(|a| &a.outcome) {
            Some(Outcome::Refused { why }) => why.clone(),
            _ => "the same document as before, which does not read".to_string(),
        };
        Outcome::Refused { why }
    }

    fn save(&self) -> Result<(), PublishedError> {
        let json = serde_json::to_vec_pretty(&self.record).unwrap_or_default();
        write_atomically(&self.source.record, &json)
    }
}

/// The record of a source, if one was written (and reads).
pub fn read_record(path: &Path) -> Option<Record> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes `bytes` to `path` through a temporary file renamed over it, so a reader (or a crash)
/// sees the old file or the new one, never half of one. Makes the folder (owner-only) first.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PublishedError> {
    let io = |source| PublishedError::Io { path: path.to_owned(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

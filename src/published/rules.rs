//! The pure rules of a published programme: which addresses may be fetched, how often, what a
//! conditional request sends, what an answer leads to, and how the copy and the last fetch are
//! told to a person. No I/O; the clock is passed in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use url::Url;

/// How often the programme is fetched again when `refresh` is not given.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(5 * 60);
/// The shortest `refresh`: a conditional request every few seconds is what FOSDEM's own bot
/// does; shorter would only load the organisers' server.
pub const MIN_REFRESH: Duration = Duration::from_secs(5);
/// The longest `refresh`.
pub const MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);
/// The longest a server's `Retry-After` may put the next fetch off.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// The largest document accepted, once decompressed (36C3's whole programme is 2.3 MB).
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// How long one fetch may take, from connecting to the last byte.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// The longest validator kept from an answer (a longer `ETag` is not used).
const MAX_VALIDATOR: usize = 1024;

/// A programme published at an address, as `[schedule] url` names it, and where its last good
/// copy is kept in the state dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub url: Url,
    pub refresh: Duration,
    /// Plain HTTP was asked for (`allow_http = true`); loopback addresses never need it.
    pub allow_http: bool,
    /// The last good copy: the file the config reads the programme from.
    pub copy: PathBuf,
    /// What is known of the copy and of the last fetch ([`Record`], JSON).
    pub record: PathBuf,
}

impl Source {
    /// The source of `url` with its copy in `state_dir`: `published/schedule-<hash>.<ext>`, the
    /// extension taken from the address (a hint for telling the format), the hash from the whole
    /// address, so another address never reads this one's copy.
    pub fn new(url: Url, refresh: Duration, allow_http: bool, state_dir: &Path) -> Source {
        let stem = format!("schedule-{}", crate::job::short_hash(url.as_str()));
        let dir = state_dir.join("published");
        let copy = match extension(&url) {
            Some(ext) => dir.join(format!("{stem}.{ext}")),
            None => dir.join(&stem),
        };
        let record = dir.join(format!("{stem}.state.json"));
        Source { url, refresh, allow_http, copy, record }
    }
}

/// The address's extension when it names a schedule format loudhailer reads.
fn extension(url: &Url) -> Option<&'static str> {
    const KNOWN: [&str; 7] = ["xml", "json", "ics", "ical", "csv", "tsv", "toml"];
    let last = url.path_segments()?.next_back()?;
    let (_, ext) = last.rsplit_once('.')?;
    KNOWN.iter().find(|k| k.eq_ignore_ascii_case(ext)).copied()
}

/// Whether `url` names this machine: `localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether a request may go to `url`: HTTPS always; plain HTTP to loopback, or when asked.
pub fn may_fetch(url: &Url, allow_http: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => allow_http || is_loopback(url),
        _ => false,
    }
}

/// Checks `[schedule] url` (and `loudhailer import URL`): an absolute http(s) address with a
/// host and no credentials, HTTPS unless on loopback or asked for.
pub fn check_url(text: &str, allow_http: bool) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{text:?} is not an address: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{text:?}: expected an https:// address"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the address carries a user name or password; give an address without them".into());
    }
    if !may_fetch(&url, allow_http) {
        return Err(format!(
            "{url} is plain HTTP: anyone on the way could change the programme; use https://, or set `allow_http = true` to fetch it anyway"
        ));
    }
    Ok(url)
}

/// Parses `refresh` ("5m", "30s"), within [`MIN_REFRESH`] and [`MAX_REFRESH`].
pub fn parse_refresh(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|_| format!("expected a duration such as \"5m\", found {text:?}"))?;
    if d < MIN_REFRESH || d > MAX_REFRESH {
        return Err(format!(
            "{text:?} is outside {} to {}",
            humantime::format_duration(MIN_REFRESH),
            humantime::format_duration(MAX_REFRESH)
        ));
    }
    Ok(d)
}

/// What identifies a version of the document to its server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators of an answer's `ETag` and `Last-Modified` headers (visible ASCII only, and
    /// not absurdly long; anything else is not echoed back).
    pub fn from_headers(etag: Option<&[u8]>, last_modified: Option<&[u8]>) -> Validators {
        let keep = |v: Option<&[u8]>| {
            let v = std::str::from_utf8(v?).ok()?.trim();
            let fine = !v.is_empty() && v.len() <= MAX_VALIDATOR && v.bytes().all(|b| (0x20..0x7f).contains(&b));
            fine.then(|| v.to_string())
        };
        Validators { etag: keep(etag), last_modified: keep(last_modified) }
    }

    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The headers of a conditional request for a document whose last version had `v`:
/// `If-None-Match` with its `ETag`, `If-Modified-Since` with its `Last-Modified` (a server
/// that knows both looks at `If-None-Match` first, RFC 9110 §13.2.2).
pub fn conditional(v: &Validators) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(etag) = &v.etag {
        out.push(("if-none-match", etag.clone()));
    }
    if let Some(date) = &v.last_modified {
        out.push(("if-modified-since", date.clone()));
    }
    out
}

/// How long until the next fetch: the refresh interval, or longer when the server asked for a
/// wait (`Retry-After`, at most [`MAX_RETRY_AFTER`]).
pub fn next_delay(refresh: Duration, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(wait) => refresh.max(wait.min(MAX_RETRY_AFTER)),
        None => refresh,
    }
}

/// What a fetch brought, as far as deciding what to do goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// 304: the version asked about is still the current one.
    NotModified,
    /// A document.
    Document(&'a [u8]),
}

/// What to do with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing changed (a 304): nothing is read, nothing is parsed.
    NotModified,
    /// The same bytes as the copy in use: nothing is parsed.
    Unchanged,
    /// The same bytes as a document refused before: refused again without parsing.
    RefusedBefore,
    /// New: parse it with the config, and keep it if it reads.
    Check,
}

/// Decides what an answer leads to, from the digests of the copy in use and of the last
/// document refused. Only a document never seen before is parsed.
pub fn step(answer: Answer<'_>, copy: Option<&str>, refused: Option<&str>) -> Step {
    match answer {
        Answer::NotModified => Step::NotModified,
        Answer::Document(bytes) => {
            let digest = digest(bytes);
            if copy == Some(digest.as_str()) {
                Step::Unchanged
            } else if refused == Some(digest.as_str()) {
                Step::RefusedBefore
            } else {
                Step::Check
            }
        }
    }
}

/// The SHA-256 of a document, in hex.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What is known of the copy in use and of the fetches, kept beside the copy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub url: String,
    /// The copy in use, if one was ever fetched.
    #[serde(default)]
    pub copy: Option<Copy>,
    /// The last fetch, and what came of it.
    #[serde(default)]
    pub last: Option<Attempt>,
    /// Since when fetching has failed (or brought documents that do not read), if it does now.
    #[serde(default)]
    pub failing_since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub counts: Counts,
}

/// The copy in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Copy {
    /// When it was fetched.
    pub fetched_at: DateTime<Utc>,
    /// When the server last said it is still the current version (a 304, or the same bytes).
    pub confirmed_at: DateTime<Utc>,
    pub bytes: usize,
    /// SHA-256, hex.
    pub sha256: String,
    #[serde(default)]
    pub validators: Validators,
}

/// One fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
}

/// What came of a fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// A new version that reads: kept, and the programme planned again.
    Stored,
    /// 304 Not Modified.
    NotModified,
    /// The same bytes as the copy in use.
    Unchanged,
    /// A document that does not read; the copy in use stays.
    Refused { why: String },
    /// No document: the server could not be reached, or answered with an error.
    Failed { why: String },
}

impl Outcome {
    /// Whether the programme in use is the one published.
    pub fn is_good(&self) -> bool {
        !matches!(self, Outcome::Refused { .. } | Outcome::Failed { .. })
    }
}

/// Counters since the state dir was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Requests made.
    pub requests: u64,
    /// Answered 304 Not Modified.
    pub not_modified: u64,
    /// Answered with the bytes of the copy in use.
    pub unchanged: u64,
    /// Documents parsed (only new ones are).
    pub parsed: u64,
    /// New versions kept.
    pub stored: u64,
    /// Documents that did not read.
    pub refused: u64,
    /// Fetches that brought no document.
    pub failed: u64,
}

impl Record {
    pub fn new(url: &Url) -> Record {
        Record { url: url.to_string(), ..Record::default() }
    }

    /// The validators to send: those of the last document received when it was refused
    /// (`seen`), else the copy's.
    pub fn validators<'a>(&'a self, seen: Option<&'a Validators>) -> Option<&'a Validators> {
        seen.or(self.copy.as_ref().map(|c| &c.validators))
    }

    /// Notes a fetch and its outcome at `now`.
    pub fn note(&mut self, now: DateTime<Utc>, outcome: Outcome) {
        let c = &mut self.counts;
        c.requests += 1;
        match &outcome {
            Outcome::Stored => c.stored += 1,
            Outcome::NotModified => c.not_modified += 1,
            Outcome::Unchanged => c.unchanged += 1,
            Outcome::Refused { .. } => c.refused += 1,
            Outcome::Failed { .. } => c.failed += 1,
        }
        if matches!(outcome, Outcome::NotModified | Outcome::Unchanged) {
            if let Some(copy) = &mut self.copy {
                copy.confirmed_at = now;
            }
        }
        if outcome.is_good() {
            self.failing_since = None;
        } else {
            self.failing_since.get_or_insert(now);
        }
        self.last = Some(Attempt { at: now, outcome });
    }

    /// Whether something is wrong a person should see (the last fetch failed or was refused).
    pub fn trouble(&self) -> Option<String> {
        match &self.last.as_ref()?.outcome {
            Outcome::Failed { why } => Some(format!("the published programme cannot be fetched: {why}")),
            Outcome::Refused { why } => Some(format!("the published programme no longer reads: {why}")),
            _ => None,
        }
    }

    /// The record in lines for `check`, `status` and the desk, times in `tz`.
    pub fn describe(&self, refresh: Duration, now: DateTime<Utc>, tz: Tz) -> Vec<String> {
        let when = |t: DateTime<Utc>| format!("{} ({})", local(t, now, tz), age(t, now));
        let mut out =
            vec![format!("schedule: {} (fetched again every {})", self.url, humantime::format_duration(refresh))];
        match &self.copy {
            Some(copy) => {
                let mut line = format!("copy in use: fetched {}, {} bytes", when(copy.fetched_at), copy.bytes);
                if copy.confirmed_at > copy.fetched_at {
                    line.push_str(&format!("; still current at {}", when(copy.confirmed_at)));
                }
                out.push(line);
            }
            None => out.push("copy in use: none yet (the programme was never fetched)".into()),
        }
        if let Some(last) = &self.last {
            let what = match &last.outcome {
                Outcome::Stored => "a new version, kept and planned".to_string(),
                Outcome::NotModified => "not modified".to_string(),
                Outcome::Unchanged => "the same document".to_string(),
                Outcome::Refused { why } => format!("a document that does not read, not used: {why}"),
                Outcome::Failed { why } => format!("failed: {why}"),
            };
            let mut line = format!("last fetch: {}: {what}", when(last.at));
            if let (Some(since), false) = (self.failing_since, last.outcome.is_good()) {
                line.push_str(&format!(" (not good since {})", local(since, now, tz)));
                if self.copy.is_some() {
                    line.push_str("; the copy in use stays");
                }
            }
            out.push(line);
        }
        out
    }
}

/// `HH:MM:SS` today, else the date too, in `tz`.
fn local(t: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    let l = t.with_timezone(&tz);
    if l.date_naive() == now.with_timezone(&tz).date_naive() {
        l.format("%H:%M:%S").to_string()
    } else {
        l.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// "just now", "4 min ago", "2 h 5 min ago", "3 days ago".
pub fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    if secs < 0 {
        return "in the future: check this machine's clock".into();
    }
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=172_799 => match (secs % 3600) / 60 {
            0 => format!("{} h ago", secs / 3600),
            m => format!("{} h {m} min ago", secs / 3600),
        },
        _ => format!("{} days ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests;

//! TOML text -> a validated [`Config`], in two phases: strict deserialization, then checks.
//!
//! Phase one refuses unknown keys and wrong types (serde, with spans). Phase two turns the
//! strings into typed values (time zones, times, durations, rates, cron expressions, account
//! references, templates rendered once against a sample) and collects every problem with its
//! file, line and key. Each section owns its raw form and its checks, one module each. The
//! files a config names are read first ([`Files`]); checking is pure. Nothing here reads
//! secrets or touches the network; see `secret` for credentials.

mod account;
mod amplify;
mod compose;
mod desk;
mod error;
mod event;
mod files;
pub mod follow;
mod media;
pub mod networks;
mod raw;
mod recurring;
mod report;
mod schedule;
mod session;
mod snippet;
pub mod values;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::compose::Templates;
pub use account::{in_credentials_dir, Account, Role, SecretSource};
pub use account::{oauth as account_oauth, OAuthClient, XAuth};
pub use amplify::Amplify;
pub use desk::{Desk, DeskTls, DEFAULT_LISTEN};
use error::Problems;
pub use error::{ConfigError, Problem};
pub use event::{event_hours, Event};
pub use files::Files;
pub use follow::{Filter, Repost, Watch, Watched};
pub use media::MediaSettings;
pub use networks::{FacebookSettings, LinkedInSettings, Mode, Points};
use raw::RawConfig;
pub use recurring::{recurring_instants, Recurring};
pub use report::{ReportSettings, DEFAULT_CHECKPOINTS};
pub use snippet::Snippet;
pub use values::Rate;

use crate::network::Network;
use crate::schedule::{EncodedSessions, Session};

/// A config that passed every check.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    pub event: Event,
    pub accounts: Vec<Account>,
    pub amplify: Amplify,
    /// Sessions from `[[session]]` and the `[schedule]` file, sorted by start; kept encoded
    /// (a running daemon reads them rarely), decoded where read.
    pub sessions: EncodedSessions,
    pub recurring: Vec<Recurring>,
    pub compose: Templates,
    /// Jobs due less than this long ago at start go out at once; older ones are `missed`.
    pub catch_up: Duration,
    /// The longest a server's answer may hold an account (`[run] max_server_wait`).
    pub max_server_wait: Duration,
    pub state_dir: PathBuf,
    /// When engagement is read after posting (`[report]`).
    pub report: ReportSettings,
    /// Accounts watched for posts made by hand (`[[follow]]`), one entry per account.
    pub follows: Vec<Watch>,
    /// Posts to boost at a given time (`[[repost]]`).
    pub reposts: Vec<Repost>,
    /// `[media]`: the cap on an image file's size.
    pub media: MediaSettings,
    /// The live desk (`[desk]`).
    pub desk: Desk,
    /// Texts the desk posts with one tap (`[[snippet]]`).
    pub snippets: Vec<Snippet>,
    /// `[linkedin]`: points as comments or posts; the API version.
    pub linkedin: LinkedInSettings,
    /// `[facebook]`: how a Page amplifies; the Graph API version.
    pub facebook: FacebookSettings,
    /// Where `[schedule]` points, when it does (for `url`, the copy in the state dir).
    pub schedule_file: Option<PathBuf>,
    /// `[schedule] url`: the published programme and where its last good copy is kept.
    pub published: Option<crate::published::rules::Source>,
    /// `[schedule] announce_changes`: a session moved by more than this, or cancelled, is
    /// announced from the primary accounts.
    pub announce_changes: Option<Duration>,
    /// Every file read besides the config itself (for watching edits).
    pub inputs: Vec<PathBuf>,
    /// Things worth saying that do not stop the run.
    pub warnings: Vec<String>,
    /// A digest of everything the config was made from (its text, the files it names, and
    /// loudhailer's version): the same fingerprint plans the same jobs.
    pub fingerprint: String,
}

impl Config {
    /// Reads and validates a config file, including the `[schedule]` files it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_in(path, None)
    }

    /// [`Config::load`] with the state dir given (`--state-dir`), instead of the config's: the
    /// copy of a published programme is read from it.
    pub fn load_in(path: &Path, state_dir: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_replacing(path, state_dir, None)
    }

    /// [`Config::load_in`], with one file's bytes given instead of read (a newly fetched
    /// programme, checked before it replaces the copy).
    pub fn load_replacing(
        path: &Path,
        state_dir: Option<&Path>,
        replace: Option<(&Path, &[u8])>,
    ) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let raw = read(path, &text)?;
        let state = state_dir_of(&raw, base_of(path), state_dir);
        let mut wanted = raw.files(base_of(path), &state);
        if let Some((file, _)) = replace {
            wanted.retain(|p| p != file);
        }
        let mut files = Files::read(wanted);
        if let Some((file, bytes)) = replace {
            files.insert(file.to_owned(), bytes.to_vec());
        }
        // Image files after the rest: a sessions file among them names some.
        let base = base_of(path);
        files.read_images(raw.images(base, &state, &files), media::cap(raw.media.as_ref()));
        Config::check(path, &text, raw, &files, state)
    }

    /// Validates config text, reading the files it names; `path` names it in errors and
    /// anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw = read(path, text)?;
        let base = base_of(path);
        let state = state_dir_of(&raw, base, None);
        let mut files = Files::read(raw.files(base, &state));
        files.read_images(raw.images(base, &state, &files), media::cap(raw.media.as_ref()));
        Config::check(path, text, raw, &files, state)
    }

    /// Validates config text with the files it names already read (pure).
    pub fn parse_with(path: &Path, text: &str, files: &Files) -> Result<Config, ConfigError> {
        let raw = read(path, text)?;
        let state = state_dir_of(&raw, base_of(path), None);
        Config::check(path, text, raw, files, state)
    }

    fn check(
        path: &Path,
        text: &str,
        raw: RawConfig,
        files: &Files,
        state_dir: PathBuf,
    ) -> Result<Config, ConfigError> {
        let mut problems = Problems::new(path, text);
        let config = validate(path, raw, files, state_dir, &mut problems);
        match config {
            Some(mut c) if problems.list.is_empty() => {
                use sha2::Digest;
                let mut hash = sha2::Sha256::new();
                hash.update(concat!("loudhailer ", env!("CARGO_PKG_VERSION"), "\0").as_bytes());
                hash.update(text.as_bytes());
                hash.update([0]);
                files.digest(&mut hash);
                c.fingerprint = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
                Ok(c)
            }
            _ => Err(ConfigError::Invalid(problems.list)),
        }
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn primaries(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter().filter(|a| a.role == Role::Primary)
    }

    pub fn amplifiers(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter().filter(|a| a.role == Role::Amplifier)
    }

    /// The rate an account's requests are held to by config.
    pub fn rate_for(&self, account: &Account) -> Rate {
        account.rate.unwrap_or(self.amplify.rate)
    }

    pub fn session(&self, id: &str) -> Option<Session> {
        self.sessions.find(id)
    }
}

/// Phase one: the TOML as written.
fn read(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    if text.len() >= raw::PARTS_FROM {
        if let Some(raw) = raw::read_in_parts(text) {
            return Ok(raw);
        }
    }
    read_whole(path, text)
}

/// [`read`] at once, whatever the size.
fn read_whole(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let mut problems = Problems::new(path, text);
        problems.serde(&e);
        ConfigError::Invalid(problems.list)
    })
}

/// The folder relative paths in the config start from.
fn base_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

impl RawConfig {
    /// The files this config names (read before checking it), a published programme's copy
    /// in `state_dir` included.
    fn files(&self, base: &Path, state_dir: &Path) -> Vec<PathBuf> {
        self.schedule.as_ref().map(|s| schedule::wanted(&schedule::resolved(s, base, state_dir))).unwrap_or_default()
    }

    /// The image files its sessions name, and those of a sessions file among `files` (read
    /// before checking, after the files above).
    fn images(&self, base: &Path, state_dir: &Path, files: &Files) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> =
            self.session.iter().flat_map(|s| s.get_ref().image_files()).map(|f| media::resolve(f, base)).collect();
        if let Some(s) = &self.schedule {
            out.extend(schedule::images_named(&schedule::resolved(s, base, state_dir), files));
        }
        out
    }
}

/// The state dir: the one given (`--state-dir`), else `[state] dir`, else one per event (its
/// name and date as written; a name or date that does not read is refused later anyway).
fn state_dir_of(raw: &RawConfig, base: &Path, given: Option<&Path>) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_owned();
    }
    match raw.state.as_ref().and_then(|s| s.dir.as_ref()) {
        Some(dir) => {
            let d = PathBuf::from(dir.get_ref());
            if d.is_relative() {
                base.join(d)
            } else {
                d
            }
        }
        None => {
            let event = raw.event.get_ref();
            let date = event.date.as_ref().and_then(|d| values::date(d.get_ref()).ok());
            default_state_dir(event.name.get_ref().trim(), date)
        }
    }
}

/// Phase two: every section checked, every problem collected.
fn validate(path: &Path, raw: RawConfig, files: &Files, state_dir: PathBuf, p: &mut Problems<'_>) -> Option<Config> {
    let base = base_of(path);
    let event = event::validate(raw.event, p)?;
    let mut accounts = account::validate(raw.account, base, p);
    let amplify = amplify::validate(raw.amplify, p);
    let media = media::validate(raw.media.as_ref(), p);
    let mut networks: Vec<_> = accounts.iter().filter(|a| a.role == Role::Primary).map(|a| a.network).collect();
    networks.sort_by_key(|n| n.as_str());
    networks.dedup();
    let images = media::ImageContext { files, base, networks: &networks };

    let mut warnings = Vec::new();
    let mut sessions = Vec::new();
    let mut explicit_ids = HashSet::new();
    for (i, s) in raw.session.into_iter().enumerate() {
        if let Some(session) = session::validate(i, s, &event, p, &mut explicit_ids, &mut warnings, &images) {
            sessions.push(session);
        }
    }
    let mut schedule_file = None;
    let mut inputs = Vec::new();
    let mut published = None;
    let mut announce_changes = None;
    if let Some(s) = &raw.schedule {
        let opts = schedule::resolved(s, base, &state_dir);
        schedule_file = Some(opts.file.clone());
        inputs = schedule::wanted(&opts);
        let source = schedule::source(s, &state_dir, p);
        announce_changes = schedule::announce(s, p);
        if let Some(source) = &source {
            // The copy changes when a fetch brings a new version, which reloads by itself.
            inputs.retain(|f| f != &source.copy);
        }
        let ctx = schedule::Context { source: source.as_ref(), files, event: &event };
        sessions.extend(schedule::validate(s, &opts, &ctx, &mut explicit_ids, &mut warnings, &images, p));
        published = source;
    }
    sessions.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));

    let primaries: Vec<String> = accounts.iter().filter(|a| a.role == Role::Primary).map(|a| a.id.clone()).collect();
    let recurring = recurring::validate(raw.recurring, &primaries, p);
    let compose = compose::validate(raw.compose.unwrap_or_default(), &event, &sessions, p);
    let catch_up = amplify::catch_up(raw.run.as_ref(), p);
    let max_server_wait = amplify::max_server_wait(raw.run.as_ref(), p);
    let report = report::validate(raw.report, p);
    let linkedin = networks::linkedin(raw.linkedin, p);
    let facebook = networks::facebook(raw.facebook, p);
    let threads_version = networks::threads(raw.threads, p);
    for a in accounts.iter_mut() {
        match a.network {
            Network::LinkedIn => {
                a.api_version = Some(linkedin.version.clone());
                a.points = linkedin.points;
            }
            Network::Facebook => a.api_version = Some(facebook.version.clone()),
            Network::Threads => a.api_version = Some(threads_version.clone()),
            _ => {}
        }
    }
    amplified_accounts(&mut accounts, p);
    let (follows, reposts) = follow::validate(raw.follow, raw.repost, &accounts, &event, p, &mut warnings);
    let desk = desk::validate(raw.desk, base, p);
    let snippets = snippet::validate(raw.snippet, p);

    // Image files too: an edit that puts a good copy in place of a broken one is read again.
    for s in &sessions {
        let images = s.images.iter().chain(s.points.iter().flat_map(|p| &p.images));
        for file in images.map(|i| PathBuf::from(&i.file)) {
            if !inputs.contains(&file) {
                inputs.push(file);
            }
        }
    }
    if sessions.is_empty() && recurring.is_empty() {
        warnings.push("the config has no sessions and no recurring posts: nothing will be posted".into());
    }

    Some(Config {
        path: path.to_owned(),
        event,
        accounts,
        amplify,
        sessions: EncodedSessions::from(sessions),
        recurring,
        compose,
        catch_up,
        max_server_wait,
        report,
        follows,
        reposts,
        media,
        desk,
        snippets,
        linkedin,
        facebook,
        state_dir,
        schedule_file,
        published,
        announce_changes,
        inputs,
        warnings,
        fingerprint: String::new(),
    })
}

/// A Facebook amplifier amplifies one primary account's posts: the one it names (`amplifies`),
/// which must be a primary on another network, or the first such primary in the config.
fn amplified_accounts(accounts: &mut [Account], p: &mut Problems<'_>) {
    let primaries: Vec<(String, Network)> =
        accounts.iter().filter(|a| a.role == Role::Primary).map(|a| (a.id.clone(), a.network)).collect();
    for a in accounts.iter_mut().filter(|a| a.network == Network::Facebook && a.role == Role::Amplifier) {
        let key = format!("account[{}].amplifies", a.id);
        match a.amplifies.as_deref() {
            Some(name) => match primaries.iter().find(|(id, _)| id == name) {
                Some((_, Network::Facebook)) => {
                    p.nowhere(
                        key,
                        format!("{name} is a Facebook Page: a Page amplifies posts made on another network"),
                    );
                }
                Some(_) => {}
                None => p.nowhere(key, format!("{name:?} is not a primary account of this config")),
            },
            None => match primaries.iter().find(|(_, n)| *n != Network::Facebook) {
                Some((id, _)) => a.amplifies = Some(id.clone()),
                None => p.nowhere(
                    format!("account[{}].role", a.id),
                    "a Facebook Page amplifies by posting about a primary account's posts on another network, and this config has none: add one, or make the Page primary (it then posts the schedule itself)",
                ),
            },
        }
    }
}

/// One directory per event under the XDG data dir: `~/.local/share/loudhailer/<event>`.
fn default_state_dir(event: &str, date: Option<chrono::NaiveDate>) -> PathBuf {
    let mut name = crate::schedule::slug(event);
    if let Some(d) = date {
        name = format!("{name}-{d}");
    }
    directories::ProjectDirs::from("", "", "loudhailer")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| PathBuf::from(".loudhailer"))
        .join(name)
}

#[cfg(test)]
mod network_tests;
#[cfg(test)]
pub(crate) mod tests;

//! TOML text -> a validated [`Config`], in two phases: strict deserialization, then checks.
//!
//! Phase one refuses unknown keys and wrong types (serde, with spans). Phase two turns the
//! strings into typed values (time zones, times, durations, rates, cron expressions, account
//! references) and collects every problem with its file, line and key. Nothing here reads
//! secrets or touches the network; see `secret` for credentials.

mod error;
pub mod follow;
mod raw;
mod report;
pub mod values;
pub mod x;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use url::Url;

use error::Problems;
pub use error::{ConfigError, Problem};
pub use follow::{Filter, Repost, Watch, Watched};
use raw::{RawAccount, RawConfig, RawPoint, RawSession, RawSpeaker, S};
pub use report::{ReportSettings, DEFAULT_CHECKPOINTS};
pub use values::Rate;
pub use x::XAuth;

use crate::network::Network;
use crate::schedule::{self, ImportOptions, Point, Schedule, Session, Speaker};

/// A config that passed every check.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    pub event: Event,
    pub accounts: Vec<Account>,
    pub amplify: Amplify,
    /// Sessions from `[[session]]` and the `[schedule]` file, sorted by start.
    pub sessions: Vec<Session>,
    pub recurring: Vec<Recurring>,
    pub compose: Templates,
    /// Jobs due less than this long ago at start go out at once; older ones are `missed`.
    pub catch_up: Duration,
    pub state_dir: PathBuf,
    /// When engagement is read after posting (`[report]`).
    pub report: ReportSettings,
    /// Accounts watched for posts made by hand (`[[follow]]`), one entry per account.
    pub follows: Vec<Watch>,
    /// Posts to boost at a given time (`[[repost]]`).
    pub reposts: Vec<Repost>,
    /// Where `[schedule]` points, when it does (for watching edits).
    pub schedule_file: Option<PathBuf>,
    /// Things worth saying that do not stop the run.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub timezone: Tz,
    pub date: Option<NaiveDate>,
    /// With their `#`.
    pub hashtags: Vec<String>,
    pub language: Option<String>,
    /// The daily window for recurring posts; by default each day's first start to last end.
    pub hours: Option<(NaiveTime, NaiveTime)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Posts the schedule.
    Primary,
    /// Boosts the primary accounts' posts on its network.
    Amplifier,
}

/// Where an account's secret comes from (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub network: Network,
    pub server: Url,
    pub role: Role,
    /// Mastodon: the access token. Bluesky: the app password. X: none (see `x`).
    pub secret: Option<SecretSource>,
    /// X: how requests are signed.
    pub x: Option<XAuth>,
    /// Bluesky: handle or DID.
    pub identifier: Option<String>,
    /// Overrides `[amplify] rate`.
    pub rate: Option<Rate>,
    pub language: Option<String>,
    pub visibility: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Amplify {
    pub delay: Duration,
    pub jitter: Duration,
    pub rate: Rate,
}

#[derive(Debug, Clone)]
pub struct Recurring {
    pub id: String,
    pub cron: cron::Schedule,
    pub text: String,
    /// Primary accounts that post it.
    pub accounts: Vec<String>,
}

/// The minijinja templates posts are composed from.
#[derive(Debug, Clone)]
pub struct Templates {
    pub title: String,
    pub point: String,
    pub note: String,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            title: "{{ title }}{% if speakers %} with {{ speakers | join(\", \") }}{% endif %}{% for tag in hashtags %} {{ tag }}{% endfor %}".into(),
            point: "{{ point }}{% for tag in hashtags %} {{ tag }}{% endfor %}".into(),
            note: "{{ text }}{% for tag in hashtags %} {{ tag }}{% endfor %}".into(),
        }
    }
}

impl Config {
    /// Reads and validates a config file, including the `[schedule]` file it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Config::parse(path, &text)
    }

    /// Validates config text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let mut problems = Problems::new(path, text);
        let raw: RawConfig = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                problems.serde(&e);
                return Err(ConfigError::Invalid(problems.list));
            }
        };
        let config = validate(path, raw, &mut problems);
        match config {
            Some(c) if problems.list.is_empty() => Ok(c),
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

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }
}

fn validate(path: &Path, raw: RawConfig, p: &mut Problems<'_>) -> Option<Config> {
    let base = path.parent().unwrap_or(Path::new("."));
    let event = validate_event(raw.event, p)?;
    let accounts = validate_accounts(raw.account, base, p);

    let amplify_raw = raw.amplify.unwrap_or_default();
    let delay = spanned_duration(amplify_raw.delay.as_ref(), "amplify.delay", "5m", p);
    let jitter = spanned_duration(amplify_raw.jitter.as_ref(), "amplify.jitter", "1m", p);
    let rate = match &amplify_raw.rate {
        Some(r) => values::rate(r.get_ref()).unwrap_or_else(|e| {
            p.at(r.span(), "amplify.rate", e);
            Rate::new(20, Duration::from_secs(3600))
        }),
        None => Rate::new(20, Duration::from_secs(3600)),
    };
    if jitter > delay && !p.list.iter().any(|x| x.key.starts_with("amplify.")) {
        p.nowhere("amplify.jitter", "must not be longer than amplify.delay (a boost cannot precede its post)");
    }

    let mut warnings = Vec::new();
    let mut sessions = Vec::new();
    let mut explicit_ids = HashSet::new();
    for (i, s) in raw.session.into_iter().enumerate() {
        if let Some(session) = validate_session(i, s, &event, p, &mut explicit_ids, &mut warnings) {
            sessions.push(session);
        }
    }

    let mut schedule_file = None;
    if let Some(opts) = raw.schedule {
        let span = opts.span();
        let mut opts: ImportOptions = opts.into_inner();
        if opts.file.is_relative() {
            opts.file = base.join(&opts.file);
        }
        if let Some(f) = opts.speakers_file.as_mut().filter(|f| f.is_relative()) {
            *f = base.join(&*f);
        }
        opts.join = opts.join.take().map(|f| base.join(f));
        opts.date = opts.date.or(event.date);
        schedule_file = Some(opts.file.clone());
        let imported = if is_sessions_file(&opts) {
            sessions_file(&opts.file, &event, &mut HashSet::new(), &mut warnings, p)
        } else {
            schedule::import(&opts.file, &opts, Some(event.timezone)).map(Some)
        };
        match imported.map(|s| s.unwrap_or_default()) {
            Ok(Schedule { sessions: imported, warnings: w, .. }) => {
                warnings.extend(w);
                for s in imported {
                    if !explicit_ids.insert(s.id.clone()) {
                        p.at(
                            span.clone(),
                            "schedule",
                            format!(
                                "session id {:?} is also used by a [[session]] entry; give one of them another `id`",
                                s.id
                            ),
                        );
                    }
                    sessions.push(s);
                }
            }
            Err(e) => p.at(span, "schedule.file", e.to_string()),
        }
    }
    sessions.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));

    let primaries: Vec<String> = accounts.iter().filter(|a| a.role == Role::Primary).map(|a| a.id.clone()).collect();
    let mut recurring = Vec::new();
    let mut recurring_ids = HashSet::new();
    for (i, r) in raw.recurring.into_iter().enumerate() {
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
            None => primaries.clone(),
        };
        if let Some(cron) = cron {
            recurring.push(Recurring { id, cron, text, accounts: who });
        }
    }

    let compose = validate_templates(raw.compose.unwrap_or_default(), p);
    let catch_up = spanned_duration(raw.run.as_ref().and_then(|r| r.catch_up.as_ref()), "run.catch_up", "10m", p);
    let report = report::validate(raw.report, p);
    let (follows, reposts) = follow::validate(raw.follow, raw.repost, &accounts, &event, p, &mut warnings);

    let state_dir = match raw.state.and_then(|s| s.dir) {
        Some(dir) => {
            let d = PathBuf::from(dir.get_ref());
            if d.is_relative() {
                base.join(d)
            } else {
                d
            }
        }
        None => default_state_dir(&event),
    };

    if sessions.is_empty() && recurring.is_empty() {
        warnings.push("the config has no sessions and no recurring posts: nothing will be posted".into());
    }

    Some(Config {
        path: path.to_owned(),
        event,
        accounts,
        amplify: Amplify { delay, jitter, rate },
        sessions,
        recurring,
        compose,
        catch_up,
        report,
        follows,
        reposts,
        state_dir,
        schedule_file,
        warnings,
    })
}

/// A `[schedule] file` ending in `.toml` holds loudhailer's own sessions, as `loudhailer import`
/// writes them: an optional `[event]` (its `timezone` and `date` read the times) and
/// `[[session]]` entries, checked exactly like the config's own.
fn is_sessions_file(opts: &ImportOptions) -> bool {
    opts.format == schedule::Format::Auto && opts.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessionsFile {
    #[serde(default)]
    event: Option<RawSessionsEvent>,
    #[serde(default)]
    session: Vec<S<RawSession>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessionsEvent {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    timezone: Option<S<String>>,
    #[serde(default)]
    date: Option<S<toml::Value>>,
}

/// Reads a sessions file; its problems are reported against its own lines. `Ok(None)` when
/// it had problems (already recorded).
fn sessions_file(
    path: &Path,
    event: &Event,
    ids: &mut HashSet<String>,
    warnings: &mut Vec<String>,
    outer: &mut Problems<'_>,
) -> Result<Option<Schedule>, schedule::ImportError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| schedule::ImportError::Read { path: path.to_owned(), source })?;
    let mut p = Problems::new(path, &text);
    let raw: RawSessionsFile = match toml::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            p.serde(&e);
            outer.list.extend(p.list);
            return Ok(None);
        }
    };
    let mut local = event.clone();
    if let Some(ev) = raw.event {
        if let Some(tz) = ev.timezone {
            match tz.get_ref().parse::<Tz>() {
                Ok(z) => local.timezone = z,
                Err(_) => p.at(tz.span(), "event.timezone", format!("unknown time zone {:?}", tz.get_ref())),
            }
        }
        if let Some(d) = ev.date {
            match values::date(d.get_ref()) {
                Ok(date) => local.date = Some(date),
                Err(e) => p.at(d.span(), "event.date", e),
            }
        }
        let _ = ev.name;
    }
    let mut sessions = Vec::new();
    for (i, s) in raw.session.into_iter().enumerate() {
        if let Some(session) = validate_session(i, s, &local, &mut p, ids, warnings) {
            sessions.push(session);
        }
    }
    let ok = p.list.is_empty();
    outer.list.extend(p.list);
    Ok(ok.then(|| Schedule { sessions, ..Default::default() }))
}

/// One directory per event under the XDG data dir: `~/.local/share/loudhailer/<event>`.
fn default_state_dir(event: &Event) -> PathBuf {
    let mut name = schedule::slug(&event.name);
    if let Some(d) = event.date {
        name = format!("{name}-{d}");
    }
    directories::ProjectDirs::from("", "", "loudhailer")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| PathBuf::from(".loudhailer"))
        .join(name)
}

fn spanned_duration(v: Option<&S<String>>, key: &str, default: &str, p: &mut Problems<'_>) -> Duration {
    match v {
        Some(v) => values::duration(v.get_ref()).unwrap_or_else(|e| {
            p.at(v.span(), key, e);
            Duration::ZERO
        }),
        None => values::duration(default).unwrap_or_default(),
    }
}

fn validate_event(raw: S<raw::RawEvent>, p: &mut Problems<'_>) -> Option<Event> {
    let raw = raw.into_inner();
    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        p.at(raw.name.span(), "event.name", "must not be empty");
    }
    let timezone: Tz = match raw.timezone.get_ref().trim().parse() {
        Ok(tz) => tz,
        Err(_) => {
            p.at(
                raw.timezone.span(),
                "event.timezone",
                format!(
                    "unknown time zone {:?}: expected an IANA name such as \"Europe/London\"",
                    raw.timezone.get_ref()
                ),
            );
            return None;
        }
    };
    let date =
        raw.date.as_ref().and_then(|d| values::date(d.get_ref()).map_err(|e| p.at(d.span(), "event.date", e)).ok());
    let hashtags = raw
        .hashtags
        .iter()
        .filter_map(|h| {
            let tag = h.get_ref().trim();
            let bare = tag.trim_start_matches('#');
            if bare.is_empty() || !bare.chars().all(|c| c.is_alphanumeric() || c == '_') {
                p.at(
                    h.span(),
                    "event.hashtags",
                    format!("{tag:?} is not a hashtag: expected letters, digits or _ after #"),
                );
                None
            } else {
                Some(format!("#{bare}"))
            }
        })
        .collect();
    let language = raw.language.as_ref().map(|l| checked_language(l, "event.language", p));
    let hours = raw.hours.as_ref().and_then(|h| {
        let list = h.get_ref();
        let parsed: Vec<_> = list.iter().filter_map(|t| values::clock_time(t)).collect();
        match parsed.as_slice() {
            [a, b] if list.len() == 2 && a < b => Some((*a, *b)),
            _ => {
                p.at(h.span(), "event.hours", "expected two times, the first earlier, such as [\"09:00\", \"17:30\"]");
                None
            }
        }
    });
    Some(Event { name, timezone, date, hashtags, language, hours })
}

fn checked_language(l: &S<String>, key: &str, p: &mut Problems<'_>) -> String {
    let tag = l.get_ref().trim();
    let ok = !tag.is_empty()
        && tag.len() <= 35
        && tag.split('-').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
        && tag
            .split('-')
            .next()
            .is_some_and(|first| (2..=3).contains(&first.len()) && first.chars().all(|c| c.is_ascii_alphabetic()));
    if !ok {
        p.at(l.span(), key, format!("{tag:?} is not a language tag such as \"en\" or \"pt-BR\""));
    }
    tag.to_string()
}

/// Ids that appear in job ids: lower-case letters, digits, `-` and `_`.
fn checked_id(id: &S<String>, key: &str, p: &mut Problems<'_>) -> String {
    let text = id.get_ref().trim();
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        p.at(id.span(), key, format!("{text:?}: expected lower-case letters, digits, '-' or '_'"));
    }
    text.to_string()
}

fn validate_accounts(raw: Vec<S<RawAccount>>, base: &Path, p: &mut Problems<'_>) -> Vec<Account> {
    let mut accounts = Vec::new();
    let mut seen = HashSet::new();
    for (i, a) in raw.into_iter().enumerate() {
        let span = a.span();
        let a = a.into_inner();
        let id = checked_id(&a.id, &format!("account[{}].id", i + 1), p);
        let key = format!("account[{id}]");
        if !seen.insert(id.clone()) {
            p.at(a.id.span(), format!("{key}.id"), "another account has the same id");
        }
        let network = match a.platform.get_ref().as_str() {
            "mastodon" => Some(Network::Mastodon),
            "bluesky" => Some(Network::Bluesky),
            "x" => Some(Network::X),
            other => {
                p.at(
                    a.platform.span(),
                    format!("{key}.platform"),
                    format!("unknown platform {other:?}: expected \"mastodon\", \"bluesky\" or \"x\""),
                );
                None
            }
        };
        let server = match (&a.server, network) {
            (None, Some(Network::X)) => Url::parse(x::DEFAULT_SERVER).ok(),
            (None, _) => {
                p.at(
                    span.clone(),
                    format!("{key}.server"),
                    "needs server (the address of the account's server, such as \"https://mastodon.social\")",
                );
                None
            }
            (Some(server), _) => match Url::parse(server.get_ref().trim()) {
                Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Some(u),
                _ => {
                    p.at(
                        server.span(),
                        format!("{key}.server"),
                        format!("{:?} is not a server address such as \"https://mastodon.social\"", server.get_ref()),
                    );
                    None
                }
            },
        };
        let role = match a.role.as_ref().map(|r| r.get_ref().as_str()) {
            None | Some("primary") => Role::Primary,
            Some("amplifier") => Role::Amplifier,
            Some(other) => {
                let span = a.role.as_ref().map_or(span.clone(), |r| r.span());
                p.at(
                    span,
                    format!("{key}.role"),
                    format!("unknown role {other:?}: expected \"primary\" or \"amplifier\""),
                );
                Role::Primary
            }
        };
        if network != Some(Network::X) && a.has_x_keys() {
            p.at(span.clone(), key.clone(), "consumer_key_env, access_token_env, client_id and the other OAuth keys are for X accounts (platform = \"x\")");
        }
        let mut x_auth = None;
        let secret = match network {
            Some(Network::X) => {
                x_auth = x::auth(&a, &key, span.clone(), base, p);
                None
            }
            Some(Network::Bluesky) => {
                if a.token_env.is_some() || a.token_file.is_some() {
                    p.at(span.clone(), key.clone(), "Bluesky accounts take password_env or password_file (an app password), not token_env/token_file");
                }
                if a.identifier.is_none() {
                    p.at(
                        span.clone(),
                        format!("{key}.identifier"),
                        "a Bluesky account needs identifier (its handle or DID)",
                    );
                }
                Some(secret_source(&a.password_env, &a.password_file, "password", &key, span.clone(), base, p))
            }
            _ => {
                if a.password_env.is_some() || a.password_file.is_some() || a.identifier.is_some() {
                    p.at(span.clone(), key.clone(), "identifier and password_env/password_file are for Bluesky accounts; Mastodon takes token_env or token_file");
                }
                Some(secret_source(&a.token_env, &a.token_file, "token", &key, span.clone(), base, p))
            }
        };
        let rate = a
            .rate
            .as_ref()
            .and_then(|r| values::rate(r.get_ref()).map_err(|e| p.at(r.span(), format!("{key}.rate"), e)).ok());
        let language = a.language.as_ref().map(|l| checked_language(l, &format!("{key}.language"), p));
        let visibility = a.visibility.as_ref().map(|v| {
            let text = v.get_ref().clone();
            if !matches!(text.as_str(), "public" | "unlisted" | "private") {
                p.at(v.span(), format!("{key}.visibility"), "expected \"public\", \"unlisted\" or \"private\"");
            }
            text
        });
        let credentials_ok = match network {
            Some(Network::X) => x_auth.is_some(),
            _ => matches!(secret, Some(Some(_))),
        };
        if let (Some(network), Some(server), true) = (network, server, credentials_ok) {
            accounts.push(Account {
                id,
                network,
                server,
                role,
                secret: secret.flatten(),
                x: x_auth,
                identifier: a.identifier.map(|i| i.into_inner().trim().to_string()),
                rate,
                language,
                visibility,
            });
        }
    }
    if accounts.is_empty() && p.list.is_empty() {
        p.nowhere("account", "no [[account]]: at least one account with role = \"primary\" is needed");
    } else if !accounts.is_empty() && !accounts.iter().any(|a| a.role == Role::Primary) {
        p.nowhere("account", "no account has role = \"primary\": someone has to post");
    }
    accounts
}

pub(crate) fn secret_source(
    env: &Option<S<String>>,
    file: &Option<S<String>>,
    what: &str,
    key: &str,
    span: std::ops::Range<usize>,
    base: &Path,
    p: &mut Problems<'_>,
) -> Option<SecretSource> {
    match (env, file) {
        (Some(e), None) => {
            let name = e.get_ref().trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                p.at(e.span(), format!("{key}.{what}_env"), format!("{name:?} is not an environment variable name"));
            }
            Some(SecretSource::Env(name.to_string()))
        }
        (None, Some(f)) => {
            let path = PathBuf::from(f.get_ref());
            Some(SecretSource::File(if path.is_relative() { base.join(path) } else { path }))
        }
        (Some(_), Some(_)) => {
            p.at(span, key.to_string(), format!("give {what}_env or {what}_file, not both"));
            None
        }
        (None, None) => {
            p.at(span, key.to_string(), format!("needs {what}_env (the name of an environment variable) or {what}_file (a file only you can read); secrets never go in the config"));
            None
        }
    }
}

fn validate_session(
    index: usize,
    raw: S<RawSession>,
    event: &Event,
    p: &mut Problems<'_>,
    ids: &mut HashSet<String>,
    warnings: &mut Vec<String>,
) -> Option<Session> {
    let raw = raw.into_inner();
    let title = raw.title.get_ref().trim().to_string();
    let mut key = format!("session[{}]", index + 1);
    if title.is_empty() {
        p.at(raw.title.span(), format!("{key}.title"), "must not be empty");
    }
    let id = match &raw.id {
        Some(id) => {
            let id_text = checked_id(id, &format!("{key}.id"), p);
            if !ids.insert(id_text.clone()) {
                p.at(id.span(), format!("{key}.id"), format!("another session has the id {id_text:?}"));
            }
            id_text
        }
        None => {
            let base = schedule::slug(&title);
            let mut candidate = base.clone();
            let mut n = 2;
            while !ids.insert(candidate.clone()) {
                candidate = format!("{base}-{n}");
                n += 1;
            }
            candidate
        }
    };
    key = format!("{key} ({id})");
    let tz = event.timezone;
    let start = values::instant(raw.start.get_ref(), tz, event.date)
        .map_err(|e| p.at(raw.start.span(), format!("{key}.start"), e))
        .ok();
    let end = match (&raw.end, &raw.duration) {
        (Some(_), Some(d)) => {
            p.at(d.span(), format!("{key}.duration"), "give end or duration, not both");
            None
        }
        (Some(end), None) => {
            values::instant(end.get_ref(), tz, event.date).map_err(|e| p.at(end.span(), format!("{key}.end"), e)).ok()
        }
        (None, Some(d)) => match (values::duration(d.get_ref()), start) {
            (Ok(d), Some(s)) => chrono::Duration::from_std(d).ok().map(|d| s + d),
            (Err(e), _) => {
                p.at(d.span(), format!("{key}.duration"), e);
                None
            }
            _ => None,
        },
        (None, None) => {
            warnings.push(format!("{key}: no end or duration given; it is taken to last 30 minutes"));
            start.map(|s| s + chrono::Duration::minutes(30))
        }
    };
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            let span = raw.end.as_ref().map_or(raw.start.span(), |e| e.span());
            p.at(
                span,
                format!("{key}.end"),
                format!(
                    "the session ends ({}) before it starts ({})",
                    e.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                    s.with_timezone(&tz).format("%Y-%m-%d %H:%M")
                ),
            );
        }
    }
    let speakers = raw
        .speakers
        .iter()
        .map(|s| match s.get_ref() {
            RawSpeaker::Name(name) => Speaker { name: name.trim().to_string(), ..Default::default() },
            RawSpeaker::Full(f) => {
                if let Some(m) = &f.mastodon {
                    let parts: Vec<_> = m.trim_start_matches('@').split('@').collect();
                    if parts.len() != 2 || parts.iter().any(|x| x.is_empty()) {
                        p.at(
                            s.span(),
                            format!("{key}.speakers"),
                            format!("mastodon = {m:?}: expected \"@user@server\""),
                        );
                    }
                }
                Speaker {
                    name: f.name.trim().to_string(),
                    mastodon: f.mastodon.as_ref().map(|m| format!("@{}", m.trim().trim_start_matches('@'))),
                    bluesky: f.bluesky.as_ref().map(|b| b.trim().trim_start_matches('@').to_string()),
                    x: f.x.as_ref().map(|x| x.trim().trim_start_matches('@').to_string()),
                }
            }
        })
        .collect();
    let mut points = Vec::new();
    for (j, pt) in raw.points.iter().enumerate() {
        let pkey = format!("{key}.points[{}]", j + 1);
        let (text, at) = match pt.get_ref() {
            RawPoint::Text(t) => (t.trim().to_string(), None),
            RawPoint::Timed(t) => {
                let at =
                    values::instant(&t.at, tz, event.date.or_else(|| start.map(|s| s.with_timezone(&tz).date_naive())))
                        .map_err(|e| p.at(pt.span(), format!("{pkey}.at"), e))
                        .ok();
                if let (Some(at), Some(s), Some(e)) = (at, start, end) {
                    if at < s || at > e {
                        warnings.push(format!("{pkey}: its time is outside the session"));
                    }
                }
                (t.text.trim().to_string(), at)
            }
        };
        if text.is_empty() {
            p.at(pt.span(), pkey, "must not be empty");
        }
        points.push(Point { text, at });
    }
    let mut hashtags_extra = Vec::new();
    for h in &raw.hashtags {
        let bare = h.get_ref().trim().trim_start_matches('#');
        if bare.is_empty() || !bare.chars().all(|c| c.is_alphanumeric() || c == '_') {
            p.at(h.span(), format!("{key}.hashtags"), "expected hashtags such as \"#keynote\"");
        } else {
            hashtags_extra.push(format!("#{bare}"));
        }
    }
    let language = raw.language.as_ref().map(|l| checked_language(l, &format!("{key}.language"), p));
    let (start, end) = (start?, end?);
    Some(Session {
        id,
        title,
        start,
        end,
        speakers,
        points,
        room: raw.room,
        track: raw.track,
        day: Some(start.with_timezone(&tz).date_naive()),
        abstract_text: raw.abstract_text,
        url: raw.url,
        language,
        hashtags: hashtags_extra,
    })
}

fn validate_templates(raw: raw::RawCompose, p: &mut Problems<'_>) -> Templates {
    let mut t = Templates::default();
    for (value, slot, key) in [
        (raw.title, &mut t.title, "compose.title"),
        (raw.point, &mut t.point, "compose.point"),
        (raw.note, &mut t.note, "compose.note"),
    ] {
        if let Some(v) = value {
            let mut env = minijinja::Environment::new();
            match env.add_template("t", v.get_ref()) {
                Ok(()) => *slot = v.into_inner(),
                Err(e) => p.at(v.span(), key, format!("not a valid template: {e}")),
            }
        }
    }
    t
}

/// The instants of each recurring entry inside the event's hours, per day with sessions (or
/// `event.date` when there are none).
pub fn recurring_instants(config: &Config, rec: &Recurring) -> Vec<DateTime<Utc>> {
    let tz = config.event.timezone;
    let mut out = Vec::new();
    for (from, until) in event_hours(config) {
        let start = (from - chrono::Duration::seconds(1)).with_timezone(&tz);
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

/// The event's hours, day by day, in order: each day's first session start to its last end, or
/// `[event] hours` on each day with sessions (or on `event.date` when there are none).
pub fn event_hours(config: &Config) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = config.event.timezone;
    let mut windows: BTreeMap<NaiveDate, (DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for s in &config.sessions {
        let day = s.local_date(tz);
        let w = windows.entry(day).or_insert((s.start, s.end));
        w.0 = w.0.min(s.start);
        w.1 = w.1.max(s.end);
    }
    if let (Some(date), true) = (config.event.date, windows.is_empty()) {
        if let Some((a, b)) = config.event.hours {
            if let (Ok(a), Ok(b)) =
                (values::local_instant(tz, date.and_time(a)), values::local_instant(tz, date.and_time(b)))
            {
                windows.insert(date, (a, b));
            }
        }
    }
    let mut out = Vec::new();
    for (day, (mut from, mut until)) in windows {
        if let Some((a, b)) = config.event.hours {
            if let (Ok(a), Ok(b)) =
                (values::local_instant(tz, day.and_time(a)), values::local_instant(tz, day.and_time(b)))
            {
                from = a;
                until = b;
            }
        }
        out.push((from, until));
    }
    out
}

#[cfg(test)]
mod tests;

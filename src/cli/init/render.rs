//! The starter config `loudhailer init` writes: what was decided ([`Starter`]) → commented TOML
//! that `loudhailer check` accepts as it is. Pure: no files, no clock.

use std::fmt::Write as _;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::handle::{ids, Handle};

/// Everything the starter config says.
#[derive(Debug, Clone)]
pub struct Starter {
    pub name: String,
    pub timezone: Tz,
    pub date: Option<NaiveDate>,
    pub hashtags: Vec<String>,
    pub schedule: Option<ScheduleRef>,
    /// Posting accounts, in order.
    pub primaries: Vec<Handle>,
    pub amplifiers: Vec<Handle>,
    /// The day it is written, for the header.
    pub today: NaiveDate,
}

/// The schedule file, as the config names it, and what was found in it.
#[derive(Debug, Clone)]
pub struct ScheduleRef {
    /// The path as written in the config (relative to the config's folder where it can be).
    pub file: String,
    /// Where it was downloaded from.
    pub source: Option<String>,
    pub sessions: usize,
}

/// One account of the config, with its id.
#[derive(Debug, Clone)]
pub struct Named<'a> {
    pub id: String,
    pub handle: &'a Handle,
    pub amplifier: bool,
}

impl Starter {
    /// The accounts with their ids, primaries first.
    pub fn accounts(&self) -> Vec<Named<'_>> {
        let all: Vec<(&Handle, bool)> =
            self.primaries.iter().map(|h| (h, false)).chain(self.amplifiers.iter().map(|h| (h, true))).collect();
        let handles: Vec<&Handle> = all.iter().map(|(h, _)| *h).collect();
        ids(&handles).into_iter().zip(all).map(|(id, (handle, amplifier))| Named { id, handle, amplifier }).collect()
    }
}

/// The environment variable a Bluesky account's app password is read from.
pub fn password_env(id: &str) -> String {
    format!("LOUDHAILER_{}_PASSWORD", id.to_ascii_uppercase().replace('-', "_"))
}

/// A TOML string (quoted and escaped).
fn q(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The config text.
pub fn render(s: &Starter) -> String {
    let mut t = String::new();
    let w = &mut t;
    let _ = writeln!(w, "# loudhailer config for {}, written by `loudhailer init` on {}.", s.name, s.today);
    let _ = writeln!(w, "# Every key is shown in config/example.toml in loudhailer's source. Before the day:");
    let _ = writeln!(w, "#   loudhailer check              the config, the schedule and the credentials");
    let _ = writeln!(w, "#   loudhailer run --dry-run      every post, at its time, without sending anything");
    let _ = writeln!(w, "#   loudhailer run                the real thing (see docs/operating.md to keep it running)");
    let _ = writeln!(w);
    let _ = writeln!(w, "[event]");
    let _ = writeln!(w, "name = {}", q(&s.name));
    let _ = writeln!(w, "timezone = {}   # clock times without an offset are in this zone", q(s.timezone.name()));
    match s.date {
        Some(d) => {
            let _ = writeln!(w, "date = {d}            # \"HH:MM\" times are on this day");
        }
        None => {
            let _ =
                writeln!(w, "# date = 2030-05-16      # the day \"HH:MM\" times are on, for sessions written by hand");
        }
    }
    if s.hashtags.is_empty() {
        let _ = writeln!(w, "# hashtags = [\"#MyEvent\"] # added to every post");
    } else {
        let tags: Vec<String> = s.hashtags.iter().map(|h| q(h)).collect();
        let _ = writeln!(w, "hashtags = [{}]   # added to every post", tags.join(", "));
    }
    let _ = writeln!(w, "# language = \"en\"         # the posts' language (ISO 639-1)");
    let accounts = s.accounts();
    for a in &accounts {
        let _ = writeln!(w);
        account(w, a);
    }
    if accounts.iter().any(|a| a.amplifier) {
        let _ = writeln!(w);
        let _ = writeln!(w, "[amplify]");
        let _ = writeln!(w, "delay = \"5m\"     # boost this long after the post");
        let _ = writeln!(w, "jitter = \"1m\"    # ± this much, so boosts do not look mechanical");
        let _ = writeln!(w, "rate = \"20/h\"    # at most this many boosts per amplifier account");
    }
    let _ = writeln!(w);
    match &s.schedule {
        Some(sched) => {
            if let Some(url) = &sched.source {
                let _ = writeln!(w, "# Downloaded from {url} on {}; download it again to update it.", s.today);
            }
            let _ = writeln!(
                w,
                "# {} sessions; the file is read again at each start and on `loudhailer reload`.",
                sched.sessions
            );
            let _ = writeln!(
                w,
                "# Keep some sessions only: track = \"…\", room = \"…\", day = 1 (`loudhailer import --help`)."
            );
            let _ = writeln!(w, "[schedule]");
            let _ = writeln!(w, "file = {}", q(&sched.file));
        }
        None => {
            let _ =
                writeln!(w, "# The programme: a schedule file (frab/pretalx XML, c3voc JSON, iCalendar, Sessionize,");
            let _ = writeln!(
                w,
                "# CSV; `loudhailer import --help`), or sessions written here. Nothing is posted until there is one."
            );
            let _ = writeln!(w, "# [schedule]");
            let _ = writeln!(w, "# file = \"schedule.xml\"");
            let _ = writeln!(w, "#");
            let _ = writeln!(w, "# [[session]]");
            let _ = writeln!(w, "# id = \"opening\"");
            let _ = writeln!(w, "# title = \"Opening\"");
            let _ = writeln!(w, "# start = \"09:00\"          # on [event] date");
            let _ = writeln!(w, "# duration = \"30m\"");
            let _ = writeln!(w, "# points = [\"What the day is about, in one line.\"]");
        }
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "[state]");
    let _ = writeln!(w, "# Where jobs, outcomes and sign-in tokens are kept (owner-only). Left out: one directory per");
    let _ = writeln!(w, "# event under ~/.local/share/loudhailer/. A service sets it with --state-dir.");
    let _ = writeln!(w, "# dir = \"state\"");
    t
}

fn account(w: &mut String, a: &Named<'_>) {
    let role = if a.amplifier { "amplifier" } else { "primary" };
    match a.handle {
        Handle::Mastodon { user, server } => {
            let host = server.host_str().unwrap_or_default();
            if a.amplifier {
                let _ = writeln!(w, "# @{user}@{host} boosts the primary accounts' posts on Mastodon.");
            } else {
                let _ = writeln!(w, "# @{user}@{host} posts each session's title and key points as a thread.");
            }
            let _ = writeln!(w, "# Sign it in once (a browser opens): loudhailer login mastodon --account {}", a.id);
            let _ = writeln!(w, "# (or give token_env = \"NAME\" or token_file = \"path\" instead)");
            let _ = writeln!(w, "[[account]]");
            let _ = writeln!(w, "id = {}", q(&a.id));
            let _ = writeln!(w, "platform = \"mastodon\"");
            let _ = writeln!(w, "server = {}", q(server.as_str().trim_end_matches('/')));
            let _ = writeln!(w, "role = \"{role}\"");
        }
        Handle::Bluesky { handle } => {
            if a.amplifier {
                let _ = writeln!(w, "# {handle} reposts the primary accounts' posts on Bluesky.");
            } else {
                let _ = writeln!(w, "# {handle} posts each session's title and key points as a thread.");
            }
            let _ =
                writeln!(w, "# Its app password (Settings → Privacy and security → App passwords) in the environment:");
            let _ = writeln!(w, "#   export {}=xxxx-xxxx-xxxx-xxxx", password_env(&a.id));
            let _ = writeln!(w, "[[account]]");
            let _ = writeln!(w, "id = {}", q(&a.id));
            let _ = writeln!(w, "platform = \"bluesky\"");
            let _ = writeln!(
                w,
                "server = \"https://bsky.social\"   # the account's PDS: bsky.social unless hosted elsewhere"
            );
            let _ = writeln!(w, "identifier = {}", q(handle));
            let _ = writeln!(
                w,
                "password_env = {}   # or password_file = \"path\" (a file only you can read)",
                q(&password_env(&a.id))
            );
            let _ = writeln!(w, "role = \"{role}\"");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starter() -> Starter {
        Starter {
            name: "Rust \"Nation\" Day".into(),
            timezone: chrono_tz::Europe::London,
            date: NaiveDate::from_ymd_opt(2030, 5, 16),
            hashtags: vec!["#RND".into()],
            schedule: None,
            primaries: vec![
                Handle::mastodon("@ada@mastodon.example").unwrap(),
                Handle::bluesky("ada.bsky.social").unwrap(),
            ],
            amplifiers: vec![Handle::either("@org@mastodon.example").unwrap()],
            today: NaiveDate::from_ymd_opt(2030, 4, 1).unwrap(),
        }
    }

    #[test]
    fn the_starter_parses_as_a_config() {
        let text = render(&starter());
        let config = crate::config::Config::parse(std::path::Path::new("loudhailer.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.event.name, "Rust \"Nation\" Day");
        let ids: Vec<&str> = config.accounts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["ada", "ada-bsky", "org"]);
        assert_eq!(config.account("ada").unwrap().secret, None, "signs in with loudhailer login");
        assert_eq!(config.amplifiers().count(), 1);
        assert!(text.contains("loudhailer login mastodon --account ada"), "{text}");
        assert!(text.contains("export LOUDHAILER_ADA_BSKY_PASSWORD="), "{text}");
        assert!(config.warnings.iter().any(|w| w.contains("nothing will be posted")), "{:?}", config.warnings);
    }

    #[test]
    fn no_amplifier_no_amplify_table() {
        let mut s = starter();
        s.amplifiers.clear();
        s.date = None;
        s.hashtags.clear();
        let text = render(&s);
        assert!(!text.contains("[amplify]"), "{text}");
        crate::config::Config::parse(std::path::Path::new("loudhailer.toml"), &text).unwrap();
    }
}

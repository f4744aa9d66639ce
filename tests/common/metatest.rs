//! Shared by the Facebook Pages and Threads end-to-end tests: configs with a Mastodon delegate, an
//! organisation's Facebook Page, a Threads delegate and a Threads amplifier, pointed at the test
//! servers; the environment they read their tokens from.

use super::facebook::{self, FacebookServer};
use super::lh::in_secs;
use super::threads::{self, ThreadsServer};

/// The council's Page (managed by faith_council).
pub const PAGE: &str = facebook::PAGES[1].0;

pub const ENV: [(&str, &str); 7] = [
    ("LH_DELEGATE", "ada_token"),
    ("LH_PAGE", facebook::COUNCIL_PAGE_TOKEN),
    ("LH_TH_ADA", threads::ADA_TOKEN),
    ("LH_TH_FAITH", threads::FAITH_TOKEN),
    ("LH_FB_SECRET", facebook::APP_SECRET),
    ("LH_TH_SECRET", threads::APP_SECRET),
    ("LH_ADA_PAGE", facebook::ADA_PAGE_TOKEN),
];

/// A config with a Mastodon delegate (`delegate`) when `mastodon` names its server, the council's
/// Page amplifying (`page`) with `fb`, and with `th` a Threads delegate (`th-delegate`) and the
/// council reposting on Threads (`th-council`); boosts a second after each post; `extra` tables
/// at the end.
pub fn config(
    mastodon: Option<&str>,
    fb: Option<&FacebookServer>,
    th: Option<&ThreadsServer>,
    sessions: &str,
    extra: &str,
) -> String {
    let mut text =
        String::from("[event]\nname = \"Test day on Meta\"\ntimezone = \"Europe/London\"\nhashtags = [\"#EMIEP\"]\n\n");
    if let Some(base) = mastodon {
        text.push_str(&format!(
            "[[account]]\nid = \"delegate\"\nplatform = \"mastodon\"\nserver = \"{base}\"\ntoken_env = \"LH_DELEGATE\"\n\n"
        ));
    }
    if let Some(fb) = fb {
        text.push_str(&format!(
            "[[account]]\nid = \"page\"\nplatform = \"facebook\"\nserver = \"{}\"\npage = \"{PAGE}\"\ntoken_env = \"LH_PAGE\"\nrole = \"amplifier\"\n\n",
            fb.base
        ));
    }
    if let Some(th) = th {
        text.push_str(&format!(
            "[[account]]\nid = \"th-delegate\"\nplatform = \"threads\"\nserver = \"{0}\"\ntoken_env = \"LH_TH_ADA\"\n\n[[account]]\nid = \"th-council\"\nplatform = \"threads\"\nserver = \"{0}\"\ntoken_env = \"LH_TH_FAITH\"\nrole = \"amplifier\"\n\n",
            th.base
        ));
    }
    text.push_str("[amplify]\ndelay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"\n\n[state]\ndir = \"{STATE}\"\n\n");
    text.push_str(extra);
    text.push_str("\n\n");
    text.push_str(sessions);
    text
}

pub fn session(title: &str, start: i64, end: i64, points: &[&str]) -> String {
    format!(
        "[[session]]\ntitle = {title:?}\nstart = \"{}\"\nend = \"{}\"\npoints = {points:?}\n\n",
        in_secs(start),
        in_secs(end)
    )
}

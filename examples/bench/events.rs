//! The events the benchmarks run: configs written as a user would write them.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

/// Where the accounts' tokens are read from.
pub const DELEGATE_ENV: &str = "LH_BENCH_DELEGATE";
pub const COUNCIL_ENV: &str = "LH_BENCH_COUNCIL";

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `[event]`, a Mastodon delegate (primary) and, if `amplify` is given, a Mastodon council
/// (amplifier) on `server`, and the state dir.
fn head(name: &str, server: &str, state: &Path, amplify: Option<&str>) -> String {
    let mut s = format!(
        r##"[event]
name = "{name}"
timezone = "UTC"
hashtags = ["#BENCH"]

[[account]]
id = "delegate"
platform = "mastodon"
server = "{server}"
token_env = "{DELEGATE_ENV}"
"##
    );
    if let Some(amplify) = amplify {
        let _ = write!(
            s,
            r##"
[[account]]
id = "council"
platform = "mastodon"
server = "{server}"
token_env = "{COUNCIL_ENV}"
role = "amplifier"

[amplify]
{amplify}
"##
        );
    }
    let _ = write!(s, "\n[state]\ndir = {:?}\n\n", state.display().to_string());
    s
}

/// The marker that makes each post's text unique and names its job: `lh{session}x{item}`.
pub fn marker(session: usize, item: usize) -> String {
    format!("lh{session:04}x{item:02}")
}

/// Lateness: `sessions` sessions of `posts` posts each (a title and its points, each point at
/// its own time), the first at `t0`, spread over `span_secs`, so that the posts do not all
/// fall on the same instants; every post boosted 3 s ± 2 s later.
pub fn lateness(
    server: &str,
    state: &Path,
    t0: DateTime<Utc>,
    sessions: usize,
    posts: usize,
    span_secs: f64,
) -> String {
    let mut s = head("Lateness", server, state, Some("delay = \"3s\"\njitter = \"2s\"\nrate = \"100000/h\""));
    // Each session's thread takes a sixth of the span; sessions start evenly over the rest.
    let thread = span_secs / 6.0;
    let step = (span_secs - thread) / sessions.max(1) as f64;
    // Not a simple fraction of the step, so posts of different sessions rarely coincide.
    let gap = 0.9137 * thread / posts.max(1) as f64;
    for k in 0..sessions {
        let start = t0 + ms(k as f64 * step);
        let at = |i: usize| start + ms(i as f64 * gap);
        let points: Vec<String> = (1..posts)
            .map(|i| format!("{{ text = \"Point {} of session {k}\", at = \"{}\" }}", marker(k, i), rfc3339(at(i))))
            .collect();
        let _ = write!(
            s,
            "[[session]]\nid = \"s{k:04}\"\ntitle = \"Session {}\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\n  {}\n]\n\n",
            marker(k, 0),
            rfc3339(start),
            rfc3339(at(posts) + chrono::Duration::seconds(1)),
            points.join(",\n  ")
        );
    }
    s
}

fn ms(secs: f64) -> chrono::Duration {
    chrono::Duration::microseconds((secs * 1e6) as i64)
}

/// Sessions of a title and `points` points each, 30 minutes long, the first starting at
/// `first`, the rest spread evenly over `days`: a programme pending over the coming days.
pub fn programme(
    server: &str,
    state: &Path,
    first: DateTime<Utc>,
    sessions: usize,
    points: usize,
    days: i64,
) -> String {
    let mut s = head("Programme", server, state, Some("delay = \"5m\"\njitter = \"1m\"\nrate = \"100/h\""));
    let step = chrono::Duration::days(days) / sessions.max(1) as i32;
    for k in 0..sessions {
        let start = first + step * k as i32;
        let points: Vec<String> = (1..=points).map(|i| format!("\"Point {} of session {k}\"", marker(k, i))).collect();
        let _ = write!(
            s,
            "[[session]]\nid = \"s{k:05}\"\ntitle = \"Session {}\"\nstart = \"{}\"\nduration = \"30m\"\npoints = [{}]\n\n",
            marker(k, 0),
            rfc3339(start),
            points.join(", ")
        );
    }
    s
}

/// Rate budget: `n` sessions whose titles are all due at `t0`, from the delegate alone.
pub fn burst(server: &str, state: &Path, t0: DateTime<Utc>, n: usize) -> String {
    let mut s = head("Burst", server, state, None);
    for k in 0..n {
        let _ = write!(
            s,
            "[[session]]\nid = \"s{k:04}\"\ntitle = \"Session {}\"\nstart = \"{}\"\nduration = \"30m\"\n\n",
            marker(k, 0),
            rfc3339(t0)
        );
    }
    s
}

/// Three accounts on two networks: a delegate on Mastodon and on Bluesky, and the council
/// boosting the Mastodon posts. `sessions` is either a `[schedule]` table or `[[session]]`s.
pub fn three_accounts(state: &Path, timezone: &str, sessions: &str) -> String {
    format!(
        r##"[event]
name = "Scale"
timezone = "{timezone}"
hashtags = ["#BENCH"]

[[account]]
id = "delegate"
platform = "mastodon"
server = "https://mastodon.example"
token_env = "{DELEGATE_ENV}"

[[account]]
id = "delegate-bsky"
platform = "bluesky"
server = "https://bsky.example"
identifier = "delegate.bsky.example"
password_env = "LH_BENCH_BSKY"

[[account]]
id = "council"
platform = "mastodon"
server = "https://mastodon.example"
token_env = "{COUNCIL_ENV}"
role = "amplifier"

[amplify]
delay = "5m"
jitter = "1m"

[state]
dir = {:?}

{sessions}
"##,
        state.display().to_string()
    )
}

/// A synthetic programme shaped like FOSDEM's (a title, one or two speakers, three points from
/// the abstract), `sessions` long, over three days from `first`.
pub fn synthetic_sessions(first: DateTime<Utc>, sessions: usize) -> String {
    let mut s = String::new();
    let step = chrono::Duration::days(3) / sessions.max(1) as i32;
    for k in 0..sessions {
        let start = first + step * k as i32;
        let speakers =
            if k % 3 == 0 { format!("\"Speaker {k}\", \"Co-speaker {k}\"") } else { format!("\"Speaker {k}\"") };
        let _ = write!(
            s,
            "[[session]]\nid = \"talk-{k:05}\"\ntitle = \"Talk {k}: what we learnt building a thing in the open\"\n\
             start = \"{}\"\nduration = \"25m\"\nspeakers = [{speakers}]\npoints = [\n  \
             \"The project started as a weekend experiment and now has a hundred contributors.\",\n  \
             \"Most of the work was not code: it was documentation, triage and saying no.\",\n  \
             \"What they would do differently: release early, and write the tests first.\",\n]\n\n",
            rfc3339(start)
        );
    }
    s
}

/// A frab/Pentabarf XML programme of `sessions` talks over two days from `first_day`, in the
/// shape of FOSDEM's (many rooms of 25-minute talks, one or two speakers, an abstract of a few
/// sentences), in Europe/Brussels: the project's own stand-in for FOSDEM 2024's file, which
/// lives outside the repository (../shared).
pub fn frab_programme(first_day: chrono::NaiveDate, sessions: usize) -> String {
    const ROOMS: usize = 35;
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<schedule>\n  <conference>\n    <acronym>bench</acronym>\n    \
         <title>Generated Conference</title>\n    <time_zone_name>Europe/Brussels</time_zone_name>\n  </conference>\n",
    );
    let per_day = sessions.div_ceil(2);
    let mut id = 0;
    for day in 0..2 {
        let date = first_day + chrono::Duration::days(day as i64);
        let _ = writeln!(s, "  <day index=\"{}\" date=\"{date}\">", day + 1);
        let today = per_day.min(sessions - id);
        for room in 0..ROOMS {
            let talks: Vec<usize> = (0..today).filter(|k| k % ROOMS == room).collect();
            if talks.is_empty() {
                continue;
            }
            let _ = writeln!(s, "    <room name=\"Room {room}\">");
            for (slot, _) in talks.iter().enumerate() {
                id += 1;
                let minutes = 9 * 60 + slot * 30;
                let persons = if id % 3 == 0 {
                    format!("<person id=\"{id}1\">Speaker {id}</person><person id=\"{id}2\">Co-speaker {id}</person>")
                } else {
                    format!("<person id=\"{id}1\">Speaker {id}</person>")
                };
                let _ = writeln!(
                    s,
                    "      <event id=\"{id}\">\n        <start>{:02}:{:02}</start>\n        <duration>00:25</duration>\n        \
                     <room>Room {room}</room>\n        <title>Talk {id}: what we learnt building a thing in the open</title>\n        \
                     <track>Track {}</track>\n        <abstract>The project started as a weekend experiment and now has a hundred \
                     contributors. Most of the work was not code: it was documentation, triage and saying no. What they would \
                     do differently: release early, and write the tests first. Questions welcome.</abstract>\n        \
                     <persons>{persons}</persons>\n      </event>",
                    minutes / 60,
                    minutes % 60,
                    room % 12
                );
            }
            let _ = writeln!(s, "    </room>");
        }
        let _ = writeln!(s, "  </day>");
    }
    s.push_str("</schedule>\n");
    s
}

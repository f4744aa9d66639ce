//! A small finished event for the report's unit tests: one session with three key points
//! (one failed), boosts by the council, and a recurring "coffee break!".

use std::path::Path;

use chrono::{DateTime, Utc};

use super::Snapshot;
use crate::config::Config;
use crate::job::{JobId, JobKind, JobRecord, JobSpec, JobState, Origin, RemoteRef};
use crate::metrics::Counts;

pub fn config() -> Config {
    let text = r##"[event]
name = "Test day"
timezone = "Europe/London"
date = 2010-03-18

[[account]]
id = "delegate"
platform = "mastodon"
server = "https://mastodon.example"
token_env = "LH_TEST_TOKEN"

[[account]]
id = "council"
platform = "mastodon"
server = "https://mastodon.example"
token_env = "LH_TEST_TOKEN"
role = "amplifier"

[report]
checkpoints = ["15m", "1h"]

[[session]]
id = "law"
title = "Equalities Law"
start = "10:00"
end = "10:45"
"##;
    Config::parse(Path::new("test.toml"), text).unwrap()
}

/// 2010-03-18 at `hh:mm:ss` in London (GMT that day).
pub fn t(hms: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2010-03-18T{hms}Z")).unwrap().with_timezone(&Utc)
}

pub fn job(id: &str, kind: JobKind, account: &str, done: Option<&str>, parent: Option<&str>) -> JobRecord {
    let session = (!id.starts_with("coffee")).then(|| "law".to_string());
    let at = t(done.unwrap_or("10:30:00"));
    let mut r = JobRecord::new(JobSpec {
        id: JobId(id.into()),
        kind,
        account: account.into(),
        session,
        at,
        text: kind.is_post().then(|| format!("text of {id}")),
        parent: parent.map(|p| JobId(p.into())),
        root: None,
        language: None,
        origin: Origin::Plan,
        thread: None,
        author: None,
        url: None,
        images: Vec::new(),
    });
    match done {
        Some(_) => {
            r.state = JobState::Done;
            r.done_at = Some(at);
            r.remote = Some(RemoteRef {
                id: format!("id-{id}"),
                url: Some(format!("https://mastodon.example/@x/{id}")),
                uri: None,
                cid: None,
            });
        }
        None => {
            r.state = JobState::Failed;
            r.error = Some("the server refused it (422): too long".into());
        }
    }
    r
}

pub const A: &str = "law.title.delegate";
pub const B: &str = "law.p1.delegate";
pub const D: &str = "law.p3.delegate";
pub const C: &str = "coffee-break.delegate";

/// A (10:00, boosted 10:05), B (10:20, boosted 10:25), a failed point, D (10:40, no boost),
/// C the coffee break (15:00).
pub fn jobs() -> Vec<JobRecord> {
    vec![
        job(A, JobKind::Post, "delegate", Some("10:00:00"), None),
        job(&format!("{A}+council"), JobKind::Boost, "council", Some("10:05:00"), Some(A)),
        job(B, JobKind::Reply, "delegate", Some("10:20:00"), Some(A)),
        job(&format!("{B}+council"), JobKind::Boost, "council", Some("10:25:00"), Some(B)),
        job("law.p2.delegate", JobKind::Reply, "delegate", None, Some(B)),
        job(D, JobKind::Reply, "delegate", Some("10:40:00"), Some(B)),
        job(C, JobKind::Recurring, "delegate", Some("15:00:00"), None),
    ]
}

pub fn counts(likes: u64, reposts: u64, replies: u64) -> Snapshot {
    Snapshot::Counts(Counts {
        likes: Some(likes),
        reposts: Some(reposts),
        replies: Some(replies),
        quotes: None,
        views: None,
    })
}

/// A: read as its boost went out, at 15m and 1h. B: read at 15m, then a failed read. C: read,
/// then gone. D: never read.
pub fn snapshots() -> Vec<(JobId, DateTime<Utc>, Snapshot)> {
    let s = |id: &str, at: &str, snap: Snapshot| (JobId(id.into()), t(at), snap);
    vec![
        s(A, "10:05:30", counts(0, 0, 0)),
        s(A, "10:15:00", counts(1, 0, 0)),
        s(A, "11:00:00", counts(3, 2, 1)),
        s(B, "10:35:00", counts(0, 0, 0)),
        s(B, "11:20:00", Snapshot::Unknown { why: "the request timed out".into() }),
        s(C, "15:15:00", counts(2, 0, 0)),
        s(C, "16:00:00", Snapshot::Gone),
    ]
}

//! How a job is stored (since format 2; format 3 changed only the `due` index, `index.rs`): its
//! record without the id, which is the key, with short field names and nothing that is empty.
//! Format 1 stored the whole [`JobRecord`] as JSON; it still reads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{codec, StoreError};
use crate::job::{Image, Intent, JobId, JobKind, JobRecord, JobSpec, JobState, Origin, RemoteRef};

/// A job as written: borrowed from the record, empty fields left out.
#[derive(Serialize)]
struct Out<'a> {
    k: JobKind,
    a: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'a str>,
    at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    r: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    l: Option<&'a str>,
    #[serde(skip_serializing_if = "is_plan")]
    o: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    th: Option<(u32, u32)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    au: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    u: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Image]>::is_empty")]
    im: &'a [Image],
    st: JobState,
    #[serde(skip_serializing_if = "Option::is_none")]
    i: Option<&'a Intent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    re: Option<&'a RemoteRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "is_zero")]
    n: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nb: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    w: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rc: Option<&'a str>,
}

/// A job as read back.
#[derive(Deserialize)]
struct In {
    k: JobKind,
    a: String,
    #[serde(default)]
    s: Option<String>,
    at: DateTime<Utc>,
    #[serde(default)]
    t: Option<String>,
    #[serde(default)]
    p: Option<JobId>,
    #[serde(default)]
    r: Option<JobId>,
    #[serde(default)]
    l: Option<String>,
    #[serde(default)]
    o: Origin,
    #[serde(default)]
    th: Option<(u32, u32)>,
    #[serde(default)]
    au: Option<String>,
    #[serde(default)]
    u: Option<String>,
    /// Added with photos: records written before read as having none.
    #[serde(default)]
    im: Vec<Image>,
    st: JobState,
    #[serde(default)]
    i: Option<Intent>,
    #[serde(default)]
    re: Option<RemoteRef>,
    #[serde(default)]
    d: Option<DateTime<Utc>>,
    #[serde(default)]
    n: u32,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    nb: Option<DateTime<Utc>>,
    #[serde(default)]
    w: Option<String>,
    #[serde(default)]
    pin: Option<DateTime<Utc>>,
    #[serde(default)]
    rc: Option<String>,
}

fn is_plan(o: &Origin) -> bool {
    *o == Origin::Plan
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The stored bytes of a job; its id is the key they are stored under.
pub fn encode(r: &JobRecord) -> Vec<u8> {
    let s = &r.spec;
    codec::encode(&Out {
        k: s.kind,
        a: &s.account,
        s: s.session.as_deref(),
        at: s.at,
        t: s.text.as_deref(),
        p: s.parent.as_ref().map(JobId::as_str),
        r: s.root.as_ref().map(JobId::as_str),
        l: s.language.as_deref(),
        o: s.origin,
        th: s.thread,
        au: s.author.as_deref(),
        u: s.url.as_deref(),
        im: &s.images,
        st: r.state,
        i: r.intent.as_ref(),
        re: r.remote.as_ref(),
        d: r.done_at,
        n: r.attempts,
        e: r.error.as_deref(),
        nb: r.not_before,
        w: r.waiting.as_deref(),
        pin: r.pinned_at,
        rc: r.recall.as_deref(),
    })
}

/// The job stored under `key`, in either format.
pub fn decode(key: &[u8], bytes: &[u8]) -> Result<JobRecord, StoreError> {
    if codec::version(bytes) == Some(1) {
        return codec::decode("jobs", key, bytes);
    }
    let v: In = codec::decode("jobs", key, bytes)?;
    let id = std::str::from_utf8(key).map_err(|_| StoreError::Corrupt {
        tree: "jobs".into(),
        key: String::from_utf8_lossy(key).into_owned(),
        why: "the key is not UTF-8".into(),
    })?;
    Ok(JobRecord {
        spec: JobSpec {
            id: JobId(id.to_string()),
            kind: v.k,
            account: v.a,
            session: v.s,
            at: v.at,
            text: v.t,
            parent: v.p,
            root: v.r,
            language: v.l,
            origin: v.o,
            thread: v.th,
            author: v.au,
            url: v.u,
            images: v.im,
        },
        state: v.st,
        intent: v.i,
        remote: v.re,
        done_at: v.d,
        attempts: v.n,
        error: v.e,
        not_before: v.nb,
        waiting: v.w,
        pinned_at: v.pin,
        recall: v.rc,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::job::{MediaRef, Uploaded};

    fn record() -> JobRecord {
        let at = Utc.with_ymd_and_hms(2010, 3, 18, 10, 0, 0).unwrap();
        let spec = JobSpec {
            id: JobId("s.p1.delegate".into()),
            kind: JobKind::Reply,
            account: "delegate".into(),
            session: Some("s".into()),
            at,
            text: Some("hello \"there\"".into()),
            parent: Some(JobId("s.title.delegate".into())),
            root: Some(JobId("s.title.delegate".into())),
            language: Some("en".into()),
            origin: Origin::Manual,
            thread: Some((2, 3)),
            author: Some("@ada@example.social".into()),
            url: Some("https://example.social/@ada/1".into()),
            images: vec![
                Image { file: "/event/slides/eqia.jpg".into(), alt: "A slide: \"Equality impact\"".into() },
                Image { file: "/event/room.png".into(), alt: String::new() },
            ],
        };
        JobRecord {
            spec,
            state: JobState::Done,
            intent: Some(Intent {
                media: vec![Uploaded {
                    image: 1,
                    of: "d1".into(),
                    media: MediaRef {
                        id: "bafkrei".into(),
                        blob: Some(serde_json::json!({"$type": "blob", "ref": {"$link": "bafkrei"}, "size": 9})),
                        width: 300,
                        height: 400,
                        at,
                        expires: Some(at),
                    },
                    thumbnail: Some("/9j/4AAQ".into()),
                }],
                reached: true,
                ..Intent::new("k".into(), at)
            }),
            remote: Some(RemoteRef { id: "1".into(), url: None, uri: Some("at://x".into()), cid: None }),
            done_at: Some(at),
            attempts: 2,
            error: Some("e".into()),
            not_before: Some(at),
            waiting: Some("w".into()),
            pinned_at: Some(at),
            recall: Some("no longer in the schedule".into()),
        }
    }

    #[test]
    fn every_field_survives() {
        let full = record();
        assert_eq!(decode(b"s.p1.delegate", &encode(&full)).unwrap(), full);
        let bare = JobRecord::new(JobSpec { text: None, parent: None, root: None, ..full.spec.clone() });
        assert_eq!(decode(b"s.p1.delegate", &encode(&bare)).unwrap(), bare);
    }

    #[test]
    fn a_record_written_before_photos_still_reads() {
        // Format 2 as loudhailer wrote it before jobs carried images and intents their uploads.
        let old = br#"{"k":"reply","a":"delegate","s":"s","at":"2010-03-18T10:00:00Z","t":"hi","p":"s.title.delegate","st":"in-flight","i":{"key":"k","first_sent":"2010-03-18T10:00:00Z"},"n":1}"#;
        let mut bytes = codec::encode(&serde_json::from_slice::<serde_json::Value>(old).unwrap());
        assert_eq!(codec::version(&bytes), Some(codec::FORMAT_VERSION));
        let r = decode(b"s.p1.delegate", &bytes).unwrap();
        assert!(r.spec.images.is_empty());
        assert_eq!(r.intent, Some(Intent { reached: true, ..Intent::new("k".into(), r.spec.at) }));
        assert_eq!(r.state, JobState::InFlight);
        // And a record without images is written exactly as before (nothing new in it).
        bytes = encode(&r);
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("\"im\"") && !text.contains("\"media\""), "{text}");
    }

    #[test]
    fn an_intents_progress_and_reach_survive_and_old_intents_read_as_reached() {
        let mut r = record();
        let mut intent = Intent::new("k".into(), r.spec.at);
        intent.progress = Some(serde_json::json!({ "container": "17890000000000001" }));
        r.intent = Some(intent);
        assert_eq!(decode(b"s.p1.delegate", &encode(&r)).unwrap(), r);
        // Written before `reached` existed: an earlier request may have reached the server.
        let old: Intent = serde_json::from_str(r#"{"key":"k","first_sent":"2010-03-18T10:00:00Z"}"#).unwrap();
        assert!(old.reached);
        assert_eq!(old.progress, None);
    }

    #[test]
    fn format_1_still_reads() {
        let full = record();
        let mut old = codec::encode(&full);
        old[1] = 1;
        // The envelope's CRC covers the payload only, so the version byte can be set by hand.
        assert_eq!(decode(b"s.p1.delegate", &old).unwrap(), full);
    }

    #[test]
    fn smaller_than_format_1() {
        // A planned reply, as most stored jobs are.
        let spec = JobSpec {
            origin: Origin::Plan,
            thread: None,
            author: None,
            url: None,
            images: Vec::new(),
            ..record().spec
        };
        let bare = JobRecord::new(spec);
        assert!(encode(&bare).len() * 2 < codec::encode(&bare).len(), "{}", String::from_utf8_lossy(&encode(&bare)));
    }
}

use chrono::TimeZone;

use super::*;
use crate::job::{JobKind, JobSpec, JobState, Origin};

fn spec(id: &str) -> JobSpec {
    JobSpec {
        id: JobId(id.into()),
        kind: JobKind::Post,
        account: "delegate".into(),
        session: Some("s".into()),
        at: Utc.with_ymd_and_hms(2010, 3, 18, 10, 0, 0).unwrap(),
        text: Some("hello".into()),
        parent: None,
        root: None,
        language: None,
        origin: Origin::Plan,
        thread: None,
        author: None,
        url: None,
        images: Vec::new(),
    }
}

#[test]
fn jobs_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        s.bind_event("Day").unwrap();
        let mut r = JobRecord::new(spec("s.title.delegate"));
        s.put_job_durable(&r).unwrap();
        r.state = JobState::Done;
        s.put_job_durable(&r).unwrap();
        s.put_jobs(&[JobRecord::new(spec("s.p1.delegate"))]).unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    let jobs = s.jobs().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(s.job(&JobId("s.title.delegate".into())).unwrap().unwrap().state, JobState::Done);
    assert_eq!(s.verify().unwrap(), 2);
    assert!(matches!(s.bind_event("Other day"), Err(StoreError::OtherEvent { .. })));
    s.bind_event("Day").unwrap();
}

#[test]
fn a_second_opener_is_told_who_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    std::fs::write(dir.path().join("daemon.pid"), "4242\n").unwrap();
    match Store::open(dir.path()) {
        Err(e @ StoreError::Locked { holder: Some(4242), .. }) => {
            assert!(e.to_string().contains("process 4242"), "{e}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a second open must fail"),
    }
}

#[test]
fn damage_is_found_on_verify() {
    let s = Store::temporary().unwrap();
    s.put_job(&JobRecord::new(spec("a"))).unwrap();
    let mut raw = s.jobs.get("a").unwrap().unwrap().to_vec();
    raw.truncate(raw.len() - 3);
    s.jobs.insert("a", raw).unwrap();
    let err = s.verify().unwrap_err().to_string();
    assert!(err.contains("\"a\" in jobs is damaged"), "{err}");
}

#[test]
fn export_then_import_gives_the_same_state() {
    let s = Store::temporary().unwrap();
    s.bind_event("Day").unwrap();
    let mut r = JobRecord::new(spec("s.title.delegate"));
    r.state = JobState::Done;
    s.put_job(&r).unwrap();
    s.update_account("delegate", |a| a.paused = Some("401".into())).unwrap();
    let adj = Adjustments { shift_all: 900, ..Default::default() };
    s.put_adjustments(&adj).unwrap();
    s.append_metric(&r.spec.id, r.spec.at, &serde_json::json!({"likes": 1})).unwrap();
    let mut out = Vec::new();
    let lines = s.export(&mut out).unwrap();
    assert_eq!(lines, 5);

    let t = Store::temporary().unwrap();
    assert_eq!(t.import(out.as_slice()).unwrap(), 5);
    assert_eq!(t.jobs().unwrap(), s.jobs().unwrap());
    assert_eq!(t.account("delegate").unwrap().paused.as_deref(), Some("401"));
    assert_eq!(t.adjustments().unwrap(), adj);
    assert_eq!(t.metrics::<serde_json::Value>().unwrap(), s.metrics::<serde_json::Value>().unwrap());
    // Importing twice is refused: the store is no longer empty.
    assert!(matches!(t.import(out.as_slice()), Err(StoreError::NotEmpty { .. })));
    // A damaged export writes nothing.
    let u = Store::temporary().unwrap();
    let mut bad = out.clone();
    bad.extend_from_slice(b"{\"kind\":\"job\",\"value\":{}}\n");
    let err = u.import(bad.as_slice()).unwrap_err().to_string();
    assert!(err.starts_with("import: line 6:"), "{err}");
    assert!(u.is_empty().unwrap());
}

#[test]
fn sessions_stay_out_of_exports() {
    let s = Store::temporary().unwrap();
    s.update_account("sky", |a| {
        a.session = Some(serde_json::json!({"accessJwt": "eyJ-secret"}));
        a.remote_id = Some("did:plc:sky".into());
    })
    .unwrap();
    let mut out = Vec::new();
    s.export(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("eyJ-secret"), "{text}");
    assert!(text.contains("did:plc:sky"), "{text}");
    assert!(s.account("sky").unwrap().session.is_some(), "the store itself keeps it");
}

#[test]
fn concurrent_account_updates_lose_nothing() {
    let s = Store::temporary().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    s.update_account("sky", |a| a.paused.get_or_insert_with(String::new).push('x')).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.account("sky").unwrap().paused.map(|p| p.len()), Some(160));
}

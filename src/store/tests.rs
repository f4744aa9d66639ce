use chrono::TimeZone;

use super::*;
use crate::job::{JobKind, JobRecord, JobSpec, JobState, Origin};

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

/// Opens `dir` again in this process after a `Store` on it was dropped. sled may finish a
/// segment write on one of its own threads just after the drop, and that thread holds the
/// directory's lock until it ends: wait for it (the daemon's in-process reopen does the same).
fn open_again(dir: &std::path::Path) -> Store {
    for _ in 0..100 {
        match Store::open(dir) {
            Err(StoreError::Locked { .. }) => std::thread::sleep(std::time::Duration::from_millis(50)),
            other => return other.unwrap(),
        }
    }
    panic!("{} stayed locked for 5 s after its store was dropped", dir.display());
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
    let s = open_again(dir.path());
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
    s.put_jobs(&[JobRecord::new(spec("s.title.x")), JobRecord::new(spec("s.p1.x"))]).unwrap();
    let good = s.jobs.get("s.").unwrap().unwrap().to_vec();
    // A flipped byte inside one job's record: that job is named.
    let mut flipped = good.clone();
    let last = flipped.len() - 2;
    flipped[last] ^= 0x01;
    s.jobs.insert("s.", flipped).unwrap();
    let err = s.verify().unwrap_err().to_string();
    assert!(err.contains("\"s.title.x\" in jobs is damaged"), "{err}");
    assert!(s.job(&JobId("s.title.x".into())).is_err());
    assert_eq!(s.job(&JobId("s.p1.x".into())).unwrap().unwrap().spec.id.as_str(), "s.p1.x");
    // The group cut short: the group is named.
    s.jobs.insert("s.", &good[..good.len() - 3]).unwrap();
    let err = s.verify().unwrap_err().to_string();
    assert!(err.contains("\"s.\" in jobs is damaged"), "{err}");
    // Writing into it fails and leaves it as it was (nothing read from it is dropped).
    assert!(s.put_job(&JobRecord::new(spec("s.p2.x"))).is_err());
    assert_eq!(s.jobs.get("s.").unwrap().unwrap().as_ref(), &good[..good.len() - 3]);
}

/// A session's jobs share one key; a job read, written or listed is the job alone, and jobs
/// whose ids share a prefix across groups are all found by it.
#[test]
fn a_scopes_jobs_share_a_key_and_are_read_and_written_alone() {
    let s = Store::temporary().unwrap();
    let all = ["law.title.d", "law.p1.d", "law.title.d+org", "law-2.title.d", "follow.ab12", "say3.post.d"];
    s.put_planned(&all.iter().map(|i| JobRecord::new(spec(i))).collect::<Vec<_>>()).unwrap();
    let keys: Vec<String> = s.jobs.iter().keys().map(|k| String::from_utf8(k.unwrap().to_vec()).unwrap()).collect();
    assert_eq!(keys, ["follow.ab12", "law-2.", "law.", "say3."]);
    let mut sorted = all.to_vec();
    sorted.sort_unstable();
    assert_eq!(ids(&s.jobs().unwrap()), sorted);
    let mut r = s.job(&JobId("law.p1.d".into())).unwrap().unwrap();
    r.state = JobState::Done;
    s.put_job(&r).unwrap();
    assert_eq!(s.job(&JobId("law.p1.d".into())).unwrap().unwrap().state, JobState::Done);
    assert_eq!(s.job(&JobId("law.title.d".into())).unwrap().unwrap().state, JobState::Pending);
    assert!(s.job(&JobId("law.p9.d".into())).unwrap().is_none());
    assert_eq!(ids(&s.jobs_with_prefix("law.").unwrap()), ["law.p1.d", "law.title.d", "law.title.d+org"]);
    assert_eq!(ids(&s.jobs_with_prefix("law.title.d").unwrap()), ["law.title.d", "law.title.d+org"]);
    assert_eq!(
        ids(&s.jobs_with_prefix("law").unwrap()),
        ["law-2.title.d", "law.p1.d", "law.title.d", "law.title.d+org"]
    );
    assert_eq!(ids(&s.jobs_with_prefix("follow.").unwrap()), ["follow.ab12"]);
    assert!(s.jobs_with_prefix("lawn").unwrap().is_empty());
    assert_eq!(s.verify().unwrap(), all.len());
}

/// Tasks writing jobs of the same group at once lose none of each other's writes.
#[test]
fn concurrent_writes_to_one_group_lose_nothing() {
    let s = Store::temporary().unwrap();
    std::thread::scope(|t| {
        for w in 0..4 {
            let s = s.clone();
            t.spawn(move || {
                for i in 0..50 {
                    s.put_job(&JobRecord::new(spec(&format!("s.p{i}.w{w}")))).unwrap();
                }
            });
        }
    });
    assert_eq!(s.jobs().unwrap().len(), 200);
    assert_eq!(s.jobs.len(), 1);
}

/// A store of format 3 (one key per job in `jobs`) has its jobs moved into groups on opening,
/// and a move cut short by a crash is made again from the old tree, which is kept until then.
#[test]
fn a_format_3_store_has_its_jobs_grouped_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    let mut done = job_at("b.title.x", "10:00");
    done.state = JobState::Done;
    let records = [job_at("a.title.x", "10:00"), job_at("a.p1.x", "11:00"), done, job_at("c", "12:00")];
    {
        let s = Store::open(dir.path()).unwrap();
        s.bind_event("Day").unwrap();
        s.put_jobs(&records).unwrap();
        // As format 3 left it: one key per job in `jobs`.
        let old = s.db.open_tree("jobs").unwrap();
        for r in &records {
            old.insert(r.spec.id.as_str(), record::encode(r)).unwrap();
        }
        s.jobs.clear().unwrap();
        // A move cut short: a part of it in the new tree.
        s.put_job(&job_at("a.title.x", "09:00")).unwrap();
        s.meta.insert("format", &3u32.to_be_bytes()).unwrap();
        s.flush().unwrap();
    }
    let s = open_again(dir.path());
    assert_eq!(ids(&s.jobs().unwrap()), ["a.p1.x", "a.title.x", "b.title.x", "c"]);
    assert_eq!(
        s.job(&JobId("a.title.x".into())).unwrap().unwrap().spec.at,
        at("10:00"),
        "the old tree's record, not the partial move's"
    );
    assert_eq!(s.job(&JobId("b.title.x".into())).unwrap().unwrap().state, JobState::Done);
    assert_eq!(s.jobs.len(), 3);
    assert!(!s.db.tree_names().iter().any(|n| n.as_ref() == b"jobs"), "the old tree is dropped");
    assert_eq!(s.meta.get("format").unwrap().unwrap().as_ref(), &FORMAT_VERSION.to_be_bytes());
    assert_eq!(ids(&s.due_until(None, at("12:00")).unwrap()), ["a.title.x", "a.p1.x", "c"]);
    assert_eq!(ids(&s.done_jobs().unwrap()), ["b.title.x"]);
    assert_eq!(s.verify().unwrap(), 4);
    drop(s);
    // Opened again: nothing moves twice.
    let s = open_again(dir.path());
    assert_eq!(s.jobs().unwrap().len(), 4);
}

/// Jobs of several groups written together are written together.
#[test]
fn jobs_of_several_groups_are_stored_at_once() {
    let s = Store::temporary().unwrap();
    s.put_jobs(&[JobRecord::new(spec("a.title.x"))]).unwrap();
    let mut again = JobRecord::new(spec("a.title.x"));
    again.state = JobState::Done;
    s.put_jobs(&[JobRecord::new(spec("b.title.x")), again, JobRecord::new(spec("a.p1.x"))]).unwrap();
    assert_eq!(ids(&s.jobs().unwrap()), ["a.p1.x", "a.title.x", "b.title.x"]);
    assert_eq!(s.job(&JobId("a.title.x".into())).unwrap().unwrap().state, JobState::Done);
    // A damaged group stops the whole write: the other group is not written either.
    s.jobs.insert("a.", &b"G\x00"[..]).unwrap();
    assert!(s.put_jobs(&[JobRecord::new(spec("c.title.x")), JobRecord::new(spec("a.p2.x"))]).is_err());
    assert!(s.job(&JobId("c.title.x".into())).unwrap().is_none());
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

fn at(hm: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2010-03-18T{hm}:00Z")).unwrap().with_timezone(&Utc)
}

fn job_at(id: &str, hm: &str) -> JobRecord {
    JobRecord::new(JobSpec { at: at(hm), ..spec(id) })
}

fn ids(records: &[JobRecord]) -> Vec<&str> {
    records.iter().map(|r| r.spec.id.as_str()).collect()
}

#[test]
fn the_due_tree_lists_unsettled_jobs_in_time_order_and_forgets_settled_and_moved_ones() {
    let s = Store::temporary().unwrap();
    s.put_jobs(&[job_at("c", "12:00"), job_at("a", "10:00"), job_at("b", "11:00")]).unwrap();
    s.put_planned(&[job_at("d", "13:00")]).unwrap();
    assert_eq!(ids(&s.due_until(None, at("12:00")).unwrap()), ["a", "b", "c"]);
    assert_eq!(ids(&s.due_until(Some(at("10:00")), at("13:00")).unwrap()), ["b", "c", "d"]);
    assert_eq!(s.next_due_after(at("11:00")).unwrap(), Some(at("12:00")));
    // `a` goes out; `b` moves to 12:30 (its 11:00 entry is stale, its new one counts).
    let mut a = job_at("a", "10:00");
    a.state = JobState::Done;
    s.put_job(&a).unwrap();
    s.put_job(&job_at("b", "12:30")).unwrap();
    assert_eq!(ids(&s.due_until(None, at("13:00")).unwrap()), ["c", "b", "d"]);
    // The stale entries were dropped on the way: only the live ones are left.
    assert_eq!(s.due.len(), 3);
    assert_eq!(s.next_due_after(at("13:00")).unwrap(), None);
    // In flight counts as unsettled; missed, failed and cancelled do not.
    for (id, state) in [("e", JobState::InFlight), ("f", JobState::Missed), ("g", JobState::Cancelled)] {
        let mut r = job_at(id, "09:00");
        r.state = state;
        s.put_job(&r).unwrap();
    }
    assert_eq!(ids(&s.due_until(None, at("09:30")).unwrap()), ["e"]);
}

fn job_at_secs(id: &str, hms: &str) -> JobRecord {
    let t = DateTime::parse_from_rfc3339(&format!("2010-03-18T{hms}Z")).unwrap().with_timezone(&Utc);
    JobRecord::new(JobSpec { at: t, ..spec(id) })
}

fn at_secs(hms: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2010-03-18T{hms}Z")).unwrap().with_timezone(&Utc)
}

#[test]
fn the_due_tree_keeps_a_minute_under_one_key_and_reads_to_the_millisecond() {
    let s = Store::temporary().unwrap();
    // Three jobs in the 10:00 minute (one planned, two written one by one), one at 10:01.
    s.put_planned(&[job_at_secs("p", "10:00:40"), job_at_secs("q", "10:01:00")]).unwrap();
    s.put_job(&job_at_secs("m", "10:00:20")).unwrap();
    s.put_job(&job_at_secs("n", "10:00:20")).unwrap();
    assert_eq!(s.due.len(), 2, "one key per minute");
    // Bounds inside a minute: `after` exclusive, `until` inclusive, time order then id.
    assert_eq!(ids(&s.due_until(None, at_secs("10:00:20")).unwrap()), ["m", "n"]);
    assert_eq!(ids(&s.due_until(Some(at_secs("10:00:20")), at_secs("10:01:00")).unwrap()), ["p", "q"]);
    assert_eq!(ids(&s.due_until(Some(at_secs("10:00:19")), at_secs("10:00:39")).unwrap()), ["m", "n"]);
    assert_eq!(s.next_due_after(at_secs("10:00:20")).unwrap(), Some(at_secs("10:00:40")));
    assert_eq!(s.next_due_after(at_secs("10:00:40")).unwrap(), Some(at_secs("10:01:00")));
    // `m` moves within its minute, `n` out of it and back in, `p` to the next minute: each is
    // read once, at its new time; the ids left behind are dropped.
    s.put_job(&job_at_secs("m", "10:00:50")).unwrap();
    s.put_job(&job_at_secs("n", "10:01:30")).unwrap();
    s.put_job(&job_at_secs("n", "10:00:10")).unwrap();
    s.put_job(&job_at_secs("p", "10:01:10")).unwrap();
    assert_eq!(ids(&s.due_until(None, at_secs("10:02:00")).unwrap()), ["n", "m", "q", "p"]);
    let minute = |hm: &str| s.due.get(super::index::minute_key(at(hm))).unwrap().unwrap().to_vec();
    assert_eq!(minute("10:00"), b"m\xffn\xff");
    assert_eq!(minute("10:01"), b"q\xffp\xff");
    // A minute whose jobs all went out is gone; reading an empty range drops nothing live.
    for id in ["n", "m"] {
        let mut r = s.job(&JobId(id.into())).unwrap().unwrap();
        r.state = JobState::Done;
        s.put_job(&r).unwrap();
    }
    assert_eq!(ids(&s.due_until(None, at_secs("10:00:59")).unwrap()), Vec::<&str>::new());
    assert_eq!(s.due.len(), 1);
    assert_eq!(s.next_due_after(at("09:00")).unwrap(), Some(at_secs("10:01:00")));
}

#[test]
fn a_format_2_store_gets_its_due_tree_by_minute_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        s.put_jobs(&[job_at("a", "10:00"), job_at("b", "11:00")]).unwrap();
        // As format 2 left it: one key per job (instant, then id), no value.
        s.due.clear().unwrap();
        for (id, hm) in [("a", "10:00"), ("b", "11:00")] {
            let mut k = ((at(hm).timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes().to_vec();
            k.extend_from_slice(id.as_bytes());
            s.due.insert(k, &[] as &[u8]).unwrap();
        }
        s.meta.remove(DUE_BUILT).unwrap();
        s.meta.insert("due-built", &[1u8]).unwrap();
        s.meta.insert("format", &2u32.to_be_bytes()).unwrap();
        s.flush().unwrap();
    }
    let s = open_again(dir.path());
    assert_eq!(ids(&s.due_until(None, at("12:00")).unwrap()), ["a", "b"]);
    assert!(s.due.iter().keys().all(|k| k.unwrap().len() == 8), "the per-job keys are gone");
    assert_eq!(s.meta.get("format").unwrap().unwrap().as_ref(), &FORMAT_VERSION.to_be_bytes());
}

#[test]
fn a_store_from_before_the_due_tree_gets_one_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        s.put_jobs(&[job_at("a", "10:00"), job_at("b", "11:00")]).unwrap();
        // As an older loudhailer left it: jobs, no due tree.
        s.due.clear().unwrap();
        s.meta.remove(DUE_BUILT).unwrap();
        s.flush().unwrap();
    }
    let s = open_again(dir.path());
    assert_eq!(ids(&s.due_until(None, at("12:00")).unwrap()), ["a", "b"]);
}

#[test]
fn the_done_tree_lists_the_jobs_that_went_out_and_an_older_store_gets_one() {
    let dir = tempfile::tempdir().unwrap();
    let done = |id: &str| {
        let mut r = job_at(id, "10:00");
        r.state = JobState::Done;
        r
    };
    {
        let s = Store::open(dir.path()).unwrap();
        s.put_jobs(&[done("b"), job_at("c", "11:00")]).unwrap();
        s.put_planned(&[done("d"), job_at("e", "11:00")]).unwrap();
        s.put_job(&done("a")).unwrap();
        assert_eq!(ids(&s.done_jobs().unwrap()), ["a", "b", "d"]);
        // As an older loudhailer left it: jobs, no done tree.
        s.done.clear().unwrap();
        s.meta.remove(DONE_BUILT).unwrap();
        s.flush().unwrap();
        assert!(s.done_jobs().unwrap().is_empty());
    }
    let s = open_again(dir.path());
    assert_eq!(ids(&s.done_jobs().unwrap()), ["a", "b", "d"]);
    // An entry whose job is not done (a hand-made import, say) is skipped.
    s.done.insert("c", &[] as &[u8]).unwrap();
    assert_eq!(ids(&s.done_jobs().unwrap()), ["a", "b", "d"]);
}

/// The `went` log notes a job each time it enters `done`, whichever way it was written, and
/// keeps what was noted after a read when the read entries are forgotten.
#[test]
fn the_went_log_notes_each_job_as_it_goes_out_once() {
    let s = Store::temporary().unwrap();
    let done = |id: &str| {
        let mut r = job_at(id, "10:00");
        r.state = JobState::Done;
        r
    };
    let went = |s: &Store| s.went().unwrap().into_iter().map(|(_, id)| id.0).collect::<Vec<_>>();
    s.put_jobs(&[done("b"), job_at("c", "11:00")]).unwrap();
    s.put_planned(&[done("d"), job_at("e", "11:00")]).unwrap();
    s.put_job(&job_at("a", "10:00")).unwrap();
    s.put_job_durable(&done("a")).unwrap();
    assert_eq!(went(&s), ["b", "d", "a"], "in the order they went out");
    // Written again as done (a result stored twice, a merge, an import of the same jobs): no news.
    s.put_job(&done("a")).unwrap();
    s.put_jobs(&[done("b"), done("d")]).unwrap();
    assert_eq!(went(&s), ["b", "d", "a"]);
    let read = s.went().unwrap();
    s.put_job(&done("c")).unwrap();
    s.forget_went(read.into_iter().map(|(k, _)| k)).unwrap();
    assert_eq!(went(&s), ["c"], "what went out after the read stays");
    // Changed by hand back to pending, it leaves `done`; when it goes again, it is noted again.
    s.put_job(&job_at("a", "12:00")).unwrap();
    s.put_jobs(&[job_at("b", "12:00")]).unwrap();
    assert_eq!(ids(&s.done_jobs().unwrap()), ["c", "d"]);
    assert_eq!(s.done.len(), 2);
    s.put_job(&done("a")).unwrap();
    s.put_jobs(&[done("b")]).unwrap();
    assert_eq!(went(&s), ["c", "a", "b"]);
}

#[test]
fn bounded_reads_take_a_prefix_and_the_latest_reading_only() {
    let s = Store::temporary().unwrap();
    for id in ["a.title.delegate", "a.p1.delegate", "ab.title.delegate", "b.title.delegate"] {
        s.put_job(&JobRecord::new(spec(id))).unwrap();
    }
    let ids = |p: &str| s.jobs_with_prefix(p).unwrap().into_iter().map(|j| j.spec.id.0).collect::<Vec<_>>();
    assert_eq!(ids("a."), ["a.p1.delegate", "a.title.delegate"]);
    assert!(ids("c.").is_empty());
    let job = JobId("a.title.delegate".into());
    assert_eq!(s.latest_metric::<u32>(&job).unwrap(), None);
    let t = |m| Utc.with_ymd_and_hms(2010, 3, 18, 10, m, 0).unwrap();
    s.append_metric(&job, t(15), &1u32).unwrap();
    s.append_metric(&job, t(45), &3u32).unwrap();
    s.append_metric(&JobId("a.title.delegate2".into()), t(50), &9u32).unwrap();
    assert_eq!(s.latest_metric::<u32>(&job).unwrap(), Some((t(45), 3)));
}

#[test]
fn desk_sign_ins_are_kept_as_digests_and_not_exported() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.desk_auth().unwrap(), DeskAuth::default());
    let grant = Grant { hash: "ab".repeat(32), expires: Utc.with_ymd_and_hms(2010, 3, 18, 10, 5, 0).unwrap() };
    s.put_desk_auth(&DeskAuth { links: vec![grant.clone()], sessions: vec![] }).unwrap();
    drop(s);
    let s = open_again(dir.path());
    assert_eq!(s.desk_auth().unwrap().links, std::slice::from_ref(&grant));
    let mut out = Vec::new();
    s.export(&mut out).unwrap();
    assert!(!String::from_utf8_lossy(&out).contains(&grant.hash), "an export leaves the desk's sign-ins out");
}

/// A plan of thousands of jobs is encoded in parts on several threads: every record is stored
/// under its own id, whole.
#[test]
fn a_large_plan_is_stored_whole_and_each_job_under_its_id() {
    let s = Store::temporary().unwrap();
    let records: Vec<JobRecord> = (0..6_000)
        .map(|i| {
            let mut r = JobRecord::new(spec(&format!("s{:03}.p{}.delegate", i / 12, i % 12)));
            r.spec.text = Some(format!("point {i}"));
            r
        })
        .collect();
    // Given out of id order, as a plan gives them (by time).
    let mut given = records.clone();
    given.reverse();
    s.put_planned(&given).unwrap();
    assert_eq!(s.jobs.len(), 500);
    let mut expected = records;
    expected.sort_by(|a, b| a.spec.id.cmp(&b.spec.id));
    assert_eq!(s.jobs().unwrap(), expected);
    assert_eq!(s.job(&JobId("s123.p4.delegate".into())).unwrap().unwrap().spec.text.as_deref(), Some("point 1480"));
}

use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2024, 2, 3, h, m, 0).unwrap()
}

#[test]
fn https_always_plain_http_only_to_loopback_or_when_asked() {
    for (address, allow, ok) in [
        ("https://fosdem.org/2024/schedule/xml", false, true),
        ("http://fosdem.org/2024/schedule/xml", false, false),
        ("http://fosdem.org/2024/schedule/xml", true, true),
        ("http://127.0.0.1:8080/s.xml", false, true),
        ("http://[::1]:8080/s.xml", false, true),
        ("http://localhost/s.xml", false, true),
        ("http://localhost.example.org/s.xml", false, false),
        ("ftp://example.org/s.xml", true, false),
    ] {
        assert_eq!(may_fetch(&url(address), allow), ok, "{address} allow_http={allow}");
        assert_eq!(check_url(address, allow).is_ok(), ok, "{address} allow_http={allow}");
    }
    let e = check_url("http://example.org/s.xml", false).unwrap_err();
    assert!(e.contains("plain HTTP") && e.contains("allow_http = true"), "{e}");
    let e = check_url("https://ada:secret@example.org/s.xml", false).unwrap_err();
    assert!(!e.contains("secret"), "the password is never repeated: {e}");
    assert!(check_url("schedule.xml", false).is_err());
}

#[test]
fn refresh_has_bounds_and_a_default() {
    assert_eq!(DEFAULT_REFRESH, Duration::from_secs(300));
    assert_eq!(parse_refresh("30s"), Ok(Duration::from_secs(30)));
    assert!(parse_refresh("1s").unwrap_err().contains("outside 5s to 1day"));
    assert!(parse_refresh("2days").is_err());
    assert!(parse_refresh("soon").unwrap_err().contains("\"5m\""));
    // A server's Retry-After puts the next fetch off, within an hour.
    let r = Duration::from_secs(60);
    assert_eq!(next_delay(r, None), r);
    assert_eq!(next_delay(r, Some(Duration::from_secs(10))), r);
    assert_eq!(next_delay(r, Some(Duration::from_secs(600))), Duration::from_secs(600));
    assert_eq!(next_delay(r, Some(Duration::from_secs(86_400))), MAX_RETRY_AFTER);
}

#[test]
fn the_copy_is_named_by_the_whole_address_with_its_format_hint() {
    let dir = Path::new("/state");
    let a = Source::new(url("https://x.org/2024/schedule.xml"), DEFAULT_REFRESH, false, dir);
    let b = Source::new(url("https://x.org/2024/schedule.xml?day=2"), DEFAULT_REFRESH, false, dir);
    let c = Source::new(url("https://sessionize.com/api/v2/abc/view/All"), DEFAULT_REFRESH, false, dir);
    assert!(a.copy.starts_with("/state/published") && a.copy.extension().unwrap() == "xml");
    assert_ne!(a.copy, b.copy, "another address never reads this one's copy");
    assert_eq!(c.copy.extension(), None);
    assert_eq!(a.record.extension().unwrap(), "json");
}

#[test]
fn validators_are_echoed_only_when_sane() {
    let v = Validators::from_headers(Some(b"\"abc\""), Some(b"Sat, 03 Feb 2024 10:00:00 GMT"));
    assert_eq!(
        conditional(&v),
        [("if-none-match", "\"abc\"".to_string()), ("if-modified-since", "Sat, 03 Feb 2024 10:00:00 GMT".to_string())]
    );
    let odd = Validators::from_headers(Some(b"\"a\nb\""), Some(&[0xff, 0xfe]));
    assert!(odd.is_empty());
    assert!(Validators::from_headers(Some("x".repeat(2000).as_bytes()), None).is_empty());
}

#[test]
fn only_a_document_never_seen_is_parsed() {
    let copy = digest(b"v1");
    let refused = digest(b"broken");
    assert_eq!(step(Answer::NotModified, Some(&copy), None), Step::NotModified);
    assert_eq!(step(Answer::Document(b"v1"), Some(&copy), None), Step::Unchanged);
    assert_eq!(step(Answer::Document(b"broken"), Some(&copy), Some(&refused)), Step::RefusedBefore);
    assert_eq!(step(Answer::Document(b"v2"), Some(&copy), Some(&refused)), Step::Check);
    assert_eq!(step(Answer::Document(b"v1"), None, None), Step::Check);
}

#[test]
fn the_record_counts_and_remembers_trouble_until_a_good_fetch() {
    let mut r = Record::new(&url("https://x.org/s.xml"));
    r.copy = Some(Copy {
        fetched_at: at(9, 0),
        confirmed_at: at(9, 0),
        bytes: 10,
        sha256: digest(b"v1"),
        validators: Validators::default(),
    });
    r.note(at(9, 5), Outcome::NotModified);
    assert_eq!(r.copy.as_ref().unwrap().confirmed_at, at(9, 5));
    r.note(at(9, 10), Outcome::Failed { why: "the server cannot be reached".into() });
    r.note(at(9, 15), Outcome::Refused { why: "line 3: not XML".into() });
    assert_eq!(r.failing_since, Some(at(9, 10)));
    assert!(r.trouble().unwrap().contains("no longer reads: line 3"));
    let lines = r.describe(DEFAULT_REFRESH, at(9, 16), chrono_tz::Europe::Brussels);
    assert_eq!(lines[0], "schedule: https://x.org/s.xml (fetched again every 5m)");
    assert_eq!(
        lines[1],
        "copy in use: fetched 10:00:00 (16 min ago), 10 bytes; still current at 10:05:00 (11 min ago)"
    );
    assert_eq!(
        lines[2],
        "last fetch: 10:15:00 (1 min ago): a document that does not read, not used: line 3: not XML (not good since 10:10:00); the copy in use stays"
    );
    r.note(at(9, 20), Outcome::NotModified);
    assert_eq!((r.failing_since, r.trouble()), (None, None));
    let c = &r.counts;
    assert_eq!((c.requests, c.not_modified, c.failed, c.refused, c.parsed), (4, 2, 1, 1, 0));
}

#[test]
fn ages_read_as_words() {
    let now = at(12, 0);
    assert_eq!(age(now, now), "just now");
    assert_eq!(age(at(11, 56), now), "4 min ago");
    assert_eq!(age(at(9, 55), now), "2 h 5 min ago");
    assert_eq!(age(now - chrono::Duration::days(3), now), "3 days ago");
    assert!(age(at(12, 5), now).contains("clock"));
}

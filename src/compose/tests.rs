use chrono::{DateTime, Utc};

use super::*;
use crate::schedule::Point;

fn utc(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
}

fn session(points: &[&str]) -> Session {
    Session {
        id: "equalities-law".into(),
        title: "Equalities Law".into(),
        start: utc("2010-03-18T10:00:00Z"),
        end: utc("2010-03-18T10:45:00Z"),
        speakers: vec![
            Speaker { name: "Ada Lovelace".into(), mastodon: Some("@ada@example.social".into()), ..Default::default() },
            Speaker { name: "Grace Hopper".into(), ..Default::default() },
        ],
        points: points.iter().map(|t| Point::text(*t)).collect(),
        room: None,
        track: None,
        day: None,
        abstract_text: None,
        suggested: Vec::new(),
        url: None,
        language: None,
        hashtags: vec![],
        images: Vec::new(),
    }
}

fn composer() -> Composer {
    Composer::new(&Templates::default(), &["#EMIEP".to_string()], chrono_tz::Europe::London).unwrap()
}

const MASTODON: Counter = Counter::Mastodon { max: 500, url: 23 };

#[test]
fn a_session_becomes_a_thread_spread_through_it() {
    let pieces = composer()
        .session(&session(&["The Act is in force", "Duties apply to councils #equality"]), Network::Mastodon, &MASTODON)
        .unwrap();
    let got: Vec<(&str, &str, String)> =
        pieces.iter().map(|p| (p.item.as_str(), p.text.as_str(), p.at.format("%H:%M").to_string())).collect();
    assert_eq!(
        got,
        vec![
            ("title", "Equalities Law with @ada@example.social, Grace Hopper #EMIEP", "10:00".into()),
            ("p1", "The Act is in force #EMIEP", "10:15".into()),
            ("p2", "Duties apply to councils #equality #EMIEP", "10:30".into()),
        ]
    );
}

#[test]
fn speakers_are_named_as_each_network_knows_them() {
    let s = Speaker {
        name: "Ada".into(),
        mastodon: Some("@ada@example.social".into()),
        bluesky: Some("ada.bsky.social".into()),
        x: None,
        linkedin: Some("urn:li:person:AdaL01".into()),
        threads: Some("ada_t".into()),
    };
    assert_eq!(speaker_on(&s, Network::Threads), "@ada_t");
    assert_eq!(speaker_on(&s, Network::Facebook), "Ada");
    assert_eq!(speaker_on(&s, Network::Mastodon), "@ada@example.social");
    assert_eq!(speaker_on(&s, Network::LinkedIn), "@[Ada](urn:li:person:AdaL01)");
    assert_eq!(speaker_on(&s, Network::Bluesky), "@ada.bsky.social");
    assert_eq!(speaker_on(&s, Network::X), "Ada");
}

#[test]
fn hashtags_already_written_are_not_repeated() {
    let c = composer();
    let pieces = c.note("coffee", "coffee break! #emiep", utc("2010-03-18T15:00:00Z"), &MASTODON).unwrap();
    assert_eq!(pieces[0].text, "coffee break! #emiep");
}

#[test]
fn points_with_their_own_time_keep_it() {
    let mut s = session(&["a", "b", "c"]);
    s.points[1].at = Some(utc("2010-03-18T10:05:00Z"));
    let times: Vec<String> = point_times(&s).iter().map(|t| t.format("%H:%M:%S").to_string()).collect();
    assert_eq!(times, ["10:11:15", "10:05:00", "10:33:45"]);
}

#[test]
fn over_long_text_continues_and_nothing_is_lost() {
    let counter = Counter::Bluesky { max: 40 };
    let text = "One two three four five. Six seven eight nine ten eleven twelve thirteen fourteen.";
    let parts = split(text, &counter);
    assert!(parts.len() > 1);
    for p in &parts {
        assert!(counter.fits(p), "{p:?} is {} long", counter.len(p));
    }
    for p in &parts[..parts.len() - 1] {
        assert!(p.ends_with(CONTINUED), "{p:?}");
    }
    let rejoined = parts.iter().map(|p| p.trim_end_matches(CONTINUED)).collect::<Vec<_>>().join(" ");
    assert_eq!(rejoined, text);
    // The first break falls after the sentence.
    assert_eq!(parts[0], "One two three four five. …");
}

#[test]
fn splitting_table() {
    let b = |max| Counter::Bluesky { max };
    let cases: &[(&str, Counter, &[&str])] = &[
        ("short", b(10), &["short"]),
        ("exactly10!", b(10), &["exactly10!"]),
        ("aaaa bbbb cccc", b(10), &["aaaa …", "bbbb cccc"]),
        // A word longer than a post is broken between graphemes.
        ("abcdefghijkl", b(6), &["abcd …", "efgh …", "ijkl"]),
        // Emoji stay whole.
        ("👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦", b(4), &["👨‍👩‍👧‍👦👨‍👩‍👧‍👦 …", "👨‍👩‍👧‍👦👨‍👩‍👧‍👦 👨‍👩‍👧‍👦"]),
        // A URL weighs 23 on Mastodon however long it is.
        (
            "read https://example.org/a/very/long/path/that/goes/on/and/on today",
            Counter::Mastodon { max: 40, url: 23 },
            &["read https://example.org/a/very/long/path/that/goes/on/and/on today"],
        ),
    ];
    for (text, counter, want) in cases {
        assert_eq!(split(text, counter), *want, "{text:?}");
    }
}

#[test]
fn an_over_long_point_becomes_numbered_items() {
    let long = "word ".repeat(150);
    let pieces =
        composer().session(&session(&[long.trim()]), Network::Bluesky, &Counter::Bluesky { max: 300 }).unwrap();
    let items: Vec<&str> = pieces.iter().map(|p| p.item.as_str()).collect();
    assert_eq!(items, ["title", "p1", "p1-2", "p1-3"]);
    assert!(pieces[1..].iter().all(|p| p.split && p.at == pieces[1].at));
    assert!(!pieces[0].split);
}

#[test]
fn custom_templates_render_the_fields() {
    let t = Templates {
        title: "▶ {{ start }} {{ title }} ({{ room }})".into(),
        point: "{{ n }}/{{ total }} {{ point }}".into(),
        note: "{{ text }}".into(),
    };
    let c = Composer::new(&t, &[], chrono_tz::Europe::London).unwrap();
    let mut s = session(&["x", "y"]);
    s.room = Some("Hall A".into());
    let pieces = c.session(&s, Network::Mastodon, &MASTODON).unwrap();
    assert_eq!(pieces[0].text, "▶ 10:00 Equalities Law (Hall A)");
    assert_eq!(pieces[2].text, "2/2 y");
}

#[test]
fn bluesky_posts_stay_within_3000_bytes_too() {
    let counter = Counter::Bluesky { max: 300 };
    let text = "👨‍👩‍👧‍👦 ".repeat(200);
    let parts = split(&text, &counter);
    assert!(parts.len() > 1, "{} bytes must be split", text.len());
    for p in &parts {
        assert!(p.len() <= crate::count::BLUESKY_MAX_BYTES && counter.fits(p), "{} bytes", p.len());
    }
    let words: usize = parts.iter().map(|p| p.split_whitespace().filter(|w| *w != "…").count()).sum();
    assert_eq!(words, 200);
}

#[test]
fn numbered_posts_fit_the_room_kept_for_them() {
    let counter = Counter::default_for(Network::X);
    let long = "word ".repeat(200);
    for part in split(&long, &counter.reserve(NUMBERING_ROOM)) {
        assert!(counter.fits(&numbered(999, 999, &part)), "{part:?}");
    }
    assert_eq!(numbered(2, 4, "The Act is in force"), "2/4 The Act is in force");
    // "999/999 " is the room kept, whatever the script of the text.
    assert_eq!(counter.len(&numbered(999, 999, "")), NUMBERING_ROOM);
}

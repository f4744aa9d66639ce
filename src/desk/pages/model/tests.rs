use chrono::TimeZone;

use super::*;
use crate::control::view::{PostView, SessionRef};
use crate::job::JobId;

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2010, 3, 18, h, m, 0).unwrap()
}

#[test]
fn counts_are_words_and_an_unknown_count_is_never_zero() {
    let c = Counts { likes: Some(1), reposts: Some(2), replies: None, quotes: None, views: None };
    assert_eq!(counts_text(Some(&c), Network::Mastodon, false), "1 like, 2 boosts, ? replies");
    assert_eq!(counts_text(Some(&c), Network::Bluesky, false), "1 like, 2 reposts, ? replies");
    let q = Counts { quotes: Some(1), ..c };
    assert_eq!(counts_text(Some(&q), Network::X, false), "1 like, 2 reposts, ? replies, 1 quote");
    let v = Counts { views: Some(90), ..q };
    assert_eq!(counts_text(Some(&v), Network::X, false), "1 like, 2 reposts, ? replies, 1 quote, 90 views");
    assert_eq!(counts_text(None, Network::X, false), "no counts read yet");
    assert_eq!(counts_text(Some(&c), Network::X, true), "no longer on the server");
}

#[test]
fn a_post_is_shared_through_facebooks_own_dialog() {
    assert_eq!(
        share_url("https://bsky.app/profile/ada.test/post/3k?x=1&y=2"),
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fbsky.app%2Fprofile%2Fada.test%2Fpost%2F3k%3Fx%3D1%26y%3D2"
    );
}

fn view() -> DeskView {
    let copy = PostCopy {
        job: JobId("s.title.delegate".into()),
        account: "delegate".into(),
        network: Network::Mastodon,
        state: JobState::Done,
        url: Some("https://mastodon.example/@d/1".into()),
        counts: None,
        gone: false,
        boosts_done: 1,
        boosts: 2,
    };
    DeskView {
        event: "Day".into(),
        timezone: "Europe/London".into(),
        now: t(13, 50),
        current: Some(SessionView {
            id: "s".into(),
            title: "Case studies".into(),
            start: t(13, 45),
            end: t(14, 45),
            shift_secs: 900,
            posts: vec![PostView {
                key: "s.title".into(),
                text: "Case studies #EMIEP".into(),
                at: t(13, 46),
                copies: vec![copy],
            }],
            pending: 1,
            next_point: Some("A point".into()),
            suggested: vec![
                crate::plan::Suggestion {
                    session: "s".into(),
                    n: 1,
                    text: "Crates always adhere to SemVer.".into(),
                    approved: None,
                },
                crate::plan::Suggestion {
                    session: "s".into(),
                    n: 2,
                    text: "None of those statements are true!".into(),
                    approved: Some(t(13, 48)),
                },
            ],
        }),
        next: None,
        sessions: vec![
            SessionRef { id: "a".into(), title: "Before".into(), start: t(10, 0) },
            SessionRef { id: "s".into(), title: "Case studies".into(), start: t(13, 45) },
        ],
        upcoming: vec![JobLine {
            job: JobId("s.p1.delegate".into()),
            account: "delegate".into(),
            network: Some(Network::Mastodon),
            kind: JobKind::Reply,
            state: JobState::Pending,
            at: t(13, 40),
            session: Some("s".into()),
            text: Some("A point".into()),
            why: Some("account delegate paused: paused by hand".into()),
        }],
        accounts: vec![
            AccountView {
                id: "delegate".into(),
                network: Network::Mastodon,
                role: "primary".into(),
                paused: Some("paused by hand".into()),
                held_until: Some(t(14, 0)),
                held_why: Some("429".into()),
                failing: 2,
            },
            AccountView {
                id: "council".into(),
                network: Network::Bluesky,
                role: "amplifier".into(),
                paused: None,
                held_until: None,
                held_why: None,
                failing: 0,
            },
        ],
        failed: vec![],
        snippets: vec![],
    }
}

#[test]
fn the_page_says_in_words_what_the_view_holds() {
    let extra = Response { reload: Some("the config edit read at 13:00:00 was refused".into()), ..Default::default() };
    let page = Page::new(&view(), &extra, None);
    assert_eq!(page.as_of, "Thursday 18 March, 13:50");
    let now = page.current.unwrap();
    assert_eq!(
        (now.when.as_str(), now.moved.as_deref(), now.left.as_str()),
        ("13:45–14:45", Some("moved by +15m"), "1 post still to go")
    );
    // Suggestions wait for a tap; an approved one says when.
    let suggested: Vec<(usize, Option<&str>)> = now.suggested.iter().map(|x| (x.n, x.approved.as_deref())).collect();
    assert_eq!(suggested, [(1, None), (2, Some("approved at 13:48"))]);
    let copy = &now.posts[0].copies[0];
    assert_eq!(
        (copy.place.as_str(), copy.state.as_str(), copy.boosts.as_deref()),
        ("Mastodon (delegate)", "posted 13:46", Some("boosted 1 of 2"))
    );
    assert!(copy.share.as_deref().unwrap().starts_with("https://www.facebook.com/sharer/sharer.php?u=https%3A"));
    assert_eq!(page.upcoming[0].state, "late", "due before now and not sent");
    assert_eq!(
        page.accounts[0].status,
        "Paused: paused by hand. Held by the server's rate limit until 14:00: 429. 2 jobs failed or being retried"
    );
    assert!(page.accounts[0].paused && page.accounts[0].trouble);
    assert_eq!((page.accounts[1].kind.as_str(), page.accounts[1].status.as_str()), ("Bluesky, boosts", "Running"));
    assert_eq!(page.attention.len(), 2, "the paused account and the refused edit: {:?}", page.attention);
    // The thread chosen by default is the session under way, unless one was chosen.
    assert!(page.threads[1].selected && !page.threads[0].selected);
    let chosen = Page::new(&view(), &Response::default(), Some("a"));
    assert!(chosen.threads[0].selected && !chosen.threads[1].selected);
}

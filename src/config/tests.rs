use std::path::Path;

use super::*;
use crate::network::Network;

const EXAMPLE: &str = include_str!("../../config/example.toml");

pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("test.toml"), text)
}

/// A minimal valid config with `extra` appended.
pub fn minimal(extra: &str) -> String {
    format!(
        r##"[event]
name = "Test day"
timezone = "Europe/London"
date = 2010-03-18
hashtags = ["#EMIEP"]

[[account]]
id = "delegate"
platform = "mastodon"
server = "https://mastodon.example"
token_env = "LH_TEST_TOKEN"
{extra}"##
    )
}

pub(super) fn problems(text: &str) -> Vec<Problem> {
    match parse(text) {
        Ok(_) => panic!("expected the config to be refused:\n{text}"),
        Err(e) => e.problems().to_vec(),
    }
}

#[test]
fn the_example_loads() {
    let c = parse(EXAMPLE).unwrap();
    assert_eq!(c.event.timezone, chrono_tz::Europe::London);
    assert_eq!(c.accounts.len(), 2);
    assert_eq!(c.primaries().count(), 1);
    assert_eq!(c.amplifiers().count(), 1);
    assert_eq!(c.sessions.len(), 5);
    assert_eq!(c.sessions.to_vec()[0].id, "equalities-law");
    assert_eq!(c.sessions.to_vec()[0].start.to_rfc3339(), "2010-03-18T10:00:00+00:00");
    assert_eq!(c.recurring.len(), 1);
    assert_eq!(c.amplify.delay, Duration::from_secs(300));
    assert_eq!(c.amplify.rate, Rate::new(20, Duration::from_secs(3600)));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let instants = recurring_instants(&c, &c.recurring[0]);
    assert_eq!(instants.len(), 1);
    assert_eq!(instants[0].to_rfc3339(), "2010-03-18T15:00:00+00:00");
}

#[test]
fn the_example_loads_with_its_bluesky_accounts_uncommented() {
    let (head, bluesky) = EXAMPLE.split_at(EXAMPLE.find("# The delegate also posts on Bluesky").unwrap());
    let uncommented: String = bluesky
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.starts_with("[[account]]") || rest.contains(" = ") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let uncommented = format!("{head}{uncommented}");
    let c = parse(&uncommented).unwrap();
    let sky: Vec<&Account> = c.accounts.iter().filter(|a| a.network == Network::Bluesky).collect();
    assert_eq!(sky.len(), 2);
    assert_eq!(sky[0].identifier.as_deref(), Some("delegate.bsky.social"));
    assert_eq!(sky[0].secret, Some(SecretSource::Env("LOUDHAILER_DELEGATE_BSKY".into())));
    assert_eq!((sky[0].role, sky[1].role), (Role::Primary, Role::Amplifier));
}

#[test]
fn unknown_keys_are_refused_with_their_place() {
    let p = problems(&minimal("colour = \"red\"\n"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line.map(|l| l.0), Some(12));
    assert!(p[0].message.contains("unknown field `colour`"), "{}", p[0].message);
    assert_eq!(p[0].key, "account.colour");
    assert!(p[0].to_string().starts_with("test.toml:12:1: account.colour: unknown field"), "{}", p[0]);
}

#[test]
fn unknown_time_zones_are_refused() {
    let text = minimal("").replace("Europe/London", "Europe/Londn");
    let p = problems(&text);
    assert_eq!(p[0].key, "event.timezone");
    assert_eq!(p[0].line.map(|l| l.0), Some(3));
    assert!(p[0].message.contains("unknown time zone \"Europe/Londn\""));
}

#[test]
fn a_session_ending_before_it_starts_is_refused() {
    let p = problems(&minimal("[[session]]\ntitle = \"Law\"\nstart = \"10:00\"\nend = \"09:45\"\n"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].key, "session[1] (law).end");
    assert_eq!(p[0].line.map(|l| l.0), Some(15));
    assert!(p[0].message.contains("ends (2010-03-18 09:45) before it starts (2010-03-18 10:00)"), "{}", p[0].message);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = minimal(
        "role = \"boss\"\n[amplify]\ndelay = \"soon\"\nrate = \"lots\"\n[[session]]\ntitle = \"T\"\nstart = \"25:00\"\nduration = \"1h\"\n[[recurring]]\ncron = \"every day\"\ntext = \"x\"\n",
    );
    let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        ["account[delegate].role", "amplify.delay", "amplify.rate", "session[1] (t).start", "recurring[1].cron"]
    );
}

#[test]
fn secrets_must_come_from_the_environment_or_a_file() {
    // A Mastodon account without either signs in with `loudhailer login mastodon`.
    let text = minimal("").replace("token_env = \"LH_TEST_TOKEN\"\n", "");
    let config = parse(&text).unwrap();
    assert_eq!(config.account("delegate").unwrap().secret, None);
    let text = minimal("token_file = \"t\"\n");
    assert!(problems(&text)[0].message.contains("give token_env or token_file, not both"));
    // Files are found beside the config, except in systemd's credentials directory.
    for (written, kept) in
        [("keys/t", "keys/t"), ("${CREDENTIALS_DIRECTORY}/t", "${CREDENTIALS_DIRECTORY}/t"), ("/k/t", "/k/t")]
    {
        let text = minimal("").replace("token_env = \"LH_TEST_TOKEN\"", &format!("token_file = {written:?}"));
        let config = Config::parse(Path::new("/etc/lh/test.toml"), &text).unwrap();
        let want = if kept.starts_with("keys") { Path::new("/etc/lh").join(kept) } else { kept.into() };
        assert_eq!(config.account("delegate").unwrap().secret, Some(SecretSource::File(want)), "{written}");
    }
    let bluesky = minimal(
        "\n[[account]]\nid = \"sky\"\nplatform = \"bluesky\"\nserver = \"https://bsky.example\"\nidentifier = \"a.example\"\n",
    );
    let p = problems(&bluesky);
    assert_eq!(p[0].key, "account[sky]");
    assert!(p[0].message.contains("needs password_env"), "{}", p[0].message);
    let text = minimal("token = \"abc\"\n");
    assert!(problems(&text)[0].message.contains("unknown field `token`"));
}

#[test]
fn wrong_types_name_what_was_expected() {
    let p = problems(&minimal("[[session]]\ntitle = \"T\"\nstart = \"10:00\"\npoints = [1]\n"));
    assert!(p[0].message.contains("expected a point"), "{}", p[0].message);
    let p = problems(&minimal("[amplify]\ndelay = 5\n"));
    assert!(p[0].message.contains("invalid type: integer `5`, expected a string"), "{}", p[0].message);
}

#[test]
fn session_defaults_and_ids() {
    let c = parse(&minimal(
        "[[session]]\ntitle = \"Lunch\"\nstart = \"12:00\"\n[[session]]\ntitle = \"Lunch\"\nstart = \"2010-03-19T12:00\"\nduration = \"1h\"\n",
    ))
    .unwrap();
    assert_eq!(c.sessions.to_vec()[0].id, "lunch");
    assert_eq!(c.sessions.to_vec()[1].id, "lunch-2");
    assert_eq!((c.sessions.to_vec()[0].end - c.sessions.to_vec()[0].start).num_minutes(), 30);
    assert!(c.warnings[0].contains("no end or duration"));
    assert_eq!((c.sessions.to_vec()[1].end - c.sessions.to_vec()[1].start).num_minutes(), 60);
    let p = problems(&minimal(
        "[[session]]\nid = \"a\"\ntitle = \"A\"\nstart = \"12:00\"\n[[session]]\nid = \"a\"\ntitle = \"B\"\nstart = \"13:00\"\n",
    ));
    assert!(p[0].message.contains("another session has the id \"a\""));
}

#[test]
fn accounts_are_checked() {
    let bluesky_without_identifier = minimal(
        "[[account]]\nid = \"sky\"\nplatform = \"bluesky\"\nserver = \"https://bsky.social\"\npassword_env = \"P\"\n",
    );
    assert!(problems(&bluesky_without_identifier)[0].message.contains("needs identifier"));
    let dup = minimal(
        "[[account]]\nid = \"delegate\"\nplatform = \"mastodon\"\nserver = \"https://m.example\"\ntoken_env = \"T\"\n",
    );
    assert!(problems(&dup)[0].message.contains("same id"));
    let bad_server = minimal("").replace("https://mastodon.example", "mastodon.example");
    assert_eq!(problems(&bad_server)[0].key, "account[delegate].server");
    let no_primary = minimal("role = \"amplifier\"\n");
    assert!(problems(&no_primary)[0].message.contains("someone has to post"));
}

#[test]
fn recurring_fires_inside_each_days_hours() {
    let c = parse(&minimal(
        "[[session]]\ntitle = \"A\"\nstart = \"09:00\"\nend = \"17:00\"\n[[session]]\ntitle = \"B\"\nstart = \"2010-03-19T09:00\"\nend = \"2010-03-19T12:00\"\n[[recurring]]\ncron = \"0 15 * * *\"\ntext = \"tea\"\n",
    ))
    .unwrap();
    // Five-field cron is accepted; 15:00 falls inside day one's hours only.
    let got: Vec<String> = recurring_instants(&c, &c.recurring[0]).iter().map(|t| t.to_rfc3339()).collect();
    assert_eq!(got, ["2010-03-18T15:00:00+00:00"]);
}

#[test]
fn a_sessions_file_written_by_import_is_read_with_its_own_lines() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions.toml");
    std::fs::write(
        &sessions,
        "[event]\ntimezone = \"Europe/Berlin\"\ndate = 2011-06-23\n\n[[session]]\nid = \"1\"\ntitle = \"What to hack\"\nstart = \"19:00\"\nend = \"2011-06-23T20:30:00\"\npoints = [\"Gamejam\"]\n",
    )
    .unwrap();
    let config_path = dir.path().join("event.toml");
    let text = minimal("[schedule]\nfile = \"sessions.toml\"\n");
    let c = Config::parse(&config_path, &text).unwrap();
    assert_eq!(c.sessions.len(), 1);
    // Berlin summer time, read in the sessions file's own zone.
    assert_eq!(c.sessions.to_vec()[0].start.to_rfc3339(), "2011-06-23T17:00:00+00:00");
    assert_eq!(c.sessions.to_vec()[0].points[0].text, "Gamejam");
    assert_eq!(c.schedule_file.as_deref(), Some(sessions.as_path()));

    // A mistake in the sessions file names that file and its line.
    std::fs::write(
        &sessions,
        "[[session]]\ntitle = \"T\"\nstart = \"2011-06-23T19:00:00\"\nend = \"2011-06-23T18:00:00\"\n",
    )
    .unwrap();
    let err = Config::parse(&config_path, &text).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!(p.file, sessions);
    assert_eq!(p.line.map(|l| l.0), Some(4));
    assert!(p.message.contains("before it starts"), "{}", p.message);
}

#[test]
fn report_checkpoints_default_and_are_checked() {
    let c = parse(&minimal("")).unwrap();
    let minutes: Vec<u64> = c.report.checkpoints.iter().map(|d| d.as_secs() / 60).collect();
    assert_eq!(minutes, [15, 60, 360, 1440, 4320]);
    assert!(c.report.cron.is_none());

    let c = parse(&minimal("\n[report]\ncheckpoints = [\"2h\", \"30m\"]\ncron = \"0 9 * * *\"\n")).unwrap();
    assert_eq!(c.report.checkpoints, [Duration::from_secs(1800), Duration::from_secs(7200)]);
    assert!(c.report.cron.is_some());
    assert!(parse(&minimal("\n[report]\ncheckpoints = []\n")).unwrap().report.checkpoints.is_empty());

    let p =
        problems(&minimal("\n[report]\ncheckpoints = [\"15m\", \"soon\", \"0s\", \"15m\"]\ncron = \"every day\"\n"));
    let keys: Vec<(&str, Option<usize>)> = p.iter().map(|x| (x.key.as_str(), x.line.map(|l| l.0))).collect();
    assert_eq!(
        keys,
        [
            ("report.checkpoints", Some(14)),
            ("report.checkpoints", Some(14)),
            ("report.checkpoints", Some(14)),
            ("report.cron", Some(15))
        ]
    );
    assert!(p[0].message.contains("expected a duration"), "{}", p[0].message);
    assert!(p[1].message.contains("checkpoint of 0"), "{}", p[1].message);
    assert!(p[2].message.contains("listed twice"), "{}", p[2].message);
    assert!(p[3].message.contains("cron expression"), "{}", p[3].message);

    let p = problems(&minimal("\n[report]\ncheckpoint = [\"15m\"]\n"));
    assert!(p[0].message.contains("unknown field `checkpoint`"), "{}", p[0].message);
}

/// An X account table with `keys` appended.
#[test]
fn templates_are_rendered_once_when_the_config_is_checked() {
    let session = "[[session]]\ntitle = \"Equalities Law\"\nstart = \"10:00\"\npoints = [\"A point\"]\n";
    let cases = [
        // (compose table, key, words in the message)
        ("title = \"{{ title | nosuchfilter }}\"", "compose.title", "unknown filter"),
        ("point = \"{{ point | nosuchfilter }}\"", "compose.point", "unknown filter"),
        ("note = \"{% for %}\"", "compose.note", "not a valid template"),
        ("title = \"{{ title | int }}\"", "compose.title", "cannot be rendered for session"),
        ("point = \"{{ point }\"", "compose.point", "not a valid template"),
    ];
    for (compose, key, words) in cases {
        let p = problems(&minimal(&format!("{session}\n[compose]\n{compose}\n")));
        assert_eq!(p.len(), 1, "{compose}: {p:?}");
        assert_eq!(p[0].key, key, "{compose}");
        assert!(p[0].message.contains(words), "{compose}: {}", p[0].message);
        // Placed at the template's own line.
        let line = minimal(&format!("{session}\n[compose]\n{compose}\n")).lines().position(|l| l == compose).unwrap();
        assert_eq!(p[0].line.map(|l| l.0), Some(line + 1), "{compose}");
    }
    // Good templates pass, with every field the sample session has.
    let good = "title = \"{{ start }} {{ title }} ({{ room }}, {{ track }}) {{ url }} {{ speakers | join(', ') }}\"";
    assert!(parse(&minimal(&format!("{session}\n[compose]\n{good}\n"))).is_ok());
}

#[test]
fn absurd_durations_are_refused_with_their_limit() {
    let cases = [
        ("[amplify]\ndelay = \"300000y\"\njitter = \"1m\"\n", "amplify.delay", "limit of 7days"),
        ("[amplify]\ndelay = \"5m\"\njitter = \"99999999999999999999999h\"\n", "amplify.jitter", "expected a duration"),
        ("[amplify]\nrate = \"20/300000y\"\n", "amplify.rate", "period must be at most"),
        ("[run]\ncatch_up = \"8d\"\n", "run.catch_up", "limit of 7days"),
        (
            "[[session]]\ntitle = \"T\"\nstart = \"10:00\"\nduration = \"15d\"\n",
            "session[1] (t).duration",
            "limit of 14days",
        ),
        (
            "[[session]]\ntitle = \"T\"\nstart = \"10:00\"\nend = \"9999-12-31T10:00:00\"\n",
            "session[1] (t).end",
            "longer than the limit",
        ),
        ("[report]\ncheckpoints = [\"400d\"]\n", "report.checkpoints", "limit of 1year"),
    ];
    for (extra, key, words) in cases {
        let p = problems(&minimal(extra));
        assert!(p.iter().any(|x| x.key == key && x.message.contains(words)), "{extra}: {p:?}");
    }
}

#[test]
fn a_schedule_file_is_read_before_the_config_is_checked() {
    let text = minimal("[schedule]\nfile = \"talks.toml\"\n");
    let files = Files::from_memory([(
        Path::new("talks.toml").to_path_buf(),
        b"[[session]]\ntitle = \"From memory\"\nstart = \"11:00\"\n".to_vec(),
    )]);
    let c = Config::parse_with(Path::new("test.toml"), &text, &files).unwrap();
    assert_eq!(c.sessions.len(), 1);
    assert_eq!(c.sessions.to_vec()[0].title, "From memory");
    assert_eq!(c.inputs, [Path::new("talks.toml").to_path_buf()]);
    // A file that was not read is named, not looked for on disk.
    let p = Config::parse_with(Path::new("test.toml"), &text, &Files::default()).unwrap_err();
    assert!(p.problems()[0].message.contains("talks.toml"), "{p}");
    assert_eq!(p.problems()[0].key, "schedule.file");
}

#[test]
fn the_desk_listens_on_loopback_unless_told_otherwise() {
    let c = parse(&minimal("")).unwrap();
    assert!(c.desk.enabled);
    assert_eq!(c.desk.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.desk.tls, DeskTls::Off);
    let c = parse(&minimal("[desk]\nenabled = false\nlisten = \"0.0.0.0:8443\"\n")).unwrap();
    assert!(!c.desk.enabled, "a desk that is off may name any address: it opens none");
    let c = parse(&minimal("[desk]\nlisten = \"0.0.0.0:8443\"\ntls = \"self-signed\"\n")).unwrap();
    assert_eq!(c.desk.tls, DeskTls::SelfSigned);
    let c = parse(&minimal("[desk]\nlisten = \"[::]:8443\"\ncert = \"tls/cert.pem\"\nkey = \"/etc/k.pem\"\n")).unwrap();
    assert_eq!(
        c.desk.tls,
        DeskTls::Files { cert: Path::new("tls/cert.pem").to_path_buf(), key: Path::new("/etc/k.pem").to_path_buf() }
    );
    let c = parse(&minimal("[desk]\nlisten = \"0.0.0.0:8080\"\ninsecure_http = true\n")).unwrap();
    assert!(c.desk.plain_off_loopback() && c.desk.insecure_http);
}

#[test]
fn plain_http_off_loopback_and_half_given_tls_are_refused_by_name() {
    let cases = [
        ("[desk]\nlisten = \"0.0.0.0:8080\"\n", "desk.listen", "insecure_http = true"),
        ("[desk]\nlisten = \"192.0.2.7:80\"\n", "desk.listen", "plain HTTP"),
        ("[desk]\nlisten = \"localhost:80\"\n", "desk.listen", "expected an address and port"),
        ("[desk]\ntls = \"yes\"\n", "desk.tls", "expected \"self-signed\""),
        ("[desk]\ncert = \"c.pem\"\n", "desk.cert", "needs its private key"),
        ("[desk]\nkey = \"k.pem\"\n", "desk.key", "needs its certificate"),
        ("[desk]\ntls = \"self-signed\"\ncert = \"c.pem\"\nkey = \"k.pem\"\n", "desk.tls", "not both"),
        ("[desk]\ntls = \"self-signed\"\nurl = \"http://desk.example\"\n", "desk.url", "HTTPS only"),
        ("[desk]\nurl = \"desk.example\"\n", "desk.url", "expected an address"),
        ("[desk]\nport = 80\n", "desk", "unknown field"),
    ];
    for (extra, key, words) in cases {
        let p = problems(&minimal(extra));
        assert!(p.iter().any(|x| x.key.starts_with(key) && x.message.contains(words)), "{extra}: {p:?}");
    }
}

#[test]
fn snippets_need_a_text_and_distinct_labels() {
    let c = parse(&minimal(
        "[[snippet]]\ntext = \"coffee break!\"\n\n[[snippet]]\ntext = \"Lunch: back at 13:30\"\nlabel = \"Lunch\"\nthread = true\n",
    ))
    .unwrap();
    assert_eq!(
        c.snippets,
        [
            Snippet { label: "coffee break!".into(), text: "coffee break!".into(), thread: false },
            Snippet { label: "Lunch".into(), text: "Lunch: back at 13:30".into(), thread: true },
        ]
    );
    let cases = [
        ("[[snippet]]\ntext = \"  \"\n", "snippet[0].text", "needs a text"),
        (
            "[[snippet]]\ntext = \"a\"\n[[snippet]]\ntext = \"b\"\nlabel = \"A\"\n",
            "snippet[1].label",
            "another snippet",
        ),
        (
            "[[snippet]]\ntext = \"A very long snippet that is far too long for a button\"\n",
            "snippet[0].text",
            "add label",
        ),
        ("[[snippet]]\nlabel = \"x\"\n", "", "missing field `text`"),
    ];
    for (extra, key, words) in cases {
        let p = problems(&minimal(extra));
        assert!(p.iter().any(|x| x.key.starts_with(key) && x.message.contains(words)), "{extra}: {p:?}");
    }
}

#[test]
fn a_schedule_url_is_read_from_its_copy_in_the_state_dir() {
    let text = minimal("[state]\ndir = \"/state\"\n[schedule]\nurl = \"https://x.org/2024/schedule.toml\"\n");
    // Never fetched: no sessions yet, said as a warning.
    let c = Config::parse_with(Path::new("test.toml"), &text, &Files::default()).unwrap();
    let source = c.published.clone().unwrap();
    assert_eq!(source.refresh, crate::published::rules::DEFAULT_REFRESH);
    assert!(source.copy.starts_with("/state/published"), "{}", source.copy.display());
    assert!(c.sessions.is_empty());
    assert!(c.warnings.iter().any(|w| w.contains("has not been fetched yet")), "{:?}", c.warnings);
    assert!(c.inputs.is_empty(), "the copy is not watched: a fetch reloads by itself");
    // With its copy: read as the file would be.
    let copy = b"[[session]]\ntitle = \"Fetched\"\nstart = \"11:00\"\n".to_vec();
    let files = Files::from_memory([(source.copy.clone(), copy)]);
    let c = Config::parse_with(Path::new("test.toml"), &text, &files).unwrap();
    assert_eq!(c.sessions.to_vec()[0].title, "Fetched");

    let cases = [
        ("[schedule]\nurl = \"http://x.org/s.xml\"\n", "schedule.url", "plain HTTP"),
        ("[schedule]\nurl = \"https://x.org/s.xml\"\nfile = \"s.xml\"\n", "schedule", "not both"),
        ("[schedule]\nrefresh = \"5m\"\n", "schedule", "give `file`"),
        ("[schedule]\nfile = \"s.xml\"\nrefresh = \"5m\"\n", "schedule.refresh", "only goes with `url`"),
        ("[schedule]\nurl = \"https://x.org/s.xml\"\nrefresh = \"1s\"\n", "schedule.refresh", "outside 5s"),
        (
            "[schedule]\nurl = \"https://x.org/s.xml\"\nannounce_threshold = \"10s\"\nannounce_changes = true\n",
            "schedule.announce_threshold",
            "a minute or more",
        ),
    ];
    for (extra, key, words) in cases {
        let p = problems(&minimal(extra));
        assert!(p.iter().any(|x| x.key == key && x.message.contains(words)), "{extra}: {p:?}");
    }
    let ok = minimal("[schedule]\nurl = \"http://127.0.0.1:8080/s.xml\"\nannounce_changes = true\n");
    let c = Config::parse_with(Path::new("test.toml"), &ok, &Files::default()).unwrap();
    assert_eq!(c.announce_changes, Some(std::time::Duration::from_secs(600)), "loopback needs no allow_http");
}

#[test]
fn crosspost_copies_only_a_primary_accounts_own_posts_to_another_network() {
    let amp = "\n[[account]]\nid = \"council\"\nplatform = \"mastodon\"\nserver = \"https://mastodon.example\"\ntoken_env = \"LH_C\"\nrole = \"amplifier\"\n";
    let sky = "\n[[account]]\nid = \"sky\"\nplatform = \"bluesky\"\nserver = \"https://bsky.example\"\nidentifier = \"a.example\"\npassword_env = \"LH_S\"\n\n[[account]]\nid = \"sky-amp\"\nplatform = \"bluesky\"\nserver = \"https://bsky.example\"\nidentifier = \"b.example\"\npassword_env = \"LH_SA\"\nrole = \"amplifier\"\n";
    let ok = parse(&minimal(&format!("{amp}{sky}\n[[follow]]\ncrosspost = true\n"))).unwrap();
    assert!(ok.follows.iter().all(|w| w.crosspost) && ok.follows.len() == 2);
    let off = parse(&minimal(&format!("{amp}{sky}\n[[follow]]\n"))).unwrap();
    assert!(off.follows.iter().all(|w| !w.crosspost), "off unless asked for");
    // Someone else's posts, an amplifier's, or a primary with nowhere to copy to: refused.
    for (extra, says) in [
        (
            format!("{amp}{sky}\n[[follow]]\naccounts = [\"@keynote@m.example\"]\ncrosspost = true\n"),
            "is not an account of this config",
        ),
        (
            format!(
                "{amp}{sky}\n[[follow]]\naccounts = [\"council\"]\namplifiers = [\"delegate\"]\ncrosspost = true\n"
            ),
            "council is an amplifier",
        ),
        (format!("{amp}\n[[follow]]\ncrosspost = true\n"), "no primary account is on another network"),
    ] {
        let p = problems(&minimal(&extra));
        assert!(p.iter().any(|p| p.key == "follow[1].crosspost" && p.message.contains(says)), "{says}: {p:?}");
    }
}

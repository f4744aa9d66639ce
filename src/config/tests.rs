use std::path::Path;

use super::*;
use crate::network::Network;

const EXAMPLE: &str = include_str!("../../config/example.toml");

fn parse(text: &str) -> Result<Config, ConfigError> {
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

fn problems(text: &str) -> Vec<Problem> {
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
    assert_eq!(c.sessions[0].id, "equalities-law");
    assert_eq!(c.sessions[0].start.to_rfc3339(), "2010-03-18T10:00:00+00:00");
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
    assert_eq!(c.sessions[0].id, "lunch");
    assert_eq!(c.sessions[1].id, "lunch-2");
    assert_eq!((c.sessions[0].end - c.sessions[0].start).num_minutes(), 30);
    assert!(c.warnings[0].contains("no end or duration"));
    assert_eq!((c.sessions[1].end - c.sessions[1].start).num_minutes(), 60);
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
    assert_eq!(c.sessions[0].start.to_rfc3339(), "2011-06-23T17:00:00+00:00");
    assert_eq!(c.sessions[0].points[0].text, "Gamejam");
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
fn x_account(keys: &str) -> String {
    minimal(&format!("\n[[account]]\nid = \"bird\"\nplatform = \"x\"\n{keys}"))
}

const OAUTH1: &str = "consumer_key_env = \"CK\"\nconsumer_secret_env = \"CS\"\naccess_token_env = \"AT\"\naccess_secret_file = \"keys/as\"\n";

#[test]
fn x_accounts_take_oauth1_keys_or_an_oauth2_client() {
    let c = parse(&x_account(OAUTH1)).unwrap();
    let bird = c.account("bird").unwrap();
    assert_eq!(bird.network, Network::X);
    assert_eq!(bird.server.as_str(), "https://api.x.com/");
    assert_eq!(bird.secret, None);
    match bird.x.as_ref().unwrap() {
        XAuth::OAuth1 { consumer_key, access_secret, .. } => {
            assert_eq!(consumer_key, &SecretSource::Env("CK".into()));
            assert_eq!(access_secret, &SecretSource::File(Path::new("keys/as").to_path_buf()));
        }
        other => panic!("{other:?}"),
    }
    let c = parse(&x_account("client_id = \"abc123\"\nclient_secret_env = \"XS\"\nserver = \"http://127.0.0.1:9\"\n"))
        .unwrap();
    let bird = c.account("bird").unwrap();
    assert_eq!(bird.server.as_str(), "http://127.0.0.1:9/");
    match bird.x.as_ref().unwrap() {
        XAuth::OAuth2 { client_id, client_secret, redirect_uri } => {
            assert_eq!(client_id, "abc123");
            assert_eq!(client_secret, &Some(SecretSource::Env("XS".into())));
            assert_eq!(redirect_uri.as_str(), account::x::DEFAULT_REDIRECT_URI);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn x_account_refusals_name_the_key_and_line() {
    // (extra keys, the problem's key, words in its message, its line)
    let cases: &[(&str, &str, &str, usize)] = &[
        ("", "account[bird]", "needs OAuth 1.0a keys", 13),
        ("client_id = \"abc\"\ntoken_env = \"T\"\n", "account[bird]", "token_env/token_file is not for X accounts", 17),
        (&format!("{OAUTH1}client_id = \"abc\"\n"), "account[bird]", "not both", 13),
        (
            "consumer_key_env = \"CK\"\nconsumer_secret_env = \"CS\"\naccess_token_env = \"AT\"\n",
            "account[bird]",
            "needs access_secret_env",
            13,
        ),
        (
            "consumer_key_env = \"CK\"\nconsumer_key_file = \"ck\"\nconsumer_secret_env = \"CS\"\naccess_token_env = \"AT\"\naccess_secret_env = \"AS\"\n",
            "account[bird]",
            "give consumer_key_env or consumer_key_file, not both",
            13,
        ),
        ("consumer_key_env = \"not a name\"\nconsumer_secret_env = \"CS\"\naccess_token_env = \"AT\"\naccess_secret_env = \"AS\"\n", "account[bird].consumer_key_env", "is not an environment variable name", 16),
        ("client_secret_env = \"XS\"\n", "account[bird].client_id", "need the client_id", 13),
        ("client_id = \"has space\"\n", "account[bird].client_id", "expected the OAuth 2.0 client id", 16),
        ("client_id = \"abc\"\nredirect_uri = \"not a url\"\n", "account[bird].redirect_uri", "is not a callback URL", 17),
        (&format!("{OAUTH1}redirect_uri = \"http://127.0.0.1/cb\"\n"), "account[bird].redirect_uri", "is for OAuth 2.0", 20),
        ("client_id = \"abc\"\nvisibility = \"public\"\n", "account[bird]", "visibility is not for X accounts", 17),
    ];
    for (keys, key, words, line) in cases {
        let p = problems(&x_account(keys));
        assert_eq!(p.len(), 1, "{keys:?}: {p:?}");
        assert_eq!(p[0].key, *key, "{keys:?}");
        assert!(p[0].message.contains(words), "{keys:?}: {}", p[0].message);
        assert_eq!(p[0].line.map(|l| l.0), Some(*line), "{keys:?}: {}", p[0]);
    }
}

#[test]
fn x_keys_are_refused_on_other_networks() {
    let p = problems(&minimal("consumer_key_env = \"CK\"\n"));
    assert_eq!(p[0].key, "account[delegate]");
    assert!(p[0].message.contains("are for X accounts"), "{}", p[0].message);
    let p = problems(&minimal("").replace("server = \"https://mastodon.example\"\n", ""));
    assert_eq!(p[0].key, "account[delegate].server");
    assert!(p[0].message.contains("needs server"), "{}", p[0].message);
    let p = problems(&minimal("").replace("platform = \"mastodon\"", "platform = \"twitter\""));
    assert!(
        p[0].message.contains("expected \"mastodon\", \"bluesky\", \"x\", \"linkedin\", \"facebook\" or \"threads\""),
        "{}",
        p[0].message
    );
}

/// A LinkedIn account table with `keys` appended.
fn linkedin_account(keys: &str) -> String {
    minimal(&format!("\n[[account]]\nid = \"li\"\nplatform = \"linkedin\"\n{keys}"))
}

#[test]
fn linkedin_accounts_take_a_token_or_a_client_and_an_organisation() {
    let c = parse(&linkedin_account("token_env = \"LI\"\n")).unwrap();
    let li = c.account("li").unwrap();
    assert_eq!(li.network, Network::LinkedIn);
    assert_eq!(li.server.as_str(), "https://api.linkedin.com/");
    assert_eq!(li.secret, Some(SecretSource::Env("LI".into())));
    assert_eq!(li.oauth, None);
    assert_eq!(li.organization, None);
    assert_eq!(li.api_version.as_deref(), Some(crate::config::networks::LINKEDIN_VERSION));
    assert_eq!(li.points, crate::config::Points::Comments);

    let text = linkedin_account(
        "client_id = \"cid\"\nclient_secret_env = \"LS\"\norganization = \"2414183\"\nrole = \"amplifier\"\n",
    ) + "\n[linkedin]\npoints = \"posts\"\nversion = \"202512\"\n";
    let c = parse(&text).unwrap();
    let li = c.account("li").unwrap();
    assert_eq!(li.secret, None);
    let client = li.oauth.as_ref().unwrap();
    assert_eq!(client.client_id, "cid");
    assert_eq!(client.client_secret, Some(SecretSource::Env("LS".into())));
    assert_eq!(client.redirect_uri.as_str(), account::oauth::DEFAULT_REDIRECT_URI);
    assert_eq!(li.organization.as_deref(), Some("urn:li:organization:2414183"));
    assert_eq!(li.api_version.as_deref(), Some("202512"));
    assert_eq!(li.points, crate::config::Points::Posts);
}

#[test]
fn linkedin_refusals_name_the_key() {
    // (extra keys, the problem's key, words in its message)
    let cases: &[(&str, &str, &str)] = &[
        ("", "account[li]", "needs token_env or token_file (an access token), or client_id"),
        (
            "token_env = \"LI\"\norganization = \"acme\"\n",
            "account[li].organization",
            "expected the organisation's URN",
        ),
        ("client_id = \"cid\"\n", "account[li]", "needs its client secret"),
        (
            "client_id = \"cid\"\nclient_secret_env = \"LS\"\nredirect_uri = \"https://example.org/cb\"\n",
            "account[li].redirect_uri",
            "listens for the browser on this machine",
        ),
        ("token_env = \"LI\"\nconsumer_key_env = \"CK\"\n", "account[li]", "are for X accounts"),
        ("token_env = \"LI\"\nidentifier = \"ada\"\n", "account[li]", "identifier is not for LinkedIn accounts"),
    ];
    for (keys, key, words) in cases {
        let p = problems(&linkedin_account(keys));
        assert_eq!(p.len(), 1, "{keys:?}: {p:?}");
        assert_eq!(p[0].key, *key, "{keys:?}");
        assert!(p[0].message.contains(words), "{keys:?}: {}", p[0].message);
    }
    let p = problems(&minimal("organization = \"1\"\n"));
    assert!(p[0].message.contains("organization is for LinkedIn accounts"), "{}", p[0].message);
    let p = problems(&(linkedin_account("token_env = \"LI\"\n") + "\n[linkedin]\npoints = \"thread\"\n"));
    assert_eq!(p[0].key, "linkedin.points");
    let p = problems(&(linkedin_account("token_env = \"LI\"\n") + "\n[linkedin]\nversion = \"2026-01\"\n"));
    assert_eq!(p[0].key, "linkedin.version");
}

/// A Facebook account table with `keys` appended (after the Mastodon delegate).
fn facebook_account(keys: &str) -> String {
    minimal(&format!("\n[[account]]\nid = \"fb\"\nplatform = \"facebook\"\n{keys}"))
}

#[test]
fn facebook_pages_take_a_page_id_and_amplify_a_primary_on_another_network() {
    let c =
        parse(&facebook_account("page = \"20000000000000022\"\ntoken_env = \"FB\"\nrole = \"amplifier\"\n")).unwrap();
    let fb = c.account("fb").unwrap();
    assert_eq!(fb.network, Network::Facebook);
    assert_eq!(fb.server.as_str(), "https://graph.facebook.com/");
    assert_eq!(fb.page.as_deref(), Some("20000000000000022"));
    assert_eq!(fb.amplifies.as_deref(), Some("delegate"), "the config's primary, when none is named");
    assert_eq!(fb.api_version.as_deref(), Some(crate::config::networks::GRAPH_VERSION));
    assert_eq!(c.facebook.mode, crate::config::Mode::Digest, "digest by default");

    let text = facebook_account("page = \"1\"\nclient_id = \"app\"\nclient_secret_env = \"FS\"\nrole = \"amplifier\"\namplifies = \"delegate\"\n")
        + "\n[facebook]\nmode = \"quote\"\nversion = \"v24.0\"\n";
    let c = parse(&text).unwrap();
    assert_eq!(c.facebook.mode, crate::config::Mode::Quote);
    assert_eq!(c.account("fb").unwrap().api_version.as_deref(), Some("v24.0"));

    // A Page as primary amplifies nothing: it posts the schedule itself.
    let c = parse(&facebook_account("page = \"1\"\ntoken_env = \"FB\"\n")).unwrap();
    assert_eq!(c.account("fb").unwrap().amplifies, None);

    let c = parse(&minimal("\n[[account]]\nid = \"th\"\nplatform = \"threads\"\ntoken_env = \"TH\"\n")).unwrap();
    let th = c.account("th").unwrap();
    assert_eq!(th.server.as_str(), "https://graph.threads.net/");
    assert_eq!(th.api_version.as_deref(), Some(crate::config::networks::THREADS_VERSION));
}

#[test]
fn facebook_refusals_name_the_key() {
    // (extra keys, the problem's key, words in its message)
    let cases: &[(&str, &str, &str)] = &[
        ("token_env = \"FB\"\n", "account[fb].page", "no API posts to a personal profile"),
        ("page = \"my-council\"\ntoken_env = \"FB\"\n", "account[fb].page", "expected the Page's id"),
        (
            "page = \"1\"\ntoken_env = \"FB\"\nrole = \"amplifier\"\namplifies = \"nobody\"\n",
            "account[fb].amplifies",
            "is not a primary account",
        ),
    ];
    for (keys, key, words) in cases {
        let p = problems(&facebook_account(keys));
        assert_eq!(p.len(), 1, "{keys:?}: {p:?}");
        assert_eq!(p[0].key, *key, "{keys:?}");
        assert!(p[0].message.contains(words), "{keys:?}: {}", p[0].message);
    }
    // A Page amplifier with no primary on another network to amplify.
    let lone = minimal("").replace(
        "platform = \"mastodon\"\nserver = \"https://mastodon.example\"",
        "platform = \"facebook\"\npage = \"1\"",
    ) + "role = \"amplifier\"\n";
    let p = problems(&lone);
    assert!(p.iter().any(|p| p.key == "account[delegate].role" && p.message.contains("this config has none")), "{p:?}");
    let p = problems(&minimal("page = \"1\"\n"));
    assert!(p[0].message.contains("page is for Facebook Page accounts"), "{}", p[0].message);
    let p = problems(&(facebook_account("page = \"1\"\ntoken_env = \"FB\"\n") + "\n[facebook]\nmode = \"share\"\n"));
    assert_eq!(p[0].key, "facebook.mode");
    let p = problems(&(facebook_account("page = \"1\"\ntoken_env = \"FB\"\n") + "\n[facebook]\nversion = \"25\"\n"));
    assert_eq!(p[0].key, "facebook.version");
}

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
    assert_eq!(c.sessions[0].title, "From memory");
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
    assert_eq!(c.sessions[0].title, "Fetched");

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

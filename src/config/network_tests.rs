//! The config's checks of the accounts on X, LinkedIn and Facebook: the keys each network takes,
//! and refusals that name the key and its line.

use super::tests::{minimal, parse, problems};
use super::*;
use crate::network::Network;

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

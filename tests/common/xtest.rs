//! Shared by the X end-to-end tests: the test accounts' environment, configs that point at the
//! X test server, and assertions on what it holds.

use std::collections::HashMap;
use std::sync::Arc;

use loudhailer::clock::Clock;
use loudhailer::config::Config;
use loudhailer::job::RemoteRef;
use loudhailer::limit::{self, Limiter};
use loudhailer::network::Network;
use loudhailer::platform::Client;
use loudhailer::secret::{Credentials, OAuth1Keys, Secret};
use loudhailer::store::Store;

use super::lh::in_secs;
use super::xserver::{Post, XServer, CLIENT_ID, CLIENT_SECRET, CONSUMER_KEY, CONSUMER_SECRET, USERS};

pub const DELEGATE: &str = "ada_delegate";
pub const COUNCIL: &str = "faith_council";

pub const ENV: [(&str, &str); 7] = [
    ("LH_X_CK", CONSUMER_KEY),
    ("LH_X_CS", CONSUMER_SECRET),
    ("LH_X_DELEGATE_AT", USERS[0].2),
    ("LH_X_DELEGATE_AS", USERS[0].3),
    ("LH_X_COUNCIL_AT", USERS[1].2),
    ("LH_X_COUNCIL_AS", USERS[1].3),
    ("LH_X_CLIENT_SECRET", CLIENT_SECRET),
];

pub const OAUTH1_DELEGATE: &str = "consumer_key_env = \"LH_X_CK\"\nconsumer_secret_env = \"LH_X_CS\"\naccess_token_env = \"LH_X_DELEGATE_AT\"\naccess_secret_env = \"LH_X_DELEGATE_AS\"";

pub fn oauth2_delegate() -> String {
    format!("client_id = \"{CLIENT_ID}\"\nclient_secret_env = \"LH_X_CLIENT_SECRET\"")
}

pub fn config(base: &str, sessions: &str, amplify: &str, delegate_auth: &str) -> String {
    format!(
        r##"[event]
name = "Test day on X"
timezone = "Europe/London"
hashtags = ["#EMIEP"]

[[account]]
id = "delegate"
platform = "x"
server = "{base}"
{delegate_auth}
role = "primary"

[[account]]
id = "council"
platform = "x"
server = "{base}"
consumer_key_env = "LH_X_CK"
consumer_secret_env = "LH_X_CS"
access_token_env = "LH_X_COUNCIL_AT"
access_secret_env = "LH_X_COUNCIL_AS"
role = "amplifier"

[amplify]
{amplify}

[state]
dir = "{{STATE}}"

{sessions}
"##
    )
}

pub fn session(title: &str, start: i64, end: i64, points: &[&str]) -> String {
    format!(
        "[[session]]\ntitle = \"{title}\"\nstart = \"{}\"\nend = \"{}\"\npoints = {points:?}\n\n",
        in_secs(start),
        in_secs(end)
    )
}

/// Asserts each text was posted by the delegate exactly once and retweeted by the council
/// exactly once, and that nothing else was retweeted; returns the posts by text.
pub fn assert_once_and_retweeted(server: &XServer, texts: &[String]) -> HashMap<String, Post> {
    let posts = server.posts_by(DELEGATE);
    let retweets = server.retweets();
    let mut out = HashMap::new();
    for t in texts {
        let found: Vec<&Post> = posts.iter().filter(|p| &p.text == t).collect();
        assert_eq!(found.len(), 1, "{t:?} was posted {} times", found.len());
        let id = &found[0].id;
        let n = retweets.iter().filter(|(u, p)| u == COUNCIL && p == id).count();
        assert_eq!(n, 1, "{t:?} ({id}) was retweeted {n} times");
        out.insert(t.clone(), found[0].clone());
    }
    assert_eq!(retweets.len(), texts.len(), "no other retweets: {retweets:?}");
    out
}

pub fn tagged(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| format!("{t} #EMIEP")).collect()
}

/// A client for `account` of a config pointing at `server`, outside the binary.
pub fn client(server: &XServer, account: &str) -> Client {
    let text = config(&server.base, "", "delay = \"1s\"\njitter = \"0s\"", OAUTH1_DELEGATE);
    let config = Config::parse(std::path::Path::new("x.toml"), &text.replace("{STATE}", "/nonexistent")).unwrap();
    let (token, secret) = if account == "delegate" { (USERS[0].2, USERS[0].3) } else { (USERS[1].2, USERS[1].3) };
    let keys = OAuth1Keys {
        consumer_key: Secret::new(CONSUMER_KEY),
        consumer_secret: Secret::new(CONSUMER_SECRET),
        access_token: Secret::new(token),
        access_secret: Secret::new(secret),
    };
    let limiter = Arc::new(Limiter::new(Clock::Wall, limit::published(Network::X)));
    Client::connect(
        config.account(account).unwrap(),
        Credentials::XOAuth1(keys),
        limiter,
        Clock::Wall,
        std::sync::Arc::new(Store::temporary().unwrap()),
    )
    .unwrap()
}

pub fn no_wait(_: chrono::DateTime<chrono::Utc>, _: &str) {}

pub fn remote(id: &str) -> RemoteRef {
    RemoteRef { id: id.into(), ..Default::default() }
}

//! Shared by the LinkedIn end-to-end tests: the test accounts' environment, configs that point at
//! the LinkedIn test server, and assertions on what it holds.

use std::collections::HashMap;
use std::sync::Arc;

use loudhailer::clock::Clock;
use loudhailer::config::Config;
use loudhailer::limit::{self, Limiter};
use loudhailer::network::Network;
use loudhailer::platform::Client;
use loudhailer::secret::{Credentials, Secret};
use loudhailer::store::Store;

use super::lh::in_secs;
use super::linkedin::{self, org_urn, person_urn, Comment, LinkedInServer, Post, ADA_TOKEN, FAITH_TOKEN};

pub const ENV: [(&str, &str); 3] =
    [("LH_LI_ADA", ADA_TOKEN), ("LH_LI_FAITH", FAITH_TOKEN), ("LH_LI_SECRET", linkedin::CLIENT_SECRET)];

/// The delegate (ada_delegate, a member) posts; the council (faith_council, as the organisation
/// page) reshares. `extra` goes at the end (a `[linkedin]` or `[run]` table).
pub fn config(base: &str, sessions: &str, amplify: &str, extra: &str) -> String {
    format!(
        r##"[event]
name = "Test day on LinkedIn"
timezone = "Europe/London"
hashtags = ["#EMIEP"]

[[account]]
id = "delegate"
platform = "linkedin"
server = "{base}"
token_env = "LH_LI_ADA"
role = "primary"

[[account]]
id = "council"
platform = "linkedin"
server = "{base}"
token_env = "LH_LI_FAITH"
organization = "{org}"
role = "amplifier"

[amplify]
{amplify}

[state]
dir = "{{STATE}}"

{extra}

{sessions}
"##,
        org = linkedin::ORG_ID
    )
}

pub fn session(title: &str, start: i64, end: i64, points: &[&str]) -> String {
    format!(
        "[[session]]\ntitle = {title:?}\nstart = \"{}\"\nend = \"{}\"\npoints = {points:?}\n\n",
        in_secs(start),
        in_secs(end)
    )
}

/// The delegate's live posts by the text LinkedIn shows, each asserted to be there once.
pub fn posts_once(server: &LinkedInServer, texts: &[String]) -> HashMap<String, Post> {
    let posts = server.posts_by(&person_urn("ada_delegate"));
    let mut out = HashMap::new();
    for t in texts {
        let found: Vec<&Post> = posts.iter().filter(|p| &p.text == t).collect();
        assert_eq!(found.len(), 1, "{t:?} was posted {} times: {posts:#?}", found.len());
        out.insert(t.clone(), found[0].clone());
    }
    assert_eq!(posts.len(), texts.len(), "no other posts: {posts:#?}");
    out
}

/// Asserts the organisation reshared each of `urns` once, and nothing else.
pub fn reshared_once(server: &LinkedInServer, urns: &[&str]) {
    let reshares = server.reshares();
    for u in urns {
        let n = reshares.iter().filter(|(a, p)| *a == org_urn() && p == u).count();
        assert_eq!(n, 1, "{u} was reshared {n} times: {reshares:?}");
    }
    assert_eq!(reshares.len(), urns.len(), "no other reshares: {reshares:?}");
}

/// The live comments under `post`, oldest first, as LinkedIn shows them.
pub fn comments_on(server: &LinkedInServer, post: &str) -> Vec<Comment> {
    server.comments().into_iter().filter(|c| c.post == post && !c.deleted).collect()
}

pub fn tagged(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| format!("{t} #EMIEP")).collect()
}

/// A client for `account` of a config pointing at `server`, with `token`, outside the binary.
pub fn client(server: &LinkedInServer, account: &str, token: &str) -> Client {
    let text = config(&server.base, "", "delay = \"1s\"\njitter = \"0s\"", "");
    let config = Config::parse(std::path::Path::new("li.toml"), &text.replace("{STATE}", "/nonexistent")).unwrap();
    let limiter = Arc::new(Limiter::new(Clock::Wall, limit::published(Network::LinkedIn)));
    let credentials = Credentials::OAuth2 { token: Some(Secret::new(token)), client_secret: None };
    Client::connect(
        config.account(account).unwrap(),
        credentials,
        limiter,
        Clock::Wall,
        Arc::new(Store::temporary().unwrap()),
    )
    .unwrap()
}

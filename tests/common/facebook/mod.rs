//! A stand-in for the Facebook Graph API's Pages endpoints (publishing to a Page feed, comments,
//! reading a post's counts, Page tokens, Facebook Login), for loudhailer's Facebook tests.
//! Parameter names, types and enums are checked against Meta's own spec files, read from
//! `../shared/specs/facebook-graph/` (never copied here: Meta's licence, see `spec.rs`); rules
//! those files do not hold are written in code with the documentation page they come from.
//!
//! # Contract for a client
//!
//! One base URL (`FacebookServer::base`) stands for `graph.facebook.com` and, for the login
//! dialog, `www.facebook.com`. Every path starts with the pinned Graph API version,
//! `/{version}/…`: `version()` (from the spec files' version.txt, `v25.0`; `set_version` changes
//! it). Parameters may come in the query, a form body or a JSON body, as Graph reads all three.
//! The access token comes as `access_token` or as `Authorization: Bearer …`.
//!
//! - `POST /{v}/{page-id}/feed` (Page.json `POST feed`; the Pages API "Posts" guide,
//!   https://developers.facebook.com/docs/pages-api/posts): with that Page's **Page access
//!   token** (a User token is refused, code 200), `message` and/or `link` (neither: code 100
//!   "Missing message or attachment"); any other parameter of the 106 in Page.json, correctly
//!   typed, is taken; one not there is refused. Answers `{"id": "{page-id}_{post-id}"}`. The same
//!   message and link as the Page's latest post answers code 506 "Duplicate status message"
//!   (Handling Errors: duplicate posts cannot be published consecutively).
//! - `GET /{v}/{post-id}?fields=…` (PagePost.json fields and GET edges): `id, message,
//!   created_time, updated_time, permalink_url, from, is_published, status_type, shares`
//!   (`shares` is `{count}` and left out when nobody shared: read a missing one as 0, as
//!   abjerner/Skybrud.Social#34 does), and edges with modifiers:
//!   `reactions.summary(total_count).limit(0)`, `likes.summary(true)`,
//!   `comments.summary(true).limit(0)` → `{data, summary: {total_count, …}}`. An unknown field
//!   answers code 100 "Tried accessing nonexisting field".
//! - `GET /{v}/{post-id}/comments|reactions|likes|sharedposts` (PagePost.json GET edges, plus
//!   `fields`, `limit`, `after`, `before`, `summary`).
//! - `POST /{v}/{post-id}/comments` (PagePost.json `POST comments`): a Page token with
//!   pages_manage_engagement (any Page may comment), `message` (or an attachment). Answers
//!   `{"id": "{post-number}_{comment-number}"}`.
//! - `DELETE /{v}/{post-id}` with the post's Page token (pages_manage_posts): `{"success": true}`.
//! - Reading posts, their edges and a Page's feed needs pages_read_engagement; publishing
//!   pages_manage_posts; listing Pages pages_show_list (the "Posts" guide, "Before you start").
//! - `POST /{v}/{post-id}/sharedposts` is refused: "You cannot publish shares of an object using
//!   the Graph API" (https://developers.facebook.com/docs/graph-api/reference/object/sharedposts,
//!   "Publishing"). Amplifying a post on Facebook is a new post with a `link`.
//! - `GET /{v}/{page-id}/feed|posts|published_posts` (Page.json): the Page's posts, newest first.
//! - `GET /{v}/me/accounts` with a **User** token (User.json `GET accounts`; "Getting started",
//!   https://developers.facebook.com/docs/pages/getting-started): `{data: [{access_token,
//!   category, category_list, name, id, tasks}], paging}`. A Page token got from a long-lived User
//!   token does not expire; from a short-lived one it lasts an hour ("Long-Lived Access Tokens",
//!   https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived).
//! - `GET /{v}/me?fields=id,name` (User.json or Page.json fields, by the token's kind).
//! - Facebook Login ("Manually Build a Login Flow",
//!   https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow):
//!   `GET /{v}/dialog/oauth?client_id&redirect_uri&state&scope` (scope comma- or space-separated;
//!   the user set by `login_as`, ada_delegate by default, allows at once) redirects to
//!   `redirect_uri?code=…&state=…`; `GET /{v}/oauth/access_token?client_id&redirect_uri&client_secret&code`
//!   → `{access_token, token_type: "bearer", expires_in: 3600}` (a short-lived User token);
//!   `GET /{v}/oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token`
//!   → a long-lived User token (`expires_in` 5183944).
//!
//! Errors are Graph's: HTTP 400 (5xx for injected outages) with `{"error": {message, type, code,
//! error_subcode?, fbtrace_id}}`; 190 for an expired (subcode 463) or unknown token, 104 for none,
//! 100 for parameters, 200 for permissions, 506 duplicate, 368 blocked, throttling 4, 17, 32, 613,
//! 80001 (see `meta.rs`).
//!
//! # Accounts
//!
//! App [`APP_ID`] / [`APP_SECRET`]; redirect URIs on 127.0.0.1 or localhost are valid. Users
//! ([`USERS`]) ada_delegate and faith_council, each managing one Page ([`PAGES`]): "Ada Delegate
//! Talks" and "Emerging Council". Long-lived User tokens [`ADA_USER_TOKEN`],
//! [`FAITH_USER_TOKEN`] and Page tokens [`ADA_PAGE_TOKEN`], [`COUNCIL_PAGE_TOKEN`], all with
//! pages_show_list, pages_manage_posts, pages_read_engagement, pages_manage_engagement and
//! pages_read_user_engagement.
//!
//! # For tests
//!
//! Read back `posts()`, `posts_on(page)`, `comments()`, `tokens()`, `requests()` (secrets
//! blanked); set `set_counts(post, Counts)`. Faults: `add_fault(Fault::once("POST", "/feed",
//! Effect::Throttle { code: 80001, regain_minutes: Some(5) }))`, and `Status`, `ExpiredToken`,
//! `Blocked`, `Delay`, `LoseAnswer` ([`Effect`]). Broken rules answer a Graph error naming the
//! rule and are recorded as mistakes: `assert_clean()` (and dropping the server) fails the test on
//! any; `take_mistakes()` hands them to a test that provoked them. Without the spec files
//! (`checks_spec()` false) parameters are not checked and a NOTE says so.

mod oauth;
mod routes;
pub mod spec;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::loopback::{self, Fault, Ids, Logged, Loopback, Mistakes};
pub use super::meta::Effect;
use spec::GraphSpec;

pub const APP_ID: &str = "1234567890123456";
pub const APP_SECRET: &str = "lh-facebook-app-secret";
/// Users: (username, user id, name).
pub const USERS: [(&str, &str, &str); 2] =
    [("ada_delegate", "10000000000000011", "Ada Delegate"), ("faith_council", "10000000000000022", "Faith Council")];
/// Pages: (page id, name, the username who manages it, its Page token).
pub const PAGES: [(&str, &str, &str, &str); 2] = [
    ("20000000000000011", "Ada Delegate Talks", "ada_delegate", ADA_PAGE_TOKEN),
    ("20000000000000022", "Emerging Council", "faith_council", COUNCIL_PAGE_TOKEN),
];
pub const ADA_USER_TOKEN: &str = "fb-ada-user-token";
pub const FAITH_USER_TOKEN: &str = "fb-faith-user-token";
pub const ADA_PAGE_TOKEN: &str = "fb-ada-page-token";
pub const COUNCIL_PAGE_TOKEN: &str = "fb-council-page-token";
/// The permissions the known tokens carry (Pages API "Posts" guide, "Before you start").
pub const PAGE_SCOPES: [&str; 5] = [
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_engagement",
];
/// The version served when the spec files are absent.
pub const DEFAULT_VERSION: &str = "v25.0";

/// A Page post.
#[derive(Debug, Clone)]
pub struct Post {
    /// `{page-id}_{post-id}`
    pub id: String,
    pub page: String,
    pub message: Option<String>,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub deleted: bool,
}

/// A comment.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: String,
    pub post: String,
    /// The commenting Page's id.
    pub from: String,
    pub message: String,
}

/// Counts a test sets; comments made through the server are added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub reactions: u64,
    pub comments: u64,
    pub shares: u64,
}

/// Whose a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    User { username: String, long_lived: bool },
    Page { page: String, username: String },
}

#[derive(Debug, Clone)]
pub struct Token {
    pub value: String,
    pub kind: Kind,
    pub scopes: Vec<String>,
    /// None: does not expire.
    pub expires: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub(super) struct State {
    ids: Ids,
    version: String,
    posts: Vec<Post>,
    comments: Vec<Comment>,
    counts: HashMap<String, Counts>,
    tokens: Vec<Token>,
    codes: HashMap<String, (String, String, Vec<String>)>, // code -> (redirect_uri, username, scopes)
    login_as: String,
    faults: Vec<Fault<Effect>>,
    mistakes: Mistakes,
}

pub struct FacebookServer {
    pub base: String,
    state: Arc<Mutex<State>>,
    spec: Option<Arc<GraphSpec>>,
    net: Loopback,
}

impl FacebookServer {
    pub fn start() -> FacebookServer {
        let spec = GraphSpec::load().map(Arc::new);
        if spec.is_none() {
            eprintln!(
                "NOTE: the Graph API spec files (../shared/specs/facebook-graph/api_specs/specs/, or under \
                 $LOUDHAILER_SHARED) were not found: this test's Facebook parameters are NOT checked against Meta's spec"
            );
        }
        let scopes: Vec<String> = PAGE_SCOPES.iter().map(|s| s.to_string()).collect();
        let user = |value: &str, username: &str| Token {
            value: value.into(),
            kind: Kind::User { username: username.into(), long_lived: true },
            scopes: scopes.clone(),
            expires: Some(Utc::now() + chrono::Duration::days(60)),
        };
        let page = |(id, _, username, token): (&str, &str, &str, &str)| Token {
            value: token.into(),
            kind: Kind::Page { page: id.into(), username: username.into() },
            scopes: scopes.clone(),
            expires: None,
        };
        let state = Arc::new(Mutex::new(State {
            ids: Ids::starting_at(900_000_000_000_000),
            version: spec.as_ref().map_or(DEFAULT_VERSION.to_string(), |s| s.version.clone()),
            tokens: vec![
                user(ADA_USER_TOKEN, USERS[0].0),
                user(FAITH_USER_TOKEN, USERS[1].0),
                page(PAGES[0]),
                page(PAGES[1]),
            ],
            login_as: USERS[0].0.into(),
            ..Default::default()
        }));
        let (st, sp) = (state.clone(), spec.clone());
        let net = Loopback::start("Facebook", move |req| routes::answer(&st, sp.as_deref(), req));
        FacebookServer { base: net.base.clone(), state, spec, net }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        loopback::lock(&self.state)
    }

    /// Whether parameters are checked against Meta's spec files.
    pub fn checks_spec(&self) -> bool {
        self.spec.is_some()
    }

    /// The Graph API version in every path (`v25.0`).
    pub fn version(&self) -> String {
        self.lock().version.clone()
    }

    pub fn set_version(&self, version: &str) {
        self.lock().version = version.into();
    }

    /// `{base}/{version}`: where a client's Graph URLs start.
    pub fn graph(&self) -> String {
        format!("{}/{}", self.base, self.version())
    }

    pub fn add_fault(&self, fault: Fault<Effect>) {
        self.lock().faults.push(fault);
    }

    /// The user who allows access in the login dialog.
    pub fn login_as(&self, username: &str) {
        self.lock().login_as = username.into();
    }

    /// A User token for `username` with these permissions.
    pub fn issue_user_token(&self, username: &str, scopes: &[&str], long_lived: bool) -> String {
        let mut st = self.lock();
        let value = format!("fb-user-{}", st.ids.next());
        let life = if long_lived { chrono::Duration::seconds(5_183_944) } else { chrono::Duration::hours(1) };
        st.tokens.push(Token {
            value: value.clone(),
            kind: Kind::User { username: username.into(), long_lived },
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires: Some(Utc::now() + life),
        });
        value
    }

    /// Every token of `username` (User tokens and the Page tokens got with them) has expired.
    pub fn expire_tokens(&self, username: &str) {
        let past = Utc::now() - chrono::Duration::seconds(1);
        for t in self.lock().tokens.iter_mut() {
            let theirs = match &t.kind {
                Kind::User { username: u, .. } | Kind::Page { username: u, .. } => u == username,
            };
            if theirs {
                t.expires = Some(past);
            }
        }
    }

    /// A post made outside loudhailer.
    pub fn seed_post(&self, page: &str, message: &str) -> String {
        routes::store_post(&mut self.lock(), page, Some(message.into()), None)
    }

    pub fn set_counts(&self, post: &str, counts: Counts) {
        self.lock().counts.insert(post.into(), counts);
    }

    /// Every post, deleted ones too, oldest first.
    pub fn posts(&self) -> Vec<Post> {
        self.lock().posts.clone()
    }

    /// Live posts on a Page.
    pub fn posts_on(&self, page: &str) -> Vec<Post> {
        self.posts().into_iter().filter(|p| p.page == page && !p.deleted).collect()
    }

    pub fn comments(&self) -> Vec<Comment> {
        self.lock().comments.clone()
    }

    pub fn tokens(&self) -> Vec<Token> {
        self.lock().tokens.clone()
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.net.requests()
    }

    pub fn take_mistakes(&self) -> Vec<String> {
        self.lock().mistakes.take()
    }

    pub fn assert_clean(&self) {
        loopback::assert_no_mistakes("Facebook", self.take_mistakes());
    }
}

impl Drop for FacebookServer {
    fn drop(&mut self) {
        let mistakes = self.take_mistakes();
        loopback::assert_no_mistakes("Facebook", mistakes);
    }
}

/// The id of the Page `username` manages.
pub fn page_of(username: &str) -> &'static str {
    PAGES.iter().find(|p| p.2 == username).map(|p| p.0).unwrap_or_else(|| panic!("no Page of {username}"))
}

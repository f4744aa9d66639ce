//! A stand-in for LinkedIn's REST API (Posts, Comments, counts, ids, OAuth 2.0), for loudhailer's
//! LinkedIn tests. LinkedIn publishes no machine-readable spec, so every rule here is written in
//! code and cites the project's notes (`../shared/specs/linkedin/NOTES.md`, section numbers below)
//! and the LinkedIn page or source they cite. These checks need no file and always run.
//!
//! # Contract for a client
//!
//! One base URL (`LinkedInServer::base`) serves what LinkedIn splits over two hosts:
//! `api.linkedin.com` (`/rest/…`, `/v2/userinfo`) and `www.linkedin.com` (`/oauth/v2/…`).
//!
//! Every `/rest/` request needs (NOTES §0):
//! - `Authorization: Bearer <token>` (a known, live token; 401 otherwise);
//! - `LinkedIn-Version: YYYYMM` (or `YYYYMM.RR`), an active version: by default 202501 to 202601
//!   (NOTES §0, L-VER: monthly versions, each supported a year; 202601 the latest listed). Any
//!   other answers 426 `NONEXISTENT_VERSION`. Header names are matched without regard to case;
//! - `X-Restli-Protocol-Version: 2.0.0`;
//! - `Content-Type: application/json` on bodies;
//! - `X-RestLi-Method` is optional on a create but, when sent, must be `CREATE` (any case);
//! - a URN in a path percent-encoded whole (`/rest/posts/urn%3Ali%3Ashare%3A123`); in a query,
//!   the URN encoded but Rest.li's `List(…)` and `(key:value)` syntax literal
//!   (`shares=List(urn%3Ali%3Ashare%3A1,urn%3Ali%3Ashare%3A2)`). An encoder that escapes the
//!   parentheses or encodes twice (`%253A`) is refused: build these queries by hand.
//!
//! Endpoints:
//! - `POST /rest/posts` (NOTES §1, §2): body `{author, commentary, visibility, distribution:
//!   {feedDistribution, targetEntities, thirdPartyDistributionChannels}, lifecycleState,
//!   isReshareDisabledByAuthor?, content?, reshareContext?: {parent}}`; no other field. `author` is
//!   `urn:li:person:{id}` (the token's member, scope `w_member_social`) or
//!   `urn:li:organization:{id}` (scope `w_organization_social`, and the member an ADMINISTRATOR,
//!   DIRECT_SPONSORED_CONTENT_POSTER or CONTENT_ADMIN of it). Answers 201, empty body, the new
//!   post's URN in `x-restli-id` (`urn:li:share:…`). `commentary` is little text: escape
//!   `\ | { } @ [ ] ( ) < > # * _ ~` with a backslash (`#word` hashtags and `@[Name](urn)` mentions
//!   are elements); an unescaped one cuts the post there, as LinkedIn does: the post is made with
//!   the shortened text, and the cut is recorded as a mistake. A reshare has
//!   `reshareContext.parent` = a `urn:li:share:` or `urn:li:ugcPost:` URN (never
//!   `urn:li:activity:`), `commentary` may be `""`. The same author posting the same commentary
//!   again (even after deleting it) answers 422 `DUPLICATE_POST`.
//! - `POST /rest/socialActions/{post URN}/comments` (NOTES §3): body `{actor, object, message:
//!   {text}, parentComment?}`, `object` the same URN as the path. Answers 201 with the comment's URN
//!   in `x-restli-id` and a body `{id, commentUrn, object, actor, message}`. Comment text is read
//!   as little text too (UNCONFIRMED in NOTES §3; Postiz escapes it).
//! - `DELETE /rest/posts/{post URN}` with `X-RestLi-Method: DELETE` (NOTES §4): 204, again 204.
//! - `DELETE /rest/socialActions/{post URN}/comments/{comment id or URN}?actor={encoded URN}` with
//!   `X-RestLi-Method: DELETE` (NOTES §3, OPENPOST `DeleteComment`): 204.
//! - `GET /rest/socialMetadata/{post URN}` (NOTES §5a; scope `r_member_social` or
//!   `r_organization_social`): `{entity, reactionSummaries: {LIKE: {reactionType, count}},
//!   commentSummary: {count, topLevelCount}, commentsState}`.
//! - `GET /rest/socialActions/{post URN}/comments?start&count` (NOTES §3, L-COMMENTS "Get
//!   Comments on Shares"; scope `r_member_social` or `r_organization_social`): `{elements: [{id,
//!   commentUrn, object, actor, message: {text}}], paging: {start, count, total}}`, oldest first.
//! - `GET /rest/socialActions/{post URN}` (NOTES §5b, same scopes): `{likesSummary: {totalLikes,
//!   likedByCurrentUser}, commentsSummary: {totalFirstLevelComments, commentsState}}`.
//! - `GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:{URN})&queryType=…&aggregation=TOTAL`
//!   (NOTES §5c; scope `r_member_postAnalytics`; the member's own post; `(ugc:…)` for ugcPosts,
//!   a bare encoded URN also taken): `{elements: [{count}], paging}`. queryType IMPRESSION,
//!   MEMBERS_REACHED, RESHARE, REACTION, COMMENT, POST_SAVE; aggregation TOTAL or DAILY.
//! - `GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org URN}&shares=List(…)`
//!   (NOTES §5d; scope `rw_organization_admin`, ADMINISTRATOR): `{elements: [{organizationalEntity,
//!   share, totalShareStatistics: {impressionCount, uniqueImpressionsCount, clickCount, likeCount,
//!   commentCount, shareCount, engagement}}]}`.
//! - `GET /v2/userinfo` (NOTES §6a; scopes `openid profile`; no version headers needed): `{sub,
//!   name, given_name, family_name, picture, locale, email?, email_verified?}`.
//! - `GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED&count=20&start=0`
//!   (NOTES §6c; scope `rw_organization_admin` or `r_organization_admin`): `{elements:
//!   [{organization, role, roleAssignee, state}], paging: {start, count, total}}`.
//! - OAuth 2.0 (NOTES §7): `GET /oauth/v2/authorization?response_type=code&client_id&redirect_uri&scope&state`
//!   (scope space-separated; the member set by `login_as`, ada_delegate by default, allows at
//!   once) redirects to `redirect_uri?code=…&state=…`. `POST /oauth/v2/accessToken` (form:
//!   `grant_type=authorization_code, code, client_id, client_secret, redirect_uri`, or
//!   `grant_type=refresh_token, refresh_token, client_id, client_secret`) answers `{access_token,
//!   expires_in (5184000), scope (comma-separated), refresh_token?, refresh_token_expires_in?,
//!   id_token?}`. Refresh tokens come only while `refresh_tokens(true)` (the default), last 365
//!   days from the first authorization and are not extended by refreshing (L-REFRESH); a refresh
//!   returns the same refresh token. `POST /oauth/v2/introspectToken` (form `token, client_id,
//!   client_secret`): `{active, status, scope, expires_at, …}`.
//!
//! Errors (NOTES §0, §1): a JSON body `{message, status, serviceErrorCode?, code?}` with
//! `X-RestLi-Error-Response: true`; validation failures 422 with `errorDetails.inputErrors[]`.
//! 401 `serviceErrorCode` 65600 "Invalid access token" (expired or unknown), 65601
//! `REVOKED_ACCESS_TOKEN`; 403 `ACCESS_DENIED` (serviceErrorCode 100); 426 `NONEXISTENT_VERSION`;
//! 429 with no rate-limit or `Retry-After` header (L-RATE documents none).
//!
//! # Accounts
//!
//! [`MEMBERS`]: ada_delegate (person `AdaDelegate01`, token [`ADA_TOKEN`]: openid, profile,
//! email, w_member_social, r_member_postAnalytics) and faith_council (person `FaithCouncil02`,
//! token [`FAITH_TOKEN`]: openid, profile, w_member_social, w_organization_social,
//! r_organization_social, rw_organization_admin), ADMINISTRATOR of the organization [`ORG_ID`]
//! ("Emerging Council"). The OAuth app is [`CLIENT_ID`] / [`CLIENT_SECRET`]; any
//! `http://127.0.0.1…` or `http://localhost…` redirect URI is registered.
//!
//! # For tests
//!
//! Read back `posts()`, `posts_by(urn)`, `reshares()`, `comments()`, `tokens()`, `requests()`
//! (secrets blanked); set counts with `set_counts(urn, Counts)`. Faults: `add_fault(Fault::once(
//! "POST", "/rest/posts", Effect::LoseAnswer))` and the other [`Effect`]s; `daily_limit(Some(n))`
//! refuses a member's (n+1)th post or comment of the UTC day with 429 until midnight UTC.
//! Every broken rule answers an error naming the rule and its source, and is also recorded as a
//! client mistake: `assert_clean()` fails the test on any (so does dropping the server);
//! `take_mistakes()` hands them to a test that provoked them.

mod little;
mod oauth;
mod reads;
mod routes;
mod rules;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::loopback::{self, Fault, Ids, Logged, Loopback, Mistakes};
pub use little::{escape, read as read_little, Shown, RESERVED};

/// The OAuth app.
pub const CLIENT_ID: &str = "lh-linkedin-client";
pub const CLIENT_SECRET: &str = "lh-linkedin-client-secret";

/// Members: (username, person id, name).
pub const MEMBERS: [(&str, &str, &str); 2] =
    [("ada_delegate", "AdaDelegate01", "Ada Delegate"), ("faith_council", "FaithCouncil02", "Faith Council")];
/// The organization faith_council administers.
pub const ORG_ID: &str = "2414183";
pub const ORG_NAME: &str = "Emerging Council";
/// Tokens the server knows from the start.
pub const ADA_TOKEN: &str = "li-ada-access-token";
pub const FAITH_TOKEN: &str = "li-faith-access-token";
const ADA_SCOPES: &[&str] = &["openid", "profile", "email", "w_member_social", "r_member_postAnalytics"];
const FAITH_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "w_member_social",
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
];

/// The versions active by default (NOTES §0, L-VER): the latest listed, 202601, and the twelve
/// months before it.
pub const ACTIVE_VERSIONS: (u32, u32) = (202501, 202601);

/// A post (or reshare) as the server keeps it.
#[derive(Debug, Clone)]
pub struct Post {
    /// `urn:li:share:…`
    pub urn: String,
    /// Its activity URN (`urn:li:activity:…`), which a reshare must not name.
    pub activity: String,
    /// `urn:li:person:…` or `urn:li:organization:…`
    pub author: String,
    /// The commentary as sent.
    pub commentary: String,
    /// The text as LinkedIn shows it (escapes resolved, cut at an unescaped reserved character).
    pub text: String,
    pub visibility: String,
    pub reshare_of: Option<String>,
    pub created_at: DateTime<Utc>,
    pub deleted: bool,
}

/// A comment.
#[derive(Debug, Clone)]
pub struct Comment {
    /// `urn:li:comment:(urn:li:activity:…,{id})`
    pub urn: String,
    pub id: String,
    /// The post's URN.
    pub post: String,
    pub actor: String,
    pub raw: String,
    pub text: String,
    pub deleted: bool,
}

/// Counts a test sets on a post; comments and reshares made through the server are added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub likes: u64,
    pub comments: u64,
    pub reshares: u64,
    pub impressions: u64,
    pub unique_impressions: u64,
    pub clicks: u64,
    pub saves: u64,
}

/// An access token the server issued or knows.
#[derive(Debug, Clone)]
pub struct Token {
    pub access: String,
    pub member: String,
    pub scopes: Vec<String>,
    pub issued: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Refresh {
    member: String,
    scopes: Vec<String>,
    expires: DateTime<Utc>,
}

/// What a fault does.
#[derive(Debug, Clone)]
pub enum Effect {
    /// 429 with no headers, as LinkedIn documents none (NOTES §0 "Rate limits", L-RATE).
    RateLimit,
    /// This status with a LinkedIn error body.
    Status(u16),
    /// 401 serviceErrorCode 65600 "Invalid access token", as for an expired token.
    ExpiredToken,
    /// 401 serviceErrorCode 65601 `REVOKED_ACCESS_TOKEN`.
    RevokedToken,
    /// Wait, then answer as usual.
    Delay(Duration),
    /// Do the work, then lose the answer (the client sees a transport error).
    LoseAnswer,
}

#[derive(Default)]
pub(super) struct State {
    ids: Ids,
    posts: Vec<Post>,
    comments: Vec<Comment>,
    counts: HashMap<String, Counts>,
    tokens: Vec<Token>,
    codes: HashMap<String, (String, String, Vec<String>)>, // code -> (redirect_uri, member, scopes)
    refresh: HashMap<String, Refresh>,
    refresh_enabled: bool,
    token_lifetime: i64,
    login_as: String,
    versions: (u32, u32),
    daily_limit: Option<u32>,
    made_today: HashMap<(String, chrono::NaiveDate), u32>,
    faults: Vec<Fault<Effect>>,
    mistakes: Mistakes,
}

pub struct LinkedInServer {
    pub base: String,
    state: Arc<Mutex<State>>,
    net: Loopback,
}

impl LinkedInServer {
    pub fn start() -> LinkedInServer {
        let now = Utc::now();
        let token = |access: &str, member: &str, scopes: &[&str]| Token {
            access: access.into(),
            member: member.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            issued: now,
            expires: now + chrono::Duration::days(60),
            revoked: false,
        };
        let state = Arc::new(Mutex::new(State {
            ids: Ids::starting_at(7_200_000_000_000_000_000),
            tokens: vec![token(ADA_TOKEN, MEMBERS[0].0, ADA_SCOPES), token(FAITH_TOKEN, MEMBERS[1].0, FAITH_SCOPES)],
            refresh_enabled: true,
            token_lifetime: 5_184_000,
            login_as: MEMBERS[0].0.into(),
            versions: ACTIVE_VERSIONS,
            ..Default::default()
        }));
        let st = state.clone();
        let net = Loopback::start("LinkedIn", move |req| routes::answer(&st, req));
        LinkedInServer { base: net.base.clone(), state, net }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        loopback::lock(&self.state)
    }

    pub fn add_fault(&self, fault: Fault<Effect>) {
        self.lock().faults.push(fault);
    }

    /// Each member may make `n` posts and comments per UTC day; past that, 429 until midnight UTC
    /// (NOTES §0 "Rate limits": daily limits per member and app, reset at midnight UTC).
    pub fn daily_limit(&self, n: Option<u32>) {
        self.lock().daily_limit = n;
    }

    /// The active `LinkedIn-Version`s, inclusive.
    pub fn set_active_versions(&self, from: u32, to: u32) {
        self.lock().versions = (from, to);
    }

    /// The member who allows access on the authorization page.
    pub fn login_as(&self, username: &str) {
        self.lock().login_as = username.into();
    }

    /// Whether the app has programmatic refresh tokens (L-REFRESH: approved partners only).
    pub fn refresh_tokens(&self, enabled: bool) {
        self.lock().refresh_enabled = enabled;
    }

    /// How long access tokens issued from now on live (default 60 days).
    pub fn token_lifetime(&self, seconds: i64) {
        self.lock().token_lifetime = seconds;
    }

    /// A live token for `username` with these scopes.
    pub fn issue_token(&self, username: &str, scopes: &[&str]) -> String {
        let mut st = self.lock();
        let access = format!("li-at-{}", st.ids.next());
        let now = Utc::now();
        let expires = now + chrono::Duration::seconds(st.token_lifetime);
        st.tokens.push(Token {
            access: access.clone(),
            member: username.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            issued: now,
            expires,
            revoked: false,
        });
        access
    }

    /// Every access token of `username` has expired.
    pub fn expire_tokens(&self, username: &str) {
        for t in self.lock().tokens.iter_mut().filter(|t| t.member == username) {
            t.expires = Utc::now() - chrono::Duration::seconds(1);
        }
    }

    /// Every access token of `username` is revoked (L-REFRESH: LinkedIn may revoke at any time).
    pub fn revoke_tokens(&self, username: &str) {
        for t in self.lock().tokens.iter_mut().filter(|t| t.member == username) {
            t.revoked = true;
        }
    }

    /// A post made outside loudhailer; `author` is a person or organization URN.
    pub fn seed_post(&self, author: &str, text: &str) -> String {
        let mut st = self.lock();
        routes::store_post(&mut st, author, &escape(text), "PUBLIC", None).urn
    }

    pub fn set_counts(&self, urn: &str, counts: Counts) {
        self.lock().counts.insert(urn.into(), counts);
    }

    /// The counts the server reports for a post (set ones plus comments and reshares made here).
    pub fn counts(&self, urn: &str) -> Counts {
        routes::counts_of(&self.lock(), urn)
    }

    /// Every post and reshare, deleted ones too, oldest first.
    pub fn posts(&self) -> Vec<Post> {
        self.lock().posts.clone()
    }

    /// Live posts by an author URN.
    pub fn posts_by(&self, author: &str) -> Vec<Post> {
        self.posts().into_iter().filter(|p| p.author == author && !p.deleted).collect()
    }

    /// (author URN, parent URN) of every live reshare.
    pub fn reshares(&self) -> Vec<(String, String)> {
        let st = self.lock();
        st.posts.iter().filter(|p| !p.deleted).filter_map(|p| Some((p.author.clone(), p.reshare_of.clone()?))).collect()
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

    /// Takes the client mistakes seen so far (the test then owns them).
    pub fn take_mistakes(&self) -> Vec<String> {
        self.lock().mistakes.take()
    }

    /// Fails the test if any request broke a rule.
    pub fn assert_clean(&self) {
        loopback::assert_no_mistakes("LinkedIn", self.take_mistakes());
    }
}

impl Drop for LinkedInServer {
    fn drop(&mut self) {
        let mistakes = self.take_mistakes();
        loopback::assert_no_mistakes("LinkedIn", mistakes);
    }
}

/// `urn:li:person:{id}` of a member.
pub fn person_urn(username: &str) -> String {
    let id = MEMBERS.iter().find(|m| m.0 == username).map(|m| m.1).unwrap_or_else(|| panic!("no member {username}"));
    format!("urn:li:person:{id}")
}

/// `urn:li:organization:{ORG_ID}`.
pub fn org_urn() -> String {
    format!("urn:li:organization:{ORG_ID}")
}

pub(super) fn member_by_id(id: &str) -> Option<(&'static str, &'static str, &'static str)> {
    MEMBERS.iter().copied().find(|m| m.1 == id)
}

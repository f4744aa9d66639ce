//! The networks behind one interface: [`Platform`], implemented once per network, and
//! [`Client`], the enum the engine holds (one per account).
//!
//! Clients speak their network's API and nothing else. Rate limits are applied by the shared
//! [`http::Http`] every client sends through (see `limit`), and errors come back classified
//! (retry, rate limited, auth, permanent) so the engine decides what happens next.

pub mod bluesky;
pub mod dryrun;
pub mod facebook;
pub mod http;
pub mod linkedin;
pub mod mastodon;
pub mod meta;
pub mod threads;
pub mod tokens;
pub mod x;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use crate::address::Address;
use crate::clock::Clock;
use crate::config::{Account, Watch};
use crate::count::Counter;
use crate::follow::{Cursor, Recent};
use crate::job::{MediaRef, RemoteRef};
use crate::limit::Limiter;
use crate::media::{Limits, Prepared};
use crate::metrics::Reading;
use crate::network::Network;
use crate::secret::Credentials;
use crate::sessions::Sessions;

/// A post to make.
///
/// **Images.** `images` are the post's pictures, in order, each already uploaded with
/// [`Platform::upload`] and named by the [`MediaRef`] that returned. The engine's worker does the
/// rest before calling [`Platform::post`]: it reads each file, prepares it for this network with
/// [`Platform::image_limits`] (decoded, upright, stripped of all metadata, re-encoded to fit),
/// uploads it, and has the engine store the upload with the job's intent, so a resend after a
/// crash attaches the same upload while [`Platform::media_alive`] says the server still has it.
/// A client attaches them its network's way (Mastodon: `media_ids[]`; Bluesky: an
/// `app.bsky.embed.images` embed with each `alt` and `aspectRatio`; X: `media.media_ids`); a
/// network that keeps alt text on the post rather than the upload reads it here. A client whose
/// server answers that an upload is gone returns [`PlatformError::MediaGone`]: the worker then
/// uploads again and posts once more.
#[derive(Debug, Clone)]
pub struct PostRequest<'a> {
    pub text: &'a str,
    /// The post this one answers.
    pub reply_to: Option<&'a RemoteRef>,
    /// The head of the thread.
    pub root: Option<&'a RemoteRef>,
    pub language: Option<&'a str>,
    /// The intent key stored before sending: Mastodon's Idempotency-Key, Bluesky's rkey.
    pub key: &'a str,
    /// The instant the post claims to be made at (Bluesky's `createdAt`; stable across retries).
    pub created_at: DateTime<Utc>,
    /// An earlier attempt with this key may have reached the server: check before creating.
    pub resend: bool,
    /// Its place in its thread and the thread's length (see `JobSpec::thread`).
    pub thread: Option<(u32, u32)>,
    /// The job was called off after an earlier attempt (`resend`): look for what that attempt
    /// made and answer with it, or with [`PlatformError::NotSent`]; never create it now.
    pub only_if_sent: bool,
    /// The images it carries, uploaded (see above); empty for a post of text only (and for a
    /// recalled one: nothing is uploaded for a post that is only looked for).
    pub images: &'a [Attachment<'a>],
    /// What an earlier attempt made part-way, and where to keep what this one makes.
    pub progress: &'a Progress,
}

/// The answer of a client that cannot look for what an earlier attempt made without making it
/// (a recalled job, `only_if_sent`): the job fails, saying to look by hand; `retry` sends it.
pub fn cannot_recall(network: Network) -> PlatformError {
    PlatformError::Internal {
        message: format!(
            "called off after a request may have reached {network}, which loudhailer cannot ask without posting again: look on the account by hand (`loudhailer retry` sends it)"
        ),
    }
}

/// The answer of a network loudhailer sends no photos to ([`Network::takes_photos`]): the plan
/// leaves their photos off, so only a bug asks.
pub fn no_photos(network: Network) -> PlatformError {
    PlatformError::Internal { message: format!("loudhailer sends no photos to {network}") }
}

/// An image a post carries: the upload, and its alt text (`""`: decorative).
#[derive(Debug, Clone, Copy)]
pub struct Attachment<'a> {
    pub media: &'a MediaRef,
    pub alt: &'a str,
}

/// An image to upload: made for this network (see [`Platform::image_limits`]), with its alt text.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub image: &'a Prepared,
    pub alt: &'a str,
}

/// The answer [`Progress::keep`] waits for.
pub type Kept = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// Where a client keeps what it made part-way through one job's request (a Threads media
/// container before it is published; uploaded media ids before the post that shows them), so
/// that a resend carries on from there instead of making it again. [`Progress::keep`] returns
/// once the value is on disk with the job's intent (`Intent::progress`); the next attempt finds
/// it in [`Progress::earlier`]. The value is the client's own JSON: the engine only stores it.
#[derive(Clone, Default)]
pub struct Progress {
    /// What an earlier attempt of the job kept, if anything.
    pub earlier: Option<serde_json::Value>,
    keeper: Option<Arc<dyn Fn(serde_json::Value) -> Kept + Send + Sync>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").field("earlier", &self.earlier).field("kept", &self.keeper.is_some()).finish()
    }
}

impl Progress {
    /// Nothing kept before, and nowhere to keep anything (dry runs and tests).
    pub fn none() -> Progress {
        Progress::default()
    }

    /// `earlier` from the intent, and `keeper` to store a new value durably with it.
    pub fn new(
        earlier: Option<serde_json::Value>,
        keeper: impl Fn(serde_json::Value) -> Kept + Send + Sync + 'static,
    ) -> Progress {
        Progress { earlier, keeper: Some(Arc::new(keeper)) }
    }

    /// Keeps `value` with the job's intent, on disk, before returning. Without a keeper (a dry
    /// run), nothing is kept: a resend then starts over, which is safe for what clients keep.
    pub async fn keep(&self, value: serde_json::Value) -> Result<(), PlatformError> {
        match &self.keeper {
            Some(keep) => keep(value)
                .await
                .map_err(|e| PlatformError::Internal { message: format!("cannot keep the request's progress: {e}") }),
            None => Ok(()),
        }
    }
}

/// A boost to make.
#[derive(Debug, Clone)]
pub struct BoostRequest<'a> {
    pub target: &'a RemoteRef,
    /// The server the boosted post lives on (a boost from another server looks it up first).
    pub origin: &'a Url,
    pub key: &'a str,
    pub created_at: DateTime<Utc>,
    /// An earlier attempt with this key may have reached the server: check before creating.
    pub resend: bool,
    /// As for [`PostRequest::only_if_sent`]: look, never boost now.
    pub only_if_sent: bool,
    /// What an amplifier that cannot share says about the post, posting it as its own: the post's
    /// text with a link to it, or a session's digest (Facebook Pages). `None` for a boost.
    pub text: Option<&'a str>,
}

/// Undoing an account's earlier boosts of a post, before boosting it again.
#[derive(Debug, Clone)]
pub struct UnboostRequest<'a> {
    /// The post boosted before.
    pub target: &'a RemoteRef,
    /// The server the post's id belongs to (as for [`BoostRequest::origin`]).
    pub origin: &'a Url,
    /// What loudhailer's earlier boosts of it by this account made (none: nothing to undo, and
    /// no request is sent).
    pub earlier: &'a [RemoteRef],
}

/// What went wrong, classified by what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlatformError {
    /// Worth trying again later: 5xx, timeouts, connection refused or reset, malformed bodies.
    #[error("{0}")]
    Retry(String),
    /// 429: the limiter has been told when to try again.
    #[error("rate limited by the server{}", .until.map(|t| format!(" until {}", t.format("%H:%M:%S"))).unwrap_or_default())]
    RateLimited { until: Option<DateTime<Utc>> },
    /// 401/403: the credentials do not work; the account is paused.
    #[error("the server refused the credentials ({status}): {message}")]
    Auth { status: u16, message: String },
    /// The account has no credentials that could work, found before any request (no tokens in
    /// the state dir, a Page that the person who signed in does not manage): the account is
    /// paused as for [`PlatformError::Auth`], and the words say how to sign in.
    #[error("{0}")]
    NoCredentials(String),
    /// The server will never accept this request (validation): the job fails with its words.
    #[error("the server refused it ({status}): {message}")]
    Permanent { status: u16, message: String },
    /// An image uploaded for the post is gone from the server (servers drop uploads no post
    /// uses): it must be uploaded again. Otherwise retried like [`PlatformError::Retry`].
    #[error("the server no longer has an image uploaded for the post: {0}")]
    MediaGone(String),
    /// Not a server's answer: loudhailer cannot make the request at all (a job without what it
    /// needs, a network this account cannot act on, a client that cannot be built).
    #[error("{message}")]
    Internal { message: String },
    /// A recalled job (`only_if_sent`): the server has nothing an earlier attempt made.
    #[error("the server has no post from an earlier attempt: it was never sent")]
    NotSent,
}

impl PlatformError {
    /// Why the account pauses, when the error says its credentials do not work (lifted by
    /// `loudhailer login` or once they work again; see [`is_credentials_pause`]).
    pub fn credentials_pause(&self) -> Option<String> {
        match self {
            PlatformError::Auth { .. } => Some(format!("{REFUSED}{self}")),
            PlatformError::NoCredentials(_) => Some(format!("{CANNOT_SIGN_IN}{self}")),
            _ => None,
        }
    }
}

const REFUSED: &str = "credentials refused: ";
const CANNOT_SIGN_IN: &str = "cannot sign in: ";

/// Whether an account's pause is one [`PlatformError::credentials_pause`] gave: signing in
/// again, or the credentials working again, lifts it.
pub fn is_credentials_pause(why: &str) -> bool {
    why.starts_with(REFUSED) || why.starts_with(CANNOT_SIGN_IN)
}

/// What every network client does.
#[allow(async_fn_in_trait)]
pub trait Platform {
    fn network(&self) -> Network;

    /// Checks the credentials; returns the account's own id on the network.
    async fn verify(&self) -> Result<String, PlatformError>;

    /// The server's length rules.
    async fn limits(&self) -> Result<Counter, PlatformError>;

    /// A fresh intent key for a new job.
    fn new_key(&self, now: DateTime<Utc>) -> String;

    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError>;

    /// What this network (this server, for Mastodon) takes as an image. The default, for a
    /// network loudhailer sends no photos to ([`Network::takes_photos`]; the plan leaves their
    /// photos off, so only a bug asks): refused.
    async fn image_limits(&self) -> Result<Limits, PlatformError> {
        Err(PlatformError::Internal { message: "loudhailer sends no photos to this network".into() })
    }

    /// Uploads one image with its alt text, for a post to attach. Nothing is posted: a retried
    /// upload leaves at most an unused upload, which the server drops. Default: as
    /// [`Platform::image_limits`].
    async fn upload(&self, _upload: &Upload<'_>) -> Result<MediaRef, PlatformError> {
        Err(PlatformError::Internal { message: "loudhailer sends no photos to this network".into() })
    }

    /// Whether an image uploaded earlier can still be attached: the server still has it.
    /// A network with no way to ask answers `true` and reports [`PlatformError::MediaGone`]
    /// from [`Platform::post`] instead. Default (no photos sent there): nothing is alive.
    async fn media_alive(&self, _media: &MediaRef) -> Result<bool, PlatformError> {
        Ok(false)
    }

    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError>;

    /// Engagement counts for posts this account can see, in the order asked, batched as the
    /// network allows. A post the network no longer has reads as [`Reading::Gone`].
    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError>;

    /// The posts of a watched account newer than `after` (all recent ones when `None`), oldest
    /// first, read as this account; and where the next read starts.
    async fn recent(&self, watch: &Watch, after: Option<&Cursor>) -> Result<Recent, PlatformError>;

    /// A post named by its address, as this account's server names it.
    async fn resolve(&self, address: &Address) -> Result<RemoteRef, PlatformError>;

    /// Undoes this account's earlier boosts of a post; answers with the post.
    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError>;
}

/// One account's client.
pub enum Client {
    Mastodon(mastodon::Mastodon),
    /// Boxed: it holds a session and a handle cache, several times a Mastodon client's size.
    Bluesky(Box<bluesky::Bluesky>),
    X(x::X),
    LinkedIn(Box<linkedin::LinkedIn>),
    Facebook(Box<facebook::Facebook>),
    Threads(Box<threads::Threads>),
    DryRun(dryrun::DryRun),
}

macro_rules! each {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            Client::Mastodon($c) => $e,
            Client::Bluesky($c) => $e,
            Client::X($c) => $e,
            Client::LinkedIn($c) => $e,
            Client::Facebook($c) => $e,
            Client::Threads($c) => $e,
            Client::DryRun($c) => $e,
        }
    };
}

impl Platform for Client {
    fn network(&self) -> Network {
        each!(self, c => c.network())
    }

    async fn verify(&self) -> Result<String, PlatformError> {
        each!(self, c => c.verify().await)
    }

    async fn limits(&self) -> Result<Counter, PlatformError> {
        each!(self, c => c.limits().await)
    }

    fn new_key(&self, now: DateTime<Utc>) -> String {
        each!(self, c => c.new_key(now))
    }

    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        each!(self, c => c.post(req).await)
    }

    async fn image_limits(&self) -> Result<Limits, PlatformError> {
        each!(self, c => c.image_limits().await)
    }

    async fn upload(&self, upload: &Upload<'_>) -> Result<MediaRef, PlatformError> {
        each!(self, c => c.upload(upload).await)
    }

    async fn media_alive(&self, media: &MediaRef) -> Result<bool, PlatformError> {
        each!(self, c => c.media_alive(media).await)
    }

    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        each!(self, c => c.boost(req).await)
    }

    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError> {
        each!(self, c => c.metrics(posts).await)
    }

    async fn recent(&self, watch: &Watch, after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        each!(self, c => c.recent(watch, after).await)
    }

    async fn resolve(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        each!(self, c => c.resolve(address).await)
    }

    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        each!(self, c => c.unboost(req).await)
    }
}

impl Client {
    /// A Mastodon client's live stream of its own account, when this is one (see `follow`).
    pub fn mastodon(&self) -> Option<&mastodon::Mastodon> {
        match self {
            Client::Mastodon(m) => Some(m),
            _ => None,
        }
    }
}

impl Client {
    /// The client for a configured account, with its secret. Clients that must keep a
    /// session between runs (Bluesky's session, X's OAuth 2.0 tokens) keep it in `sessions`,
    /// under the account's id.
    pub fn connect(
        account: &Account,
        credentials: impl Into<Credentials>,
        limiter: Arc<Limiter>,
        clock: Clock,
        sessions: Arc<dyn Sessions>,
    ) -> Result<Client, PlatformError> {
        let http = http::Http::new(&account.id, limiter, clock)?;
        match (account.network, credentials.into()) {
            (Network::Mastodon, Credentials::Token(secret)) => {
                Ok(Client::Mastodon(mastodon::Mastodon::new(account, secret, http)))
            }
            (Network::Bluesky, Credentials::Token(secret)) => {
                let identifier = account.identifier.as_deref().ok_or_else(|| PlatformError::Internal {
                    message: "a Bluesky account needs identifier (its handle or DID)".into(),
                })?;
                let server = account.server.clone();
                Ok(Client::Bluesky(Box::new(bluesky::Bluesky::new(
                    &account.id,
                    identifier,
                    server,
                    secret,
                    http,
                    sessions,
                ))))
            }
            (Network::X, credentials) => Ok(Client::X(x::X::new(account, credentials, http, sessions, clock)?)),
            (Network::Facebook, credentials) => {
                Ok(Client::Facebook(Box::new(facebook::Facebook::new(account, credentials, http, sessions, clock)?)))
            }
            (Network::Threads, credentials) => {
                Ok(Client::Threads(Box::new(threads::Threads::new(account, credentials, http, sessions, clock)?)))
            }
            (Network::LinkedIn, credentials) => {
                Ok(Client::LinkedIn(Box::new(linkedin::LinkedIn::new(account, credentials, http, sessions, clock)?)))
            }
            (other, _) => Err(PlatformError::Internal { message: format!("{other} is not supported by this build") }),
        }
    }
}

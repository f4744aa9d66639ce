//! The live desk: a small web app `loudhailer run` serves, so a delegate can run the event from
//! a phone in the room: the sessions now and next with their posts and counts, a box to post a
//! point into the session's thread on every network at once, quick actions (shift, skip, send
//! the next point, pause, retry, snippets), and every account that needs attention.
//!
//! # Layout
//!
//! - [`engine`]: the one way the desk reads or changes anything: requests on the engine's
//!   control channel, answered in the engine's own loop as the control socket's are (one writer).
//! - [`auth`]: sign-in links (one use, minutes), the session cookie, CSRF, sign-in rate limits.
//! - [`tls`]: the certificate: given files, or a self-signed one made on first start.
//! - [`link`]: the address a phone opens, shared with `loudhailer desk`.
//! - [`pages`]: server-rendered HTML (minijinja, as the posts' templates): the desk and sign-in.
//! - [`actions`]: the JSON endpoints the page's buttons post to.
//! - [`events`]: server-sent events carrying fresh parts of the page as things change.
//! - [`assets`]: the page's CSS and script, built into the binary and put inside each page.
//!
//! axum was chosen because it is tokio's own router: it runs on the runtime the daemon already
//! has, its middleware is tower's (tower-http gives the body limits, headers and timeouts), and
//! it adds little to the binary. Everything the page loads comes from the desk itself; the
//! Content-Security-Policy refuses anything else.

pub mod actions;
pub mod assets;
pub mod auth;
pub mod engine;
pub mod events;
pub mod link;
pub mod pages;
pub mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::{Config, DeskTls};
use crate::control::server::Envelope;

/// The largest request body the desk takes: a point, a label, a sign-in (a photo's upload has its
/// own cap, [`PHOTO_LIMIT`], on its own route).
pub const BODY_LIMIT: usize = 16 * 1024;
/// The largest photo the desk takes, in bytes: 20 MB, room for a phone camera's full-size JPEG
/// (2 to 8 MB from a 12 to 50 megapixel camera). `[media] max_file_bytes` lowers it when smaller.
pub const PHOTO_LIMIT: u64 = 20 * 1000 * 1000;
/// How long a photo's upload may take: 20 MB over a crowded room's Wi-Fi.
pub const PHOTO_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a request (other than the event stream) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a client may take to send a request's headers, or a TLS handshake.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish when the daemon stops.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The policy every answer carries: the desk's own script and stylesheet (inside its pages,
/// allowed by their digests: nothing else runs, not even another inline script) and
/// connections to the desk only.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        assets::script_source(),
        assets::style_source()
    )
}

/// Why the desk could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("the desk cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

/// What every handler shares.
#[derive(Clone)]
pub struct Shared {
    pub engine: engine::Engine,
    pub pages: Arc<pages::Pages>,
    /// Cookies are `Secure` and `__Host-` named under TLS.
    pub tls: bool,
    pub signins: Arc<auth::SignInLimit>,
    pub events: events::Hub,
    /// Where uploaded photos are kept (`photos/` inside), until a post names them.
    pub state_dir: Arc<PathBuf>,
    /// The largest photo taken, in bytes: [`PHOTO_LIMIT`] or the config's smaller cap.
    pub photo_cap: u64,
}

/// A running desk: removes its address file from the state dir when dropped.
pub struct Running {
    pub url: url::Url,
    pub fingerprint: Option<String>,
    file: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// Starts the desk beside the engine: binds, then serves on `tasks` until `stop`.
pub async fn start(
    config: &Config,
    engine: mpsc::UnboundedSender<Envelope>,
    tasks: &TaskTracker,
    stop: &CancellationToken,
) -> Result<Running, DeskError> {
    let desk = &config.desk;
    if desk.plain_off_loopback() {
        tracing::warn!(
            listen = %desk.listen,
            "the desk serves plain HTTP off this machine (insecure_http = true): anyone on the network can read its sign-in and cookies"
        );
    }
    let certificate = match &desk.tls {
        DeskTls::Off => None,
        DeskTls::SelfSigned => Some(tls::self_signed(&config.state_dir, desk)?),
        DeskTls::Files { cert, key } => Some(tls::from_files(cert, key)?),
    };
    let listener =
        std::net::TcpListener::bind(desk.listen).map_err(|source| DeskError::Listen { addr: desk.listen, source })?;
    let local = listener.local_addr().map_err(|source| DeskError::Listen { addr: desk.listen, source })?;
    listener.set_nonblocking(true).map_err(|source| DeskError::Listen { addr: desk.listen, source })?;
    let engine = engine::Engine::new(engine);
    let photo_cap = PHOTO_LIMIT.min(config.media.max_file_bytes);
    let pages = Arc::new(pages::Pages::new().with_photo_cap(photo_cap));
    let shared = Shared {
        state_dir: Arc::new(config.state_dir.clone()),
        photo_cap,
        events: events::Hub::start(engine.clone(), pages.clone(), tasks, stop),
        engine,
        pages,
        tls: certificate.is_some(),
        signins: Arc::new(auth::SignInLimit::new()),
    };
    let app = router(shared);
    let url = link::base_url(desk, local, certificate.is_some());
    let fingerprint = certificate.as_ref().map(|c| c.fingerprint.clone());
    let file =
        link::write_address(&config.state_dir, &link::Address { url: url.clone(), fingerprint: fingerprint.clone() })
            .map_err(|(path, source)| DeskError::Write { path, source })?;
    let handle = axum_server::Handle::new();
    let mut server =
        axum_server::from_tcp(listener).map_err(|source| DeskError::Listen { addr: desk.listen, source })?;
    server.http_builder().http1().header_read_timeout(Some(HEADER_TIMEOUT));
    let server = server.http1_only().first_request_timeout(HEADER_TIMEOUT).handle(handle.clone());
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    match certificate {
        Some(cert) => {
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(cert.config).handshake_timeout(HEADER_TIMEOUT);
            let server = server.acceptor(acceptor);
            tasks.spawn(async move {
                if let Err(e) = server.serve(service).await {
                    tracing::error!(error = %e, "the desk stopped serving");
                }
            });
        }
        None => {
            tasks.spawn(async move {
                if let Err(e) = server.serve(service).await {
                    tracing::error!(error = %e, "the desk stopped serving");
                }
            });
        }
    }
    let stop = stop.clone();
    tasks.spawn(async move {
        stop.cancelled().await;
        handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    match &fingerprint {
        Some(f) => {
            tracing::info!(url = %url, "the desk answers on {url} (HTTPS only; certificate SHA-256 {f}); `loudhailer desk` prints a sign-in link")
        }
        None => tracing::info!(url = %url, "the desk answers on {url}; `loudhailer desk` prints a sign-in link"),
    }
    Ok(Running { url, fingerprint, file })
}

/// The desk's routes and layers.
pub fn router(shared: Shared) -> Router {
    let timed = Router::new()
        .route("/", get(pages::desk::page))
        .route("/signin", get(pages::signin::page).post(pages::signin::sign_in))
        .route("/signout", post(pages::signin::sign_out))
        .merge(actions::routes())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));
    let headers = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(header::HeaderName::from_static(name), HeaderValue::from_static(value))
    };
    // A photo's upload: its own size cap and time (the extractor's own 2 MB default is lifted
    // for the layer's cap to rule).
    let photo = Router::new()
        .route("/api/photo", post(actions::photo::upload))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(usize::try_from(shared.photo_cap).unwrap_or(usize::MAX)))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, PHOTO_TIMEOUT));
    let small =
        Router::new().route("/events", get(events::stream)).merge(timed).layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    let mut app = small
        .merge(photo)
        .layer(middleware::from_fn_with_state(shared.clone(), auth::guard))
        .layer(middleware::from_fn(log))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&content_security_policy()).unwrap_or(HeaderValue::from_static("default-src 'none'")),
        ))
        .layer(headers("x-content-type-options", "nosniff"))
        .layer(headers("referrer-policy", "no-referrer"))
        .layer(headers("x-frame-options", "DENY"))
        .layer(headers("cross-origin-opener-policy", "same-origin"))
        .layer(headers("cross-origin-resource-policy", "same-origin"))
        .layer(headers("permissions-policy", "geolocation=(), microphone=(), interest-cohort=()"))
        .layer(headers("cache-control", "no-store"));
    if shared.tls {
        app = app.layer(headers("strict-transport-security", "max-age=31536000"));
    }
    app.with_state(shared)
}

/// One debug line per request: method, path (never a query string or a header), status, time.
async fn log(ConnectInfo(peer): ConnectInfo<SocketAddr>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        peer = %peer.ip(),
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "desk"
    );
    response
}

/// A JSON answer for the page's script: `{"ok":…,"message"|"error":…}`.
pub fn answer(status: StatusCode, ok: bool, text: impl Into<String>) -> Response {
    let key = if ok { "message" } else { "error" };
    (status, axum::Json(serde_json::json!({ "ok": ok, key: text.into() }))).into_response()
}

/// Where the self-signed certificate and its key are kept.
pub fn cert_paths(state_dir: &Path) -> (PathBuf, PathBuf) {
    (state_dir.join("desk-cert.pem"), state_dir.join("desk-key.pem"))
}

/// `State` of the shared parts, for handlers.
pub type Desk = State<Shared>;

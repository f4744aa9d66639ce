//! Who gets into the desk: the delegate's phone, signed in through a one-time link.
//!
//! `loudhailer desk` makes a random secret and stores only its SHA-256 (through the control
//! channel) with a lifetime of minutes; the link carries the secret after `#`, so it never
//! reaches a server log, a proxy or a `Referer`, and a chat app's link preview cannot use it up.
//! The sign-in page's script sends it once; the desk answers with a session cookie (a new
//! random secret, HttpOnly, SameSite=Strict, Secure under TLS) whose digest the store keeps.
//!
//! Every state-changing request carries a CSRF token in a header: the page's script reads it
//! from a second cookie and it must match one derived from the session's secret (a "signed
//! double submit"), so no token is ever written into a page. Requests from another origin are
//! refused as well. Sign-in attempts are rate-limited per address and in all.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{answer, Shared};
use crate::control::Request as ControlRequest;
use crate::secret::Secret;

/// How long a sign-in link works.
pub const LINK_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// How long a signed-in phone stays signed in (an event of three days needs one sign-in).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(3 * 86_400);
/// Sign-in attempts allowed per address, and from everywhere together, per minute.
pub const SIGN_INS_PER_ADDRESS: u32 = 5;
pub const SIGN_INS_IN_ALL: u32 = 20;
/// The header a state-changing request carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A new random secret: 32 bytes from the operating system's generator, base64url (43 chars).
pub fn new_secret() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `text` has the shape of a secret made by [`new_secret`].
pub fn is_secret_shaped(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The SHA-256 of a secret, in lower-case hex: what the store keeps.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// The CSRF token of a session: derived from its secret, so it needs no storage, and useless
/// without the session cookie it belongs to.
pub fn csrf_for(session_secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"loudhailer desk csrf\0");
    h.update(session_secret.as_bytes());
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookies' names: `__Host-` prefixed under TLS, which browsers accept only when Secure,
/// for the whole site, from this very host.
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
}

pub fn cookie_names(tls: bool) -> CookieNames {
    if tls {
        CookieNames { session: "__Host-lh_desk", csrf: "__Host-lh_csrf" }
    } else {
        CookieNames { session: "lh_desk", csrf: "lh_csrf" }
    }
}

/// A `Set-Cookie` value. The session cookie is HttpOnly; the CSRF cookie is read by the page's
/// script, so it is not. Both are SameSite=Strict, and Secure under TLS.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, tls: bool, http_only: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; SameSite=Strict; Max-Age={}", max_age.as_secs());
    if http_only {
        text.push_str("; HttpOnly");
    }
    if tls {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("lh_invalid=; Max-Age=0"))
}

/// A cookie's value from the request's `Cookie` headers.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether the request comes from the desk's own pages: its `Origin` (when a browser sent one)
/// names the host it was sent to, and `Sec-Fetch-Site` (when sent) says same-origin.
pub fn same_origin(headers: &HeaderMap, tls: bool) -> bool {
    let site_ok =
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_none_or(|v| v == "same-origin" || v == "none");
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            let scheme = if tls { "https" } else { "http" };
            !host.is_empty() && origin == format!("{scheme}://{host}")
        }
    };
    site_ok && origin_ok
}

/// The digest of the session a request was let in with (for signing out, and for the event
/// stream to notice a revoked session).
#[derive(Debug, Clone)]
pub struct SessionDigest(pub String);

/// Lets in what needs no sign-in (the sign-in page), and otherwise a request with
/// an open session; a state-changing request must come from the desk's own page and carry the
/// session's CSRF token (403 otherwise).
pub async fn guard(
    State(shared): State<Shared>,
    ConnectInfo(_peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path == "/signin" {
        return next.run(request).await;
    }
    let names = cookie_names(shared.tls);
    let headers = request.headers();
    let session = read_cookie(headers, names.session).filter(|s| is_secret_shaped(s));
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes {
        let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        let expected = session.as_deref().map(csrf_for);
        let csrf_ok = expected.is_some_and(|e| same(token, &e));
        if !csrf_ok || !same_origin(headers, shared.tls) {
            return answer(
                StatusCode::FORBIDDEN,
                false,
                "refused: this request lacks the desk's CSRF token or comes from another site",
            );
        }
    }
    let digest = session.as_deref().map(digest);
    let open = match &digest {
        Some(d) => match shared.engine.ask(ControlRequest::DeskCheck { session: d.clone() }).await {
            Ok(r) => r.ok,
            Err(e) => return answer(StatusCode::SERVICE_UNAVAILABLE, false, e.to_string()),
        },
        None => false,
    };
    if !open {
        if path == "/" {
            return Redirect::to("/signin").into_response();
        }
        return answer(StatusCode::UNAUTHORIZED, false, "not signed in: run `loudhailer desk` and open its link");
    }
    if let Some(d) = digest {
        request.extensions_mut().insert(SessionDigest(d));
    }
    next.run(request).await
}

/// How often sign-ins may be tried: per address, and from everywhere together (a 256-bit
/// secret cannot be guessed anyway; this keeps a flood from costing the daemon anything).
pub struct SignInLimit {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    all: DefaultDirectRateLimiter,
}

impl Default for SignInLimit {
    fn default() -> Self {
        Self::new()
    }
}

impl SignInLimit {
    pub fn new() -> Self {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        SignInLimit {
            per_address: RateLimiter::keyed(per_minute(SIGN_INS_PER_ADDRESS)),
            all: RateLimiter::direct(per_minute(SIGN_INS_IN_ALL)),
        }
    }

    /// Counts one attempt from `ip`; false when it is one too many.
    pub fn allow(&self, ip: IpAddr) -> bool {
        if self.per_address.len() > 10_000 {
            self.per_address.retain_recent();
        }
        self.per_address.check_key(&ip).is_ok() && self.all.check().is_ok()
    }
}

#[cfg(test)]
mod tests;

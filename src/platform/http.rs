//! The HTTP edge every client sends through: the account's limiter before each request, the
//! server's rate-limit headers after it, and errors classified the same way for every network.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use super::PlatformError;
use crate::clock::Clock;
use crate::limit::{read_headers, Charge, Limiter};
use crate::secret::Secret;

/// How long one request may take before it counts as failed (and is retried).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A response that arrived: status, headers and body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    /// The body as JSON; a body that does not parse is a retryable fault.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PlatformError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| PlatformError::Retry(format!("malformed response from the server ({e})")))
    }

    /// The server's own words from an error body (`error`, `message`, `detail`), or the start
    /// of the body.
    pub fn message(&self) -> String {
        error_message(&self.body)
    }
}

pub fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let pick = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let main =
            pick("error_description").or_else(|| pick("message")).or_else(|| pick("detail")).or_else(|| pick("error"));
        if let Some(m) = main {
            return match (pick("error"), pick("message")) {
                (Some(code), Some(msg)) if code != msg && !msg.contains(&code) => {
                    format!("{code}: {msg}")
                }
                _ => m,
            };
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(no message)".into()
    } else {
        text.chars().take(200).collect()
    }
}

/// One account's HTTP client.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    /// For long-lived answers (event streams): no time limit on the body, no redirects.
    streams: reqwest::Client,
    limiter: Arc<Limiter>,
    clock: Clock,
    account: String,
}

impl Http {
    pub fn new(account: &str, limiter: Arc<Limiter>, clock: Clock) -> Result<Http, PlatformError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("loudhailer/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| PlatformError::Internal { message: format!("cannot build an HTTP client: {e}") })?;
        let streams = reqwest::Client::builder()
            .user_agent(concat!("loudhailer/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PlatformError::Internal { message: format!("cannot build an HTTP client: {e}") })?;
        Ok(Http { client, streams, limiter, clock, account: account.to_string() })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// The daemon's clock's time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// `Authorization: Bearer …`, marked sensitive so no debug output shows it.
    pub fn bearer(token: &Secret) -> HeaderValue {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
        v.set_sensitive(true);
        v
    }

    /// Waits for the limiter, sends, teaches the limiter what the server said, and classifies
    /// the outcome. Success is any 2xx; everything else is an error.
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply, PlatformError> {
        let reply = self.send_raw(request).await?;
        if reply.status.is_success() {
            Ok(reply)
        } else {
            Err(self.classify(&reply))
        }
    }

    /// Like [`send`](Self::send) but hands back non-2xx answers for the client to read
    /// (only transport failures and 429s are errors).
    pub async fn send_raw(&self, request: RequestBuilder) -> Result<Reply, PlatformError> {
        self.limiter.acquire(Charge::Request).await;
        let request = request
            .build()
            .map_err(|e| PlatformError::Internal { message: format!("cannot build the request: {e}") })?;
        let (method, url) = (request.method().clone(), redact_query(request.url()));
        let started = Instant::now();
        let response = self.client.execute(request).await.map_err(|e| transport(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| transport(&e))?;
        tracing::debug!(account = %self.account, %method, %url, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "request");
        let hint = self.observe(&headers);
        if status == StatusCode::TOO_MANY_REQUESTS {
            let now = self.clock.now();
            // `read_headers` made the server's instants safe: a window already over (its clock,
            // or truncated seconds) is a moment's pause, and no wait is longer than an hour.
            // No word on when: hold a minute (or the configured cap, if shorter) rather than spin.
            let unsaid = std::time::Duration::from_secs(60).min(self.limiter.longest_hold());
            let until =
                hint.retry_after.or(hint.reset).unwrap_or_else(|| crate::checked::saturating_after(now, unsaid));
            self.limiter.hold_until(until, "the server answered 429 Too Many Requests");
            tracing::warn!(account = %self.account, until = %until, "rate limited by the server");
            return Err(PlatformError::RateLimited { until: Some(until) });
        }
        Ok(Reply { status, headers, body })
    }

    /// Opens a long-lived GET (an event stream) within the limiter, as one request. The answer
    /// comes back whatever its status, its body unread; redirects are not followed (a caller
    /// that follows one decides whether the credentials go along).
    pub async fn open(&self, url: url::Url, authorization: HeaderValue) -> Result<reqwest::Response, PlatformError> {
        self.limiter.acquire(Charge::Request).await;
        let shown = redact_query(&url);
        let request = self.streams.get(url).header(reqwest::header::AUTHORIZATION, authorization);
        let response = request.send().await.map_err(|e| transport(&e))?;
        tracing::debug!(account = %self.account, url = %shown, status = response.status().as_u16(), "stream opened");
        self.observe(response.headers());
        Ok(response)
    }

    /// Teaches the limiter what a response's headers say; a wait the server asked for beyond
    /// the cap is logged with its header and value.
    fn observe(&self, headers: &HeaderMap) -> crate::limit::ServerHint {
        let hint = read_headers(headers, self.clock.now(), self.limiter.longest_hold());
        if let Some(capped) = &hint.capped {
            tracing::warn!(account = %self.account, "{capped}");
        }
        self.limiter.observe(&hint);
        hint
    }

    /// The usual meaning of an error status.
    pub fn classify(&self, reply: &Reply) -> PlatformError {
        classify(reply.status, reply.message())
    }
}

/// 401/403: auth; 408, 425 and 5xx: retry; other 4xx: permanent.
pub fn classify(status: StatusCode, message: String) -> PlatformError {
    let code = status.as_u16();
    match code {
        401 | 403 => PlatformError::Auth { status: code, message },
        408 | 425 => PlatformError::Retry(format!("{code}: {message}")),
        500..=599 => PlatformError::Retry(format!("server error {code}: {message}")),
        _ => PlatformError::Permanent { status: code, message },
    }
}

fn transport(e: &reqwest::Error) -> PlatformError {
    let what = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "cannot connect to the server"
    } else if e.is_body() || e.is_decode() {
        "the response was cut short"
    } else {
        "the request failed"
    };
    // reqwest's message names the URL; our URLs carry no secrets.
    PlatformError::Retry(format!("{what} ({})", without_url(e)))
}

fn without_url(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    last.unwrap_or_else(|| e.to_string())
}

/// A URL for logs, without its query (which may hold a cursor or a search).
fn redact_query(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let table = [
            (401, "auth"),
            (403, "auth"),
            (404, "permanent"),
            (422, "permanent"),
            (408, "retry"),
            (500, "retry"),
            (502, "retry"),
            (503, "retry"),
        ];
        for (code, want) in table {
            let got = match classify(StatusCode::from_u16(code).unwrap(), "m".into()) {
                PlatformError::Auth { .. } => "auth",
                PlatformError::NoCredentials(_) => "no credentials",
                PlatformError::Permanent { .. } => "permanent",
                PlatformError::Retry(_) => "retry",
                PlatformError::RateLimited { .. } => "rate",
                PlatformError::Internal { .. } => "internal",
                PlatformError::MediaGone(_) => "media gone",
                PlatformError::NotSent => "not sent",
            };
            assert_eq!(got, want, "{code}");
        }
    }

    #[test]
    fn server_words_are_kept() {
        assert_eq!(
            error_message(br#"{"error":"Validation failed: Text can't be blank"}"#),
            "Validation failed: Text can't be blank"
        );
        assert_eq!(
            error_message(br#"{"error":"InvalidRequest","message":"Record too big"}"#),
            "InvalidRequest: Record too big"
        );
        assert_eq!(
            error_message(br#"{"error":"ExpiredToken","message":"Token has expired"}"#),
            "ExpiredToken: Token has expired"
        );
        assert_eq!(error_message(br#"{"title":"Forbidden","detail":"duplicate content"}"#), "duplicate content");
        assert_eq!(error_message(b"<html>Bad gateway</html>"), "<html>Bad gateway</html>");
        assert_eq!(error_message(b""), "(no message)");
    }
}

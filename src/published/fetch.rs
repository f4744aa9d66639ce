//! One fetch of a published programme: a conditional GET (with the validators of the version
//! held), compressed transfer, a timeout, a size cap, and HTTPS only (plain HTTP to loopback,
//! or when asked), redirects included.

use std::time::Duration;

use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, ETAG, LAST_MODIFIED};
use reqwest::StatusCode;
use url::Url;

use super::rules::{self, Validators, MAX_BYTES, MAX_RETRY_AFTER, TIMEOUT};

/// Why a fetch brought no document.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}: plain HTTP is not fetched (use https://, or set `allow_http = true`)")]
    Insecure(Url),
    #[error("the server cannot be reached ({0}); check the address and the network")]
    Unreachable(String),
    #[error("the server did not answer within {}s", TIMEOUT.as_secs())]
    Timeout,
    #[error("the server answered {status}")]
    Status {
        status: StatusCode,
        /// How long the server asked to wait (`Retry-After`), capped.
        retry_after: Option<Duration>,
    },
    #[error("the document is larger than {} MB", MAX_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("the transfer broke off: {0}")]
    Broken(String),
    #[error("cannot make an HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// The wait a server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout
        } else if e.is_connect() {
            // The innermost cause says what went wrong (refused, no such host); the outer
            // ones repeat the address.
            let mut source: &dyn std::error::Error = &e;
            while let Some(inner) = source.source() {
                source = inner;
            }
            FetchError::Unreachable(source.to_string())
        } else if e.is_redirect() {
            FetchError::Broken(format!("a redirect was not followed: {}", inner_text(&e)))
        } else {
            FetchError::Broken(inner_text(&e))
        }
    }
}

fn inner_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// What a fetch brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: the version held is current.
    NotModified {
        validators: Validators,
    },
    Document {
        bytes: Vec<u8>,
        validators: Validators,
    },
}

/// Fetches programmes: one HTTP client, kept between fetches.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allow_http: bool,
}

impl Fetcher {
    /// A fetcher that follows redirects only to addresses it may fetch: a redirect from HTTPS
    /// to plain HTTP elsewhere than loopback is refused unless `allow_http`.
    pub fn new(allow_http: bool) -> Result<Fetcher, FetchError> {
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else if !rules::may_fetch(attempt.url(), allow_http) {
                let to = attempt.url().to_string();
                attempt.error(format!("to {to}, plain HTTP (set `allow_http = true` to follow it)"))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("loudhailer/", env!("CARGO_PKG_VERSION"), " (schedule refresh)"))
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .redirect(policy)
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher { client, allow_http })
    }

    /// GETs `url`, asking whether the version with `held` validators is still current.
    pub async fn get(&self, url: &Url, held: Option<&Validators>) -> Result<Fetched, FetchError> {
        if !rules::may_fetch(url, self.allow_http) {
            return Err(FetchError::Insecure(url.clone()));
        }
        // reqwest asks for `gzip, br` itself and decodes what comes back.
        let mut headers = HeaderMap::new();
        for (name, value) in held.map(rules::conditional).unwrap_or_default() {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        let mut response =
            self.client.get(url.clone()).headers(headers).send().await.map_err(FetchError::from_reqwest)?;
        let status = response.status();
        let validators = Validators::from_headers(
            response.headers().get(ETAG).map(HeaderValue::as_bytes),
            response.headers().get(LAST_MODIFIED).map(HeaderValue::as_bytes),
        );
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { validators });
        }
        if !status.is_success() {
            let now = Utc::now();
            let hint = crate::limit::read_headers(response.headers(), now, MAX_RETRY_AFTER);
            let retry_after = hint.retry_after.and_then(|t| (t - now).to_std().ok());
            return Err(FetchError::Status { status, retry_after });
        }
        // Compressed transfers are decoded on the way, so the length said is not the one read.
        let said = response.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let encoded = response.headers().contains_key(reqwest::header::CONTENT_ENCODING);
        if !encoded && said.is_some_and(|n| n > MAX_BYTES) {
            return Err(FetchError::TooLarge);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
            if bytes.len() + chunk.len() > MAX_BYTES {
                return Err(FetchError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Document { bytes, validators })
    }
}

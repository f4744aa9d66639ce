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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A status, headers and a body.
    type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

    /// Serves each of `answers` once, in order, on loopback; returns its address and, once done,
    /// the `Accept-Encoding` and `If-None-Match` each request carried.
    fn serve(answers: Vec<Answer>) -> (Url, std::thread::JoinHandle<Vec<[String; 2]>>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/schedule.xml", server.server_addr().to_ip().unwrap())).unwrap();
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, headers, body) in answers {
                let request = server.recv().unwrap();
                seen.push([header(&request, "Accept-Encoding"), header(&request, "If-None-Match")]);
                let mut response = tiny_http::Response::from_data(body).with_status_code(status);
                for (name, value) in headers {
                    response.add_header(tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap());
                }
                let _ = request.respond(response);
            }
            seen
        });
        (url, handle)
    }

    fn header(request: &tiny_http::Request, name: &'static str) -> String {
        request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.to_string()).unwrap_or_default()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[tokio::test]
    async fn compressed_answers_are_decoded_and_validators_asked_with() {
        let document = "<schedule>".to_string() + &"<event>talk</event>".repeat(10_000) + "</schedule>";
        let etag = ("ETag", "\"v1\"".to_string());
        let (url, server) = serve(vec![
            (200, vec![("Content-Encoding", "gzip".into()), etag.clone()], gzip(document.as_bytes())),
            (304, vec![etag], Vec::new()),
        ]);
        let fetcher = Fetcher::new(false).unwrap();
        let Fetched::Document { bytes, validators } = fetcher.get(&url, None).await.unwrap() else {
            panic!("a document was served")
        };
        assert_eq!(bytes, document.as_bytes(), "decoded on the way");
        assert!(matches!(fetcher.get(&url, Some(&validators)).await.unwrap(), Fetched::NotModified { .. }));
        let seen = server.join().unwrap();
        assert!(seen[0][0].contains("gzip") && seen[0][0].contains("br"), "{seen:?}");
        assert_eq!(seen[1][1], "\"v1\"", "the second request asks whether v1 is current");
    }

    #[tokio::test]
    async fn a_document_over_the_cap_is_refused_whether_it_says_so_or_not() {
        let over = vec![b' '; MAX_BYTES + 1];
        // Said in Content-Length; not said (a gzip bomb: 32 MB of spaces in a few KB).
        let (url, server) =
            serve(vec![(200, vec![], over.clone()), (200, vec![("Content-Encoding", "gzip".into())], gzip(&over))]);
        let fetcher = Fetcher::new(false).unwrap();
        for _ in 0..2 {
            assert!(matches!(fetcher.get(&url, None).await, Err(FetchError::TooLarge)));
        }
        server.join().unwrap();
    }

    #[tokio::test]
    async fn plain_http_is_refused_off_loopback_and_a_refusal_says_when_to_come_back() {
        let fetcher = Fetcher::new(false).unwrap();
        let elsewhere = Url::parse("http://schedule.example/fosdem.xml").unwrap();
        assert!(matches!(fetcher.get(&elsewhere, None).await, Err(FetchError::Insecure(_))));
        let (url, server) = serve(vec![(503, vec![("Retry-After", "120".into())], b"busy".to_vec())]);
        match fetcher.get(&url, None).await {
            Err(e @ FetchError::Status { .. }) => assert_eq!(e.retry_after(), Some(Duration::from_secs(120))),
            other => panic!("{other:?}"),
        }
        server.join().unwrap();
    }
}

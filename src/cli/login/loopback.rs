//! The address on 127.0.0.1 the browser is sent back to after the person allows loudhailer
//! (RFC 8252's loopback redirect): it takes one `GET /callback?code=…&state=…`, answers with a
//! short page, and hands the code over.
//!
//! Written here rather than with an HTTP server crate: all it reads is the request line of a
//! request from the person's own browser, on loopback only; a server framework in the binary for
//! that one line would weigh more than this file. Anything else (a favicon, a stray request) is
//! answered 404 and waited past; reads are bounded in size and time.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::cli::CliError;
use crate::platform::mastodon::oauth::{code_from_query, CallbackError};

/// The path the browser comes back to.
const PATH: &str = "/callback";
/// The most of a request read: its request line is all that matters.
const MAX_REQUEST: usize = 16 * 1024;
/// How long one connection may take to send its request.
const READ_LIMIT: Duration = Duration::from_secs(10);

/// A listener on 127.0.0.1, waiting for the browser.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    /// Listens on 127.0.0.1:`port` (0: a free port the system picks).
    pub async fn bind(port: u16) -> Result<Loopback, CliError> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            CliError::Failed(format!(
                "cannot listen on 127.0.0.1:{port} for the browser's return ({e}); choose another --port, or use --paste"
            ))
        })?;
        let port = listener.local_addr().map_err(|e| CliError::Failed(format!("cannot listen: {e}")))?.port();
        Ok(Loopback { listener, port })
    }

    /// The redirect address to register with the server.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{PATH}", self.port)
    }

    /// Waits (up to `limit`) for the browser to come back, and returns the code in it.
    pub async fn code(&self, state: &str, limit: Duration) -> Result<String, CliError> {
        let waited = tokio::time::timeout(limit, async {
            loop {
                let Ok((stream, _)) = self.listener.accept().await else {
                    // Out of file handles, say: try again shortly rather than spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                if let Some(outcome) = answer(stream, state).await {
                    return outcome;
                }
            }
        })
        .await;
        match waited {
            Ok(Ok(code)) => Ok(code),
            Ok(Err(e)) => Err(CliError::Usage(format!("sign-in: {e}"))),
            Err(_) => Err(CliError::Usage(format!(
                "no answer from the browser within {} minutes; run `loudhailer login mastodon` again (or with --paste)",
                limit.as_secs() / 60
            ))),
        }
    }
}

/// Reads one request and answers it; `None` when it was not the callback (keep waiting).
async fn answer(mut stream: TcpStream, state: &str) -> Option<Result<String, CallbackError>> {
    let target = tokio::time::timeout(READ_LIMIT, request_target(&mut stream)).await.ok().flatten();
    let Some(target) = target else {
        let _ = respond(&mut stream, "400 Bad Request", "loudhailer could not read that request.").await;
        return None;
    };
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    if path != PATH {
        let _ = respond(&mut stream, "404 Not Found", "Nothing here: loudhailer waits at /callback.").await;
        return None;
    }
    let outcome = code_from_query(query, state);
    let page = match &outcome {
        Ok(_) => ("200 OK", "Signed in. You can close this tab and go back to the terminal.".to_string()),
        Err(e) => ("400 Bad Request", format!("loudhailer could not sign in: {e}. See the terminal.")),
    };
    let _ = respond(&mut stream, page.0, &page.1).await;
    Some(outcome)
}

/// The request target of a `GET` (`/callback?…`), read from the request line.
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    parse_request_line(&buf)
}

/// `GET /callback?code=… HTTP/1.1` → `/callback?code=…`.
fn parse_request_line(bytes: &[u8]) -> Option<String> {
    let end = bytes.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (method == "GET" && version.starts_with("HTTP/") && parts.next().is_none()).then(|| target.to_string())
}

async fn respond(stream: &mut TcpStream, status: &str, text: &str) -> std::io::Result<()> {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>loudhailer</title></head><body><p>{}</p></body></html>",
        html_escape::encode_text(text)
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_is_read_strictly() {
        let ok = b"GET /callback?code=c&state=s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        assert_eq!(parse_request_line(ok).as_deref(), Some("/callback?code=c&state=s"));
        assert_eq!(parse_request_line(b"POST /callback HTTP/1.1\r\n"), None);
        assert_eq!(parse_request_line(b"GET /callback\r\n"), None);
        assert_eq!(parse_request_line(b"GET /a b HTTP/1.1\r\n"), None);
        assert_eq!(parse_request_line(b"GET /callback HTTP/1.1"), None, "no line end yet");
        assert_eq!(parse_request_line(b"\xff\xfe /x HTTP/1.1\r\n"), None);
    }

    #[tokio::test]
    async fn strays_are_waited_past_and_the_callback_gives_the_code() {
        let lb = Loopback::bind(0).await.unwrap();
        let uri = lb.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"), "{uri}");
        let port = lb.port;
        let browser = tokio::spawn(async move {
            let mut pages = Vec::new();
            for target in ["/favicon.ico", "/callback?state=s&code=the-code"] {
                let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                s.write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).await.unwrap();
                let mut page = String::new();
                s.read_to_string(&mut page).await.unwrap();
                pages.push(page);
            }
            pages
        });
        assert_eq!(lb.code("s", Duration::from_secs(10)).await.unwrap(), "the-code");
        let pages = browser.await.unwrap();
        assert!(pages[0].starts_with("HTTP/1.1 404"), "{}", pages[0]);
        assert!(pages[1].starts_with("HTTP/1.1 200") && pages[1].contains("Signed in"), "{}", pages[1]);
    }

    #[tokio::test]
    async fn a_refusal_ends_the_wait_with_its_reason() {
        let lb = Loopback::bind(0).await.unwrap();
        let port = lb.port;
        tokio::spawn(async move {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            s.write_all(b"GET /callback?error=access_denied&state=s HTTP/1.1\r\n\r\n").await.unwrap();
            let mut page = String::new();
            let _ = s.read_to_string(&mut page).await;
        });
        let err = lb.code("s", Duration::from_secs(10)).await.unwrap_err();
        assert!(err.to_string().contains("did not grant access: access_denied"), "{err}");
    }
}

//! The loopback redirect of a browser sign-in (RFC 8252 §7.3): `loudhailer login` listens on the
//! app's registered callback (`http://127.0.0.1:PORT/PATH`) for the one request the browser
//! makes when the network sends it back, reads the code from it, and answers a short page. The
//! code is never printed or logged.

use std::time::{Duration, Instant};

use url::Url;

/// What came back to the callback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("cannot listen on {0}: {1} (is another sign-in running? choose another port in redirect_uri)")]
    Bind(String, String),
    #[error("the network did not grant access: {0}")]
    Denied(String),
    #[error("the answer belongs to another sign-in (its state does not match); start again")]
    State,
    #[error("the answer has no code in it")]
    NoCode,
    #[error("no answer came back within {} minutes; start again", .0.as_secs() / 60)]
    TimedOut(Duration),
}

/// A listening callback.
pub struct Callback {
    server: tiny_http::Server,
    path: String,
}

impl Callback {
    /// Listens on the redirect URI's address. Do this before sending the person to the
    /// network, so the answer cannot come back before anyone listens.
    pub fn bind(redirect_uri: &Url) -> Result<Callback, CallbackError> {
        let host = redirect_uri.host_str().unwrap_or("127.0.0.1").trim_start_matches('[').trim_end_matches(']');
        let host = if host == "localhost" { "127.0.0.1" } else { host };
        let port = redirect_uri.port_or_known_default().unwrap_or(80);
        let addr = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let server = tiny_http::Server::http(&addr).map_err(|e| CallbackError::Bind(addr.clone(), e.to_string()))?;
        Ok(Callback { server, path: redirect_uri.path().to_string() })
    }

    /// Waits (blocking) for the browser's request at the callback's path and returns its code.
    pub fn wait(self, state: &str, timeout: Duration) -> Result<String, CallbackError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CallbackError::TimedOut(timeout));
            }
            let request = match self.server.recv_timeout(left) {
                Ok(Some(r)) => r,
                Ok(None) => return Err(CallbackError::TimedOut(timeout)),
                Err(_) => continue,
            };
            let url = Url::parse(&format!("http://callback{}", request.url())).ok();
            let Some(url) = url.filter(|u| u.path() == self.path) else {
                // A favicon or a stray request: not the answer.
                let _ = request.respond(tiny_http::Response::from_string("not here").with_status_code(404));
                continue;
            };
            let outcome = read(&url, state);
            let page = match &outcome {
                Ok(_) => "Signed in. You can close this window and go back to loudhailer.".to_string(),
                Err(e) => format!("Not signed in: {e}. Go back to loudhailer."),
            };
            let header = tiny_http::Header::from_bytes("Content-Type", "text/plain; charset=utf-8").ok();
            let mut response =
                tiny_http::Response::from_string(page).with_status_code(if outcome.is_ok() { 200 } else { 400 });
            if let Some(h) = header {
                response.add_header(h);
            }
            let _ = request.respond(response);
            return outcome;
        }
    }
}

/// The code from the callback's address (pure).
pub fn read(url: &Url, state: &str) -> Result<String, CallbackError> {
    let get = |k: &str| url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    if let Some(error) = get("error") {
        return Err(CallbackError::Denied(get("error_description").unwrap_or(error)));
    }
    if get("state").as_deref() != Some(state) {
        return Err(CallbackError::State);
    }
    get("code").filter(|c| !c.is_empty()).ok_or(CallbackError::NoCode)
}

/// A fresh `state` value for one sign-in.
pub fn state() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..32).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_read_and_checked() {
        let u = |s: &str| Url::parse(s).unwrap();
        let cases: &[(&str, Result<&str, CallbackError>)] = &[
            ("http://127.0.0.1:8765/callback?code=abc&state=s", Ok("abc")),
            ("http://127.0.0.1:8765/callback?code=abc&state=t", Err(CallbackError::State)),
            ("http://127.0.0.1:8765/callback?state=s", Err(CallbackError::NoCode)),
            (
                "http://127.0.0.1:8765/callback?error=user_cancelled_authorize&error_description=The+member+refused&state=s",
                Err(CallbackError::Denied("The member refused".into())),
            ),
        ];
        for (url, want) in cases {
            assert_eq!(read(&u(url), "s"), want.clone().map(str::to_string), "{url}");
        }
    }

    #[test]
    fn the_callback_takes_the_browsers_request() {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let redirect = Url::parse(&format!("http://127.0.0.1:{port}/callback")).unwrap();
        let callback = Callback::bind(&redirect).unwrap();
        let waiting = std::thread::spawn(move || callback.wait("st", Duration::from_secs(10)));
        let get = |path: &str| {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).unwrap();
            answer
        };
        assert!(get("/favicon.ico").starts_with("HTTP/1.1 404"));
        assert!(get("/callback?code=the-code&state=st").starts_with("HTTP/1.1 200"));
        assert_eq!(waiting.join().unwrap(), Ok("the-code".to_string()));
    }
}

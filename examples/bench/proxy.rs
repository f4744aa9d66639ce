//! A recording reverse proxy: the client under test talks to it as if it were the server, and
//! it notes when each request arrived (in full), what it was, and how long the server took to
//! answer. Keep-alive connections are kept, one server connection per client connection, so
//! the proxy adds a copy on loopback and nothing else.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When the whole request (head and body) had arrived: the moment it could reach the server.
    pub at: SystemTime,
    /// When the server's answer had been passed back to the client.
    pub answered: SystemTime,
    /// How long the server took, from the request forwarded to its answer read.
    pub server: Duration,
    pub method: String,
    pub path: String,
    /// The bearer token, if any.
    pub token: Option<String>,
    pub body: Vec<u8>,
    pub status: u16,
    /// The answer's body (kept for writes only: it names the post made).
    pub answer: Vec<u8>,
    /// The answer's `X-RateLimit-Remaining`, and `X-RateLimit-Reset` when given in Unix seconds.
    pub remaining: Option<u64>,
    pub reset: Option<u64>,
}

pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let seen = seen2.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, &seen);
                });
            }
        });
        Ok(Proxy { base: format!("http://{addr}"), seen, stop, addr })
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many requests matched `pred` so far.
    pub fn count(&self, pred: impl Fn(&Seen) -> bool) -> usize {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|s| pred(s)).count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// A request or response head: its first line and headers, as read.
struct Head {
    raw: Vec<u8>,
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    fn length(&self) -> Option<usize> {
        self.header("content-length").and_then(|v| v.trim().parse().ok())
    }

    fn closes(&self) -> bool {
        self.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Reads a head; `None` at a clean end of the stream.
fn read_head(r: &mut impl BufRead) -> std::io::Result<Option<Head>> {
    let mut raw = Vec::new();
    let mut first = String::new();
    let mut headers = Vec::new();
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line)? == 0 {
            return if raw.is_empty() { Ok(None) } else { Err(std::io::ErrorKind::UnexpectedEof.into()) };
        }
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if first.is_empty() {
            first = text;
            continue;
        }
        if text.is_empty() {
            return Ok(Some(Head { raw, first, headers }));
        }
        if let Some((k, v)) = text.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
}

/// Reads a body as the head describes it, raw (chunked stays chunked); also returns it decoded.
fn read_body(r: &mut impl BufRead, head: &Head, response: bool) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    if head.chunked() {
        let (mut raw, mut plain) = (Vec::new(), Vec::new());
        loop {
            let mut size_line = Vec::new();
            r.read_until(b'\n', &mut size_line)?;
            raw.extend_from_slice(&size_line);
            let text = String::from_utf8_lossy(&size_line);
            let size = usize::from_str_radix(text.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    let mut line = Vec::new();
                    r.read_until(b'\n', &mut line)?;
                    raw.extend_from_slice(&line);
                    if line == b"\r\n" || line.is_empty() {
                        return Ok((raw, plain));
                    }
                }
            }
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            raw.extend_from_slice(&chunk);
            plain.extend_from_slice(&chunk[..size]);
        }
    }
    if let Some(n) = head.length() {
        let mut body = vec![0; n];
        r.read_exact(&mut body)?;
        return Ok((body.clone(), body));
    }
    let status: u16 = head.first.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    if response && !(status == 204 || status == 304 || (100..200).contains(&status)) {
        let mut body = Vec::new();
        r.read_to_end(&mut body)?;
        return Ok((body.clone(), body));
    }
    Ok((Vec::new(), Vec::new()))
}

fn serve(client: TcpStream, upstream: SocketAddr, seen: &Mutex<Vec<Seen>>) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let mut server: Option<(BufReader<TcpStream>, TcpStream)> = None;
    while let Some(head) = read_head(&mut from_client)? {
        let (raw_body, body) = read_body(&mut from_client, &head, false)?;
        let at = SystemTime::now();
        if server.is_none() {
            let s = TcpStream::connect(upstream)?;
            s.set_nodelay(true)?;
            server = Some((BufReader::new(s.try_clone()?), s));
        }
        let Some((from_server, to_server)) = server.as_mut() else { break };
        let sent = Instant::now();
        let mut request = head.raw.clone();
        request.extend_from_slice(&raw_body);
        to_server.write_all(&request)?;
        let Some(answer_head) = read_head(from_server)? else { break };
        let (raw_answer, answer) = read_body(from_server, &answer_head, true)?;
        let server_time = sent.elapsed();
        let mut response = answer_head.raw.clone();
        response.extend_from_slice(&raw_answer);
        to_client.write_all(&response)?;
        let answered = SystemTime::now();
        let mut parts = head.first.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let status = answer_head.first.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let token = head.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
        let write = method == "POST";
        let number = |name: &str| answer_head.header(name).and_then(|v| v.trim().parse().ok());
        let (remaining, reset) = (number("x-ratelimit-remaining"), number("x-ratelimit-reset"));
        seen.lock().unwrap_or_else(|e| e.into_inner()).push(Seen {
            at,
            answered,
            server: server_time,
            method,
            path,
            token,
            body: if write { body } else { Vec::new() },
            status,
            answer: if write { answer } else { Vec::new() },
            remaining,
            reset,
        });
        let until_close = answer_head.length().is_none() && !answer_head.chunked() && !matches!(status, 204 | 304);
        if head.closes() || answer_head.closes() || until_close {
            break;
        }
    }
    let _ = to_client.shutdown(Shutdown::Both);
    Ok(())
}

//! The CLI's side of the control socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::{socket_path, ControlError, Request, Response};

/// Connects to the daemon of a state dir, if one is running.
pub fn connect(state_dir: &Path) -> Option<UnixStream> {
    UnixStream::connect(socket_path(state_dir)).ok()
}

/// How long a command waits for a daemon that holds the store but has not opened its socket
/// yet (it is starting: settling jobs left in flight, planning).
pub const STARTING_UP: Duration = Duration::from_secs(15);

/// The socket of a daemon that is starting up, once it listens: asked again every 100 ms for at
/// most `wait`. `None` if it never did (it stopped, or holds the store for longer).
pub fn connect_when_up(state_dir: &Path, wait: Duration) -> Option<UnixStream> {
    let until = std::time::Instant::now() + wait;
    loop {
        if let Some(stream) = connect(state_dir) {
            return Some(stream);
        }
        if std::time::Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends one request and reads the answer.
pub fn request(stream: &mut UnixStream, request: &Request, path: &Path) -> Result<Response, ControlError> {
    let io = |source| ControlError::Socket { path: path.to_owned(), source };
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(io)?;
    let mut line = serde_json::to_string(request).map_err(|e| ControlError::Protocol(e.to_string()))?;
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(io)?;
    let mut answer = String::new();
    BufReader::new(&*stream).read_line(&mut answer).map_err(io)?;
    if answer.is_empty() {
        return Err(ControlError::Protocol("the daemon closed the connection".into()));
    }
    serde_json::from_str(&answer).map_err(|e| ControlError::Protocol(e.to_string()))
}

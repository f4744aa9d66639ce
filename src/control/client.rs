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

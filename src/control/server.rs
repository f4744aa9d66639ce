//! The daemon's side of the control socket: accepts connections and hands each request to
//! the engine's loop, which answers it.

use std::path::{Path, PathBuf};

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{ControlError, Request, Response};

/// A request for the engine, with where to send its answer (none for internal reloads).
pub type Envelope = (Request, Option<oneshot::Sender<Response>>);

/// Removes the socket file when the daemon stops.
#[derive(Debug)]
pub struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds the socket, owner-only. A socket file left by a crashed daemon is removed; one that
/// still answers belongs to a live daemon and is left alone.
pub fn bind(path: &Path) -> Result<(UnixListener, SocketFile), ControlError> {
    let io = |source| ControlError::Socket { path: path.to_owned(), source };
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io(std::io::Error::new(std::io::ErrorKind::AddrInUse, "another daemon answers on it")));
        }
        tracing::info!(socket = %path.display(), "removing a stale control socket left by a crash");
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    let guard = SocketFile(path.to_owned());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok((listener, guard))
}

/// The first pause after a failed accept; it doubles up to [`ACCEPT_BACKOFF_MAX`] while
/// accepts keep failing (out of file descriptors, say), so the loop never spins.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Serves connections until `stop` is cancelled; then waits for the open connections to end
/// (each ends with the stop too).
pub async fn serve(listener: UnixListener, engine: mpsc::UnboundedSender<Envelope>, stop: CancellationToken) {
    let connections = TaskTracker::new();
    let mut backoff = ACCEPT_BACKOFF;
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = ACCEPT_BACKOFF;
                stream
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "control socket: accept failed");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let engine = engine.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                ended = connection(stream, engine) => if let Err(e) = ended {
                    tracing::debug!(error = %e, "control connection ended");
                }
            }
        });
    }
    connections.close();
    connections.wait().await;
}

async fn connection(stream: UnixStream, engine: mpsc::UnboundedSender<Envelope>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<Request>(&line) {
            Err(e) => Response::error(format!("not a request: {e}")),
            Ok(request) => {
                let (tx, rx) = oneshot::channel();
                if engine.send((request, Some(tx))).is_err() {
                    Response::error("the daemon is stopping")
                } else {
                    rx.await.unwrap_or_else(|_| Response::error("the daemon is stopping"))
                }
            }
        };
        let mut text = serde_json::to_string(&response).unwrap_or_else(|_| "{\"ok\":false}".into());
        text.push('\n');
        write.write_all(text.as_bytes()).await?;
    }
    Ok(())
}

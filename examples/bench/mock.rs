//! mastodon_mock (the Mastodon API server the tests use), one per measurement, on a free
//! loopback port, seeded with its demo accounts; killed when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The demo accounts' tokens: ada and alan post, grace and katherine boost.
pub const ADA: &str = "ada_token";
pub const GRACE: &str = "grace_token";

pub struct Mock {
    pub addr: SocketAddr,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Mock {
    /// Starts `mastodon_mock serve --in-memory --demo`, with `config` (TOML) as its `--config`.
    pub fn start(root: &Path, config: Option<&str>) -> Result<Mock, String> {
        let bin = root.join(".peers/venv/bin/mastodon_mock");
        if !bin.exists() {
            return Err(format!("{} is missing: run scripts/peers install-bench", bin.display()));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let log = std::fs::File::create(dir.path().join("mock.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&bin);
        cmd.args(["serve", "--in-memory", "--demo", "--host", "127.0.0.1", "--port", &port.to_string()])
            .current_dir(dir.path())
            .env("TMPDIR", dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        if let Some(toml) = config {
            let path = dir.path().join("mock.toml");
            std::fs::write(&path, toml).map_err(|e| e.to_string())?;
            cmd.arg("--config").arg(path);
        }
        let child = cmd.spawn().map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut mock = Mock { addr, child, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = mock.child.try_wait() {
                return Err(format!("mastodon_mock exited at start ({status})"));
            }
            if instance_answers(addr) {
                return Ok(mock);
            }
            if Instant::now() > deadline {
                return Err("mastodon_mock did not answer within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn instance_answers(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!("GET /api/v2/instance HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

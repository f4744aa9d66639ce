//! Stand-in for the peer-server harness (replaced by the full one from scripts/peers work).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Mastodon {
    pub base: String,
    child: Child,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Mastodon {
    pub fn start() -> Mastodon {
        Self::launch(None)
    }

    pub fn start_with_config(toml: &str) -> Mastodon {
        Self::launch(Some(toml))
    }

    fn launch(config: Option<&str>) -> Mastodon {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".peers/venv/bin/mastodon_mock");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/peers install",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut cmd = Command::new(&bin);
        cmd.args([
            "serve",
            "--in-memory",
            "--port",
            &port.to_string(),
            "--log-level",
            "warning",
        ]);
        if config.is_none() {
            cmd.arg("--demo");
        }
        if let Some(text) = config {
            let path = dir.path().join("mock.toml");
            std::fs::write(&path, text).unwrap();
            cmd.arg("--config").arg(path);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if reqwest::blocking::get(format!("{base}/api/v2/instance"))
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            assert!(Instant::now() < deadline, "mastodon_mock did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Mastodon {
            base,
            child,
            _dir: dir,
        }
    }

    pub fn add_fault(&self, rule: serde_json::Value) {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/_mock/faults", self.base))
            .json(&rule)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap());
    }

    pub fn clear_faults(&self) {
        reqwest::blocking::Client::new()
            .delete(format!("{}/api/v1/_mock/faults", self.base))
            .send()
            .unwrap();
    }
}

impl Drop for Mastodon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

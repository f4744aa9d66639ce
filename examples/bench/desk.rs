//! Figure 8: the live desk. Its first load on Chromium's "Slow 3G" (bytes transferred, and when
//! it first shows something), and the resident memory an idle desk adds to the daemon waiting
//! with a programme pending: the same daemon with `[desk] enabled = false`, listening with no
//! page open, and again after a page was loaded and closed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;

use crate::lateness::stop;
use crate::mock::Mock;
use crate::{events, procfs, Ctx};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Desk {
    pub jobs: usize,
    /// Bytes the first load of the signed-in desk transferred, the event stream's first
    /// message included; and in how many requests.
    pub bytes: u64,
    pub requests: u64,
    /// From the navigation's start: the first byte of the page, its first contentful paint,
    /// and its load event, ms.
    pub first_byte_ms: f64,
    pub paint_ms: f64,
    pub load_ms: f64,
    /// When the page's event stream had brought its first update (it follows the event live), ms.
    pub live_ms: f64,
    /// The latency "Slow 3G" adds to every request, ms: no page can show before it.
    pub latency_ms: f64,
    /// Resident memory of the waiting daemon: without its desk, with it listening (the medians
    /// of `repeats` starts of each), and after one page load (the page closed).
    pub rss_off: u64,
    pub rss_listening: u64,
    pub rss_after_load: u64,
    pub repeats: usize,
}

fn tools(root: &Path) -> Result<(PathBuf, PathBuf), String> {
    let peers = |what: &str| -> Result<PathBuf, String> {
        let out = Command::new(root.join("scripts/peers")).arg(what).output().map_err(|e| e.to_string())?;
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    };
    let (node, modules) = (peers("node")?, peers("playwright")?);
    if !node.exists() || !modules.join("playwright-core").exists() {
        return Err("node and playwright-core are missing: run scripts/peers install-bench".into());
    }
    if !Path::new("/usr/bin/chromium").exists() && std::env::var_os("CHROMIUM").is_none() {
        return Err("Chromium is missing (/usr/bin/chromium): apt-get install chromium".into());
    }
    Ok((node, modules))
}

/// The daemon waiting with `sessions` pending, its desk on or off: its resident memory once it
/// has settled, and (desk on) the sign-in link `loudhailer desk` printed.
struct Running {
    child: std::process::Child,
    pid: u32,
}

fn start(ctx: &Ctx, config: &Path, log: &Path) -> Result<Running, String> {
    let file = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&ctx.binary);
    cmd.args(["run", "--config"]).arg(config);
    ctx.tokens(&mut cmd);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(file.try_clone().map_err(|e| e.to_string())?)
        .stderr(file)
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id();
    procfs::settle(pid, Duration::from_secs(2), Duration::from_secs(120));
    Ok(Running { child, pid })
}

pub fn desk(ctx: &Ctx, sessions: usize, repeats: usize) -> Result<Desk, String> {
    let (node, modules) = tools(&ctx.root)?;
    let mock = Mock::start(&ctx.root, None)?;
    let base = format!("http://{}", mock.addr);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    // The first session is under way (its title went out), the rest over the coming days.
    let programme = |desk: &str, state: &str| {
        events::programme(&base, &dir.path().join(state), Utc::now() - chrono::Duration::minutes(1), sessions, 4, 3)
            + desk
    };
    let off = dir.path().join("off.toml");
    let on = dir.path().join("on.toml");
    std::fs::write(&off, programme("\n[desk]\nenabled = false\n", "state-off")).map_err(|e| e.to_string())?;
    std::fs::write(&on, programme("\n[desk]\nlisten = \"127.0.0.1:0\"\n", "state-on")).map_err(|e| e.to_string())?;
    let (plan, _) = ctx.plan(&on, dir.path())?;

    // Two processes' sizes differ by how their start-up heap fell; alternate and take medians.
    let (mut offs, mut listening) = (Vec::new(), Vec::new());
    for r in 0..repeats {
        let mut a = start(ctx, &off, &dir.path().join(format!("off{r}.log")))?;
        offs.push(procfs::memory(a.pid).map(|m| m.rss).unwrap_or(0) as f64);
        stop(&mut a.child);
        if r + 1 < repeats {
            let mut b = start(ctx, &on, &dir.path().join(format!("on{r}.log")))?;
            listening.push(procfs::memory(b.pid).map(|m| m.rss).unwrap_or(0) as f64);
            stop(&mut b.child);
        }
    }
    let mut b = start(ctx, &on, &dir.path().join("on.log"))?;
    listening.push(procfs::memory(b.pid).map(|m| m.rss).unwrap_or(0) as f64);
    let rss_off = crate::stats::median(&offs) as u64;
    let rss_listening = crate::stats::median(&listening) as u64;
    let printed = Command::new(&ctx.binary).args(["desk", "--config"]).arg(&on).output().map_err(|e| e.to_string())?;
    let printed = String::from_utf8_lossy(&printed.stdout).into_owned();
    let link =
        printed.split_whitespace().find(|w| w.contains("/signin#")).ok_or(format!("no sign-in link: {printed}"))?;
    let out = Command::new(&node)
        .arg(ctx.root.join("examples/bench/desk_load.cjs"))
        .arg(link)
        .env("NODE_PATH", &modules)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        stop(&mut b.child);
        return Err(format!("the browser run failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    procfs::settle(b.pid, Duration::from_secs(2), Duration::from_secs(60));
    let rss_after_load = procfs::memory(b.pid).map(|m| m.rss).unwrap_or(0);
    stop(&mut b.child);
    let f = |k: &str| seen[k].as_f64().unwrap_or(f64::NAN);
    Ok(Desk {
        jobs: plan.len(),
        bytes: seen["bytes"].as_u64().unwrap_or(0),
        requests: seen["requests"].as_u64().unwrap_or(0),
        first_byte_ms: f("responseStart"),
        paint_ms: f("fcp"),
        load_ms: f("load"),
        live_ms: f("live"),
        latency_ms: f("latency"),
        rss_off,
        rss_listening,
        rss_after_load,
        repeats,
    })
}

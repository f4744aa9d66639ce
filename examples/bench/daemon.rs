//! Figures 3, 4 and 5: the `loudhailer` binary as a user runs it (and, for waiting, the
//! baseline beside it): memory and CPU while it waits, the time from start to the first due job
//! going out with a big store, and the posting rate under the server's rate limit.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;

use crate::lateness::{stop, Who};
use crate::mock::{self, Mock};
use crate::procfs;
use crate::proxy::Proxy;
use crate::{events, Ctx};

/// Memory and CPU while waiting.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Waiting {
    pub jobs: usize,
    pub memory: procfs::Memory,
    /// CPU time used during the window, ms (the sum over threads, nanosecond clocks).
    pub cpu_ms: f64,
    /// The same from `utime + stime` (10 ms ticks).
    pub cpu_ticks_ms: f64,
    /// Share of one core over the window, %.
    pub cpu_pct: f64,
    /// Context switches during the window: how often the process woke.
    pub wakeups: u64,
    /// Requests to the server during the window.
    pub requests: usize,
    pub window_secs: f64,
    /// Whether it had stopped using CPU before the window began.
    pub settled: bool,
}

fn spawn(cmd: &mut Command, log: &std::path::Path) -> Result<Child, String> {
    let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting {cmd:?}: {e}"))
}

fn loudhailer(ctx: &Ctx, args: &[&str], config: &std::path::Path) -> Command {
    let mut c = Command::new(&ctx.binary);
    c.args(args).arg("--config").arg(config);
    ctx.tokens(&mut c);
    c
}

pub fn waiting(ctx: &Ctx, who: Who, sessions: usize, points: usize, window: Duration) -> Result<Waiting, String> {
    let mock = Mock::start(&ctx.root, None)?;
    let proxy = Proxy::start(mock.addr).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("event.toml");
    let first = Utc::now() + chrono::Duration::days(1);
    let text = events::programme(&proxy.base, &dir.path().join("state"), first, sessions, points, 3);
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let (plan, plan_file) = ctx.plan(&config, dir.path())?;
    let mut cmd = match who {
        Who::Loudhailer => loudhailer(ctx, &["run"], &config),
        Who::Baseline => {
            let mut c = ctx.baseline_command();
            c.arg("--plan").arg(&plan_file).args(["--server", &proxy.base]);
            c.args(["--token", &format!("delegate={}", mock::ADA), "--token", &format!("council={}", mock::GRACE)]);
            c
        }
    };
    let mut child = spawn(&mut cmd, &dir.path().join("client.log"))?;
    let pid = child.id();
    // Started: it has used no CPU for two seconds.
    let settled = procfs::settle(pid, Duration::from_secs(2), Duration::from_secs(120));
    let before = procfs::cpu(pid).ok_or("the client exited while starting")?;
    let requests_before = proxy.count(|_| true);
    let started = Instant::now();
    std::thread::sleep(window);
    let after = procfs::cpu(pid).ok_or("the client exited while waiting")?;
    let memory = procfs::memory(pid).unwrap_or_default();
    let elapsed = started.elapsed().as_secs_f64();
    let requests = proxy.count(|_| true) - requests_before;
    stop(&mut child);
    let cpu = after.threads.saturating_sub(before.threads).as_secs_f64() * 1e3;
    Ok(Waiting {
        jobs: plan.len(),
        memory,
        cpu_ms: cpu,
        cpu_ticks_ms: after.ticks.saturating_sub(before.ticks).as_secs_f64() * 1e3,
        cpu_pct: cpu / 1e3 / elapsed * 100.0,
        wakeups: after.switches.saturating_sub(before.switches),
        requests,
        window_secs: elapsed,
        settled,
    })
}

/// Time from start to the first due job reaching the server, with a big store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Restart {
    pub jobs: usize,
    /// Each run's time from spawning `loudhailer run` to the first post's arrival, ms.
    pub runs_ms: Vec<f64>,
    pub median_ms: f64,
    pub store_bytes: u64,
}

pub fn restart(ctx: &Ctx, sessions: usize, repeats: usize) -> Result<Restart, String> {
    let mock = Mock::start(&ctx.root, None)?;
    let proxy = Proxy::start(mock.addr).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("event.toml");
    let prepared = dir.path().join("prepared");
    // The first session's title is due now; everything else over the coming days.
    let text = events::programme(&proxy.base, &prepared, Utc::now(), sessions, 4, 3);
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    // The store as a first run left it: every job planned and stored.
    let jobs = crate::scale::persist(&config, &prepared)?.jobs;
    let store_bytes = procfs::dir_size(&prepared);
    let mut runs = Vec::new();
    for r in 0..repeats {
        let state = dir.path().join(format!("run{r}"));
        let status = Command::new("cp").arg("-a").arg(&prepared).arg(&state).status().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("copying the prepared store failed".into());
        }
        let before = proxy.count(|_| true);
        let spawned = SystemTime::now();
        let mut cmd = loudhailer(ctx, &["run", "--state-dir", &state.display().to_string()], &config);
        let mut child = spawn(&mut cmd, &dir.path().join(format!("run{r}.log")))?;
        let deadline = Instant::now() + Duration::from_secs(120);
        let first = loop {
            let seen = proxy.seen();
            if let Some(s) = seen[before..].iter().find(|s| s.method == "POST" && s.path == "/api/v1/statuses") {
                break Some(s.at);
            }
            if Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        stop(&mut child);
        let Some(first) = first else {
            let log = std::fs::read_to_string(dir.path().join(format!("run{r}.log"))).unwrap_or_default();
            return Err(format!("restart: no post reached the server; the daemon's log:\n{log}"));
        };
        runs.push(first.duration_since(spawned).unwrap_or_default().as_secs_f64() * 1e3);
    }
    Ok(Restart { jobs, median_ms: crate::stats::median(&runs), runs_ms: runs, store_bytes })
}

/// The posting rate under the server's rate limit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rate {
    pub jobs: usize,
    pub done: usize,
    pub limit: u32,
    pub window_secs: u64,
    /// Requests the account made (each counts against its limit, start-up reads included), and
    /// how many were 429s.
    pub requests: usize,
    pub too_many: usize,
    /// From the instant the posts were due to the last one reaching the server, s.
    pub span_secs: f64,
    /// The same for the fastest client the server's rule allows (see [`ideal_last`]), s.
    pub ideal_secs: f64,
    /// ideal ÷ span: the achieved posting rate as a share of the allowed one.
    pub share: f64,
    /// When the server said each window would reset, as the account saw it: how long after
    /// that loudhailer's first request of the next window arrived, ms (the cost of the
    /// server's whole-second resets, and of waking).
    pub after_reset_ms: Vec<f64>,
}

/// When the last of `due` (seconds, sorted) could reach a server that allows `limit` requests
/// per window of `window` seconds, a window beginning at the first request after the previous
/// one ended (mastodon_mock's rule), for a client that sends each request as early as that
/// allows and never gets a 429.
pub fn ideal_last(due: &[f64], limit: u32, window: f64) -> f64 {
    let (mut start, mut count, mut t) = (f64::NEG_INFINITY, 0u32, f64::NEG_INFINITY);
    for &d in due {
        t = t.max(d);
        if t - start >= window {
            (start, count) = (t, 0);
        }
        if count >= limit {
            t = start + window;
            (start, count) = (t, 0);
        }
        count += 1;
    }
    t
}

pub fn rate(ctx: &Ctx, jobs: usize, limit: u32, window_secs: u64) -> Result<Rate, String> {
    let mock_config = format!("[ratelimit]\nenabled = true\nlimit = {limit}\nwindow_seconds = {window_secs}\n");
    let mock = Mock::start(&ctx.root, Some(&mock_config))?;
    let proxy = Proxy::start(mock.addr).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("event.toml");
    let t0 = Utc::now() + chrono::Duration::seconds(3);
    std::fs::write(&config, events::burst(&proxy.base, &dir.path().join("state"), t0, jobs))
        .map_err(|e| e.to_string())?;
    let mut cmd = loudhailer(ctx, &["run", "--exit-when-done"], &config);
    let mut child = spawn(&mut cmd, &dir.path().join("daemon.log"))?;
    let windows = (jobs as u64 + 2).div_ceil(limit as u64) + 2;
    let deadline = Instant::now() + Duration::from_secs(windows * window_secs + 60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(&mut child);
    let mut mine: Vec<_> = proxy.seen().into_iter().filter(|s| s.token.as_deref() == Some(mock::ADA)).collect();
    mine.sort_by_key(|s| s.at);
    let too_many = mine.iter().filter(|s| s.status == 429).count();
    let done = mine.iter().filter(|s| s.method == "POST" && (200..300).contains(&s.status)).count();
    // Seconds from the posts' due instant; what came before it (the start-up's reads) was due
    // when it went, and counts against the same limit.
    let t0 = SystemTime::from(t0);
    let since = |t: SystemTime| match t.duration_since(t0) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    let accepted: Vec<f64> = mine.iter().filter(|s| s.status != 429).map(|s| since(s.at)).collect();
    let due: Vec<f64> = accepted.iter().map(|&t| t.min(0.0)).collect();
    let span = accepted.last().copied().unwrap_or(0.0).max(0.0);
    let ideal = ideal_last(&due, limit, window_secs as f64).max(0.0);
    let share = if ideal <= 0.0 { 1.0 } else { ideal / span.max(f64::MIN_POSITIVE) };
    // The server's reset as each window filled up, and the first request after it.
    let mut after_reset_ms = Vec::new();
    for (i, s) in mine.iter().enumerate() {
        if let (Some(0), Some(reset), Some(next)) = (s.remaining, s.reset, mine.get(i + 1)) {
            let reset = std::time::UNIX_EPOCH + Duration::from_secs(reset);
            if s.status != 429 && next.at > reset {
                after_reset_ms.push(next.at.duration_since(reset).unwrap_or_default().as_secs_f64() * 1e3);
            }
        }
    }
    Ok(Rate {
        jobs,
        done,
        limit,
        window_secs,
        requests: mine.len(),
        too_many,
        span_secs: span,
        ideal_secs: ideal,
        share,
        after_reset_ms,
    })
}

/// A long event on a sped-up clock: memory after start-up and at the end.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Longrun {
    pub days: u32,
    pub speed: f64,
    pub posts: usize,
    /// Requests that reached the server.
    pub requests: usize,
    /// Resident memory after start-up (a second after the first post reached the server: the
    /// plan is written, the fresh start done and the first job out), at the end of the event
    /// (the first sample once the event's last post reached the server), and the most seen in
    /// between.
    pub start_rss: u64,
    pub end_rss: u64,
    pub max_rss: u64,
    /// The last sample before the daemon exited: the end of the event plus what exiting does
    /// (the last boosts, the tasks stopping, the summary printed), shown beside `end_rss`.
    pub exit_rss: u64,
    /// Resident memory as each day of the event ended (the last sample before), for how the
    /// growth goes: what only fills up (caches, the posts with a checkpoint ahead) flattens.
    pub day_rss: Vec<u64>,
    /// end ÷ start.
    pub growth: f64,
    pub secs: f64,
}

/// `days` of sessions back to back, a post a minute (a title and 59 points an hour, each
/// boosted), run with `--speed` to the end.
pub fn longrun(ctx: &Ctx, days: u32, speed: f64) -> Result<Longrun, String> {
    let mock = Mock::start(&ctx.root, None)?;
    let proxy = Proxy::start(mock.addr).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("event.toml");
    let first = Utc::now();
    let sessions = days as usize * 24;
    let text = events::hourly(&proxy.base, &dir.path().join("state"), first, sessions, 59);
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let speed_text = format!("{speed}");
    let mut cmd = loudhailer(ctx, &["run", "--exit-when-done", "--speed", &speed_text], &config);
    let started = Instant::now();
    let mut child = spawn(&mut cmd, &dir.path().join("daemon.log"))?;
    let pid = child.id();
    // A busy event gives no quiet moment to wait for (the CPU is never still for long), so
    // start-up is over when the first post is at the server.
    let is_post = |s: &crate::proxy::Seen| s.method == "POST" && s.path == "/api/v1/statuses";
    while proxy.count(is_post) == 0 {
        if started.elapsed() > Duration::from_secs(60) || !matches!(child.try_wait(), Ok(None)) {
            stop(&mut child);
            return Err("no post reached the server within a minute of the start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(1));
    let event_start = Instant::now();
    let start_rss = procfs::memory(pid).map(|m| m.rss).unwrap_or(0);
    let (mut exit_rss, mut max_rss) = (start_rss, start_rss);
    let mut end_rss = None;
    // A title and 59 points an hour.
    let all_posts = sessions * 60;
    let mut day_rss = Vec::new();
    let day = Duration::from_secs_f64(86_400.0 / speed);
    let limit = Duration::from_secs_f64(f64::from(days) * 86_400.0 / speed * 2.0 + 120.0);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if started.elapsed() > limit {
            stop(&mut child);
            return Err(format!("the long run did not end within {limit:?}"));
        }
        if event_start.elapsed() >= day * (day_rss.len() as u32 + 1) && day_rss.len() + 1 < days as usize {
            day_rss.push(exit_rss);
        }
        let ended = end_rss.is_none() && proxy.count(is_post) >= all_posts;
        if let Some(m) = procfs::memory(pid) {
            exit_rss = m.rss;
            max_rss = max_rss.max(m.rss);
            if ended {
                end_rss = Some(m.rss);
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let posts = proxy.count(|s| s.method == "POST" && s.path == "/api/v1/statuses");
    let Some(end_rss) = end_rss else {
        return Err(format!("the long run exited with {posts} of its {all_posts} posts at the server"));
    };
    Ok(Longrun {
        days,
        speed,
        posts,
        requests: proxy.count(|_| true),
        start_rss,
        end_rss,
        max_rss,
        exit_rss,
        day_rss,
        growth: end_rss as f64 / start_rss.max(1) as f64,
        secs: started.elapsed().as_secs_f64(),
    })
}

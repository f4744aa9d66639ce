//! Figure 1: how late each post and boost reaches the server, loudhailer and the baseline each
//! against their own fresh mastodon_mock behind the recording proxy.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};

use crate::mock::{self, Mock};
use crate::procfs;
use crate::proxy::{Proxy, Seen};
use crate::stats::Spread;
use crate::{events, Ctx, Planned};

/// What one client did in the lateness run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Lateness {
    /// Scheduled instant to arrival at the server, ms.
    pub raw: Spread,
    /// The same, less the time the request had to wait for an answer from the server (the
    /// account's previous request, or the post a reply or boost needs), ms.
    pub beyond: Spread,
    /// The server's own response time, ms.
    pub server: Spread,
    pub posts: Spread,
    pub boosts: Spread,
    /// Jobs planned, jobs that reached the server, and requests for a job seen more than once.
    pub planned: usize,
    pub seen: usize,
    pub repeated: usize,
    /// Peak resident memory and CPU time while sending.
    pub peak_rss: u64,
    pub cpu_ms: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Loudhailer,
    Baseline,
}

pub struct Shape {
    pub sessions: usize,
    pub posts: usize,
    pub span_secs: f64,
}

pub fn run(ctx: &Ctx, who: Who, shape: &Shape) -> Result<Lateness, String> {
    let mock = Mock::start(&ctx.root, None)?;
    let proxy = Proxy::start(mock.addr).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    // Time to start either client and schedule everything, then the first post.
    let t0 = Utc::now() + chrono::Duration::seconds(if ctx.quick { 3 } else { 5 });
    let config = dir.path().join("event.toml");
    let text =
        events::lateness(&proxy.base, &dir.path().join("state"), t0, shape.sessions, shape.posts, shape.span_secs);
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let (plan, plan_file) = ctx.plan(&config, dir.path())?;
    let last_due = plan.iter().map(|j| j.at).max().unwrap_or(t0);
    let log = std::fs::File::create(dir.path().join("client.log")).map_err(|e| e.to_string())?;
    let mut cmd = match who {
        Who::Loudhailer => {
            let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            c.arg("engine").arg(&config);
            c
        }
        Who::Baseline => {
            let mut c = ctx.baseline_command();
            c.arg("--plan").arg(&plan_file).args(["--server", &proxy.base, "--exit-when-done"]);
            c.args(["--token", &format!("delegate={}", mock::ADA), "--token", &format!("council={}", mock::GRACE)]);
            c
        }
    };
    ctx.tokens(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting the client: {e}"))?;
    let pid = child.id();
    let writes = |s: &Seen| s.method == "POST" && (200..300).contains(&s.status);
    let give_up = Instant::now() + (last_due - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(60);
    let (mut peak_rss, mut cpu) = (0, Duration::ZERO);
    loop {
        if let Some(m) = procfs::memory(pid) {
            peak_rss = peak_rss.max(m.peak);
        }
        if let Some(c) = procfs::cpu(pid) {
            cpu = cpu.max(c.threads.max(c.ticks));
        }
        if proxy.count(writes) >= plan.len() || Instant::now() > give_up {
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(&mut child);
    let log = std::fs::read_to_string(dir.path().join("client.log")).unwrap_or_default();
    let mut result = analyse(&plan, &proxy.seen());
    if result.seen < plan.len() {
        eprintln!(
            "bench: lateness: only {} of {} jobs reached the server; the client's log ends:",
            result.seen,
            plan.len()
        );
        for line in log.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev() {
            eprintln!("  {line}");
        }
    }
    result.peak_rss = peak_rss;
    result.cpu_ms = cpu.as_secs_f64() * 1e3;
    Ok(result)
}

/// SIGTERM, then SIGKILL after 10 s.
pub fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn ms(d: chrono::Duration) -> f64 {
    d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e3
}

fn utc(t: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t)
}

/// Matches the requests the proxy saw to the planned jobs and measures each job's lateness.
///
/// A post is due at its planned instant. A boost is due its planned distance after its post's
/// answer came back: loudhailer keeps that distance from the post as it really went out, and the
/// baseline schedules the boost when the post returns. "Beyond the server" measures from the
/// later of the due instant and the last answer the client had to wait for: the account's
/// previous request (both clients send an account's requests one after another, or the server
/// serialises them), or the post a reply answers.
/// One job's request at the server: (job, arrival, due, the answer it waited on, server time).
type Arrival = (String, SystemTime, DateTime<Utc>, Option<SystemTime>, Duration);

pub fn analyse(plan: &[Planned], seen: &[Seen]) -> Lateness {
    let marker = regex::Regex::new(r"lh[0-9]{4}x[0-9]{2}").expect("a valid pattern");
    let reblog = regex::Regex::new(r"^/api/v1/statuses/([^/]+)/reblog$").expect("a valid pattern");
    let by_marker: HashMap<String, &Planned> = plan
        .iter()
        .filter(|j| j.kind != "boost")
        .filter_map(|j| marker.find(j.text.as_deref().unwrap_or("")).map(|m| (m.as_str().to_string(), j)))
        .collect();
    let by_id: HashMap<&str, &Planned> = plan.iter().map(|j| (j.id.as_str(), j)).collect();
    let account_of = |token: &Option<String>| match token.as_deref() {
        Some(mock::ADA) => "delegate",
        Some(mock::GRACE) => "council",
        _ => "",
    };
    // The previous post of each reply: the post before it in its session's thread.
    let mut threads: HashMap<(&str, &str), Vec<&Planned>> = HashMap::new();
    for j in plan.iter().filter(|j| j.kind != "boost") {
        threads.entry((j.session.as_deref().unwrap_or(""), j.account.as_str())).or_default().push(j);
    }
    let mut parent: HashMap<&str, &str> = HashMap::new();
    for t in threads.values_mut() {
        t.sort_by_key(|j| j.at);
        for w in t.windows(2) {
            parent.insert(w[1].id.as_str(), w[0].id.as_str());
        }
    }
    let mut seen: Vec<&Seen> = seen.iter().collect();
    seen.sort_by_key(|s| s.at);
    let mut status_job: HashMap<String, String> = HashMap::new();
    let mut answered: HashMap<String, SystemTime> = HashMap::new();
    let mut repeated = 0;
    let mut rows: Vec<Arrival> = Vec::new();
    let mut last_answer: HashMap<&str, Vec<SystemTime>> = HashMap::new();
    for s in &seen {
        let account = account_of(&s.token);
        let job = if s.method != "POST" || !(200..300).contains(&s.status) {
            None
        } else if s.path == "/api/v1/statuses" {
            let text = String::from_utf8_lossy(&s.body);
            let job = marker.find(&text).and_then(|m| by_marker.get(m.as_str())).map(|j| j.id.clone());
            if let (Some(job), Ok(v)) = (&job, serde_json::from_slice::<serde_json::Value>(&s.answer)) {
                if let Some(id) = v["id"].as_str() {
                    status_job.insert(id.to_string(), job.clone());
                }
            }
            job
        } else if let Some(c) = reblog.captures(&s.path) {
            status_job.get(&c[1]).map(|post| format!("{post}+{account}"))
        } else {
            None
        };
        let earlier = last_answer.entry(account).or_default();
        let waited_on = earlier.iter().copied().filter(|a| *a <= s.at).max();
        earlier.push(s.answered);
        let Some(job) = job else { continue };
        let Some(planned) = by_id.get(job.as_str()) else { continue };
        if answered.contains_key(&job) {
            repeated += 1;
            continue;
        }
        answered.insert(job.clone(), s.answered);
        let (due, needs) = if planned.kind == "boost" {
            let post = job.rsplit_once('+').map_or("", |(p, _)| p);
            match (by_id.get(post), answered.get(post)) {
                (Some(p), Some(back)) => (utc(*back) + (planned.at - p.at), None),
                _ => (planned.at, None),
            }
        } else {
            (planned.at, parent.get(job.as_str()).and_then(|p| answered.get(*p)).copied())
        };
        let waited = match (waited_on, needs) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        rows.push((job, s.at, due, waited, s.server));
    }
    let mut raw = Vec::new();
    let mut beyond = Vec::new();
    let mut server = Vec::new();
    let (mut posts, mut boosts) = (Vec::new(), Vec::new());
    for (job, at, due, waited, server_time) in &rows {
        let late = ms(utc(*at) - *due);
        raw.push(late);
        let from = waited.map_or(*due, |w| (*due).max(utc(w)));
        beyond.push(ms(utc(*at) - from));
        server.push(server_time.as_secs_f64() * 1e3);
        if job.contains('+') {
            boosts.push(late);
        } else {
            posts.push(late);
        }
    }
    Lateness {
        raw: Spread::of(&raw),
        beyond: Spread::of(&beyond),
        server: Spread::of(&server),
        posts: Spread::of(&posts),
        boosts: Spread::of(&boosts),
        planned: plan.len(),
        seen: rows.len(),
        repeated,
        peak_rss: 0,
        cpu_ms: 0.0,
    }
}

/// Whether `path` is where the Python baseline lives.
pub fn baseline_ready(root: &Path) -> bool {
    root.join(".peers/baseline/bin/python").exists()
}

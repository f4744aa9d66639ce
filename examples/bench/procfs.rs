//! What the kernel says about a process: resident memory and CPU time, from /proc.

use std::path::Path;
use std::time::Duration;

/// A process's memory, in bytes, from `/proc/PID/status`.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss: u64,
    /// The peak resident size (`VmHWM`).
    pub peak: u64,
    /// Resident heap and other anonymous memory (`RssAnon`).
    pub anon: u64,
    /// Resident pages of mapped files: the binary and its libraries (`RssFile`).
    pub file: u64,
}

pub fn memory(pid: u32) -> Option<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    Some(Memory { rss: field("VmRSS:"), peak: field("VmHWM:"), anon: field("RssAnon:"), file: field("RssFile:") })
}

/// CPU time a process has used, read two ways.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// The sum over its live threads of `/proc/PID/task/TID/schedstat` (nanoseconds on the CPU).
    pub threads: Duration,
    /// `utime + stime` from `/proc/PID/stat` (clock ticks, every thread that ever ran).
    pub ticks: Duration,
    /// Voluntary and involuntary context switches of its live threads: how often it woke.
    pub switches: u64,
}

pub fn cpu(pid: u32) -> Option<Cpu> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the whole line are the 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let tick = Duration::from_secs(1) / clock_ticks();
    let mut threads = Duration::ZERO;
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let dir = task.path();
        if let Some(ns) = read_first_u64(&dir.join("schedstat")) {
            threads += Duration::from_nanos(ns);
        }
        if let Ok(status) = std::fs::read_to_string(dir.join("status")) {
            for line in status.lines() {
                if let Some(v) = line
                    .strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
                {
                    switches += v.trim().parse::<u64>().unwrap_or(0);
                }
            }
        }
    }
    Some(Cpu { threads, ticks: tick * (utime + stime) as u32, switches })
}

fn read_first_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.split_whitespace().next()?.parse().ok()
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux nearly everywhere).
fn clock_ticks() -> u32 {
    static TICKS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}

/// Waits until the process has used no CPU for `quiet` (it has finished starting up), at most
/// `limit`. Returns whether it settled.
pub fn settle(pid: u32, quiet: Duration, limit: Duration) -> bool {
    let started = std::time::Instant::now();
    let mut last = cpu(pid).map(|c| c.threads);
    let mut still_since = std::time::Instant::now();
    while started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(100));
        let now = cpu(pid).map(|c| c.threads);
        if now.is_none() {
            return false;
        }
        // Less than a millisecond of CPU in a tenth of a second counts as still.
        let moved = match (now, last) {
            (Some(a), Some(b)) => a.saturating_sub(b) > Duration::from_millis(1),
            _ => true,
        };
        if moved {
            still_since = std::time::Instant::now();
        } else if still_since.elapsed() >= quiet {
            return true;
        }
        last = now;
    }
    false
}

/// Apparent size of every file under `dir`, in bytes.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

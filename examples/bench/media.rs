//! Figure 7: a 12-megapixel phone photo prepared for Bluesky, X and Mastodon: decoded once,
//! turned upright, stripped and re-encoded to each network's limits, through the library.
//!
//! The photo is made by the tests' own generator (`tests/common/photo.rs`: 4000×3000, a few MB,
//! with EXIF GPS, camera, time and orientation 6) and written to a file. A fresh process
//! (`bench media FILE REPEATS`) reads it and prepares it, so that its peak resident memory
//! (`VmHWM`) is the preparation's and nothing else's.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use loudhailer::media::{self, Limits};

use crate::photo;
use crate::procfs;
use crate::stats::median;

/// What one network got.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Fitted {
    pub network: String,
    pub max_bytes: u64,
    pub bytes: usize,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// The median time to fit the decoded photo, ms.
    pub ms: f64,
    /// The process's peak resident memory once this network's file was made (first run).
    pub peak_rss: u64,
}

/// Figure 7's figures.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Prepared {
    pub photo_bytes: usize,
    pub repeats: usize,
    /// Medians, ms: `inspect` (the config check: header and completeness, no pixels), decoding
    /// (and turning upright), then all of the preparation.
    pub inspect_ms: f64,
    pub decode_ms: f64,
    pub total_ms: f64,
    pub fitted: Vec<Fitted>,
    /// The process's peak resident memory (`VmHWM`) at the end of the first run, and its
    /// resident memory once the photo's file had been read, before preparing: the difference is
    /// the preparation's. (Later runs are timed only: what the allocator kept from the first
    /// would blur their peak.)
    pub peak_rss: u64,
    pub rss_before: u64,
    /// The peak once the photo was decoded and turned upright (first run).
    pub peak_after_decode: u64,
}

fn networks() -> Vec<(&'static str, Limits)> {
    // A Mastodon 4.4+ server, as `GET /api/v2/instance` documents its limits.
    let mastodon = Limits::from_mastodon_instance(&serde_json::json!({"configuration": {"media_attachments": {
        "description_limit": 1500, "image_matrix_limit": 33_177_600, "image_size_limit": 16_777_216,
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"]
    }}}));
    vec![("Bluesky", Limits::bluesky()), ("X", Limits::x()), ("Mastodon", mastodon)]
}

/// The parent: writes the photo and runs the measuring process.
pub fn run(repeats: usize) -> Result<Prepared, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("phone.jpg");
    std::fs::write(&file, photo::photo()).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg("media")
        .arg(&file)
        .arg(repeats.max(1).to_string())
        .output()
        .map_err(|e| format!("starting bench media: {e}"))?;
    if !out.status.success() {
        return Err(format!("bench media failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("reading bench media's answer: {e}"))
}

/// The measuring process: prints its figures as JSON.
pub fn child(file: &Path, repeats: usize) -> Result<(), String> {
    let bytes = media::read(file, media::DEFAULT_MAX_FILE_BYTES).map_err(|e| e.to_string())?;
    let rss_before = procfs::memory(std::process::id()).map_or(0, |m| m.rss);
    let networks = networks();
    let (mut inspects, mut decodes, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut fits: Vec<Vec<f64>> = vec![Vec::new(); networks.len()];
    let mut last = Vec::new();
    let peak = || procfs::memory(std::process::id()).map_or(0, |m| m.peak);
    let mut peak_after_decode = 0;
    for run in 0..repeats.max(1) {
        let t = Instant::now();
        media::inspect(&bytes).map_err(|e| e.in_file(file).to_string())?;
        inspects.push(t.elapsed().as_secs_f64() * 1e3);
        let t0 = Instant::now();
        let decoded = media::decode(&bytes).map_err(|e| e.in_file(file).to_string())?;
        decodes.push(t0.elapsed().as_secs_f64() * 1e3);
        if run == 0 {
            peak_after_decode = peak();
        }
        let first = last.is_empty();
        for (i, (name, limits)) in networks.iter().enumerate() {
            let t = Instant::now();
            let out = decoded.fit(limits).map_err(|e| format!("{name}: {}", e.in_file(file)))?;
            fits[i].push(t.elapsed().as_secs_f64() * 1e3);
            if first {
                last.push((name, limits.max_bytes, out, peak()));
            } else {
                last[i].2 = out;
            }
        }
        totals.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let peak_rss = last.last().map_or(0, |l| l.3);
    let fitted = last
        .into_iter()
        .zip(&fits)
        .map(|((name, max_bytes, out, peak_rss), ms)| Fitted {
            network: name.to_string(),
            max_bytes,
            bytes: out.bytes.len(),
            mime: out.mime.to_string(),
            width: out.width,
            height: out.height,
            ms: median(ms),
            peak_rss,
        })
        .collect();
    let result = Prepared {
        photo_bytes: bytes.len(),
        repeats: repeats.max(1),
        inspect_ms: median(&inspects),
        decode_ms: median(&decodes),
        total_ms: median(&totals),
        fitted,
        peak_rss,
        rss_before,
        peak_after_decode,
    };
    println!("{}", serde_json::to_string(&result).map_err(|e| e.to_string())?);
    Ok(())
}

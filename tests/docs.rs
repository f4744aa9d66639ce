//! The README and `docs/` are run, not only read, so they cannot drift from the program:
//! every shell block marked `sh runnable` runs in a sandbox and must succeed, and every
//! relative link (and image) in the project's Markdown points at a file, and a heading, that
//! exists.
//!
//! The sandbox is a temporary directory holding a copy of `config/`, with `loudhailer` (this
//! build) first on `PATH`, `cargo run --release --` read as `loudhailer` (the README's first
//! command builds the same binary), `HOME` and the XDG directories inside the sandbox, dummy
//! secrets for the example's accounts (a runnable block never reaches a network), and the
//! files the docs' examples name made from the project's own fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The project's Markdown: the README, BENCHMARKS.md and everything under docs/.
fn markdown_files() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md"), root().join("BENCHMARKS.md")];
    let mut dirs = vec![root().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A fenced block: the file, the line its fence opens on, the info string and the text.
struct Block {
    file: PathBuf,
    line: usize,
    info: String,
    text: String,
}

/// The fenced blocks of a Markdown file, and its lines outside them (with their numbers).
fn parse(file: &Path) -> (Vec<Block>, Vec<(usize, String)>) {
    let text = std::fs::read_to_string(file).unwrap();
    let (mut blocks, mut prose) = (Vec::new(), Vec::new());
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match (&mut open, fence) {
            (None, true) => {
                let info = line.trim_start().trim_start_matches('`').trim().to_string();
                open = Some(Block { file: file.to_path_buf(), line: n + 1, info, text: String::new() });
            }
            (Some(_), true) => blocks.push(open.take().unwrap()),
            (Some(block), false) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, false) => prose.push((n + 1, line.to_string())),
        }
    }
    assert!(open.is_none(), "{}: a code fence is never closed", file.display());
    (blocks, prose)
}

fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path();
    copy_dir(&root().join("config"), &at.join("config"));
    for sub in ["home/.local/share/bash-completion/completions", "home/.zfunc", "home/.config/fish/completions", "bin"]
    {
        std::fs::create_dir_all(at.join(sub)).unwrap();
    }
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_loudhailer"), at.join("bin/loudhailer")).unwrap();
    // The files docs/schedules.md's examples name, from the project's own fixtures.
    let fixtures = root().join("tests/fixtures/schedules");
    for (name, from) in
        [("programme.csv", "csv-weekdays.csv"), ("timetable.csv", "csv-timetable.csv"), ("talks.csv", "csv-talks.csv")]
    {
        std::fs::copy(fixtures.join(from), at.join(name)).unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Runs one block with bash (`-euo pipefail`) in a fresh sandbox; its output on failure.
fn run_block(block: &Block) -> Result<(), String> {
    let dir = sandbox();
    let at = dir.path();
    let script = block.text.replace("cargo run --release -- ", "loudhailer ");
    let path = format!("{}:{}", at.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(at)
        .env("PATH", path)
        .env("HOME", at.join("home"))
        .env("XDG_DATA_HOME", at.join("home/.local/share"))
        .env("XDG_CONFIG_HOME", at.join("home/.config"))
        .env("XDG_STATE_HOME", at.join("home/.local/state"))
        .env("LOUDHAILER_CONFIG", "config/example.toml")
        .env("LOUDHAILER_DELEGATE_TOKEN", "docs-test-not-a-token")
        .env("LOUDHAILER_COUNCIL_TOKEN", "docs-test-not-a-token")
        .env_remove("LOUDHAILER_STATE_DIR")
        .output()
        .unwrap();
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{}:{}: {}\n--- stdout\n{}\n--- stderr\n{}",
        block.file.strip_prefix(root()).unwrap_or(&block.file).display(),
        block.line,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[test]
fn every_runnable_command_block_runs() {
    let blocks: Vec<Block> = markdown_files()
        .iter()
        .flat_map(|f| parse(f).0)
        .filter(|b| b.info.split_whitespace().eq(["sh", "runnable"]))
        .collect();
    // The README's dry run, and blocks in first-event, config, schedules, operating and reports.
    assert!(blocks.len() >= 7, "only {} runnable blocks: were markers removed?", blocks.len());
    let failures: Vec<String> = blocks.iter().filter_map(|b| run_block(b).err()).collect();
    for block in &blocks {
        eprintln!("ran {}:{}", block.file.strip_prefix(root()).unwrap().display(), block.line);
    }
    assert!(failures.is_empty(), "{} of {} blocks failed:\n{}", failures.len(), blocks.len(), failures.join("\n\n"));
}

/// GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(file: &Path) -> Vec<String> {
    parse(file).1.iter().filter_map(|(_, l)| l.strip_prefix('#').map(|h| anchor(h.trim_start_matches('#')))).collect()
}

/// The targets of `](…)` links and `src="…"` images on a line.
fn targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (open, close) in [("](", ')'), ("src=\"", '"')] {
        let mut rest = line;
        while let Some(at) = rest.find(open) {
            rest = &rest[at + open.len()..];
            if let Some(end) = rest.find(close) {
                out.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    out
}

#[test]
fn every_relative_link_points_at_something_that_exists() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        for (n, line) in parse(&file).1 {
            for target in targets(&line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
                let dest = if path.is_empty() { file.clone() } else { file.parent().unwrap().join(path) };
                let place = format!("{}:{n}", file.strip_prefix(root()).unwrap().display());
                if !dest.exists() {
                    broken.push(format!("{place}: {target}: no such file"));
                } else if !fragment.is_empty()
                    && dest.extension().is_some_and(|e| e == "md")
                    && !anchors(&dest).iter().any(|a| a == fragment)
                {
                    broken.push(format!("{place}: {target}: no such heading"));
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} links found: is the parser still reading them?");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

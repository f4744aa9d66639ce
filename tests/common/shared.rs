//! Files of the shared folder beside the clone (`../shared`, or `$LOUDHAILER_SHARED`): real
//! conference schedules and the networks' published specs, which the project may not
//! redistribute. The suite says plainly what it could not run without them:
//!
//! - a test that needs them whole carries `#[cfg_attr(not(shared), ignore = "…")]` (the `shared`
//!   cfg comes from build.rs), so a clone on its own lists it as ignored, with the reason;
//! - a test that only checks more with them (requests against X's OpenAPI document, say) calls
//!   [`file`], which notes what was not checked in `target/tmp/not-run.txt` for `scripts/test`'s
//!   closing summary, and goes on with the rest;
//! - where the folder is present (as in CI), a file missing from it fails the test.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The shared folder, when it is there.
pub fn root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LOUDHAILER_SHARED").map(PathBuf::from).filter(|d| d.is_dir()) {
        return Some(dir);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    beside.is_dir().then_some(beside)
}

/// `rel` inside the shared folder. Without the folder: `None`, and `what` (what is not
/// checked) is noted as not run. With the folder but without the file: a failure.
pub fn file(rel: &str, what: &str) -> Option<PathBuf> {
    match root() {
        Some(root) => {
            let path = root.join(rel);
            assert!(path.exists(), "{} is missing from the shared folder {}", rel, root.display());
            Some(path)
        }
        None => {
            not_run(&format!("{what} (needs ../shared/{rel}, which is not beside this clone)"));
            None
        }
    }
}

/// Notes something the suite did not check, for the closing summary.
pub fn not_run(what: &str) {
    eprintln!("not run: {what}");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("not-run.txt");
    // One write of the whole line: tests in parallel append to the same file, and `writeln!`
    // may write the text and its newline apart, which ran two notes into one line.
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(format!("{what}\n").as_bytes());
    }
}

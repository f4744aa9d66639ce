//! Tells the tests whether the shared folder (real conference schedules and the networks'
//! published specs, which the project may not redistribute) is beside the clone: with it, the
//! tests that read it run (and fail if a file is missing); without it (a clone on its own) they
//! are listed as ignored, with the reason, never counted as passing.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=LOUDHAILER_SHARED");
    let beside = Path::new("../shared");
    let from_env = std::env::var_os("LOUDHAILER_SHARED").map(std::path::PathBuf::from);
    let found = from_env.filter(|p| p.is_dir()).or_else(|| beside.is_dir().then(|| beside.to_path_buf()));
    if let Some(dir) = found {
        println!("cargo::rerun-if-changed={}", dir.display());
        println!("cargo::rustc-cfg=shared");
    }
}

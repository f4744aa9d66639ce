//! The `loudhailer` binary: parse the command line, start logging, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use loudhailer::cli::{self, Cli};

// jemalloc instead of glibc's malloc: the first plan of a large event peaks at hundreds of MB, and
// glibc keeps the pages that peak fragmented for the rest of the daemon's life (BENCHMARKS.md,
// "Giving memory back"). jemalloc's background thread returns freed pages to the kernel within a
// second; only the binary uses it, so the library and its tests keep the system allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's run-time options, read before `main`: a background thread purges freed pages,
/// dirty pages go back after 1 s, and straight back to the kernel (`muzzy_decay_ms:0`: pages only
/// marked `MADV_FREE` would still count as resident until the kernel is short of memory).
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Without --speed, a dry run plays the whole event at once on tokio's paused clock: time
    // jumps to the next deadline whenever every task is idle, so each post shows its exact time.
    let simulated = matches!(&cli.command, cli::Command::Run(a) if a.dry_run && a.speed.is_none());
    cli::log::init(&cli);
    let built = if simulated {
        tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
    };
    let runtime = match built {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

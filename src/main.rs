//! The `loudhailer` binary: parse the command line, start logging, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use loudhailer::cli::{self, Cli};

fn main() -> ExitCode {
    loudhailer::heap::tune();
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

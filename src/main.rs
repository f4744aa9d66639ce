//! The `loudhailer` binary: parse the command line, start logging, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use loudhailer::cli::{self, Cli};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A dry run's output is the posts themselves: keep the log to warnings unless asked.
    let dry_run = matches!(&cli.command, cli::Command::Run(a) if a.dry_run);
    // Without --speed, a dry run plays the whole event at once on tokio's paused clock: time
    // jumps to the next deadline whenever every task is idle, so each post shows its exact time.
    let simulated = matches!(&cli.command, cli::Command::Run(a) if a.dry_run && a.speed.is_none());
    let default = match cli.verbose {
        0 if dry_run => "warn",
        0 => "loudhailer=info,warn",
        1 => "loudhailer=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
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

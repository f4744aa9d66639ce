//! `loudhailer completions SHELL` and `loudhailer man`: shell completion scripts and manual
//! pages, generated from the same clap definitions the command line is parsed with (clap_complete
//! and clap_mangen), so they never fall behind it.

use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;

use super::{Cli, CliError};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write loudhailer.1 and one page per subcommand (loudhailer-run.1, …) into this folder
    /// instead of printing loudhailer.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` to standard output.
pub fn completions(args: &CompletionsArgs) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "loudhailer", &mut out);
    write_stdout(&out)
}

/// Prints the manual page (roff) to standard output, or writes every page into `--dir`.
pub fn man(args: &ManArgs) -> Result<(), CliError> {
    let command = Cli::command();
    match &args.dir {
        Some(dir) => {
            let failed =
                |e: std::io::Error| CliError::Failed(format!("cannot write the manual into {}: {e}", dir.display()));
            std::fs::create_dir_all(dir).map_err(failed)?;
            clap_mangen::generate_to(command, dir).map_err(failed)?;
            println!("wrote the manual pages into {}", dir.display());
            Ok(())
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .map_err(|e| CliError::Failed(format!("cannot render the manual: {e}")))?;
            write_stdout(&out)
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush()).map_err(|e| CliError::Failed(format!("cannot write: {e}")))
}

//! `loudhailer report`: what landed, from the stored jobs and engagement snapshots, as a table,
//! CSV, JSON, Markdown or HTML. Works on a finished event's state with the daemon stopped.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::{load_config, open_existing_store, Cli, CliError};
use crate::control::Request;
use crate::report::format::{self, Format};
use crate::report::{report, Snapshot};
use crate::store::StoreError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write to this file instead of standard output (replaced whole, never half-written).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let text = match crate::control::client::connect(&config.state_dir) {
        // A daemon holds the state: it writes the report from what it holds.
        Some(mut stream) => {
            let name =
                clap::ValueEnum::to_possible_value(&args.format).map(|v| v.get_name().to_string()).unwrap_or_default();
            let path = crate::control::socket_path(&config.state_dir);
            let r = crate::control::client::request(&mut stream, &Request::Report { format: name }, &path)
                .map_err(|e| CliError::Failed(e.to_string()))?;
            r.output.ok_or_else(|| CliError::Failed(r.error.unwrap_or_default()))?.into_bytes()
        }
        None => {
            let (jobs, snapshots) = match open_existing_store(&config.state_dir) {
                Ok(Some(store)) => (store.jobs()?, store.metrics::<Snapshot>()?),
                Ok(None) => (Vec::new(), Vec::new()),
                Err(CliError::Store(StoreError::Locked { dir, holder })) => {
                    return Err(CliError::Failed(format!(
                        "the daemon{} holds the state in {} and is still starting; try again in a moment",
                        holder.map(|p| format!(" (process {p})")).unwrap_or_default(),
                        dir.display()
                    )))
                }
                Err(e) => return Err(e),
            };
            let made = report(&config, &jobs, &snapshots, Utc::now());
            let mut text = Vec::new();
            format::write(&made, args.format, &mut text)
                .map_err(|e| CliError::Failed(format!("cannot write the report: {e}")))?;
            text
        }
    };
    match &args.out {
        Some(path) => write_whole(path, &text),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&text).and_then(|()| out.flush()).or_else(|e| match e.kind() {
                // Piped into `head`: not an error.
                std::io::ErrorKind::BrokenPipe => Ok(()),
                _ => Err(CliError::Failed(format!("cannot write the report: {e}"))),
            })
        }
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::Failed(format!("cannot write {}: {e}", path.display()));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

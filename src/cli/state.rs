//! `loudhailer export` and `loudhailer import-state`.

use std::io::{BufReader, Write};
use std::path::PathBuf;

use super::{load_config, Cli, CliError};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The export to restore ("-" for standard input).
    pub file: PathBuf,
}

pub fn export(cli: &Cli, args: &ExportArgs) -> Result<(), CliError> {
    let config = load_config(cli)?;
    if let Some(mut stream) = crate::control::client::connect(&config.state_dir) {
        // A daemon holds the store: it writes the export.
        let path = crate::control::socket_path(&config.state_dir);
        let r = crate::control::client::request(&mut stream, &crate::control::Request::Export, &path)
            .map_err(|e| CliError::Failed(e.to_string()))?;
        let text = r.output.ok_or_else(|| CliError::Failed(r.error.unwrap_or_default()))?;
        match &args.out {
            Some(path) => std::fs::write(path, &text)
                .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?,
            None => print!("{text}"),
        }
        eprintln!("exported {} records (from the running daemon)", text.lines().count());
        return Ok(());
    }
    if !config.state_dir.join("db").exists() {
        return Err(CliError::Usage(format!("no state in {}: nothing to export", config.state_dir.display())));
    }
    let store = Store::open(&config.state_dir)?;
    let lines = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?;
            let mut w = std::io::BufWriter::new(file);
            let n = store.export(&mut w)?;
            w.flush().map_err(|e| CliError::Failed(e.to_string()))?;
            n
        }
        None => store.export(&mut std::io::stdout().lock())?,
    };
    eprintln!("exported {lines} records");
    Ok(())
}

pub fn import(cli: &Cli, args: &ImportArgs) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let store = Store::open(&config.state_dir)?;
    if !store.is_empty()? {
        return Err(CliError::Usage(format!(
            "{} already holds state; import only into a new state dir (--state-dir)",
            config.state_dir.display()
        )));
    }
    let n = if args.file.as_os_str() == "-" {
        store.import(std::io::stdin().lock())?
    } else {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", args.file.display())))?;
        store.import(BufReader::new(file))?
    };
    eprintln!("imported {n} records into {}", config.state_dir.display());
    Ok(())
}

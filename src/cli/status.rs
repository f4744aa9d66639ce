//! `loudhailer status`: each job's state, with its URL, error, or why it waits.

use std::collections::BTreeMap;
use std::io::Write;

use super::plan::{table, Format, JobView};
use super::{load_config, open_existing_store, Cli, CliError};
use crate::job::JobRecord;
use crate::plan;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let mut records: Vec<JobRecord> = match open_existing_store(&config.state_dir)? {
        Some(store) => store.jobs()?,
        None => Vec::new(),
    };
    if records.is_empty() {
        // Nothing has run yet: everything planned is pending.
        let counters = plan::counters(&config, &Default::default());
        let planned = plan::plan(&config, &counters).map_err(|e| CliError::Failed(e.to_string()))?;
        records = planned.jobs.into_iter().map(JobRecord::new).collect();
    }
    records.sort_by(|a, b| a.spec.at.cmp(&b.spec.at).then_with(|| a.spec.id.cmp(&b.spec.id)));
    let views: Vec<JobView> = records.iter().map(JobView::stored).collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &views).map_err(|e| CliError::Failed(e.to_string()))?;
            writeln!(out).ok();
        }
        Format::Table => {
            writeln!(out, "{}", table(&views, config.event.timezone, true)).ok();
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for v in &views {
                *counts.entry(v.state.unwrap_or("pending")).or_default() += 1;
            }
            let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            writeln!(out, "{} jobs: {}", views.len(), summary.join(", ")).ok();
        }
    }
    Ok(())
}

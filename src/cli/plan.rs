//! `loudhailer plan`: every job that would go out, and when.

use std::collections::HashMap;
use std::io::Write;

use chrono_tz::Tz;
use serde::Serialize;

use super::{cell, load_config, open_existing_store, Cli, CliError};
use crate::config::Config;
use crate::cost;
use crate::count::Counter;
use crate::job::{Image, JobRecord, JobSpec};
use crate::plan;
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// A job as `plan` and `status` print it.
#[derive(Debug, Serialize)]
pub struct JobView<'a> {
    pub id: &'a str,
    pub at: String,
    pub account: &'a str,
    pub kind: &'a str,
    /// plan, manual (`say`), followed (found by a `[[follow]]` watch) or scheduled
    /// (`loudhailer repost`).
    pub origin: &'a str,
    pub session: Option<&'a str>,
    pub text: Option<&'a str>,
    /// The images the post carries: each file and its alt text.
    #[serde(skip_serializing_if = "<[Image]>::is_empty")]
    pub images: &'a [Image],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<&'a str>,
    /// The estimated price of the request, in US dollars, where the network bills it (X).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

impl<'a> JobView<'a> {
    pub fn planned(spec: &'a JobSpec) -> Self {
        JobView {
            id: spec.id.as_str(),
            at: spec.at.to_rfc3339(),
            account: spec.author(),
            kind: spec.kind.as_str(),
            origin: spec.origin.as_str(),
            session: spec.session.as_deref(),
            text: spec.text.as_deref(),
            images: &spec.images,
            state: None,
            url: spec.url.as_deref(),
            error: None,
            waiting: None,
            cost_usd: None,
        }
    }

    /// A planned job with its price where its network bills requests.
    pub fn priced(spec: &'a JobSpec, config: &Config) -> Self {
        let cost_usd = cost::price(config, spec).map(|p| p.micro_usd as f64 / 1_000_000.0);
        JobView { cost_usd, ..JobView::planned(spec) }
    }

    pub fn stored(rec: &'a JobRecord) -> Self {
        let done = rec.state == crate::job::JobState::Done;
        JobView {
            state: Some(rec.state.as_str()),
            url: rec.remote.as_ref().and_then(|r| r.url.as_deref()).or(rec.spec.url.as_deref()),
            error: if done { None } else { rec.error.as_deref() },
            waiting: if rec.state.is_settled() && rec.state != crate::job::JobState::Missed {
                None
            } else {
                rec.waiting.as_deref()
            },
            ..JobView::planned(&rec.spec)
        }
    }
}

/// The servers' own limits where a previous run stored them; defaults otherwise.
pub fn known_counters(config: &Config) -> Result<HashMap<String, Counter>, CliError> {
    match open_existing_store(&config.state_dir) {
        Ok(Some(store)) => Ok(store.known_counters()?),
        Ok(None) | Err(CliError::Store(StoreError::Locked { .. })) => Ok(HashMap::new()),
        Err(e) => Err(e),
    }
}

/// The suggestions approved so far, where a previous run (or `approve`) stored them.
pub fn known_approvals(config: &Config) -> Result<plan::Approvals, CliError> {
    match open_existing_store(&config.state_dir) {
        Ok(Some(store)) => Ok(store.adjustments()?.approved),
        Ok(None) | Err(CliError::Store(StoreError::Locked { .. })) => Ok(Default::default()),
        Err(e) => Err(e),
    }
}

pub fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let counters = plan::counters(&config, &known_counters(&config)?);
    let approved = known_approvals(&config)?;
    let planned = plan::plan(&config, &counters, &approved).map_err(|e| CliError::Failed(e.to_string()))?;
    for note in &planned.notes {
        eprintln!("note: {note}");
    }
    let following = crate::follow::describe(&config);
    if args.format == Format::Json {
        for line in &following {
            eprintln!("note: {line}");
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let views: Vec<JobView> = planned.jobs.iter().map(|j| JobView::priced(j, &config)).collect();
            serde_json::to_writer_pretty(&mut out, &views).map_err(|e| CliError::Failed(e.to_string()))?;
            writeln!(out).ok();
        }
        Format::Table => {
            let views: Vec<JobView> = planned.jobs.iter().map(JobView::planned).collect();
            writeln!(out, "{}", table(&views, config.event.timezone, false)).ok();
            writeln!(out, "{} jobs", planned.jobs.len()).ok();
            for line in suggestion_lines(&plan::suggestions(&config, &approved)) {
                writeln!(out, "{line}").ok();
            }
            for line in &following {
                writeln!(out, "{line}").ok();
            }
            if !following.is_empty() {
                writeln!(
                    out,
                    "(posts found while running are boosted {} after they are seen, ± {})",
                    humantime::format_duration(config.amplify.delay),
                    humantime::format_duration(config.amplify.jitter)
                )
                .ok();
            }
            if let Some(estimate) = cost::Estimate::of(&config, &planned.jobs) {
                writeln!(out, "Estimated API cost: {estimate}").ok();
                writeln!(out, "  ({})", cost::X_NOTE).ok();
            }
        }
    }
    Ok(())
}

/// The suggested points, for `plan` and `status`: those not yet approved, numbered as
/// `approve` takes them (the approved ones are jobs already).
pub fn suggestion_lines(all: &[plan::Suggestion]) -> Vec<String> {
    let waiting: Vec<&plan::Suggestion> = all.iter().filter(|s| s.approved.is_none()).collect();
    if waiting.is_empty() {
        return Vec::new();
    }
    let sessions: std::collections::BTreeSet<&str> = waiting.iter().map(|s| s.session.as_str()).collect();
    let mut out = vec![format!(
        "{} suggested points in {} sessions, from their abstracts: not posted unless approved (`loudhailer approve SESSION N`, or the desk)",
        waiting.len(),
        sessions.len()
    )];
    for s in waiting {
        out.push(format!("  suggested {} {}: {}", s.session, s.n, cell(&s.text, 100)));
    }
    out
}

/// The jobs as a table, times in the event's zone.
pub fn table(views: &[JobView], tz: Tz, with_state: bool) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    let mut header = vec!["time", "account", "kind", "job"];
    if with_state {
        header.push("state");
    }
    header.push(if with_state { "url / error / text" } else { "text" });
    t.set_header(header);
    for v in views {
        let at = chrono::DateTime::parse_from_rfc3339(&v.at)
            .map(|t| t.with_timezone(&tz).format("%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|_| v.at.clone());
        let mut row = vec![at, v.account.to_string(), v.kind.to_string(), v.id.to_string()];
        if with_state {
            row.push(v.state.unwrap_or("pending").to_string());
            let detail = v
                .url
                .map(str::to_string)
                .or_else(|| v.error.map(|e| format!("error: {e}")))
                .or_else(|| v.waiting.map(|w| format!("({w})")))
                .or_else(|| v.text.map(str::to_string))
                .unwrap_or_default();
            row.push(cell(&detail, 90) + &image_lines(v.images));
        } else {
            row.push(cell(v.text.or(v.url).unwrap_or(""), 70) + &image_lines(v.images));
        }
        t.add_row(row);
    }
    t
}

/// A post's images under its text, one line each: the file's name and its alt text.
fn image_lines(images: &[Image]) -> String {
    let mut out = String::new();
    for image in images {
        let name = image.path().file_name().map_or_else(|| image.file.clone(), |n| n.to_string_lossy().into_owned());
        let alt = if image.alt.is_empty() { "(decorative)".to_string() } else { format!("alt: {}", image.alt) };
        out.push_str(&format!("\n  [image] {}", cell(&format!("{name}, {alt}"), 66)));
    }
    out
}

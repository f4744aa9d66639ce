//! One writer per output format, each turning a [`Report`] into text (lychee's formatters are
//! the model): a terminal table, RFC 4180 CSV for spreadsheets, JSON with a documented schema,
//! a Markdown write-up, and one self-contained HTML file with SVG charts.

mod csv;
mod html;
mod json;
mod markdown;
mod svg;
mod table;

use std::io::Write;

use super::model::{CountsView, Report, Tally};

/// The output formats of `loudhailer report`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tables for the terminal.
    #[default]
    Table,
    /// One row per post (RFC 4180), for spreadsheets.
    Csv,
    /// Everything, as `docs/report.schema.json` describes.
    Json,
    /// A write-up after the event.
    Markdown,
    /// One self-contained page with charts (no network needed to open it).
    Html,
}

/// How a post's text is shown: marked when a person made it by hand (not from the schedule),
/// and when it carries images.
pub fn marked(text: &str, origin: &str, images: usize) -> String {
    let photos = match images {
        0 => String::new(),
        1 => "[photo] ".to_string(),
        n => format!("[{n} photos] "),
    };
    if origin == "hand-made" {
        format!("(by hand) {photos}{text}")
    } else {
        format!("{photos}{text}")
    }
}

/// Writes `report` in `format`.
pub fn write(report: &Report, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Table => table::write(report, out),
        Format::Csv => csv::write(report, out),
        Format::Json => json::write(report, out),
        Format::Markdown => markdown::write(report, out),
        Format::Html => html::write(report, out),
    }
}

/// A count for people: the number, or "?" when unknown.
pub(crate) fn count(v: Option<u64>) -> String {
    v.map_or_else(|| "?".to_string(), |n| n.to_string())
}

/// "3 likes, 1 repost, 0 replies" with unknowns as "?"; quotes and views only when known.
pub(crate) fn counts_phrase(c: &CountsView) -> String {
    let mut parts = vec![
        plural(c.likes, "like", "likes"),
        plural(c.reposts, "repost", "reposts"),
        plural(c.replies, "reply", "replies"),
    ];
    if c.quotes.is_some() {
        parts.push(plural(c.quotes, "quote", "quotes"));
    }
    if c.views.is_some() {
        parts.push(plural(c.views, "view", "views"));
    }
    parts.join(", ")
}

/// Views, added up over the networks that count them (X, Threads), and those networks: `None`
/// when no network reported any. Posts on networks that count no views (Mastodon, Bluesky) do
/// not make the sum "at least".
pub(crate) fn views(r: &Report) -> Option<(Tally, String)> {
    let counting: Vec<_> = r.networks.iter().filter(|n| n.totals.views.known > 0).collect();
    let mut sum = Tally::default();
    for n in &counting {
        sum.merge(n.totals.views);
    }
    if counting.is_empty() {
        return None;
    }
    let names: Vec<String> = counting.iter().map(|n| n.network.to_string()).collect();
    Some((sum, crate::words::and_list(&names)))
}

/// Whether any post of the report has its views counted (a views column is then shown).
pub(crate) fn any_views(r: &Report) -> bool {
    r.headline.totals.views.known > 0
}

fn plural(v: Option<u64>, one: &str, many: &str) -> String {
    match v {
        Some(1) => format!("1 {one}"),
        Some(n) => format!("{n} {many}"),
        None => format!("? {many}"),
    }
}

/// Text on one line, at most `max` characters, with an ellipsis when cut.
pub(crate) fn short(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut s: String = one_line.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests;

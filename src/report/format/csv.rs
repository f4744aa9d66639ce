//! CSV (RFC 4180: CRLF line ends, fields quoted when they hold commas, quotes or line breaks):
//! one row per post, for spreadsheets. An unknown count is an empty cell, never 0. `engagement`
//! is by others: the counts less the event's own boosts and thread replies (`own_*`); `views`
//! (X, Threads) is reach, not part of it.

use std::io::Write;

use crate::report::model::Report;

pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
    let mut header: Vec<String> = [
        "session",
        "session_title",
        "job",
        "kind",
        "network",
        "account",
        "posted_at",
        "posted_local",
        "status",
        "likes",
        "reposts",
        "replies",
        "quotes",
        "engagement",
        "views",
        "own_reposts",
        "own_replies",
        "as_of",
        "boosts",
        "boosted_by",
        "url",
        "text",
        "origin",
        "images",
    ]
    .map(String::from)
    .to_vec();
    header.extend(report.checkpoints.iter().map(|c| format!("engagement_{c}")));
    w.write_record(&header)?;
    let cell = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    for session in &report.sessions {
        for p in &session.posts {
            let done: Vec<&str> = p.boosts.iter().filter(|b| b.state == "done").map(|b| b.account.as_str()).collect();
            let mut row = vec![
                session.id.clone().unwrap_or_default(),
                session.title.clone(),
                p.job.clone(),
                p.kind.to_string(),
                p.network.to_string(),
                p.account.clone(),
                p.posted_at.to_rfc3339(),
                p.posted_local.clone(),
                p.status.as_str().to_string(),
                cell(p.counts.likes),
                cell(p.counts.reposts),
                cell(p.counts.replies),
                cell(p.counts.quotes),
                cell(p.engagement),
                cell(p.counts.views),
                p.own.reposts.to_string(),
                p.own.replies.to_string(),
                p.as_of.map(|t| t.to_rfc3339()).unwrap_or_default(),
                done.len().to_string(),
                done.join(" "),
                p.url.clone().unwrap_or_default(),
                p.text.clone(),
                p.origin.to_string(),
                p.images.len().to_string(),
            ];
            row.extend(p.growth.iter().map(|g| cell(*g)));
            w.write_record(&row)?;
        }
    }
    w.flush()
}

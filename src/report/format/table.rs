//! Tables for the terminal (comfy-table): the headline, then each session's posts with their
//! counts and growth, totals per network and account, top posts, posts with nothing, by hour.

use std::io::Write;

use comfy_table::{presets, CellAlignment, Table};

use super::{count, short};
use crate::report::model::{Report, Totals};

fn table(header: Vec<String>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_HORIZONTAL_ONLY);
    t.set_header(header);
    t
}

/// Right-aligns the columns `from..to` (the numbers).
fn right(t: &mut Table, from: usize, to: usize) {
    for i in from..to.min(t.column_count()) {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn totals_cells(t: &Totals) -> Vec<String> {
    vec![t.likes.short(), t.reposts.short(), t.replies.short(), t.quotes.short(), t.engagement.short()]
}

pub fn write(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let h = &r.headline;
    writeln!(out, "Engagement report: {}", r.event.name)?;
    writeln!(out, "As of {} UTC; times in {}.", r.generated_at.format("%Y-%m-%d %H:%M"), r.event.timezone)?;
    writeln!(
        out,
        "{} posts and {} boosts went out ({} post jobs did not); {} read, {} gone, {} not read.",
        h.posts, h.boosts, h.not_sent, h.read, h.gone, h.unread
    )?;
    writeln!(
        out,
        "Likes {}, reposts {}, replies {}, quotes {}; by others: {}. {} posts got some, {} got nothing.",
        h.totals.likes.short(),
        h.totals.reposts.short(),
        h.totals.replies.short(),
        h.totals.quotes.short(),
        h.totals.engagement.short(),
        h.engaged,
        h.nothing
    )?;
    if let Some((shown, on)) = super::views(r) {
        writeln!(out, "Views on {on}: {}.", shown.short())?;
    }
    writeln!(
        out,
        "(by others: the counts less the event's own {} boosts and {} thread replies; ? unknown: not reported, deleted or not read; ≥ at least, as some were unknown)",
        h.own.reposts, h.own.replies
    )?;

    for s in &r.sessions {
        writeln!(out)?;
        writeln!(out, "{} — by others {}", s.title, s.totals.engagement.short())?;
        if s.posts.is_empty() {
            writeln!(out, "  (nothing went out)")?;
            continue;
        }
        let mut header: Vec<String> =
            ["time", "account", "likes", "reposts", "replies", "quotes", "others"].map(String::from).to_vec();
        header.push(format!("growth {}", r.checkpoints.join("/")));
        header.extend(["boosts", "status", "text"].map(String::from));
        let mut t = table(header);
        for p in &s.posts {
            let growth: Vec<String> = p.growth.iter().map(|g| g.map_or("·".into(), |n| n.to_string())).collect();
            let boosts = p.boosts.iter().filter(|b| b.state == "done").count();
            t.add_row(vec![
                p.posted_local.get(11..).unwrap_or(&p.posted_local).to_string(),
                format!("{} ({})", p.account, p.network),
                count(p.counts.likes),
                count(p.counts.reposts),
                count(p.counts.replies),
                count(p.counts.quotes),
                count(p.engagement),
                growth.join("/"),
                boosts.to_string(),
                p.status.as_str().to_string(),
                short(&super::marked(&p.text, p.origin, p.images.len()), 50),
            ]);
        }
        right(&mut t, 2, 9);
        writeln!(out, "{t}")?;
    }

    writeln!(out)?;
    writeln!(out, "By network")?;
    let mut t = table(
        ["network", "posts", "boosts", "likes", "reposts", "replies", "quotes", "others"].map(String::from).to_vec(),
    );
    for n in &r.networks {
        let mut row = vec![n.network.to_string(), n.posts.to_string(), n.boosts.to_string()];
        row.extend(totals_cells(&n.totals));
        t.add_row(row);
    }
    right(&mut t, 1, 99);
    writeln!(out, "{t}")?;

    writeln!(out)?;
    writeln!(out, "By account")?;
    let mut t = table(
        ["account", "role", "posts", "boosts", "likes", "reposts", "replies", "quotes", "others", "of boosted"]
            .map(String::from)
            .to_vec(),
    );
    for a in &r.accounts {
        let mut row = vec![format!("{} ({})", a.account, a.network), a.role.to_string()];
        row.extend([a.posts.to_string(), a.boosts.to_string()]);
        row.extend(totals_cells(&a.totals));
        row.push(a.boosted_engagement.short());
        t.add_row(row);
    }
    right(&mut t, 2, 99);
    writeln!(out, "{t}")?;

    let amp = &r.amplification;
    writeln!(out)?;
    writeln!(
        out,
        "Amplification: {} boosted posts, engagement {}; {} not boosted, engagement {}.",
        amp.boosted_posts,
        amp.boosted.short(),
        amp.not_boosted_posts,
        amp.not_boosted.short()
    )?;
    if amp.before_boost.known > 0 {
        writeln!(
            out,
            "Of {} posts read as their boost went out: {} before the boost, {} since.",
            amp.before_boost.known,
            amp.before_boost.short(),
            amp.since_boost.short()
        )?;
    }

    for (title, list) in [("Top posts", &r.top), ("Got nothing", &r.nothing), ("Unknown", &r.unknown)] {
        writeln!(out)?;
        writeln!(out, "{title} ({})", list.len())?;
        if list.is_empty() {
            continue;
        }
        let mut t = table(["time", "account", "others", "status", "text"].map(String::from).to_vec());
        for p in list {
            t.add_row(vec![
                p.posted_local.clone(),
                format!("{} ({})", p.account, p.network),
                count(p.engagement),
                p.status.as_str().to_string(),
                short(&super::marked(&p.text, p.origin, p.images), 60),
            ]);
        }
        writeln!(out, "{t}")?;
    }

    writeln!(out)?;
    writeln!(out, "By hour of day ({})", r.event.timezone)?;
    let mut t = table(["hour", "posts", "likes", "reposts", "replies", "quotes", "others"].map(String::from).to_vec());
    for h in &r.by_hour {
        let mut row = vec![format!("{:02}:00", h.hour), h.posts.to_string()];
        row.extend(totals_cells(&h.totals));
        t.add_row(row);
    }
    right(&mut t, 1, 99);
    writeln!(out, "{t}")
}

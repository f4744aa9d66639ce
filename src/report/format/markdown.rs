//! Markdown that reads as a write-up after the event: headline figures, what landed, what got
//! nothing, session by session, by network and account, the amplification, by hour.

use std::io::Write;

use super::{any_views, count, counts_phrase, short, views};
use crate::report::model::{PostRef, Report, Tally, Totals};

/// Text from posts made safe inside Markdown (and its tables): one line, markup escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in short(text, 140).chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn totals_row(t: &Totals) -> String {
    format!(
        "{} | {} | {} | {} | {}",
        t.likes.short(),
        t.reposts.short(),
        t.replies.short(),
        t.quotes.short(),
        t.engagement.short()
    )
}

fn phrase(t: &Tally, one: &str, many: &str) -> String {
    let word = if t.sum == 1 && t.complete() { one } else { many };
    match (t.known, t.unknown) {
        (0, u) if u > 0 => format!("an unknown number of {many}"),
        (_, 0) => format!("{} {word}", t.sum),
        _ => format!("at least {} {word}", t.sum),
    }
}

/// "1 post", "3 posts".
fn n(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// What a tally drew: "4", "at least 4", "an unknown amount".
fn drew(t: &Tally) -> String {
    if t.known == 0 && t.unknown > 0 {
        "an unknown amount".into()
    } else {
        t.describe()
    }
}

fn post_line(p: &PostRef) -> String {
    let link = p.url.as_deref().map(|u| format!(" ([link]({}))", u.replace(')', "%29"))).unwrap_or_default();
    format!(
        "“{}” — {}, {} on {}{link}",
        escape(&super::marked(&p.text, p.origin, p.images)),
        p.posted_local,
        p.account,
        p.network
    )
}

pub fn write(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let h = &r.headline;
    writeln!(out, "# What landed: {}", escape(&r.event.name))?;
    writeln!(out)?;
    writeln!(
        out,
        "*Engagement as of {} UTC. Times are {}. “?” is a count the server would not give: never read as 0.*",
        r.generated_at.format("%Y-%m-%d %H:%M"),
        r.event.timezone
    )?;
    writeln!(out)?;
    writeln!(out, "## Headline figures")?;
    writeln!(out)?;
    writeln!(
        out,
        "- **{}** went out, and the organisation's accounts boosted them **{}**.",
        n(h.posts, "post", "posts"),
        n(h.boosts, "time", "times")
    )?;
    writeln!(
        out,
        "- The servers count **{}**, **{}** and **{}**{}; the organisation's own {} and the threads' own {} are among them.",
        phrase(&h.totals.likes, "like", "likes"),
        phrase(&h.totals.reposts, "repost", "reposts"),
        phrase(&h.totals.replies, "reply", "replies"),
        if h.totals.quotes.known > 0 {
            format!(", {}", phrase(&h.totals.quotes, "quote", "quotes"))
        } else {
            String::new()
        },
        n(h.own.reposts as usize, "boost", "boosts"),
        n(h.own.replies as usize, "reply", "replies")
    )?;
    writeln!(out, "- Engagement by others: **{}** in all.", h.totals.engagement.describe())?;
    if let Some((shown, on)) = views(r) {
        writeln!(out, "- On {on}, which count views, the posts were shown **{}**.", phrase(&shown, "time", "times"))?;
    }
    writeln!(
        out,
        "- **{}** got some response from others; **{}** got none.",
        n(h.engaged, "post", "posts"),
        h.nothing
    )?;
    if h.gone + h.unread > 0 {
        writeln!(
            out,
            "- For **{}** the counts are unknown ({} no longer on the server, {} never read).",
            h.gone + h.unread,
            h.gone,
            h.unread
        )?;
    }
    if h.not_sent > 0 {
        writeln!(out, "- {} did not go out.", n(h.not_sent, "planned post", "planned posts"))?;
    }
    writeln!(out)?;

    writeln!(out, "## What landed")?;
    writeln!(out)?;
    if r.top.is_empty() {
        writeln!(out, "Nothing got a like, a repost or a reply from anyone else.")?;
    }
    for (i, p) in r.top.iter().enumerate() {
        writeln!(out, "{}. {}: {}", i + 1, post_line(p), counts_phrase(&p.counts))?;
    }
    writeln!(out)?;
    writeln!(out, "## What got nothing")?;
    writeln!(out)?;
    if r.nothing.is_empty() {
        writeln!(out, "Every post that was read got something from others.")?;
    }
    for p in &r.nothing {
        writeln!(out, "- {}", post_line(p))?;
    }
    if !r.unknown.is_empty() {
        writeln!(out)?;
        writeln!(out, "Counts unknown:")?;
        writeln!(out)?;
        for p in &r.unknown {
            let why = if p.status.as_str() == "gone" { "no longer on the server" } else { "never read" };
            writeln!(out, "- {} ({why})", post_line(p))?;
        }
    }
    writeln!(out)?;

    writeln!(out, "## Session by session")?;
    for s in &r.sessions {
        writeln!(out)?;
        writeln!(out, "### {}", escape(&s.title))?;
        writeln!(out)?;
        if s.posts.is_empty() {
            writeln!(out, "Nothing went out.")?;
            continue;
        }
        writeln!(out, "Engagement by others: {}.", s.totals.engagement.describe())?;
        writeln!(out)?;
        writeln!(
            out,
            "| time | post | account | likes | reposts | replies | by others | growth ({}) | boosts |",
            r.checkpoints.join(" / ")
        )?;
        writeln!(out, "|---|---|---|--:|--:|--:|--:|---|--:|")?;
        for p in &s.posts {
            let growth: Vec<String> = p.growth.iter().map(|g| g.map_or("·".into(), |n| n.to_string())).collect();
            writeln!(
                out,
                "| {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} |",
                p.posted_local.get(11..).unwrap_or(&p.posted_local),
                escape(&super::marked(&p.text, p.origin, p.images.len())),
                escape(&p.account),
                p.network,
                count(p.counts.likes),
                count(p.counts.reposts),
                count(p.counts.replies),
                count(p.engagement),
                growth.join(" / "),
                p.boosts.iter().filter(|b| b.state == "done").count()
            )?;
        }
    }
    writeln!(out)?;

    writeln!(out, "## By network")?;
    writeln!(out)?;
    let with_views = any_views(r);
    let (views_head, views_rule) = if with_views { (" views |", "--:|") } else { ("", "") };
    writeln!(out, "| network | posts | boosts | likes | reposts | replies | quotes | by others |{views_head}")?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|{views_rule}")?;
    for n in &r.networks {
        let views = if with_views { format!(" {} |", n.totals.views.short()) } else { String::new() };
        writeln!(out, "| {} | {} | {} | {} |{views}", n.network, n.posts, n.boosts, totals_row(&n.totals))?;
    }
    writeln!(out)?;
    writeln!(out, "## By account")?;
    writeln!(out)?;
    writeln!(out, "| account | role | posts | boosts | likes | reposts | replies | quotes | by others | engagement of posts it boosted |")?;
    writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")?;
    for a in &r.accounts {
        writeln!(
            out,
            "| {} ({}) | {} | {} | {} | {} | {} |",
            escape(&a.account),
            a.network,
            a.role,
            a.posts,
            a.boosts,
            totals_row(&a.totals),
            a.boosted_engagement.short()
        )?;
    }
    writeln!(out)?;

    let amp = &r.amplification;
    writeln!(out, "## Did the amplification help?")?;
    writeln!(out)?;
    let mean = |t: &Tally| {
        if t.known > 0 {
            format!(" ({:.1} per post)", t.sum as f64 / t.known as f64)
        } else {
            String::new()
        }
    };
    writeln!(
        out,
        "- {} drew {}{}; {} without a boost drew {}{}.",
        n(amp.boosted_posts, "boosted post", "boosted posts"),
        drew(&amp.boosted),
        mean(&amp.boosted),
        n(amp.not_boosted_posts, "post", "posts"),
        drew(&amp.not_boosted),
        mean(&amp.not_boosted)
    )?;
    if amp.before_boost.known > 0 {
        writeln!(
            out,
            "- Of {} read as their boost went out, {} came before the boost and {} after it.",
            n(amp.before_boost.known, "post", "posts"),
            amp.before_boost.describe(),
            amp.since_boost.describe()
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## By hour of day")?;
    writeln!(out)?;
    writeln!(out, "| hour | posts | by others | |")?;
    writeln!(out, "|---|--:|--:|---|")?;
    let most = r.by_hour.iter().map(|h| h.totals.engagement.sum).max().unwrap_or(0).max(1);
    for hr in &r.by_hour {
        let bar = "█".repeat(((hr.totals.engagement.sum * 20).div_ceil(most)) as usize);
        writeln!(out, "| {:02}:00 | {} | {} | {bar} |", hr.hour, hr.posts, hr.totals.engagement.short())?;
    }
    Ok(())
}

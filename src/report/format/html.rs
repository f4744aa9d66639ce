//! One self-contained HTML page: inline CSS and inline SVG charts, no script, no font, image or
//! style sheet from anywhere, so it opens offline. Every text from posts and config is escaped.

use std::io::Write;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as esc};

use super::svg::{self, Bar, Line};
use super::{count, counts_phrase, short};
use crate::report::model::{ImageView, PostRef, Report, Tally, Totals};

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #18181b; --muted: #71717a; --line: #e4e4e7; --accent: #3a6ea5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fafafa; }
main { max-width: 1000px; margin: 0 auto; padding: 32px 24px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
.sub { color: var(--muted); margin: 0 0 24px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card b { display: block; font-size: 26px; line-height: 1.2; }
.card span { color: var(--muted); font-size: 13px; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px; overflow-x: auto; }
svg.chart { display: block; max-width: 100%; height: auto; font-family: inherit; }
svg .tick { font-size: 11px; fill: #71717a; }
svg .axis { font-size: 12px; fill: #52525b; }
svg .legend, svg .label { font-size: 12px; fill: #27272a; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: #3f3f46; background: #f4f4f5; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.unknown { color: #a16207; }
.muted { color: var(--muted); }
ol li, ul li { margin: 4px 0; }
a { color: var(--accent); }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
.thumbs { margin-top: 4px; display: flex; gap: 4px; flex-wrap: wrap; }
img.thumb { max-width: 96px; max-height: 96px; border-radius: 4px; border: 1px solid var(--line); }
"#;

fn card(out: &mut dyn Write, value: &str, label: &str) -> std::io::Result<()> {
    write!(out, r#"<div class="card"><b>{}</b><span>{}</span></div>"#, esc(value), esc(label))
}

fn num(v: Option<u64>) -> String {
    match v {
        Some(n) => n.to_string(),
        None => r#"<span class="unknown" title="unknown">?</span>"#.into(),
    }
}

fn tally(t: &Tally) -> String {
    if t.known == 0 && t.unknown > 0 {
        r#"<span class="unknown" title="unknown">?</span>"#.into()
    } else if t.unknown > 0 {
        format!(r#"<span class="unknown" title="at least: {} unknown">≥{}</span>"#, t.unknown, t.sum)
    } else {
        t.sum.to_string()
    }
}

fn totals_cells(t: &Totals) -> String {
    [t.likes, t.reposts, t.replies, t.quotes, t.engagement]
        .iter()
        .map(|x| format!(r#"<td class="n">{}</td>"#, tally(x)))
        .collect()
}

fn post_text(text: &str, url: Option<&str>) -> String {
    match url {
        Some(u) => format!(r#"<a href="{}" rel="noreferrer noopener">{}</a>"#, attr(u), esc(text)),
        None => esc(text).into_owned(),
    }
}

/// A post's images under its text: each an embedded thumbnail (a `data:` URI: the page stays
/// self-contained) with the alt text, or the alt text alone where no thumbnail was made.
fn thumbnails(images: &[ImageView]) -> String {
    if images.is_empty() {
        return String::new();
    }
    let mut out = String::from(r#"<div class="thumbs">"#);
    for image in images {
        let alt = if image.alt.is_empty() { "(decorative image)" } else { image.alt.as_str() };
        match &image.thumbnail {
            Some(b64) => out.push_str(&format!(
                r#"<img class="thumb" src="data:image/jpeg;base64,{}" alt="{}" title="{}">"#,
                attr(b64),
                attr(alt),
                attr(alt)
            )),
            None => out.push_str(&format!(r#"<span class="muted">[photo: {}]</span>"#, esc(alt))),
        }
    }
    out.push_str("</div>");
    out
}

fn post_list(out: &mut dyn Write, list: &[PostRef], ordered: bool, with_counts: bool) -> std::io::Result<()> {
    let tag = if ordered { "ol" } else { "ul" };
    write!(out, "<{tag}>")?;
    for p in list {
        write!(
            out,
            r#"<li>“{}” <span class="muted">— {}, {} on {}</span>{}</li>"#,
            post_text(&short(&super::marked(&p.text, p.origin, p.images), 160), p.url.as_deref()),
            esc(&p.posted_local),
            esc(&p.account),
            p.network,
            if with_counts { format!(": {}", esc(&counts_phrase(&p.counts))) } else { String::new() }
        )?;
    }
    write!(out, "</{tag}>")
}

pub fn write(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let h = &r.headline;
    write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>What landed: {}</title><style>{STYLE}</style></head><body><main>"#,
        esc(&r.event.name)
    )?;
    write!(
        out,
        r#"<h1>What landed</h1><p class="sub">{} — engagement as of {} UTC; times in {}.</p>"#,
        esc(&r.event.name),
        r.generated_at.format("%Y-%m-%d %H:%M"),
        esc(&r.event.timezone)
    )?;
    write!(out, r#"<section class="cards" id="headline">"#)?;
    card(out, &h.posts.to_string(), "posts went out")?;
    card(out, &h.boosts.to_string(), "boosts")?;
    card(out, &h.totals.likes.short(), "likes")?;
    card(out, &h.totals.reposts.short(), "reposts")?;
    card(out, &h.totals.replies.short(), "replies")?;
    card(out, &h.totals.engagement.short(), "engagement by others")?;
    if let Some((shown, on)) = super::views(r) {
        card(out, &shown.short(), &format!("views on {on}"))?;
    }
    card(out, &h.nothing.to_string(), "posts got nothing")?;
    card(out, &(h.gone + h.unread).to_string(), "posts unknown")?;
    write!(out, "</section>")?;

    let lines: Vec<Line> = r
        .sessions
        .iter()
        .filter(|s| !s.series.is_empty())
        .map(|s| {
            let t0 = s.series[0].at;
            Line {
                label: s.title.clone(),
                points: s
                    .series
                    .iter()
                    .map(|p| ((p.at - t0).num_seconds() as f64 / 60.0, p.engagement.sum, p.engagement.complete()))
                    .collect(),
            }
        })
        .collect();
    write!(out, r#"<h2>Engagement over time per session</h2><div class="panel">{}</div>"#, svg::time_chart(&lines))?;
    write!(
        out,
        r#"<p class="muted">Each session's likes, reposts, replies and quotes by others added up, from its first post on (the organisation's own boosts and the threads' own replies left out). A hollow dot: some counts were unknown then, so the total is at least that.</p>"#
    )?;

    let bars: Vec<Bar> = r
        .sessions
        .iter()
        .flat_map(|s| &s.posts)
        .map(|p| Bar {
            label: format!("{} {}", p.posted_local.get(11..).unwrap_or(&p.posted_local), p.text),
            counts: [p.counts.likes, p.counts.reposts, p.counts.replies, p.counts.quotes],
            unknown: p.engagement.is_none(),
        })
        .collect();
    write!(out, r#"<h2>Counts per post</h2><div class="panel">{}</div>"#, svg::post_chart(&bars))?;

    let hours: Vec<(u32, usize, u64)> = r.by_hour.iter().map(|x| (x.hour, x.posts, x.totals.engagement.sum)).collect();
    write!(out, r#"<h2>By hour of day</h2><div class="panel">{}</div>"#, svg::hour_chart(&hours))?;

    write!(out, "<h2>What landed</h2>")?;
    if r.top.is_empty() {
        write!(out, "<p>Nothing got a like, a repost or a reply from anyone else.</p>")?;
    } else {
        post_list(out, &r.top, true, true)?;
    }
    write!(out, "<h2>What got nothing</h2>")?;
    if r.nothing.is_empty() {
        write!(out, "<p>Every post that was read got something from others.</p>")?;
    } else {
        post_list(out, &r.nothing, false, false)?;
    }
    if !r.unknown.is_empty() {
        write!(
            out,
            r#"<h3>Counts unknown</h3><p class="muted">Deleted, or the server would not say: shown as “?”, never as 0.</p>"#
        )?;
        post_list(out, &r.unknown, false, false)?;
    }

    let with_views = super::any_views(r);
    write!(out, "<h2>Session by session</h2>")?;
    for s in &r.sessions {
        write!(
            out,
            "<h3>{} <span class=\"muted\">— by others {}</span></h3>",
            esc(&s.title),
            tally(&s.totals.engagement)
        )?;
        if s.posts.is_empty() {
            write!(out, r#"<p class="muted">Nothing went out.</p>"#)?;
            continue;
        }
        write!(
            out,
            r#"<table><tr><th>time</th><th>post</th><th>account</th><th class="n">likes</th><th class="n">reposts</th><th class="n">replies</th><th class="n">quotes</th><th class="n">by others</th>{}<th class="n">growth {}</th><th>boosted by</th></tr>"#,
            if with_views { r#"<th class="n">views</th>"# } else { "" },
            esc(&r.checkpoints.join(" / "))
        )?;
        for p in &s.posts {
            let growth: Vec<String> = p.growth.iter().map(|g| g.map_or("·".into(), |n| n.to_string())).collect();
            let boosts: Vec<String> = p
                .boosts
                .iter()
                .map(|b| match (b.state, b.boosted_at) {
                    ("done", Some(at)) => format!("{} ({:+} min)", esc(&b.account), (at - p.posted_at).num_minutes()),
                    (state, _) => format!(r#"{} <span class="muted">({state})</span>"#, esc(&b.account)),
                })
                .collect();
            let views =
                if with_views { format!(r#"<td class="n">{}</td>"#, num(p.counts.views)) } else { String::new() };
            let note = p
                .note
                .as_deref()
                .map(|n| format!(r#"<br><span class="unknown">{}</span>"#, esc(n)))
                .unwrap_or_default();
            write!(
                out,
                r#"<tr><td>{}</td><td>{}{note}</td><td>{} <span class="muted">{}</span></td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n"><b>{}</b></td>{views}<td class="n">{}</td><td>{}</td></tr>"#,
                esc(p.posted_local.get(11..).unwrap_or(&p.posted_local)),
                post_text(&super::marked(&p.text, p.origin, 0), p.url.as_deref()) + &thumbnails(&p.images),
                esc(&p.account),
                p.network,
                num(p.counts.likes),
                num(p.counts.reposts),
                num(p.counts.replies),
                num(p.counts.quotes),
                num(p.engagement),
                growth.join(" / "),
                boosts.join(", ")
            )?;
        }
        write!(out, "</table>")?;
    }

    write!(
        out,
        r#"<h2>By network</h2><table><tr><th>network</th><th class="n">posts</th><th class="n">boosts</th><th class="n">likes</th><th class="n">reposts</th><th class="n">replies</th><th class="n">quotes</th><th class="n">by others</th>{}</tr>"#,
        if with_views { r#"<th class="n">views</th>"# } else { "" }
    )?;
    for n in &r.networks {
        write!(
            out,
            r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td>{}{}</tr>"#,
            n.network,
            n.posts,
            n.boosts,
            totals_cells(&n.totals),
            if with_views { format!(r#"<td class="n">{}</td>"#, tally(&n.totals.views)) } else { String::new() }
        )?;
    }
    write!(out, "</table>")?;
    write!(
        out,
        r#"<h2>By account</h2><table><tr><th>account</th><th>role</th><th class="n">posts</th><th class="n">boosts</th><th class="n">likes</th><th class="n">reposts</th><th class="n">replies</th><th class="n">quotes</th><th class="n">by others</th><th class="n">of posts it boosted</th></tr>"#
    )?;
    for a in &r.accounts {
        write!(
            out,
            r#"<tr><td>{} <span class="muted">{}</span></td><td>{}</td><td class="n">{}</td><td class="n">{}</td>{}<td class="n">{}</td></tr>"#,
            esc(&a.account),
            a.network,
            a.role,
            a.posts,
            a.boosts,
            totals_cells(&a.totals),
            tally(&a.boosted_engagement)
        )?;
    }
    write!(out, "</table>")?;

    let amp = &r.amplification;
    write!(
        out,
        "<h2>Did the amplification help?</h2><p>{} boosted posts drew {} from others; {} posts without a boost drew {}.",
        amp.boosted_posts,
        tally(&amp.boosted),
        amp.not_boosted_posts,
        tally(&amp.not_boosted)
    )?;
    if amp.before_boost.known > 0 {
        write!(
            out,
            " Of {} posts read as their boost went out, {} came before the boost and {} after it.",
            amp.before_boost.known,
            tally(&amp.before_boost),
            tally(&amp.since_boost)
        )?;
    }
    write!(out, "</p>")?;
    write!(
        out,
        r#"<footer>Made by loudhailer. Counts are what each network's server answered for the post; a boost's likes and reposts land on the boosted post, so boosts are shown beside it. “By others” leaves out the organisation's own boosts ({}) and the threads' own replies ({}). “?” is unknown (deleted, or the server would not say) and “≥” a total with unknowns in it. {} posts counted, {} read.</footer></main></body></html>"#,
        h.own.reposts,
        h.own.replies,
        h.posts,
        count(Some(h.read as u64))
    )?;
    writeln!(out)
}

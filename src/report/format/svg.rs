//! Inline SVG charts for the HTML report, drawn here as text (no script, no external file):
//! engagement over time per session, counts per post, engagement by hour of day.

use std::fmt::Write as _;

use html_escape::encode_text as esc;

/// Colours of the series (sessions), chosen to stay apart for most colour vision.
pub const PALETTE: [&str; 8] = ["#3a6ea5", "#e0457b", "#2a9d8f", "#f4a261", "#7b5ea7", "#8ab17d", "#e76f51", "#264653"];
/// Likes, reposts, replies, quotes.
pub const KINDS: [(&str, &str); 4] =
    [("likes", "#e0457b"), ("reposts", "#2a9d8f"), ("replies", "#3a6ea5"), ("quotes", "#f4a261")];

/// One line of the time chart: minutes since the session's first post, engagement, and
/// whether every post's count was known at that point.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, u64, bool)>,
}

/// A round number at or above `v` for an axis: 1, 2, 5, 10, 20, 50, …
fn nice(v: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= v {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// x for minutes after the start on a log scale, so 15 minutes and 3 days both have room.
fn log_x(minutes: f64) -> f64 {
    (1.0 + minutes.max(0.0)).ln()
}

/// Engagement over time per session: step lines on a log time axis.
pub fn time_chart(lines: &[Line]) -> String {
    let (w, h, left, right, top, bottom) = (760.0, 300.0, 48.0, 16.0, 16.0, 40.0);
    let max_m = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).fold(60.0, f64::max);
    let max_y = nice(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).max().unwrap_or(0).max(1));
    let x = |m: f64| left + (w - left - right) * log_x(m) / log_x(max_m);
    let y = |v: u64| top + (h - top - bottom) * (1.0 - v as f64 / max_y as f64);
    let legend_rows = lines.len().div_ceil(2);
    let total_h = h + 8.0 + legend_rows as f64 * 20.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="chart-sessions" class="chart" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{total_h}" viewBox="0 0 {w} {total_h}" role="img" aria-label="Engagement over time per session">"#
    );
    for i in 0..=4 {
        let v = max_y * i / 4;
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e4e4e7"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{v}</text>"##,
            w - right,
            left - 6.0,
            yy + 4.0
        );
    }
    for (m, label) in
        [(0.0, "0"), (15.0, "15m"), (60.0, "1h"), (360.0, "6h"), (1440.0, "1d"), (4320.0, "3d"), (10080.0, "1w")]
    {
        if m > max_m * 1.05 {
            continue;
        }
        let xx = x(m);
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{top}" y2="{}" stroke="#e4e4e7"/><text x="{xx:.1}" y="{}" text-anchor="middle" class="tick">{label}</text>"##,
            h - bottom,
            h - bottom + 16.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" class="axis">time since the session's first post</text>"#,
        left + (w - left - right) / 2.0,
        h - 6.0
    );
    for (i, line) in lines.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut d = String::new();
        let mut last: Option<(f64, f64)> = None;
        for &(m, v, _) in &line.points {
            let (xx, yy) = (x(m), y(v));
            match last {
                None => {
                    let _ = write!(d, "M{xx:.1},{yy:.1}");
                }
                Some((_, py)) => {
                    let _ = write!(d, " L{xx:.1},{py:.1} L{xx:.1},{yy:.1}");
                }
            }
            last = Some((xx, yy));
        }
        let _ = write!(
            s,
            r#"<path class="series" d="{d}" fill="none" stroke="{colour}" stroke-width="2.5"><title>{}</title></path>"#,
            esc(&line.label)
        );
        for &(m, v, complete) in &line.points {
            let fill = if complete { colour } else { "#fff" };
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{fill}" stroke="{colour}" stroke-width="1.5"><title>{}: {}{v}</title></circle>"#,
                x(m),
                y(v),
                esc(&line.label),
                if complete { "" } else { "at least " }
            );
        }
        let (lx, ly) = (left + (i % 2) as f64 * 360.0, h + 8.0 + (i / 2) as f64 * 20.0);
        let _ = write!(
            s,
            r#"<rect x="{lx}" y="{}" width="14" height="4" fill="{colour}"/><text x="{}" y="{}" class="legend">{}</text>"#,
            ly + 6.0,
            lx + 20.0,
            ly + 12.0,
            esc(&super::short(&line.label, 48))
        );
    }
    s.push_str("</svg>");
    s
}

/// One bar of the per-post chart: a label, the four counts (`None` unknown), and whether the
/// post's counts are unknown altogether.
pub struct Bar {
    pub label: String,
    pub counts: [Option<u64>; 4],
    pub unknown: bool,
}

/// Counts per post: one stacked horizontal bar per post.
pub fn post_chart(bars: &[Bar]) -> String {
    let (w, label_w, row, top) = (760.0, 300.0, 22.0, 28.0);
    let max = nice(bars.iter().map(|b| b.counts.iter().flatten().sum::<u64>()).max().unwrap_or(0).max(1));
    let h = top + row * bars.len() as f64 + 24.0;
    let plot = w - label_w - 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="chart-posts" class="chart" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="Counts per post">"#
    );
    for (i, (name, colour)) in KINDS.iter().enumerate() {
        let lx = label_w + i as f64 * 100.0;
        let _ = write!(
            s,
            r#"<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/><text x="{}" y="16" class="legend">{name}</text>"#,
            lx + 16.0
        );
    }
    for i in 0..=4 {
        let v = max * i / 4;
        let xx = label_w + plot * v as f64 / max as f64;
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{}" y2="{}" stroke="#e4e4e7"/><text x="{xx:.1}" y="{}" text-anchor="middle" class="tick">{v}</text>"##,
            top - 4.0,
            h - 20.0,
            h - 6.0
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let yy = top + row * i as f64;
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end" class="label">{}</text>"#,
            label_w - 8.0,
            yy + 15.0,
            esc(&super::short(&bar.label, 44))
        );
        if bar.unknown {
            let _ = write!(
                s,
                r##"<rect class="bar unknown" x="{label_w}" y="{:.1}" width="{:.1}" height="14" fill="url(#hatch)" stroke="#a1a1aa" stroke-dasharray="3 2"/><text x="{}" y="{:.1}" class="tick">unknown</text>"##,
                yy + 4.0,
                plot * 0.12,
                label_w + plot * 0.12 + 6.0,
                yy + 15.0
            );
            continue;
        }
        let mut xx = label_w;
        for (k, value) in bar.counts.iter().enumerate() {
            let v = value.unwrap_or(0);
            if v == 0 {
                continue;
            }
            let bw = plot * v as f64 / max as f64;
            let _ = write!(
                s,
                r#"<rect class="bar" x="{xx:.1}" y="{:.1}" width="{bw:.1}" height="14" fill="{}"><title>{v} {}</title></rect>"#,
                yy + 4.0,
                KINDS[k].1,
                KINDS[k].0
            );
            xx += bw;
        }
        let total: u64 = bar.counts.iter().flatten().sum();
        let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" class="tick">{total}</text>"#, xx + 6.0, yy + 15.0);
    }
    s.push_str(
        r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#d4d4d8" stroke-width="3"/></pattern></defs></svg>"##,
    );
    s
}

/// Engagement by hour of day: one column per hour from the first to the last with posts.
pub fn hour_chart(hours: &[(u32, usize, u64)]) -> String {
    let (w, h, left, bottom, top) = (760.0, 200.0, 48.0, 30.0, 12.0);
    let (Some(first), Some(last)) = (hours.first().map(|x| x.0), hours.last().map(|x| x.0)) else {
        return String::new();
    };
    let n = (last - first + 1) as f64;
    let max = nice(hours.iter().map(|x| x.2).max().unwrap_or(0).max(1));
    let col = ((w - left - 16.0) / n).min(48.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="chart-hours" class="chart" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="Engagement by hour of day">"#
    );
    for i in 0..=2 {
        let v = max * i / 2;
        let yy = top + (h - top - bottom) * (1.0 - v as f64 / max as f64);
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e4e4e7"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{v}</text>"##,
            w - 16.0,
            left - 6.0,
            yy + 4.0
        );
    }
    for hour in first..=last {
        let xx = left + col * (hour - first) as f64;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" class="tick">{hour:02}</text>"#,
            xx + col / 2.0,
            h - bottom + 16.0
        );
        if let Some(&(_, posts, v)) = hours.iter().find(|x| x.0 == hour) {
            let bh = (h - top - bottom) * v as f64 / max as f64;
            let _ = write!(
                s,
                r##"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#3a6ea5"><title>{hour:02}:00 — {posts} posts, engagement {v}</title></rect>"##,
                xx + col * 0.15,
                top + (h - top - bottom) - bh,
                col * 0.7,
                bh.max(1.0)
            );
        }
    }
    s.push_str("</svg>");
    s
}

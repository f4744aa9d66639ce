use super::*;
use crate::job::JobRecord;
use crate::report::fixtures::{config, jobs, snapshots, t, A, C};
use crate::report::report;

const AWKWARD: &str = "Fees, \"charges\" and\nduties | *all* <script>alert(1)</script> & more";

/// The fixture event, with A's text made of everything that needs escaping somewhere.
fn sample() -> Report {
    let jobs: Vec<JobRecord> = jobs()
        .into_iter()
        .map(|mut j| {
            if j.spec.id.as_str() == A {
                j.spec.text = Some(AWKWARD.into());
            }
            j
        })
        .collect();
    report(&config(), &jobs, &snapshots(), t("23:00:00"))
}

fn render(format: Format) -> String {
    let mut out = Vec::new();
    write(&sample(), format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn csv_is_rfc_4180_with_unknown_as_empty() {
    let text = render(Format::Csv);
    assert!(text.contains("\r\n"), "CRLF line ends");
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..4], ["session", "session_title", "job", "kind"]);
    assert_eq!(&header[header.len() - 2..], ["engagement_15m", "engagement_1h"]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    let a = rows.iter().find(|r| &r[col("job")] == A).unwrap();
    assert_eq!(&a[col("text")], AWKWARD, "quotes, commas and line breaks survive");
    assert_eq!((&a[col("likes")], &a[col("engagement")], &a[col("quotes")]), ("3", "4", ""));
    assert_eq!((&a[col("boosts")], &a[col("boosted_by")]), ("1", "council"));
    let c = rows.iter().find(|r| &r[col("job")] == C).unwrap();
    assert_eq!((&c[col("status")], &c[col("likes")], &c[col("engagement")]), ("gone", "", ""));
}

#[test]
fn html_is_self_contained_and_escapes_post_text() {
    let html = render(Format::Html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "post text is escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    for loader in ["src=", "<link", "@import", "url(http", "<iframe", "<img"] {
        assert!(!html.contains(loader), "nothing is loaded from elsewhere: found {loader}");
    }
    for chart in ["id=\"chart-sessions\"", "id=\"chart-posts\"", "id=\"chart-hours\""] {
        assert!(html.contains(chart), "{chart}");
    }
    assert_eq!(html.matches("<path class=\"series\"").count(), 2, "one line per session with posts");
    assert!(html.contains("class=\"bar unknown\""), "deleted and unread posts are drawn as unknown");
}

#[test]
fn markdown_reads_as_a_write_up() {
    let md = render(Format::Markdown);
    for heading in
        ["# What landed: Test day", "## Headline figures", "## What landed", "## What got nothing", "## By hour of day"]
    {
        assert!(md.contains(heading), "{heading}");
    }
    assert!(md.contains("**at least 3 likes**"), "{md}");
    assert!(md.contains("\\| \\*all\\* \\<script\\>"), "markup in posts is escaped");
    assert!(md.contains("For **2** the counts are unknown"), "{md}");
}

#[test]
fn tables_and_json_show_unknown_as_unknown() {
    let table = render(Format::Table);
    assert!(table.contains("gone") && table.contains('?'), "{table}");
    let json: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
    assert_eq!(json["format"], "loudhailer-report/1");
    let posts = json["sessions"][1]["posts"].as_array().unwrap();
    assert_eq!(posts[0]["status"], "gone");
    assert!(posts[0]["counts"]["likes"].is_null() && posts[0]["engagement"].is_null());
    assert_eq!(json["headline"]["totals"]["engagement"], serde_json::json!({"sum": 4, "known": 2, "unknown": 2}));
}

#[test]
fn json_follows_the_documented_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/report.schema.json")).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let json: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
    let errors: Vec<String> = validator.iter_errors(&json).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema is strict: a field it does not know is refused.
    let mut extra = json.clone();
    extra["headline"]["surprise"] = 1.into();
    assert!(!validator.is_valid(&extra));
    let mut zero_for_unknown = json;
    zero_for_unknown["sessions"][0]["posts"][0]["status"] = "maybe".into();
    assert!(!validator.is_valid(&zero_for_unknown));
}

/// The fixture with A's latest reading carrying views, as X and Threads report them.
fn with_views() -> Report {
    let snaps: Vec<_> = snapshots()
        .into_iter()
        .map(|(id, at, snap)| match snap {
            crate::report::Snapshot::Counts(c) if id.as_str() == A && at == t("11:00:00") => {
                (id, at, crate::report::Snapshot::Counts(crate::metrics::Counts { views: Some(250), ..c }))
            }
            other => (id, at, other),
        })
        .collect();
    report(&config(), &jobs(), &snaps, t("23:00:00"))
}

#[test]
fn views_are_shown_only_where_a_network_counts_them_and_never_as_engagement() {
    // Without views, no format speaks of them.
    for format in [Format::Markdown, Format::Html, Format::Table] {
        let text = render(format);
        assert!(!text.contains("views") && !text.contains("shown **"), "{format:?}: {text}");
    }
    let r = with_views();
    assert_eq!(r.headline.totals.views, Tally { sum: 250, known: 1, unknown: 3 });
    assert_eq!(r.headline.totals.engagement, sample().headline.totals.engagement, "reach is not engagement");
    let mut out = Vec::new();
    write(&r, Format::Markdown, &mut out).unwrap();
    let md = String::from_utf8(out).unwrap();
    // The sum over the networks that count views: "at least", as three of its posts gave none.
    assert!(md.contains("- On mastodon, which count views, the posts were shown **at least 250 times**."), "{md}");
    assert!(md.contains("| quotes | by others | views |") && md.contains("| ≥250 |"), "{md}");
    let a = r.sessions.iter().flat_map(|s| &s.posts).find(|p| p.job == A).unwrap();
    assert!(counts_phrase(&a.counts).ends_with(", 250 views"), "{}", counts_phrase(&a.counts));
    let mut out = Vec::new();
    write(&r, Format::Html, &mut out).unwrap();
    let html = String::from_utf8(out).unwrap();
    assert!(html.contains("<span>views on mastodon</span>"), "the headline card");
    assert_eq!(html.matches(r#"<th class="n">views</th>"#).count(), 3, "two sessions' tables and the networks'");
    let mut out = Vec::new();
    write(&r, Format::Table, &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().contains("Views on mastodon: ≥250."));
    let mut out = Vec::new();
    write(&r, Format::Csv, &mut out).unwrap();
    let mut reader = ::csv::Reader::from_reader(&out[..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let views: Vec<(&str, &str)> = rows.iter().map(|r| (&r[col("job")], &r[col("views")])).collect();
    assert!(views.contains(&(A, "250")) && views.iter().filter(|(_, v)| v.is_empty()).count() == 3, "{views:?}");
    // And the JSON still follows its schema.
    let schema: serde_json::Value = serde_json::from_str(include_str!("../../../docs/report.schema.json")).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&json));
    assert_eq!(json["headline"]["totals"]["views"]["sum"], 250);
}

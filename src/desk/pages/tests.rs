use std::path::Path;

use super::model::Page;
use super::*;
use crate::config::Config;
use crate::control::ops::Book;
use crate::control::{Request, Response};
use crate::job::JobRecord;
use crate::store::Store;

/// The desk's view of the example day at 13:50, with a session title that tries to be HTML.
fn page() -> Page {
    let text = include_str!("../../../config/example.toml")
        .replace("Case study presentations of good practice from the region", "Case <b>studies</b> & \\\"practice\\\"");
    let config = Config::parse(Path::new("example.toml"), &text).unwrap();
    let store = Store::temporary().unwrap();
    let p =
        crate::plan::plan(&config, &crate::plan::counters(&config, &Default::default()), &Default::default()).unwrap();
    store.put_jobs(&p.jobs.into_iter().map(JobRecord::new).collect::<Vec<_>>()).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2010-03-18T13:50:00Z").unwrap().with_timezone(&chrono::Utc);
    let out = Book { config: &config, store: &store, now }.apply(&Request::Desk { upcoming: 8 }).unwrap();
    let view = out.response.desk.unwrap();
    Page::new(&view, &Response::default(), None)
}

#[test]
fn every_template_renders_and_escapes_what_it_shows() {
    let pages = Pages::new();
    let page = page();
    let html = pages.desk(&page);
    assert!(!html.contains("could not be shown"), "{html}");
    assert!(html.contains("Case &lt;b&gt;studies&lt;&#x2f;b&gt; &amp; &quot;practice&quot;"), "titles are escaped");
    assert!(!html.contains("<b>studies"));
    for (id, template) in REGIONS {
        let part = pages.part(template, &page);
        assert!(!part.contains("could not be shown"), "{template}: {part}");
        assert!(html.contains(&part), "the page holds its part {id} as the event stream sends it");
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let signin = pages.signin();
    assert!(signin.contains("loudhailer desk") && signin.contains(assets::JS));
    assert!(html.contains(assets::CSS) && html.contains(assets::JS), "inline, byte for byte as their digests say");
}

#[test]
fn every_control_has_a_name_and_the_page_loads_only_its_own_assets() {
    let html = Pages::new().desk(&page());
    // Buttons have words of their own; the post box and the thread choice have labels.
    let button = regex::Regex::new(r"(?s)<button[^>]*>(.*?)</button>").unwrap();
    for c in button.captures_iter(&html) {
        assert!(!c[1].trim().is_empty(), "a button without words: {}", &c[0]);
    }
    for id in ["text", "thread"] {
        assert!(html.contains(&format!("<label for=\"{id}\">")), "{id} has a label");
    }
    // What the page loads (scripts, styles, images) comes from the desk; links people may
    // follow (a post, Facebook's share dialog) are not loads.
    let loads = regex::Regex::new(r#"(<script[^>]*src|<link[^>]*href|<img[^>]*src)="([^"]*)""#).unwrap();
    for c in loads.captures_iter(&html) {
        assert!(c[2].starts_with("data:"), "the page loads {}", &c[2]);
    }
    assert!(html.contains("<html lang=\"en\">"));
}

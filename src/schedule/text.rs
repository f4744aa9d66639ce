//! Turning the markup schedules carry (HTML, escaped or not, Markdown, MediaWiki) into plain
//! text, and picking key points out of an abstract.
//!
//! HTML is handled by a small tolerant tag stripper rather than an HTML5 parser: abstracts are
//! short fragments, only a handful of tags matter for plain text (paragraphs, breaks, list
//! items), anything that is not a known HTML tag (`<Haskel>`, `a < b`) must stay as text, and
//! html5ever-based crates would add dozens of dependencies for that. Entities are decoded with
//! `html-escape`; Markdown goes through `pulldown-cmark`.

use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;

/// Tags the stripper recognises; any other `<…>` is left as text.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "tr",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "dl",
    "dt",
    "dd",
    "center",
];
const INLINE_TAGS: &[&str] = &[
    "a", "em", "strong", "b", "i", "u", "s", "span", "code", "img", "sup", "sub", "small", "font", "td", "th", "tbody",
    "thead", "abbr", "cite", "q", "mark", "del", "ins", "kbd", "tt", "strike", "big",
];

static HTML_TAG: LazyLock<Regex> = LazyLock::new(|| {
    let names: Vec<&str> =
        BLOCK_TAGS.iter().chain(INLINE_TAGS).chain(&["br", "li", "script", "style"]).copied().collect();
    Regex::new(&format!(r"(?i)</?(?:{})(?:\s[^<>]*)?/?>", names.join("|"))).expect("static regex")
});
static ESCAPED_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)&lt;/?(?:p|br|a|em|strong|ul|ol|li|div|span|b|i|h[1-6]|code|pre)(?:\s|/|&gt;)")
        .expect("static regex")
});
static MARKDOWN_HINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)\*\*|__\S|\]\(|`|^#{1,6} |^\s{0,3}[*+-] |^\s{0,3}\d{1,3}[.)] |^> ").expect("static regex")
});
static WIKI_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\[\[(?:file|image|datei|bild):[^\]]*\]\]").expect("static regex"));
static WIKI_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[\[(?:[^\]|]*\|)?([^\]|]*)\]\]").expect("static regex"));
static WIKI_EXTERNAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[(https?://[^\s\]]+)(?:\s+([^\]]*))?\]").expect("static regex"));
static WIKI_QUOTES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"'{2,5}").expect("static regex"));
static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[ \t\u{a0}\u{2007}\u{202f}]+").expect("static regex"));
static BLANK_LINES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\n{3,}").expect("static regex"));

/// Converts a text field to plain text: HTML (escaped or not), MediaWiki and Markdown markup
/// are removed, entities decoded, whitespace tidied. Paragraphs stay separated by a blank line.
pub fn plain(text: &str) -> String {
    let mut text = text.replace("\r\n", "\n").replace('\r', "\n");
    if !HTML_TAG.is_match(&text) && ESCAPED_TAG.is_match(&text) {
        text = html_escape::decode_html_entities(&text).into_owned();
    }
    let was_html = HTML_TAG.is_match(&text);
    if was_html {
        text = strip_html(&text);
    }
    text = html_escape::decode_html_entities(&text).into_owned();
    if text.contains("''") || text.contains("[[") || text.contains("[http") {
        text = strip_wiki(&text);
    }
    if !was_html && MARKDOWN_HINT.is_match(&text) {
        text = strip_markdown(&text);
    }
    tidy(&text)
}

/// Like [`plain`], for one-line fields (titles, names, rooms): newlines become spaces.
pub fn line(text: &str) -> String {
    let text = html_escape::decode_html_entities(text);
    let joined: Vec<&str> = text.split_whitespace().collect();
    joined.join(" ")
}

/// `Some(plain(text))` unless the result is empty.
pub fn non_empty(text: Option<&str>) -> Option<String> {
    let text = plain(text?);
    (!text.is_empty()).then_some(text)
}

/// `Some(line(text))` unless the result is empty.
pub fn non_empty_line(text: Option<&str>) -> Option<String> {
    let text = line(text?);
    (!text.is_empty()).then_some(text)
}

/// The first `count` sentences of a plain-text abstract, as key points. A "sentence" that
/// starts with a lower-case letter continues the one before ("(Snap!) to generate …").
pub fn key_points(abstract_text: &str, count: usize) -> Vec<String> {
    let mut points: Vec<String> = Vec::new();
    if count == 0 {
        return points;
    }
    for sentence in abstract_text.unicode_sentences() {
        let sentence = sentence.trim();
        let sentence = sentence.strip_prefix("- ").unwrap_or(sentence).trim();
        if sentence.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            continue;
        }
        let sentence = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
        let continues = sentence.chars().next().is_some_and(char::is_lowercase);
        if let (true, Some(last)) = (continues, points.last_mut()) {
            last.push(' ');
            last.push_str(&sentence);
            continue;
        }
        if points.len() == count {
            break;
        }
        points.push(sentence);
    }
    points
}

fn strip_html(text: &str) -> String {
    let without_comments = strip_comments(text);
    let text = without_comments.as_str();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut skipping: Option<String> = None;
    for tag in HTML_TAG.find_iter(text) {
        if skipping.is_none() {
            push_html_text(&mut out, text.get(last..tag.start()).unwrap_or(""));
        }
        last = tag.end();
        let raw = tag.as_str();
        let closing = raw.starts_with("</");
        let name: String = raw
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(end) = &skipping {
            if closing && &name == end {
                skipping = None;
            }
            continue;
        }
        match name.as_str() {
            "script" | "style" if !closing => skipping = Some(name),
            "br" => out.push('\n'),
            "li" if !closing => out.push_str("\n- "),
            n if BLOCK_TAGS.contains(&n) => out.push_str("\n\n"),
            "td" | "th" if closing => out.push(' '),
            _ => {}
        }
    }
    if skipping.is_none() {
        push_html_text(&mut out, text.get(last..).unwrap_or(""));
    }
    out
}

/// Text between tags: a single source newline is layout (a space), a blank line a paragraph.
fn push_html_text(out: &mut String, text: &str) {
    for (i, paragraph) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&paragraph.replace('\n', " "));
    }
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(rest.get(..start).unwrap_or(""));
        match rest.get(start + 4..).and_then(|r| r.find("-->").map(|e| (r, e))) {
            Some((after, end)) => rest = after.get(end + 3..).unwrap_or(""),
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn strip_wiki(text: &str) -> String {
    let text = WIKI_FILE.replace_all(text, "");
    let text = WIKI_LINK.replace_all(&text, "$1");
    let text =
        WIKI_EXTERNAL.replace_all(&text, |caps: &regex::Captures| match caps.get(2).map(|m| m.as_str().trim()) {
            Some(label) if !label.is_empty() => label.to_owned(),
            _ => caps.get(1).map_or(String::new(), |m| m.as_str().to_owned()),
        });
    WIKI_QUOTES.replace_all(&text, "").into_owned()
}

fn strip_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut list_depth = 0usize;
    for event in Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Rule => out.push_str("\n\n"),
            Event::Start(Tag::Item) => {
                out.push('\n');
                out.push_str(&"  ".repeat(list_depth.saturating_sub(1)));
                out.push_str("- ");
            }
            Event::Start(Tag::List(_)) => list_depth += 1,
            Event::End(TagEnd::List(_)) => {
                list_depth = list_depth.saturating_sub(1);
                out.push_str("\n\n");
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::BlockQuote(_)) => {
                out.push_str(if list_depth > 0 { "" } else { "\n\n" })
            }
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            _ => {}
        }
    }
    out
}

fn tidy(text: &str) -> String {
    let lines: Vec<String> = text.split('\n').map(|l| SPACES.replace_all(l, " ").trim().to_owned()).collect();
    let joined = lines.join("\n");
    BLANK_LINES.replace_all(joined.trim(), "\n\n").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text() {
        for (input, want) in [
            ("Just text.", "Just text."),
            ("  Tidy   spaces\r\n\r\n\r\n\r\nhere ", "Tidy spaces\n\nhere"),
            ("<p>One</p><p>Two &amp; three</p>", "One\n\nTwo & three"),
            // FOSDEM: the XML layer decodes once, the HTML is left.
            ("&lt;p&gt;Escaped &lt;a href=\"x\"&gt;link&lt;/a&gt;&lt;/p&gt;", "Escaped link"),
            ("Line<br>break<br/>again", "Line\nbreak\nagain"),
            ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
            ("Pure immutability (<Haskel>) and a < b", "Pure immutability (<Haskel>) and a < b"),
            ("<!-- hidden --><p>shown</p>", "shown"),
            ("These **linked data** can `answer`.", "These linked data can answer."),
            ("See [the docs](https://example.org) now.", "See the docs now."),
            ("# Title\n\nBody text", "Title\n\nBody text"),
            ("- one\n- two", "- one\n- two"),
            ("'''Important:''' bring [[Special:X|your laptop]].", "Important: bring your laptop."),
            ("[[File:Solder.jpg|center|500px]]Learn [https://x.org to solder]", "Learn to solder"),
            ("file_name_here and 2 * 3", "file_name_here and 2 * 3"),
            ("Caf&eacute; &#8211; open", "Café – open"),
            ("", ""),
        ] {
            assert_eq!(plain(input), want, "{input:?}");
        }
    }

    #[test]
    fn single_lines() {
        assert_eq!(line("  A\n  title &amp; more "), "A title & more");
        assert_eq!(non_empty_line(Some("  ")), None);
        assert_eq!(non_empty(Some("<p></p>")), None);
    }

    #[test]
    fn points_from_sentences() {
        let text = "Linux runs supercomputers. Why is that? We look at e.g. the tools!\n\n- One item\n- Two";
        assert_eq!(key_points(text, 3), ["Linux runs supercomputers.", "Why is that?", "We look at e.g. the tools!"]);
        assert_eq!(key_points(text, 5).get(3).map(String::as_str), Some("One item"));
        assert!(key_points(text, 0).is_empty());
        assert!(key_points("", 3).is_empty());
        assert_eq!(key_points("No final stop", 2), ["No final stop"]);
        assert_eq!(
            key_points("A language (Snap!) to generate patterns. Next one. Third.", 2),
            ["A language (Snap!) to generate patterns.", "Next one."]
        );
    }
}

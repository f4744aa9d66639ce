//! Rich text for Bluesky (pure): finds links, `@handle` mentions and `#hashtags` in a post's
//! text and turns them into `app.bsky.richtext.facet`s at UTF-8 byte offsets.
//!
//! Detection follows Bluesky's own client (`@atproto/api` `detectFacets`): a mention is `@`
//! plus a syntactically valid handle at the start of the text, after a space or `(`; a hashtag
//! is `#` or `＃` at the start or after a space, up to the next space, without trailing
//! punctuation, holding at least one character that is not a digit or punctuation, at most
//! 64 graphemes; a link is a URL with an http(s) scheme. Mentions become facets only once
//! their handle is resolved to a DID; the caller resolves them and leaves the rest as text.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use atrium_api::app::bsky::richtext::facet::{
    ByteSliceData, LinkData, Main as Facet, MainData, MainFeaturesItem, MentionData, TagData,
};
use atrium_api::types::string::{Did, Handle};
use atrium_api::types::Union;
use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;

/// Something in a post's text that can become a facet; ranges are UTF-8 byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Link {
        range: Range<usize>,
        uri: String,
    },
    /// `handle` is lower-case, without the `@`; the range covers the `@`.
    Mention {
        range: Range<usize>,
        handle: String,
    },
    /// `tag` is without its `#`; the range covers it.
    Tag {
        range: Range<usize>,
        tag: String,
    },
}

impl Found {
    pub fn range(&self) -> &Range<usize> {
        match self {
            Found::Link { range, .. } | Found::Mention { range, .. } | Found::Tag { range, .. } => range,
        }
    }
}

static MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[\s(])(@([a-zA-Z0-9.-]+))\b").expect("static regex"));
static TRAILING_PUNCTUATION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\p{P}+$").expect("static regex"));
static TAG_LETTER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[^\d\s\p{P}]").expect("static regex"));

/// Characters that end a hashtag besides white space: soft hyphen, word joiner, hair space,
/// zero-width space and joiners, combining enclosing keycap.
const TAG_BREAKS: [char; 7] = ['\u{00AD}', '\u{2060}', '\u{200A}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{20E2}'];

/// The most graphemes a hashtag may have.
const TAG_MAX: usize = 64;

/// Every link, mention and hashtag in `text`, in order, none overlapping another.
pub fn detect(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for span in crate::count::url_spans(text) {
        let uri = &text[span.clone()];
        if uri.starts_with("https://") || uri.starts_with("http://") {
            found.push(Found::Link { range: span, uri: uri.to_string() });
        }
    }
    for caps in MENTION.captures_iter(text) {
        let (Some(whole), Some(handle)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        if Handle::new(handle.as_str().to_string()).is_ok() {
            found.push(Found::Mention { range: whole.range(), handle: handle.as_str().to_ascii_lowercase() });
        }
    }
    found.extend(hashtags(text));
    found.sort_by_key(|f| (f.range().start, f.range().end));
    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    for f in found {
        if kept.last().is_none_or(|last| last.range().end <= f.range().start) {
            kept.push(f);
        }
    }
    kept
}

fn hashtags(text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let mut previous: Option<char> = None;
    for (i, c) in text.char_indices() {
        let starts = (c == '#' || c == '＃') && previous.is_none_or(char::is_whitespace);
        previous = Some(c);
        if !starts {
            continue;
        }
        let body_start = i + c.len_utf8();
        let rest = &text[body_start..];
        if rest.starts_with('\u{FE0F}') {
            // "#️⃣", the keycap emoji.
            continue;
        }
        let body_len = rest.find(|ch: char| ch.is_whitespace() || TAG_BREAKS.contains(&ch)).unwrap_or(rest.len());
        let tag = TRAILING_PUNCTUATION.replace(&rest[..body_len], "");
        if tag.is_empty() || !TAG_LETTER.is_match(&tag) || tag.graphemes(true).count() > TAG_MAX {
            continue;
        }
        out.push(Found::Tag { range: i..body_start + tag.len(), tag: tag.into_owned() });
    }
    out
}

/// The handles `found` mentions, each once, in order.
pub fn mentioned(found: &[Found]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for f in found {
        if let Found::Mention { handle, .. } = f {
            if !out.contains(&handle.as_str()) {
                out.push(handle);
            }
        }
    }
    out
}

/// The facets for `found`: links and tags always, mentions whose handle is in `dids`
/// (lower-case handle → DID). Mentions without a DID stay plain text.
pub fn facets(found: &[Found], dids: &HashMap<String, String>) -> Vec<Facet> {
    found
        .iter()
        .filter_map(|f| {
            let feature = match f {
                Found::Link { uri, .. } => MainFeaturesItem::Link(Box::new(LinkData { uri: uri.clone() }.into())),
                Found::Tag { tag, .. } => MainFeaturesItem::Tag(Box::new(TagData { tag: tag.clone() }.into())),
                Found::Mention { handle, .. } => {
                    let did = Did::new(dids.get(handle)?.clone()).ok()?;
                    MainFeaturesItem::Mention(Box::new(MentionData { did }.into()))
                }
            };
            let range = f.range();
            let index = ByteSliceData { byte_start: range.start, byte_end: range.end }.into();
            Some(MainData { features: vec![Union::Refs(feature)], index }.into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(kind, the text the range covers, the feature's value)`.
    type Row = (&'static str, String, String);

    fn found(text: &str) -> Vec<Row> {
        detect(text)
            .into_iter()
            .map(|f| {
                let covered = text[f.range().clone()].to_string();
                match f {
                    Found::Link { uri, .. } => ("link", covered, uri),
                    Found::Mention { handle, .. } => ("mention", covered, handle),
                    Found::Tag { tag, .. } => ("tag", covered, tag),
                }
            })
            .collect()
    }

    fn t(kind: &'static str, covered: &str, value: &str) -> Row {
        (kind, covered.to_string(), value.to_string())
    }

    #[test]
    fn detection_table() {
        let cases: Vec<(&str, Vec<Row>)> = vec![
            ("plain words", vec![]),
            (
                "see https://example.org/a?b=1.",
                vec![t("link", "https://example.org/a?b=1", "https://example.org/a?b=1")],
            ),
            ("http://x.test/p and ftp://x.test", vec![t("link", "http://x.test/p", "http://x.test/p")]),
            ("example.org has no scheme", vec![]),
            ("hi @alice.test!", vec![t("mention", "@alice.test", "alice.test")]),
            (
                "(@Alice.Test) and @bob.test.",
                vec![t("mention", "@Alice.Test", "alice.test"), t("mention", "@bob.test", "bob.test")],
            ),
            ("@nodot and mail ada@example.org", vec![]),
            ("@ada@mastodon.example is Mastodon", vec![]),
            ("#EMIEP", vec![t("tag", "#EMIEP", "EMIEP")]),
            ("end of a sentence #law.", vec![t("tag", "#law", "law")]),
            ("#2026 #v2 #123abc", vec![t("tag", "#v2", "v2"), t("tag", "#123abc", "123abc")]),
            ("a#b and https://x.test/#frag", vec![t("link", "https://x.test/#frag", "https://x.test/#frag")]),
            ("#️⃣ keycap and # alone", vec![]),
            ("＃全角 tag", vec![t("tag", "＃全角", "全角")]),
            ("zero\u{200B}#width #a\u{200B}b", vec![t("tag", "#a", "a")]),
        ];
        let (a64, b65) = ("a".repeat(64), "b".repeat(65));
        let long = format!("#{a64} #{b65}");
        let cases = cases.into_iter().chain([(long.as_str(), vec![t("tag", &format!("#{a64}"), &a64)])]);
        for (text, want) in cases {
            assert_eq!(found(text), want, "{text:?}");
        }
    }

    #[test]
    fn offsets_are_utf8_bytes() {
        // "é" is 2 bytes, "🏳️‍🌈" 14, "日本" 6: offsets count bytes, not characters or UTF-16 units.
        let text = "é 🏳️‍🌈 @alice.test 日本 #日本語 https://example.org/ü";
        let f = detect(text);
        let ranges: Vec<Range<usize>> = f.iter().map(|f| f.range().clone()).collect();
        let mention = text.find('@').unwrap();
        assert_eq!(mention, 2 + 1 + 14 + 1);
        let tag = text.find('#').unwrap();
        let link = text.find("https").unwrap();
        assert_eq!(ranges, vec![mention..mention + 11, tag..tag + 10, link..text.len()]);
        for r in &ranges {
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }

    #[test]
    fn unresolved_mentions_stay_text() {
        let text = "with @alice.test and @ghost.test #law https://example.org";
        let found = detect(text);
        assert_eq!(mentioned(&found), ["alice.test", "ghost.test"]);
        let dids = HashMap::from([("alice.test".to_string(), "did:plc:alice".to_string())]);
        let facets = facets(&found, &dids);
        let json = serde_json::to_value(&facets).unwrap();
        let start = text.find("@alice").unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}],
                 "index": {"byteStart": start, "byteEnd": start + 11}},
                {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "law"}],
                 "index": {"byteStart": text.find('#').unwrap(), "byteEnd": text.find('#').unwrap() + 4}},
                {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org"}],
                 "index": {"byteStart": text.find("https").unwrap(), "byteEnd": text.len()}},
            ])
        );
    }

    #[test]
    fn nothing_panics_on_odd_text() {
        for text in
            ["", "#", "@", "@.", "@-.-", "(@", "#\u{FE0F}", "＃", "@a.b\u{0301}", "# #", "http://", "\u{200D}#x"]
        {
            let found = detect(text);
            let _ = facets(&found, &HashMap::new());
        }
    }
}

//! Post length as each network counts it, so nothing is refused or cut by the server.
//!
//! Mastodon counts grapheme clusters, with every URL that has a scheme counted as
//! `characters_reserved_per_url` and `@user@domain` counted as `@user` (its
//! `StatusLengthValidator`). Bluesky counts graphemes with URLs in full (300 per record), and
//! a record's text may also hold at most 3,000 bytes of UTF-8. X weighs code points, URLs and
//! emoji sequences with twitter-text's config v3 (see [`twitter`]). LinkedIn holds a post's
//! commentary, once escaped for its "little text" format, to 3,000 (see [`linkedin`]). Threads
//! takes 500 characters, an emoji counting the bytes of its UTF-8 ("Threads Posts",
//! Limitations); a Facebook Page post 63,206 (see [`FACEBOOK_MAX`]).

pub mod linkedin;
pub mod twitter;

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::network::Network;

/// How a network measures a post, and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Counter {
    /// Graphemes; a URL counts as `url`; a remote mention counts without its domain.
    Mastodon { max: usize, url: usize },
    /// Graphemes, everything counted as written.
    Bluesky { max: usize },
    /// twitter-text's weighted length (config v3): most CJK and other code points weigh 2, a URL
    /// 23, an emoji sequence 2, after NFC.
    X { max: usize },
    /// The commentary as sent (little text, escapes included), in UTF-16 code units.
    LinkedIn { max: usize },
    /// UTF-16 code units (Facebook's limit is in characters; never fewer than those).
    Facebook { max: usize },
    /// Code points, an emoji's counting as its UTF-8 bytes.
    Threads { max: usize },
}

/// The longest Page post: Facebook's status limit of 63,206 characters, as widely cited (the
/// Graph API reference gives none); a digest of a long session stays far below it.
pub const FACEBOOK_MAX: usize = 63_206;

/// "Threads Posts", Limitations: text posts are limited to 500 characters.
pub const THREADS_MAX: usize = 500;

/// A post's length as Threads counts it: each character one, an emoji the bytes of its UTF-8
/// ("Threads Posts", Limitations: "emojis are counted as their UTF-8 byte length"). Digits, `#`
/// and `*` are emoji components but count one, as plain text.
pub fn threads_len(text: &str) -> usize {
    use unicode_properties::UnicodeEmoji;
    text.chars().map(|c| if !c.is_ascii() && c.is_emoji_char_or_emoji_component() { c.len_utf8() } else { 1 }).sum()
}

impl Counter {
    /// The limits a network has when the server has not told us its own.
    pub fn default_for(network: Network) -> Counter {
        match network {
            Network::Mastodon => Counter::Mastodon { max: 500, url: 23 },
            Network::Bluesky => Counter::Bluesky { max: 300 },
            Network::X => Counter::X { max: twitter::V3.max_weighted_length },
            Network::LinkedIn => Counter::LinkedIn { max: linkedin::MAX },
            Network::Facebook => Counter::Facebook { max: FACEBOOK_MAX },
            Network::Threads => Counter::Threads { max: THREADS_MAX },
        }
    }

    /// The most a post may count.
    pub fn max(&self) -> usize {
        match *self {
            Counter::Mastodon { max, .. }
            | Counter::Bluesky { max }
            | Counter::X { max }
            | Counter::LinkedIn { max }
            | Counter::Facebook { max }
            | Counter::Threads { max } => max,
        }
    }

    /// The same count with `room` kept free (for text added at send time).
    pub fn reserve(self, room: usize) -> Counter {
        let less = |max: usize| max.saturating_sub(room).max(1);
        match self {
            Counter::Mastodon { max, url } => Counter::Mastodon { max: less(max), url },
            Counter::Bluesky { max } => Counter::Bluesky { max: less(max) },
            Counter::X { max } => Counter::X { max: less(max) },
            Counter::LinkedIn { max } => Counter::LinkedIn { max: less(max) },
            Counter::Facebook { max } => Counter::Facebook { max: less(max) },
            Counter::Threads { max } => Counter::Threads { max: less(max) },
        }
    }

    /// The length of `text` as the network counts it.
    pub fn len(&self, text: &str) -> usize {
        match *self {
            Counter::Mastodon { url, .. } => mastodon_len(text, url),
            Counter::Bluesky { .. } => graphemes(text),
            Counter::X { .. } => twitter::weighted_length(text, &twitter::V3),
            Counter::LinkedIn { .. } => linkedin::len(text),
            Counter::Facebook { .. } => text.encode_utf16().count(),
            Counter::Threads { .. } => threads_len(text),
        }
    }

    pub fn fits(&self, text: &str) -> bool {
        let bytes_ok = match self {
            Counter::Bluesky { .. } => text.len() <= BLUESKY_MAX_BYTES,
            _ => true,
        };
        bytes_ok && self.len(text) <= self.max()
    }
}

/// The lexicon's `maxLength` of a post's text, in UTF-8 bytes (beside its 300 graphemes).
pub const BLUESKY_MAX_BYTES: usize = 3000;

/// Extended grapheme clusters, as Mastodon (Ruby's `each_grapheme_cluster`) and Bluesky count.
pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

/// The URLs with a scheme in `text`, as byte ranges.
pub fn url_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    finder.url_must_have_scheme(true);
    finder.links(text).map(|l| l.start()..l.end()).collect()
}

static REMOTE_MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(^|[^/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)@([a-z0-9.-]+[a-z0-9]+)").expect("static regex")
});

/// Mastodon's count: URLs weigh `url_weight`, `@user@domain` weighs as `@user`.
pub fn mastodon_len(text: &str, url_weight: usize) -> usize {
    let mut total = 0;
    let mut rest_start = 0;
    for span in url_spans(text) {
        total += mastodon_plain_len(&text[rest_start..span.start]);
        total += url_weight;
        rest_start = span.end;
    }
    total + mastodon_plain_len(&text[rest_start..])
}

fn mastodon_plain_len(text: &str) -> usize {
    let mut total = graphemes(text);
    for caps in REMOTE_MENTION.captures_iter(text) {
        if let Some(domain) = caps.get(3) {
            // "@domain" is not counted.
            total -= graphemes(domain.as_str()) + 1;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_counts_like_the_server() {
        let long_url = format!("https://example.org/{}", "a".repeat(200));
        let cases: &[(&str, usize)] = &[
            ("hello", 5),
            ("", 0),
            // Family emoji: one grapheme of several code points.
            ("👨‍👩‍👧‍👦", 1),
            ("é", 1), // e + combining accent
            ("https://example.org", 23),
            ("see https://example.org/x?y=1 now", 4 + 23 + 4),
            ("example.org", 11), // no scheme: counted as text
            ("@ada@mastodon.example hi", 4 + 3),
            ("@ada hi", 7),
            ("mail a@b.example", 16), // not a mention: preceded by a word character
        ];
        for (text, want) in cases {
            assert_eq!(mastodon_len(text, 23), *want, "{text:?}");
        }
        assert_eq!(mastodon_len(&long_url, 23), 23);
    }

    #[test]
    fn counters_apply_their_limits() {
        let m = Counter::Mastodon { max: 10, url: 23 };
        assert!(m.fits("0123456789"));
        assert!(!m.fits("0123456789a"));
        let b = Counter::Bluesky { max: 300 };
        assert_eq!(b.len("https://example.org"), 19);
        assert!(b.fits(&"ü".repeat(300)));
        assert!(!b.fits(&"ü".repeat(301)));
        // 300 graphemes of 25 bytes each: within the grapheme count, over the 3,000 bytes.
        let families = "👨‍👩‍👧‍👦".repeat(300);
        assert_eq!(b.len(&families), 300);
        assert!(!b.fits(&families));
        assert!(b.fits(&"👨‍👩‍👧‍👦".repeat(120)));
        let x = Counter::default_for(Network::X);
        assert_eq!(x, Counter::X { max: 280 });
        assert!(x.fits(&"故".repeat(140)));
        assert!(!x.fits(&"故".repeat(141)));
        assert_eq!(x.len("https://example.org/a/long/path"), 23);
        assert_eq!(x.reserve(8).max(), 272);
        let t = Counter::default_for(Network::Threads);
        assert!(t.fits(&"a".repeat(500)));
        assert!(!t.fits(&"a".repeat(501)));
        assert_eq!(Counter::default_for(Network::Facebook).max(), 63_206);
    }

    #[test]
    fn threads_counts_an_emoji_as_its_utf8_bytes() {
        let cases: &[(&str, usize)] = &[
            ("hello", 5),
            ("café", 4), // é is no emoji: one
            ("😀", 4),   // U+1F600: four bytes
            ("❤", 3),    // U+2764: three bytes
            ("#1 *", 4), // emoji components, but ASCII: one each
            ("👍🏽", 8),   // a thumb and a skin tone: four bytes each
        ];
        for (text, want) in cases {
            assert_eq!(threads_len(text), *want, "{text:?}");
        }
    }
}

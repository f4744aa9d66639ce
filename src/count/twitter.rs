//! X's weighted post length: twitter-text's `parseTweet`, written for loudhailer (pure).
//!
//! X counts a post after NFC normalization. Each code point weighs the config's `defaultWeight`
//! (200, i.e. two characters) unless it falls in a weight-100 range (Latin and most European
//! scripts, general punctuation); every URL weighs `transformedURLLength` (23) whatever its
//! length; with `emojiParsingEnabled` (config v3) every emoji sequence, however many code points
//! it has, weighs `defaultWeight`. A post is valid up to `maxWeightedTweetLength` (280).
//!
//! The configs are twitter-text's `config/v2.json` and `config/v3.json` (Apache-2.0, Twitter,
//! Inc.), copied here as values. URLs follow twitter-text's extraction rules closely enough for
//! its conformance cases: a scheme is optional, the last label must be a top-level domain (the
//! public suffix list's ICANN section, via `psl`), every label must fit DNS's 63 octets once
//! punycode-encoded, and a bare `name.cc` without a scheme or path is not a link. Indices in
//! [`Parsed`] are UTF-16 code units, as twitter-text reports them.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::UnicodeEmoji;
use unicode_segmentation::UnicodeSegmentation;

/// A twitter-text weighting config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub max_weighted_length: usize,
    pub scale: usize,
    pub default_weight: usize,
    pub transformed_url_length: usize,
    /// Inclusive code point ranges and their weight.
    pub ranges: &'static [(u32, u32, usize)],
    pub emoji_parsing: bool,
}

/// The four weight-100 ranges shared by v2 and v3.
const RANGES: &[(u32, u32, usize)] = &[(0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100)];

/// twitter-text `config/v2.json`.
pub const V2: Config = Config {
    max_weighted_length: 280,
    scale: 100,
    default_weight: 200,
    transformed_url_length: 23,
    ranges: RANGES,
    emoji_parsing: false,
};

/// twitter-text `config/v3.json`: v2 with emoji sequences weighing as one character of weight 2.
pub const V3: Config = Config { emoji_parsing: true, ..V2 };

/// What twitter-text's `parseTweet` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub weighted_length: usize,
    pub valid: bool,
    /// The weighted length in thousandths of the limit, rounded down.
    pub permillage: usize,
    /// UTF-16 indices, inclusive.
    pub display_range: (usize, usize),
    pub valid_range: (usize, usize),
}

/// Parses `text` as twitter-text does with `config`.
pub fn parse(text: &str, config: &Config) -> Parsed {
    let normalized: String = text.nfc().collect();
    let scale = config.scale.max(1);
    let limit = config.max_weighted_length * scale;
    let mut weighted = 0usize;
    let mut valid = true;
    let mut valid_end: i64 = 0;
    let mut utf16 = 0usize;
    for (range, weight) in units(&normalized, config) {
        let piece = &normalized[range];
        weighted += weight;
        utf16 += piece.encode_utf16().count();
        let last = utf16 as i64 - 1;
        if valid {
            valid = !piece.chars().last().is_some_and(is_invalid_char);
        }
        if valid && weighted <= limit {
            valid_end = last;
        }
    }
    let original_utf16 = text.encode_utf16().count();
    let offset = original_utf16 as i64 - utf16 as i64;
    let weighted_length = weighted / scale;
    Parsed {
        weighted_length,
        valid: valid && weighted_length > 0 && weighted_length <= config.max_weighted_length,
        permillage: weighted * 1000 / limit.max(1),
        display_range: (0, original_utf16.saturating_sub(1)),
        valid_range: (0, (valid_end + offset).max(0) as usize),
    }
}

/// The weighted length of `text` with `config`.
pub fn weighted_length(text: &str, config: &Config) -> usize {
    parse(text, config).weighted_length
}

/// The counted pieces of (normalized) `text`: URLs, emoji sequences and single code points, each
/// with its scaled weight.
fn units(text: &str, config: &Config) -> Vec<(Range<usize>, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    let plain = |out: &mut Vec<(Range<usize>, usize)>, from: usize, to: usize| {
        let segment = &text[from..to];
        if config.emoji_parsing {
            for (i, g) in segment.grapheme_indices(true) {
                if is_emoji_sequence(g) {
                    out.push((from + i..from + i + g.len(), config.default_weight));
                } else {
                    for (j, c) in g.char_indices() {
                        out.push((from + i + j..from + i + j + c.len_utf8(), char_weight(c, config)));
                    }
                }
            }
        } else {
            for (j, c) in segment.char_indices() {
                out.push((from + j..from + j + c.len_utf8(), char_weight(c, config)));
            }
        }
    };
    for url in url_spans(text) {
        plain(&mut out, at, url.start);
        out.push((url.clone(), config.transformed_url_length * config.scale));
        at = url.end;
    }
    plain(&mut out, at, text.len());
    out
}

fn char_weight(c: char, config: &Config) -> usize {
    let cp = c as u32;
    config.ranges.iter().find(|(start, end, _)| (*start..=*end).contains(&cp)).map_or(config.default_weight, |r| r.2)
}

/// Characters that make a post invalid.
fn is_invalid_char(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

/// Whether a grapheme cluster is an emoji sequence: a keycap, a flag, or a cluster that starts
/// with an emoji character (modifiers, ZWJ sequences and tag sequences stay in its cluster).
/// ASCII digits, `#` and `*` have the Emoji property too, but alone they are text.
fn is_emoji_sequence(g: &str) -> bool {
    let Some(first) = g.chars().next() else {
        return false;
    };
    g.contains('\u{20E3}')
        || unicode_properties::emoji::is_regional_indicator(first)
        || (!first.is_ascii() && first.is_emoji_char())
}

// --- URLs, after twitter-text's extractUrlsWithIndices ---

/// The longest URL twitter-text accepts.
const MAX_URL_LENGTH: usize = 4096;
/// The longest DNS label, in octets, once punycode-encoded.
const MAX_LABEL: usize = 63;
const MAX_TCO_SLUG: usize = 40;

/// Whether X finds a URL in `text` (X bills such posts at a higher price).
pub fn has_url(text: &str) -> bool {
    let normalized: String = text.nfc().collect();
    !url_spans(&normalized).is_empty()
}

/// The URLs X would count as 23 in `text` (already NFC), as byte ranges, in order.
pub fn url_spans(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if !text.contains('.') {
        return out;
    }
    let mut i = 0;
    while i < text.len() {
        let before = text[..i].chars().next_back();
        if before.is_none_or(precedes_url) {
            if let Some(m) = match_url(text, i) {
                if let Some(span) = m.accepted(text, before) {
                    out.push(span);
                }
                i = m.end.max(i + 1);
                continue;
            }
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// What the URL pattern matched at one position, before the checks that may reject it.
#[derive(Debug)]
struct UrlMatch {
    start: usize,
    end: usize,
    protocol: bool,
    domain: Range<usize>,
    labels: Vec<Range<usize>>,
    has_path: bool,
}

impl UrlMatch {
    /// The span counted as a URL, if the match survives twitter-text's checks.
    fn accepted(&self, text: &str, before: Option<char>) -> Option<Range<usize>> {
        let domain = &text[self.domain.clone()];
        if domain.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")) && !domain.is_ascii() {
            return None;
        }
        let mut encoded_domain = 0;
        for label in &self.labels {
            let label = &text[label.clone()];
            let encoded = if label.is_ascii() {
                label.len()
            } else {
                4 + idna::punycode::encode_str(label).map(|p| p.len()).unwrap_or(usize::MAX - 4)
            };
            if encoded == 0 || encoded > MAX_LABEL {
                return None;
            }
            encoded_domain += encoded + 1;
        }
        let url_len = self.end - self.start;
        let protocol_len = if self.protocol { 0 } else { "https://".len() };
        if protocol_len + url_len - domain.len() + encoded_domain.saturating_sub(1) > MAX_URL_LENGTH {
            return None;
        }
        if self.protocol {
            return self.tco(text);
        }
        // Without a scheme: ASCII domains only, not after - _ . /, and not a bare name.cc.
        if before.is_some_and(|c| matches!(c, '-' | '_' | '.' | '/')) || !domain.chars().all(ascii_domain_char) {
            return None;
        }
        let tld = &text[self.labels[self.labels.len() - 1].clone()];
        let short = self.labels.len() == 2 && tld.len() == 2 && tld.is_ascii();
        let special = short && (tld.eq_ignore_ascii_case("co") || tld.eq_ignore_ascii_case("tv"));
        if short && !self.has_path && !special {
            return None;
        }
        Some(self.start..self.end)
    }

    /// `t.co` links keep only their slug.
    fn tco(&self, text: &str) -> Option<Range<usize>> {
        if !text[self.domain.clone()].eq_ignore_ascii_case("t.co") || !self.has_path {
            return Some(self.start..self.end);
        }
        let slug_start = self.domain.end + 1;
        let slug: usize = text[slug_start..self.end].chars().take_while(char::is_ascii_alphanumeric).count();
        if slug > MAX_TCO_SLUG {
            None
        } else {
            Some(self.start..slug_start + slug)
        }
    }
}

/// twitter-text's validUrlPrecedingChars: not a letter, digit, `@`, `$` or `#` (ASCII or
/// full-width), nor an invalid character.
fn precedes_url(c: char) -> bool {
    !(c.is_ascii_alphanumeric() || matches!(c, '@' | '＠' | '$' | '#' | '＃') || is_invalid_char(c))
}

fn is_space(c: char) -> bool {
    matches!(c, '\u{9}'..='\u{D}' | ' ' | '\u{85}' | '\u{A0}' | '\u{1680}' | '\u{180E}' | '\u{2000}'..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

fn is_directional(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2066}'..='\u{2069}')
}

/// twitter-text's validDomainChars: anything but punctuation, spaces, invalid characters and
/// directional marks (and, here, control characters).
fn domain_char(c: char) -> bool {
    !(c.is_ascii_punctuation() || is_space(c) || is_invalid_char(c) || is_directional(c) || c.is_control())
}

fn ascii_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || latin_accent(c)
}

fn latin_accent(c: char) -> bool {
    matches!(c, '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{24F}' | '\u{253}'..='\u{254}' | '\u{256}'..='\u{257}' | '\u{259}' | '\u{25B}' | '\u{263}' | '\u{268}' | '\u{26F}' | '\u{272}' | '\u{289}' | '\u{28B}' | '\u{2BB}' | '\u{300}'..='\u{36F}' | '\u{1E00}'..='\u{1EFF}')
}

fn cyrillic(c: char) -> bool {
    matches!(c, '\u{400}'..='\u{4FF}' | '\u{500}'..='\u{527}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!*';:=+,.$/%#[]-_~@|&\u{2013}".contains(c) || cyrillic(c) || latin_accent(c)
}

fn path_end_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+-=_#/".contains(c) || cyrillic(c) || latin_accent(c)
}

fn query_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!?*'@();:&=+$/%#[]-_.,~|".contains(c)
}

fn query_end_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_&=#/".contains(c)
}

/// Whether a single label is a top-level domain X links.
fn is_tld(label: &str) -> bool {
    let lower = label.to_lowercase();
    if lower.starts_with("xn--") && lower.len() > 4 && lower.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return true;
    }
    let known = |name: &str| {
        psl::suffix(name.as_bytes()).is_some_and(|s| s.is_known() && s.typ() == Some(psl::Type::Icann))
            && !name.contains('.')
    };
    if lower.is_ascii() {
        return lower.chars().all(|c| c.is_ascii_alphabetic()) && known(&lower);
    }
    known(&lower) || idna::domain_to_ascii(&lower).is_ok_and(|a| known(&a))
}

/// A URL pattern match starting at byte `start`: an optional `http(s)://`, a domain ending in a
/// top-level domain, an optional port, path and query.
fn match_url(text: &str, start: usize) -> Option<UrlMatch> {
    let rest = &text[start..];
    let protocol = ["https://", "http://"]
        .iter()
        .find(|p| rest.len() >= p.len() && rest.is_char_boundary(p.len()) && rest[..p.len()].eq_ignore_ascii_case(p))
        .map(|p| p.len());
    if let Some(p) = protocol {
        if let Some(m) = match_domain_and_rest(text, start, start + p, true) {
            return Some(m);
        }
    }
    match_domain_and_rest(text, start, start, false)
}

fn match_domain_and_rest(text: &str, start: usize, domain_start: usize, protocol: bool) -> Option<UrlMatch> {
    // Labels: runs of domain characters, `-` and `_`, separated by single dots.
    let mut labels: Vec<Range<usize>> = Vec::new();
    let mut at = domain_start;
    loop {
        let from = at;
        for (i, c) in text[from..].char_indices() {
            if domain_char(c) || c == '-' || c == '_' {
                at = from + i + c.len_utf8();
            } else {
                break;
            }
        }
        if at == from {
            break;
        }
        labels.push(from..at);
        let next = text[at..].chars().next();
        let after = text[at..].chars().nth(1);
        if next == Some('.') && after.is_some_and(domain_char) {
            at += 1;
        } else {
            break;
        }
    }
    // The longest run of labels that ends in a top-level domain at a boundary.
    let mut k = labels.len();
    let domain_end = loop {
        if k < 2 {
            return None;
        }
        let tld = &text[labels[k - 1].clone()];
        let end = labels[k - 1].end;
        let boundary = text[end..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || "@+-".contains(c)));
        let names_ok = labels[..k - 1].iter().enumerate().all(|(i, r)| {
            let l = &text[r.clone()];
            let edges = l.chars().next().is_some_and(domain_char) && l.chars().last().is_some_and(domain_char);
            edges && (i + 2 < k || !l.contains('_'))
        });
        if boundary && names_ok && is_tld(tld) {
            break end;
        }
        k -= 1;
    };
    labels.truncate(k);
    let mut end = domain_end;
    // Port.
    if text[end..].starts_with(':') {
        let digits = text[end + 1..].chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    // Path: path characters and balanced parentheses, ending on an ending character.
    let mut has_path = false;
    if text[end..].starts_with('/') {
        has_path = true;
        let mut depth = 0i32;
        let mut last_good = end + 1;
        let mut p = end + 1;
        for c in text[end + 1..].chars() {
            let ok = match c {
                '(' => {
                    depth += 1;
                    true
                }
                ')' if depth > 0 => {
                    depth -= 1;
                    true
                }
                c => path_char(c),
            };
            if !ok {
                break;
            }
            p += c.len_utf8();
            if depth == 0 && (path_end_char(c) || c == ')') {
                last_good = p;
            }
        }
        end = last_good;
    }
    // Query.
    if text[end..].starts_with('?') {
        let mut last_good = None;
        let mut p = end + 1;
        for c in text[end + 1..].chars() {
            if !query_char(c) {
                break;
            }
            p += c.len_utf8();
            if query_end_char(c) {
                last_good = Some(p);
            }
        }
        if let Some(q) = last_good {
            end = q;
        }
    }
    Some(UrlMatch { start, end, protocol, domain: domain_start..domain_end, labels, has_path })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<&str> {
        url_spans(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn urls_as_x_links_them() {
        let cases: &[(&str, &[&str])] = &[
            ("Hi http://test.co", &["http://test.co"]),
            ("see example.com now", &["example.com"]),
            ("see example.org/x?y=1. Then", &["example.org/x?y=1"]),
            ("(https://example.org/a_(b))", &["https://example.org/a_(b)"]),
            ("https://example.org/path.", &["https://example.org/path"]),
            ("a bare foo.de is not linked", &[]),
            ("but .co and .tv are: test.co", &["test.co"]),
            ("and foo.de/path is", &["foo.de/path"]),
            ("e.g. this is not", &[]),
            ("no TLD: http://localhost", &[]),
            ("unknown TLD: foo.notatld", &[]),
            ("an address: ada@example.org", &[]),
            ("two: a.com,b.org", &["a.com", "b.org"]),
            ("port: https://example.org:8443/x", &["https://example.org:8443/x"]),
            ("upper: HTTPS://EXAMPLE.ORG", &["HTTPS://EXAMPLE.ORG"]),
            ("after a dash -example.com", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(urls(text), *want, "{text:?}");
        }
    }

    #[test]
    fn weights_follow_the_config() {
        let cases: &[(&str, usize)] = &[
            ("hello", 5),
            ("", 0),
            ("故人", 4),
            ("é", 1),
            ("👨‍👩‍👧‍👦", 2),
            ("1⃣", 2),
            ("🇬🇧", 2),
            ("see https://example.org/a/very/long/path/indeed/and/more", 4 + 23),
            ("example.com", 23),
            ("“quoted” — dashes", 17),
        ];
        for (text, want) in cases {
            assert_eq!(weighted_length(text, &V3), *want, "{text:?}");
        }
        // Without emoji parsing, each code point of a ZWJ sequence counts.
        assert_eq!(weighted_length("👨‍👩‍👧‍👦", &V2), 4 * 2 + 3);
    }

    #[test]
    fn validity_and_ranges() {
        let p = parse(&"x".repeat(281), &V3);
        assert_eq!((p.weighted_length, p.valid, p.permillage), (281, false, 1003));
        assert_eq!(p.valid_range, (0, 279));
        assert_eq!(p.display_range, (0, 280));
        let p = parse(&"x".repeat(280), &V3);
        assert!(p.valid);
        assert!(!parse("", &V3).valid);
        assert!(!parse("a\u{FFFF}", &V3).valid);
    }
}

//! LinkedIn's "little text" format for `commentary`, read the way LinkedIn reads it, so the test
//! server shows the text a member would see.
//!
//! Source: NOTES.md §1a (learn.microsoft.com/.../shares/little-text-format): plain text, mentions
//! `@[Name](urn:li:person:…|urn:li:organization:…)`, hashtags `#word`, and the HashtagTemplate
//! `{hashtag|#|Word}` (sign `#` or `＃`); every reserved character must be backslash-escaped to
//! be read as text, even outside any element. The reserved set is
//! `\ | { } @ [ ] ( ) < > # * _ ~` (NOTES §1a, from third-party quotes of the page's grammar),
//! and an unescaped one cuts the post off there: LinkedIn publishes it, silently shortened
//! (NOTES §1a, ComposioHQ/composio#2710).

/// The characters that must be escaped (NOTES §1a).
pub const RESERVED: [char; 15] = ['\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~'];

/// Commentary as LinkedIn shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The text a reader sees: escapes resolved, a mention as its name, a hashtag as `#word`.
    pub text: String,
    /// Where the text was cut: the character index in the commentary as sent, and the reserved
    /// character found there unescaped.
    pub cut: Option<(usize, char)>,
    /// URNs mentioned.
    pub mentions: Vec<String>,
    /// Hashtags, without their sign.
    pub hashtags: Vec<String>,
}

/// Reads `source` as little text.
pub fn read(source: &str) -> Shown {
    let chars: Vec<char> = source.chars().collect();
    let mut shown = Shown { text: String::new(), cut: None, mentions: Vec::new(), hashtags: Vec::new() };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            match chars.get(i + 1) {
                Some(&next) => {
                    shown.text.push(next);
                    i += 2;
                }
                None => {
                    shown.cut = Some((i, c));
                    break;
                }
            }
            continue;
        }
        if !RESERVED.contains(&c) {
            shown.text.push(c);
            i += 1;
            continue;
        }
        let element = match c {
            '#' => hashtag(&chars, i),
            '@' => mention(&chars, i),
            '{' => template(&chars, i),
            _ => None,
        };
        match element {
            Some((end, Element::Hashtag(tag))) => {
                shown.text.push('#');
                shown.text.push_str(&tag);
                shown.hashtags.push(tag);
                i = end;
            }
            Some((end, Element::Mention(name, urn))) => {
                shown.text.push_str(&name);
                shown.mentions.push(urn);
                i = end;
            }
            None => {
                shown.cut = Some((i, c));
                break;
            }
        }
    }
    shown
}

/// Escapes every reserved character: what a client sends for text meant literally.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

enum Element {
    Hashtag(String),
    Mention(String, String),
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// `#word`: a sign followed by at least one letter or digit.
fn hashtag(chars: &[char], at: usize) -> Option<(usize, Element)> {
    let end = chars[at + 1..].iter().position(|c| !is_tag_char(*c)).map_or(chars.len(), |p| at + 1 + p);
    (end > at + 1).then(|| (end, Element::Hashtag(chars[at + 1..end].iter().collect())))
}

/// `@[Name](urn:li:person:…)` or `@[Name](urn:li:organization:…)`; the name may hold escapes.
fn mention(chars: &[char], at: usize) -> Option<(usize, Element)> {
    if chars.get(at + 1) != Some(&'[') {
        return None;
    }
    let mut name = String::new();
    let mut i = at + 2;
    loop {
        match chars.get(i)? {
            '\\' => {
                name.push(*chars.get(i + 1)?);
                i += 2;
            }
            ']' => break,
            c if RESERVED.contains(c) => return None,
            c => {
                name.push(*c);
                i += 1;
            }
        }
    }
    if chars.get(i + 1) != Some(&'(') {
        return None;
    }
    let close = chars[i + 2..].iter().position(|c| *c == ')')? + i + 2;
    let urn: String = chars[i + 2..close].iter().collect();
    let known = ["urn:li:person:", "urn:li:organization:"];
    let ok = known.iter().any(|p| urn.strip_prefix(p).is_some_and(|id| !id.is_empty()));
    (ok && !name.is_empty()).then(|| (close + 1, Element::Mention(name, urn)))
}

/// `{hashtag|#|Word}` or `{hashtag|＃|Word}` (the sign may also be written `\#`).
fn template(chars: &[char], at: usize) -> Option<(usize, Element)> {
    let close = chars[at..].iter().position(|c| *c == '}')? + at;
    let inner: String = chars[at + 1..close].iter().collect();
    let mut parts = inner.split('|');
    let (kind, sign, word) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = kind == "hashtag"
        && matches!(sign, "#" | "＃" | "\\#")
        && parts.next().is_none()
        && !word.is_empty()
        && word.chars().all(is_tag_char);
    ok.then(|| (close + 1, Element::Hashtag(word.to_string())))
}

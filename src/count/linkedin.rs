//! LinkedIn's "little text" format for a post's `commentary` (and a comment's text), written
//! for loudhailer (pure): the text a person wrote, made into commentary LinkedIn shows whole.
//!
//! In little text, `\ | { } @ [ ] ( ) < > # * _ ~` are reserved: each must be escaped with a
//! backslash to be read as text, even outside any element, or LinkedIn publishes the post cut
//! off at the first unescaped one (learn.microsoft.com, Community Management, "Little Text
//! Format"; the reserved set as quoted by OpenPost's `linkedInPlaintextEscaper` and Postiz's
//! `fixText`; the silent cut seen in ComposioHQ/composio#2710; see
//! `../shared/specs/linkedin/NOTES.md` §1a). Two elements are kept as elements: a hashtag
//! `#word` (a `#` followed by a letter or digit stays clickable), and a mention
//! `@[Name](urn:li:person:…)` or `@[Name](urn:li:organization:…)`, which the composer writes for a
//! speaker with a LinkedIn URN (the name's own reserved characters escaped). Everything else
//! reserved is escaped.
//!
//! Length: LinkedIn's limit on `commentary` is not published; 3,000 characters is what
//! third-party clients hold to (NOTES §1 "Text length", UNCONFIRMED). loudhailer measures the
//! commentary as sent, escapes included, in UTF-16 code units (LinkedIn's services run on the JVM,
//! whose strings count those; never fewer than the characters), so whatever LinkedIn counts, a
//! post that fits here fits there.

/// The characters little text reserves.
pub const RESERVED: [char; 15] = ['\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~'];

/// The most a post's commentary may count (NOTES §1, UNCONFIRMED: third parties' figure).
pub const MAX: usize = 3000;

/// A mention element for a speaker's LinkedIn URN: `@[Name](urn)`, the name escaped.
pub fn mention(name: &str, urn: &str) -> String {
    format!("@[{}]({urn})", escape_all(name))
}

/// Whether `urn` names a member or an organisation, the two a mention may name.
pub fn is_mentionable(urn: &str) -> bool {
    ["urn:li:person:", "urn:li:organization:"].iter().any(|p| {
        urn.strip_prefix(p)
            .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    })
}

/// Every reserved character escaped: text meant literally.
pub fn escape_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The commentary for `text`: hashtags and mentions kept as elements, every other reserved
/// character escaped.
pub fn commentary(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '#' && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()) {
            out.push('#');
            i += 1;
            while i < chars.len() && chars[i].is_alphanumeric() {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        if c == '@' {
            if let Some((end, written)) = mention_at(&chars, i) {
                out.push_str(&written);
                i = end;
                continue;
            }
        }
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// A mention element written by [`mention`] starting at `at`: where it ends, and its text as it
/// goes out (already escaped inside, as `mention` made it).
fn mention_at(chars: &[char], at: usize) -> Option<(usize, String)> {
    if chars.get(at + 1) != Some(&'[') {
        return None;
    }
    let mut i = at + 2;
    loop {
        match chars.get(i)? {
            '\\' => {
                RESERVED.contains(chars.get(i + 1)?).then_some(())?;
                i += 2;
            }
            ']' => break,
            c if RESERVED.contains(c) => return None,
            _ => i += 1,
        }
    }
    if i == at + 2 || chars.get(i + 1) != Some(&'(') {
        return None;
    }
    let close = chars[i + 2..].iter().position(|c| *c == ')')? + i + 2;
    let urn: String = chars[i + 2..close].iter().collect();
    is_mentionable(&urn).then(|| (close + 1, chars[at..=close].iter().collect()))
}

/// The length LinkedIn is held to: the commentary as sent, in UTF-16 code units.
pub fn len(text: &str) -> usize {
    commentary(text).encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_are_escaped_and_elements_kept() {
        let cases: &[(&str, &str)] = &[
            ("plain text", "plain text"),
            ("Keynote (Hall A)", r"Keynote \(Hall A\)"),
            (r"a\b|c{d}e", r"a\\b\|c\{d\}e"),
            ("[x] <y> *z* _u_ ~v~", r"\[x\] \<y\> \*z\* \_u\_ \~v\~"),
            ("mail ada@example.org", r"mail ada\@example.org"),
            ("#EMIEP and #2026", "#EMIEP and #2026"),
            ("# alone, #, ##x", r"\# alone, \#, \##x"),
            ("café #Ünïcode", "café #Ünïcode"),
            ("@[Ada Lovelace](urn:li:person:AdaL01) spoke", "@[Ada Lovelace](urn:li:person:AdaL01) spoke"),
            ("@[Council](urn:li:organization:2414183)", "@[Council](urn:li:organization:2414183)"),
            // Not a mention LinkedIn knows: every reserved character escaped.
            ("@[Ada](https://example.org)", r"\@\[Ada\]\(https://example.org\)"),
            ("@[Ada](urn:li:activity:1)", r"\@\[Ada\]\(urn:li:activity:1\)"),
            ("@[](urn:li:person:1)", r"\@\[\]\(urn:li:person:1\)"),
        ];
        for (text, want) in cases {
            assert_eq!(commentary(text), *want, "{text:?}");
        }
    }

    #[test]
    fn a_mentioned_name_is_escaped_inside_its_element() {
        let m = mention("Ada (she/her)", "urn:li:person:AdaL01");
        assert_eq!(m, r"@[Ada \(she/her\)](urn:li:person:AdaL01)");
        assert_eq!(commentary(&format!("with {m} #EMIEP")), format!("with {m} #EMIEP"));
        assert!(is_mentionable("urn:li:person:AdaL01"));
        assert!(!is_mentionable("urn:li:person:"));
        assert!(!is_mentionable("urn:li:share:1"));
        assert!(!is_mentionable("urn:li:person:a b"));
    }

    #[test]
    fn length_is_the_escaped_commentary_in_utf16() {
        assert_eq!(len("abc"), 3);
        assert_eq!(len("(a)"), 5);
        assert_eq!(len("#tag"), 4);
        // One code point outside the BMP: two UTF-16 units.
        assert_eq!(len("😀"), 2);
        assert_eq!(len(&"a".repeat(MAX)), MAX);
    }
}

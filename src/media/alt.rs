//! Alt text against each network's limit, counted the way that network counts it.
//!
//! The limits and how they are counted, from the networks' own sources:
//! - Mastodon: `configuration.media_attachments.description_limit` of `GET /api/v2/instance`
//!   (1,500 in the documented example, `shared/specs/mastodon-openapi/dist/schema.json`,
//!   `Instance.configuration.media_attachments`; the field came with 4.4, and 1,500 was the fixed
//!   limit before it). Mastodon checks `validates :description, length: { maximum: … }` in
//!   `app/models/media_attachment.rb`: Ruby's `String#length`, Unicode characters (code points).
//! - Bluesky: the lexicon sets no limit (`shared/specs/atproto-lexicons/lexicons/app/bsky/embed/
//!   images.json`, `#image.alt` is a plain required string, `""` allowed). The official app caps
//!   it at `MAX_ALT_TEXT = 2000` (bluesky-social/social-app `src/lib/constants.ts`) and counts
//!   JavaScript's `altText.length` (`ImageAltTextDialog.tsx`, `AltTextCounterWrapper.tsx`):
//!   UTF-16 code units, so an emoji outside the BMP counts 2. Staying within it keeps the alt
//!   text whole in the app that most people read Bluesky with.
//! - X: `POST /2/media/metadata`, `CreateMediaMetadataMetadataAltText.text` has `maxLength: 1000`
//!   (`shared/specs/x-openapi/openapi.json`); a JSON Schema `maxLength` counts characters (code
//!   points).

use std::fmt;

use unicode_segmentation::UnicodeSegmentation;

use crate::network::Network;

/// What a network counts in alt text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AltUnit {
    /// Unicode scalar values (Ruby's `String#length`, JSON Schema's `maxLength`).
    Chars,
    /// UTF-16 code units (JavaScript's `String.length`).
    Utf16,
    /// Extended grapheme clusters, what a reader sees as one character.
    Graphemes,
}

impl AltUnit {
    pub fn count(self, text: &str) -> usize {
        match self {
            AltUnit::Chars => text.chars().count(),
            AltUnit::Utf16 => text.encode_utf16().count(),
            AltUnit::Graphemes => text.graphemes(true).count(),
        }
    }
}

impl fmt::Display for AltUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AltUnit::Chars => "characters",
            AltUnit::Utf16 => "UTF-16 units (characters, with emoji counting 2)",
            AltUnit::Graphemes => "characters (graphemes)",
        })
    }
}

/// The longest alt text a network takes, and what it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AltLimit {
    pub network: Network,
    pub max: usize,
    pub unit: AltUnit,
}

impl AltLimit {
    /// Mastodon's limit when the server does not say (`description_limit`, Mastodon 4.4+).
    pub const MASTODON: AltLimit = AltLimit { network: Network::Mastodon, max: 1500, unit: AltUnit::Chars };
    pub const BLUESKY: AltLimit = AltLimit { network: Network::Bluesky, max: 2000, unit: AltUnit::Utf16 };
    pub const X: AltLimit = AltLimit { network: Network::X, max: 1000, unit: AltUnit::Chars };
    /// LinkedIn publishes no alt-text limit in the material loudhailer reads (NOTES.md has none):
    /// X's 1,000 characters is taken as a safe guess (UNCONFIRMED).
    pub const LINKEDIN: AltLimit = AltLimit { network: Network::LinkedIn, max: 1000, unit: AltUnit::Chars };
    /// Facebook and Threads: no limit in the material loudhailer reads (Page.json's photo
    /// parameters, the Threads collection's `alt_text`); the same safe guess (UNCONFIRMED).
    pub const FACEBOOK: AltLimit = AltLimit { network: Network::Facebook, max: 1000, unit: AltUnit::Chars };
    pub const THREADS: AltLimit = AltLimit { network: Network::Threads, max: 1000, unit: AltUnit::Chars };

    /// The built-in limit for a network (Mastodon's default; a server's own is in
    /// [`super::Limits::from_mastodon_instance`]).
    pub fn of(network: Network) -> AltLimit {
        match network {
            Network::Mastodon => AltLimit::MASTODON,
            Network::Bluesky => AltLimit::BLUESKY,
            Network::X => AltLimit::X,
            Network::LinkedIn => AltLimit::LINKEDIN,
            Network::Facebook => AltLimit::FACEBOOK,
            Network::Threads => AltLimit::THREADS,
        }
    }
}

/// Alt text that may be posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AltCheck {
    /// Describes the image; `length` in the network's unit.
    Described { length: usize },
    /// `alt = ""`: the image is decorative and screen readers skip it. Allowed, with a warning.
    Decorative,
}

impl AltCheck {
    /// The warning to show for a decorative image.
    pub fn warning(&self) -> Option<&'static str> {
        match self {
            AltCheck::Decorative => Some(
                "alt = \"\" marks the image as decorative: screen readers will skip it; describe it \
                 unless it adds nothing to the post",
            ),
            AltCheck::Described { .. } => None,
        }
    }
}

/// Why alt text cannot be posted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AltError {
    #[error(
        "the image has no alt text: describe it with alt = \"…\" (a slide's words, who is speaking), or \
         write alt = \"\" if it is only decorative"
    )]
    Missing,
    #[error("the alt text is only blank space: describe the image, or write alt = \"\" if it is only decorative")]
    Blank,
    #[error("the alt text is {length} {unit}, over {network}'s limit of {max}: shorten it by {}", length - max)]
    TooLong { network: Network, length: usize, max: usize, unit: AltUnit },
}

/// Checks an image's alt text (`None`: none was given) against a network's limit. Pure.
pub fn check_alt(alt: Option<&str>, limit: AltLimit) -> Result<AltCheck, AltError> {
    let text = alt.ok_or(AltError::Missing)?;
    if text.is_empty() {
        return Ok(AltCheck::Decorative);
    }
    if text.trim().is_empty() {
        return Err(AltError::Blank);
    }
    let length = limit.unit.count(text);
    if length > limit.max {
        return Err(AltError::TooLong { network: limit.network, length, max: limit.max, unit: limit.unit });
    }
    Ok(AltCheck::Described { length })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeat(s: &str, n: usize) -> String {
        s.repeat(n)
    }

    #[test]
    fn alt_text_is_checked_at_each_networks_limit() {
        // (limit, text, expected length or None when too long)
        let family = "👨\u{200d}👩\u{200d}👧"; // 1 grapheme, 5 chars, 8 UTF-16 units
        let cases: Vec<(AltLimit, String, Result<usize, usize>)> = vec![
            (AltLimit::MASTODON, repeat("a", 1499), Ok(1499)),
            (AltLimit::MASTODON, repeat("a", 1500), Ok(1500)),
            (AltLimit::MASTODON, repeat("a", 1501), Err(1501)),
            (AltLimit::X, repeat("é", 999), Ok(999)),
            (AltLimit::X, repeat("é", 1000), Ok(1000)),
            (AltLimit::X, repeat("é", 1001), Err(1001)),
            (AltLimit::BLUESKY, repeat("a", 1999), Ok(1999)),
            (AltLimit::BLUESKY, repeat("a", 2000), Ok(2000)),
            (AltLimit::BLUESKY, repeat("a", 2001), Err(2001)),
            // Counting as each network counts: 250 family emoji are 250 graphemes, 1,250
            // characters (fits Mastodon, not X) and 2,000 UTF-16 units (just fits Bluesky).
            (AltLimit::MASTODON, repeat(family, 250), Ok(1250)),
            (AltLimit::X, repeat(family, 250), Err(1250)),
            (AltLimit::BLUESKY, repeat(family, 250), Ok(2000)),
            (AltLimit::BLUESKY, repeat(family, 250) + "a", Err(2001)),
            // An emoji outside the BMP is one character on Mastodon, two units on Bluesky.
            (AltLimit::MASTODON, repeat("📷", 1500), Ok(1500)),
            (AltLimit::BLUESKY, repeat("📷", 1000), Ok(2000)),
            (AltLimit::BLUESKY, repeat("📷", 1001), Err(2002)),
        ];
        for (limit, text, want) in cases {
            let got = check_alt(Some(&text), limit);
            match want {
                Ok(length) => assert_eq!(got, Ok(AltCheck::Described { length }), "{limit:?}"),
                Err(length) => assert_eq!(
                    got,
                    Err(AltError::TooLong { network: limit.network, length, max: limit.max, unit: limit.unit }),
                    "{limit:?}"
                ),
            }
        }
    }

    #[test]
    fn missing_alt_is_refused_and_empty_alt_is_decorative_with_a_warning() {
        for network in Network::ALL {
            let limit = AltLimit::of(network);
            assert_eq!(check_alt(None, limit), Err(AltError::Missing));
            assert_eq!(check_alt(Some(" \n\t"), limit), Err(AltError::Blank));
            let decorative = check_alt(Some(""), limit);
            assert_eq!(decorative, Ok(AltCheck::Decorative));
            assert!(decorative.unwrap().warning().is_some_and(|w| w.contains("decorative")));
            let described = check_alt(Some("The speaker at the lectern"), limit).unwrap();
            assert_eq!(described.warning(), None);
        }
    }

    #[test]
    fn errors_say_what_is_wrong_and_how_to_fix_it() {
        let long = "a".repeat(1003);
        let e = check_alt(Some(&long), AltLimit::X).unwrap_err();
        assert_eq!(e.to_string(), "the alt text is 1003 characters, over x's limit of 1000: shorten it by 3");
        assert!(AltError::Missing.to_string().contains("alt = \"\""));
    }
}

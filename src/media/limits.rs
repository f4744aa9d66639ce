//! What each network accepts as an image: bytes, pixels and formats, from its published limits.

use serde_json::Value;

use super::alt::AltLimit;
use crate::network::Network;

/// The formats loudhailer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Jpeg,
    Png,
}

impl Encoding {
    pub fn mime(self) -> &'static str {
        match self {
            Encoding::Jpeg => "image/jpeg",
            Encoding::Png => "image/png",
        }
    }
}

/// One network's limits for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub network: Network,
    /// The largest file, in bytes.
    pub max_bytes: u64,
    /// The most pixels (width × height), if the network sets a limit.
    pub max_pixels: Option<u64>,
    /// The longest side, in pixels, if the network sets (or its app uses) one.
    pub max_side: Option<u32>,
    /// The formats it takes, of those loudhailer writes.
    pub encodings: Vec<Encoding>,
    pub alt: AltLimit,
}

/// Mastodon's limits when a server does not publish them, as Mastodon documents them for
/// `GET /api/v1/instance` (`shared/specs/mastodon-openapi/dist/schema.json`, the `V1Instance`
/// example: `image_size_limit` 10,485,760, `image_matrix_limit` 16,777,216). Servers on 4.4+
/// publish larger ones (the `Instance` example: 16,777,216 bytes, 33,177,600 pixels), so the
/// older, smaller pair is the safe guess for a server that says nothing.
const MASTODON_DEFAULT_BYTES: u64 = 10_485_760;
const MASTODON_DEFAULT_PIXELS: u64 = 16_777_216;

impl Limits {
    /// Bluesky: 1,000,000 bytes. The lexicon's blob `maxSize` is 2,000,000 since atproto PR
    /// #4823 (`shared/specs/atproto-lexicons/lexicons/app/bsky/embed/images.json`, `#image.image`),
    /// but it was 1,000,000 before and older PDSes and AppViews still refuse more
    /// (`shared/PLATFORMS.md`, Bluesky, "Image + alt text"). At most 2,000 pixels a side, as the
    /// official app sends a 1 MB image (social-app `src/lib/constants.ts`,
    /// `IMAGE_SIZE_CONFIG_2K_1MB`): the AppView serves no larger, and a photo fits 1 MB at a good
    /// quality at that size. The post's `aspectRatio` is [`super::Prepared`]'s width and height.
    pub fn bluesky() -> Limits {
        Limits {
            network: Network::Bluesky,
            max_bytes: 1_000_000,
            max_pixels: None,
            max_side: Some(2000),
            encodings: vec![Encoding::Jpeg, Encoding::Png],
            alt: AltLimit::BLUESKY,
        }
    }

    /// X: an image of at most 5 MB (docs.x.com, X API, Media: "Size restrictions for uploading via
    /// API — Image: 5 MB"; taken as 5,000,000 bytes so that either reading of "MB" holds), JPEG,
    /// PNG, GIF or WebP, at most 8192×8192 pixels (X's media best practices for
    /// `media_category=tweet_image`).
    pub fn x() -> Limits {
        Limits {
            network: Network::X,
            max_bytes: 5_000_000,
            max_pixels: None,
            max_side: Some(8192),
            encodings: vec![Encoding::Jpeg, Encoding::Png],
            alt: AltLimit::X,
        }
    }

    /// Mastodon's limits when the server's are not known.
    pub fn mastodon_default() -> Limits {
        Limits {
            network: Network::Mastodon,
            max_bytes: MASTODON_DEFAULT_BYTES,
            max_pixels: Some(MASTODON_DEFAULT_PIXELS),
            max_side: None,
            encodings: vec![Encoding::Jpeg, Encoding::Png],
            alt: AltLimit::MASTODON,
        }
    }

    /// A Mastodon server's limits from its `GET /api/v2/instance` (or v1) answer:
    /// `configuration.media_attachments.{image_size_limit, image_matrix_limit,
    /// supported_mime_types, description_limit}`. A field that is absent, or not of the documented
    /// type, keeps [`Limits::mastodon_default`]'s value.
    pub fn from_mastodon_instance(instance: &Value) -> Limits {
        let mut limits = Limits::mastodon_default();
        let media = &instance["configuration"]["media_attachments"];
        let positive = |key: &str| media[key].as_u64().filter(|&n| n > 0);
        if let Some(n) = positive("image_size_limit") {
            limits.max_bytes = n;
        }
        if let Some(n) = positive("image_matrix_limit") {
            limits.max_pixels = Some(n);
        }
        if let Some(n) = positive("description_limit") {
            limits.alt.max = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(types) = media["supported_mime_types"].as_array() {
            let has = |mime: &str| types.iter().any(|t| t.as_str().is_some_and(|t| t.eq_ignore_ascii_case(mime)));
            limits.encodings = [Encoding::Jpeg, Encoding::Png].into_iter().filter(|e| has(e.mime())).collect();
        }
        limits
    }

    /// A thumbnail for a report: a JPEG of at most `side` pixels a side and `max_bytes` bytes.
    /// (`network` says nothing here; an error would name Mastodon.)
    pub fn thumbnail(side: u32, max_bytes: u64) -> Limits {
        Limits {
            network: Network::Mastodon,
            max_bytes,
            max_pixels: None,
            max_side: Some(side),
            encodings: vec![Encoding::Jpeg],
            alt: AltLimit::MASTODON,
        }
    }

    pub fn accepts(&self, encoding: Encoding) -> bool {
        self.encodings.contains(&encoding)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_mastodon_servers_published_limits_are_used() {
        let v2 = json!({"configuration": {"media_attachments": {
            "description_limit": 1500, "image_matrix_limit": 33177600, "image_size_limit": 16777216,
            "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/heic", "video/mp4"]
        }}});
        let l = Limits::from_mastodon_instance(&v2);
        assert_eq!(l.network, Network::Mastodon);
        assert_eq!(l.max_bytes, 16_777_216);
        assert_eq!(l.max_pixels, Some(33_177_600));
        assert_eq!(l.max_side, None);
        assert_eq!(l.encodings, vec![Encoding::Jpeg, Encoding::Png]);
        assert_eq!(l.alt.max, 1500);
    }

    #[test]
    fn missing_or_odd_fields_keep_mastodons_documented_defaults() {
        let cases = [
            json!({}),
            json!({"configuration": {}}),
            json!({"configuration": {"media_attachments": {
                "image_size_limit": "big", "image_matrix_limit": -1, "description_limit": null
            }}}),
        ];
        for v in cases {
            assert_eq!(Limits::from_mastodon_instance(&v), Limits::mastodon_default(), "{v}");
        }
        let d = Limits::mastodon_default();
        assert_eq!((d.max_bytes, d.max_pixels, d.alt.max), (10_485_760, Some(16_777_216), 1500));
    }

    #[test]
    fn a_server_that_lists_only_some_formats_gets_only_those() {
        let only_jpeg = json!({"configuration": {"media_attachments": {
            "supported_mime_types": ["image/jpeg", "video/mp4"], "description_limit": 420
        }}});
        let l = Limits::from_mastodon_instance(&only_jpeg);
        assert_eq!(l.encodings, vec![Encoding::Jpeg]);
        assert!(!l.accepts(Encoding::Png));
        assert_eq!(l.alt.max, 420);
        let none = json!({"configuration": {"media_attachments": {"supported_mime_types": ["video/mp4"]}}});
        assert!(Limits::from_mastodon_instance(&none).encodings.is_empty());
    }
}

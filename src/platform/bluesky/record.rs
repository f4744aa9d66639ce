//! Bluesky records and keys (pure): TIDs for record keys, `app.bsky.feed.post` and
//! `app.bsky.feed.repost` records as the lexicon types of `atrium-api` define them (with an
//! `app.bsky.embed.images` embed for a post's images), strong refs, and the web address of a post.

use std::str::FromStr;

use atrium_api::app::bsky::embed::{defs::AspectRatioData, images};
use atrium_api::app::bsky::feed::{post, repost};
use atrium_api::app::bsky::richtext::facet::Main as Facet;
use atrium_api::com::atproto::repo::strong_ref;
use atrium_api::record::KnownRecord;
use atrium_api::types::string::{Cid, Datetime, Language, Tid};
use atrium_api::types::{BlobRef, LimitedU32, Union};
use chrono::{DateTime, Utc};

use crate::job::{MediaRef, RemoteRef};
use crate::platform::Attachment;

/// The collection of posts.
pub const POST: &str = "app.bsky.feed.post";
/// The collection of reposts.
pub const REPOST: &str = "app.bsky.feed.repost";

/// A record key for a new record: the TID of `now`, or of the microsecond after `last` if
/// `now` is not later (two keys of one client never collide), with `clock_id` (0–1023) in its
/// low bits. Returns the key and the microsecond it used.
pub fn tid(now: DateTime<Utc>, last: i64, clock_id: u32) -> (String, i64) {
    let micros = now.timestamp_micros().max(last.saturating_add(1)).max(0);
    let at = DateTime::from_timestamp_micros(micros).unwrap_or(now);
    let clock = LimitedU32::<1023>::try_from(clock_id % 1024).unwrap_or(LimitedU32::MIN);
    (Tid::from_datetime(clock, at).as_str().to_string(), micros)
}

/// Whether `key` is a valid TID (the record key posts and reposts need).
pub fn is_tid(key: &str) -> bool {
    Tid::new(key.to_string()).is_ok()
}

/// A reference to a record by URI and content hash.
pub fn strong_ref(target: &RemoteRef) -> Result<strong_ref::Main, String> {
    let uri = target.uri.as_deref().unwrap_or(&target.id);
    if !uri.starts_with("at://") {
        return Err(format!("{uri} is not a Bluesky post (no at:// URI)"));
    }
    let cid = target.cid.as_deref().ok_or_else(|| format!("{uri} has no CID stored"))?;
    let cid = Cid::from_str(cid).map_err(|e| format!("{uri} has an invalid CID {cid:?}: {e}"))?;
    Ok(strong_ref::MainData { cid, uri: uri.to_string() }.into())
}

/// The lexicon's timestamp for `at`, as every attempt of one job sends it.
pub fn datetime(at: DateTime<Utc>) -> Datetime {
    Datetime::new(at.fixed_offset())
}

/// An `app.bsky.embed.images` embed: each uploaded blob with its alt text and `aspectRatio`.
pub fn images_embed(attached: &[Attachment<'_>]) -> Result<Union<post::RecordEmbedRefs>, String> {
    let mut list = Vec::with_capacity(attached.len());
    for a in attached {
        list.push(image(a.media, a.alt)?);
    }
    let embed = images::MainData { images: list };
    Ok(Union::Refs(post::RecordEmbedRefs::AppBskyEmbedImagesMain(Box::new(embed.into()))))
}

fn image(media: &MediaRef, alt: &str) -> Result<images::Image, String> {
    let blob = media.blob.clone().ok_or_else(|| format!("the upload {} has no blob stored", media.id))?;
    let blob: BlobRef =
        serde_json::from_value(blob).map_err(|e| format!("the upload {} is not a blob: {e}", media.id))?;
    let aspect_ratio =
        match (std::num::NonZeroU64::new(media.width.into()), std::num::NonZeroU64::new(media.height.into())) {
            (Some(width), Some(height)) => Some(AspectRatioData { width, height }.into()),
            _ => None,
        };
    Ok(images::ImageData { alt: alt.to_string(), aspect_ratio, image: blob }.into())
}

/// A post record. `reply` is `(root, parent)`.
pub fn post(
    text: &str,
    facets: Vec<Facet>,
    reply: Option<(strong_ref::Main, strong_ref::Main)>,
    language: Option<&str>,
    created_at: DateTime<Utc>,
    embed: Option<Union<post::RecordEmbedRefs>>,
) -> KnownRecord {
    let langs = language.and_then(|l| Language::new(l.to_string()).ok()).map(|l| vec![l]);
    post::RecordData {
        created_at: datetime(created_at),
        embed,
        entities: None,
        facets: (!facets.is_empty()).then_some(facets),
        labels: None,
        langs,
        reply: reply.map(|(root, parent)| post::ReplyRefData { root, parent }.into()),
        tags: None,
        text: text.to_string(),
    }
    .into()
}

/// A repost record of `subject`.
pub fn repost(subject: strong_ref::Main, created_at: DateTime<Utc>) -> KnownRecord {
    repost::RecordData { created_at: datetime(created_at), subject, via: None }.into()
}

/// The record key at the end of an at:// URI.
pub fn rkey(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or(uri)
}

/// The address of a post on bsky.app, which a person can open.
pub fn post_url(handle_or_did: &str, uri: &str) -> String {
    format!("https://bsky.app/profile/{handle_or_did}/post/{}", rkey(uri))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const CID: &str = "bafyreiakjysges5gqcg5yc2btbqyglrekv4ikboapvljxzv5pvm77zrnxi";

    fn at(s: i64, micros: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(s, micros * 1000).unwrap()
    }

    #[test]
    fn keys_are_tids_that_never_repeat() {
        let now = at(1_795_435_500, 123_456);
        let (a, used) = tid(now, 0, 7);
        assert!(is_tid(&a), "{a}");
        assert_eq!(a.len(), 13);
        assert_eq!(used, now.timestamp_micros());
        // The same instant again (or an earlier one) moves on by a microsecond.
        let (b, used_b) = tid(now, used, 7);
        let (c, _) = tid(at(1_700_000_000, 0), used_b, 7);
        assert!(a < b && b < c, "{a} {b} {c}: TIDs sort by time");
        // The clock id only changes the low bits.
        assert_ne!(tid(now, 0, 8).0, a);
        assert_eq!(tid(now, 0, 8).0[..11], a[..11]);
        for bad in ["", "3lzzzzzzzzz2", "3lzzzzzzzzz22x", "0lzzzzzzzzz22", "3LZZZZZZZZZ22", "550e8400-e29b"] {
            assert!(!is_tid(bad), "{bad}");
        }
    }

    #[test]
    fn post_records_carry_what_the_lexicon_asks() {
        let root = RemoteRef {
            id: "at://did:plc:a/app.bsky.feed.post/3lzzzzzzzzz22".into(),
            uri: Some("at://did:plc:a/app.bsky.feed.post/3lzzzzzzzzz22".into()),
            cid: Some(CID.into()),
            url: None,
        };
        let parent_uri = "at://did:plc:a/app.bsky.feed.post/3lzzzzzzzzz23";
        let parent = RemoteRef { id: parent_uri.into(), uri: Some(parent_uri.into()), ..root.clone() };
        let reply = (strong_ref(&root).unwrap(), strong_ref(&parent).unwrap());
        let record = post("Hello", vec![], Some(reply), Some("en"), at(1_795_435_500, 5), None);
        assert_eq!(
            serde_json::to_value(&record).unwrap(),
            serde_json::json!({
                "$type": "app.bsky.feed.post",
                "text": "Hello",
                "createdAt": "2026-11-23T12:05:00.000005Z",
                "langs": ["en"],
                "reply": {
                    "root": {"uri": root.id, "cid": CID},
                    "parent": {"uri": parent.id, "cid": CID},
                },
            })
        );
        let plain = post("Hi", vec![], None, None, at(0, 0), None);
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            serde_json::json!({"$type": "app.bsky.feed.post", "text": "Hi", "createdAt": "1970-01-01T00:00:00.000000Z"})
        );
        let boost = repost(strong_ref(&root).unwrap(), at(0, 0));
        assert_eq!(
            serde_json::to_value(&boost).unwrap(),
            serde_json::json!({"$type": "app.bsky.feed.repost", "subject": {"uri": root.id, "cid": CID}, "createdAt": "1970-01-01T00:00:00.000000Z"})
        );
    }

    #[test]
    fn images_are_embedded_with_their_alt_text_and_aspect_ratio() {
        const BLOB: &str = "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy";
        let blob =
            serde_json::json!({"$type": "blob", "ref": {"$link": BLOB}, "mimeType": "image/jpeg", "size": 912345});
        let media = MediaRef {
            id: BLOB.into(),
            blob: Some(blob.clone()),
            width: 1500,
            height: 2000,
            at: at(0, 0),
            expires: None,
        };
        let attached =
            [Attachment { media: &media, alt: "The slide: Equality impact" }, Attachment { media: &media, alt: "" }];
        let record = post("With a photo", vec![], None, None, at(0, 0), Some(images_embed(&attached).unwrap()));
        let v = serde_json::to_value(&record).unwrap();
        assert_eq!(
            v["embed"],
            serde_json::json!({
                "$type": "app.bsky.embed.images",
                "images": [
                    {"alt": "The slide: Equality impact", "aspectRatio": {"width": 1500, "height": 2000}, "image": blob},
                    {"alt": "", "aspectRatio": {"width": 1500, "height": 2000}, "image": blob},
                ],
            })
        );
        let no_blob = MediaRef { blob: None, ..media };
        assert!(images_embed(&[Attachment { media: &no_blob, alt: "x" }]).unwrap_err().contains("no blob"));
    }

    #[test]
    fn strong_refs_need_an_at_uri_and_a_cid() {
        let mastodon =
            RemoteRef { id: "109".into(), url: Some("https://m.example/@a/109".into()), ..Default::default() };
        assert!(strong_ref(&mastodon).unwrap_err().contains("not a Bluesky post"));
        let no_cid = RemoteRef { id: "at://did:plc:a/app.bsky.feed.post/3lzzzzzzzzz22".into(), ..Default::default() };
        assert!(strong_ref(&no_cid).unwrap_err().contains("no CID"));
        let bad_cid = RemoteRef { cid: Some("nope".into()), ..no_cid };
        assert!(strong_ref(&bad_cid).unwrap_err().contains("invalid CID"));
    }

    #[test]
    fn post_urls_open_on_bsky_app() {
        let uri = "at://did:plc:abc/app.bsky.feed.post/3lzzzzzzzzz22";
        assert_eq!(post_url("ada.test", uri), "https://bsky.app/profile/ada.test/post/3lzzzzzzzzz22");
        assert_eq!(rkey(uri), "3lzzzzzzzzz22");
    }
}

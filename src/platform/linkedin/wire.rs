//! What loudhailer sends LinkedIn and reads back (pure): post, reshare and comment bodies, URNs in
//! paths and queries as Rest.li 2.0 encodes them, error bodies, and the counts of each read.
//! Sources are `../shared/specs/linkedin/NOTES.md` sections (and the pages they cite).

use serde::Deserialize;
use serde_json::{json, Value};

use crate::metrics::Counts;

/// A URN as a whole path segment: every reserved character percent-encoded (NOTES §0 "URNs in
/// the path", L-PROTO: `/rest/posts/urn%3Ali%3Ashare%3A123`).
pub fn path_urn(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

/// A URN inside a query value: encoded, while Rest.li's own `List( … )` and `(key:value)` stay
/// literal around it (NOTES §0 "URNs in query values"). The query is therefore built by hand.
pub fn query_urn(urn: &str) -> String {
    path_urn(urn)
}

/// `List(a,b,…)` of encoded URNs.
pub fn query_list(urns: &[&str]) -> String {
    format!("List({})", urns.iter().map(|u| query_urn(u)).collect::<Vec<_>>().join(","))
}

/// What kind of thing a URN names: `share`, `ugcPost`, `comment`, `person`, `organization`…
pub fn urn_kind(urn: &str) -> Option<&str> {
    let rest = urn.strip_prefix("urn:li:")?;
    let (kind, id) = rest.split_once(':')?;
    (!id.is_empty()).then_some(kind)
}

/// Whether a URN names a post that can be reshared (NOTES §2: a share or a ugcPost, never an
/// activity).
pub fn is_post(urn: &str) -> bool {
    matches!(urn_kind(urn), Some("share" | "ugcPost"))
}

/// The web address of a post (NOTES §1 Response, POSTIZ).
pub fn post_url(urn: &str) -> String {
    format!("https://www.linkedin.com/feed/update/{urn}")
}

/// The web address of a comment: its post's, naming the comment.
pub fn comment_url(post: &str, comment: &str) -> String {
    format!("{}?commentUrn={}", post_url(post), path_urn(comment))
}

/// `POST /rest/posts`: a post (NOTES §1 request body), or with `reshare_of` a reshare with empty
/// commentary (NOTES §2).
pub fn post_body(author: &str, commentary: &str, reshare_of: Option<&str>) -> Value {
    let mut body = json!({
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    });
    if let Some(parent) = reshare_of {
        body["reshareContext"] = json!({ "parent": parent });
    }
    body
}

/// `POST /rest/socialActions/{post}/comments` (NOTES §3).
pub fn comment_body(actor: &str, post: &str, text: &str) -> Value {
    json!({ "actor": actor, "object": post, "message": { "text": text } })
}

/// A LinkedIn error body (NOTES §0 "Error body", "Validation errors").
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub service_error_code: Option<i64>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub error_details: Option<ErrorDetails>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetails {
    #[serde(default)]
    pub input_errors: Vec<InputError>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InputError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl ErrorBody {
    pub fn parse(body: &[u8]) -> ErrorBody {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// LinkedIn's own words: the message, and each input error's description where it adds one.
    pub fn words(&self, body: &[u8]) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(code) = &self.code {
            parts.push(code.clone());
        }
        if let Some(m) = &self.message {
            parts.push(m.clone());
        }
        for e in self.error_details.iter().flat_map(|d| &d.input_errors) {
            if let Some(d) = &e.description {
                if !parts.iter().any(|p| p.contains(d.as_str())) {
                    parts.push(d.clone());
                }
            }
        }
        if parts.is_empty() {
            return crate::platform::http::error_message(body);
        }
        parts.join(": ")
    }

    /// The post LinkedIn says this one duplicates (422 `DUPLICATE_POST`, "Content is a duplicate
    /// of urn:li:share:…"; NOTES §1 errors, Arisamiga/Linkedin-RSS#5).
    pub fn duplicate_of(&self) -> Option<String> {
        let coded = self
            .error_details
            .iter()
            .flat_map(|d| &d.input_errors)
            .any(|e| e.code.as_deref() == Some("DUPLICATE_POST"));
        let texts = self
            .error_details
            .iter()
            .flat_map(|d| &d.input_errors)
            .filter_map(|e| e.description.as_deref())
            .chain(self.message.as_deref());
        let mut named = None;
        for t in texts {
            if let Some(urn) = first_post_urn(t) {
                named = Some(urn);
                break;
            }
        }
        let said = self.message.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("duplicate"));
        if coded || said {
            named
        } else {
            None
        }
    }

    /// Whether the answer says the token is expired or revoked (401 65600 / 65601).
    pub fn token_dead(&self) -> bool {
        matches!(self.service_error_code, Some(65600 | 65601))
    }
}

/// The first `urn:li:share:…` or `urn:li:ugcPost:…` in a text.
fn first_post_urn(text: &str) -> Option<String> {
    for prefix in ["urn:li:share:", "urn:li:ugcPost:"] {
        if let Some(at) = text.find(prefix) {
            let rest = &text[at + prefix.len()..];
            let id: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if !id.is_empty() {
                return Some(format!("{prefix}{id}"));
            }
        }
    }
    None
}

/// A comment in `GET /rest/socialActions/{post}/comments` (NOTES §3; the same fields as a
/// created comment's answer).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentRead {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub comment_urn: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub message: Option<MessageRead>,
}

#[derive(Debug, Deserialize)]
pub struct MessageRead {
    #[serde(default)]
    pub text: Option<String>,
}

/// `{elements: [...]}`, Rest.li's collection (NOTES §0 "List responses").
#[derive(Debug, Deserialize)]
pub struct Elements<T> {
    #[serde(default = "Vec::new")]
    pub elements: Vec<T>,
}

/// `socialMetadata` (NOTES §5a; LATE's shape): reactions of every type, and comments.
pub fn counts_from_metadata(v: &Value) -> Counts {
    let likes = v["reactionSummaries"].as_object().map(|m| m.values().filter_map(|r| r["count"].as_u64()).sum());
    Counts { likes, replies: v["commentSummary"]["count"].as_u64(), reposts: None, quotes: None, views: None }
}

/// One element of `organizationalEntityShareStatistics` (NOTES §5d): its post and counts.
pub fn counts_from_share_statistics(element: &Value) -> Option<(String, Counts)> {
    let urn = element["share"].as_str().or_else(|| element["ugcPost"].as_str())?.to_string();
    let t = &element["totalShareStatistics"];
    Some((
        urn,
        Counts {
            likes: t["likeCount"].as_u64(),
            replies: t["commentCount"].as_u64(),
            reposts: t["shareCount"].as_u64(),
            quotes: None,
            views: t["impressionCount"].as_u64(),
        },
    ))
}

/// `memberCreatorPostAnalytics` (NOTES §5c): the elements' counts added up; none, unknown.
pub fn total_count(v: &Value) -> Option<u64> {
    let elements = v["elements"].as_array()?;
    elements.iter().map(|e| e["count"].as_u64()).sum()
}

/// `memberCreatorPostAnalytics`'s `entity` for a post, as a Rest.li union: `(share:…)` or
/// `(ugc:…)` (NOTES §5c).
pub fn analytics_entity(urn: &str) -> String {
    let key = if urn_kind(urn) == Some("ugcPost") { "ugc" } else { "share" };
    format!("({key}:{})", query_urn(urn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_are_encoded_as_restli_wants() {
        assert_eq!(path_urn("urn:li:share:123"), "urn%3Ali%3Ashare%3A123");
        assert_eq!(
            path_urn("urn:li:comment:(urn:li:activity:1,2)"),
            "urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A1%2C2%29"
        );
        assert_eq!(
            query_list(&["urn:li:share:1", "urn:li:share:2"]),
            "List(urn%3Ali%3Ashare%3A1,urn%3Ali%3Ashare%3A2)"
        );
        assert_eq!(analytics_entity("urn:li:share:9"), "(share:urn%3Ali%3Ashare%3A9)");
        assert_eq!(analytics_entity("urn:li:ugcPost:9"), "(ugc:urn%3Ali%3AugcPost%3A9)");
    }

    #[test]
    fn only_shares_and_ugc_posts_are_reshared() {
        for (urn, ok) in [
            ("urn:li:share:1", true),
            ("urn:li:ugcPost:1", true),
            ("urn:li:activity:1", false),
            ("urn:li:comment:(urn:li:activity:1,2)", false),
            ("urn:li:share:", false),
            ("12345", false),
        ] {
            assert_eq!(is_post(urn), ok, "{urn}");
        }
    }

    #[test]
    fn bodies_have_linkedins_fields() {
        let b = post_body("urn:li:person:A", "hi", None);
        assert_eq!(b["distribution"]["feedDistribution"], "MAIN_FEED");
        assert!(b.get("reshareContext").is_none());
        let r = post_body("urn:li:organization:1", "", Some("urn:li:share:9"));
        assert_eq!(r["reshareContext"], json!({ "parent": "urn:li:share:9" }));
        assert_eq!(r["commentary"], "");
        let c = comment_body("urn:li:person:A", "urn:li:share:9", "a point");
        assert_eq!(
            c,
            json!({ "actor": "urn:li:person:A", "object": "urn:li:share:9", "message": { "text": "a point" } })
        );
    }

    #[test]
    fn errors_in_linkedins_words() {
        let dup = br#"{"errorDetailType":"com.linkedin.common.error.BadRequest","message":"Content is a duplicate of urn:li:share:7012345","errorDetails":{"inputErrors":[{"description":"Content is a duplicate of urn:li:share:7012345","input":{"inputPath":{"fieldPath":"/commentary"}},"code":"DUPLICATE_POST"}]},"status":422}"#;
        let e = ErrorBody::parse(dup);
        assert_eq!(e.duplicate_of().as_deref(), Some("urn:li:share:7012345"));
        assert_eq!(e.words(dup), "Content is a duplicate of urn:li:share:7012345");
        let other = br#"{"message":"commentary of 3100 characters","errorDetails":{"inputErrors":[{"code":"MAX_LENGTH_EXCEEDED","description":"commentary of 3100 characters"}]},"status":422}"#;
        assert_eq!(ErrorBody::parse(other).duplicate_of(), None);
        let revoked = br#"{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}"#;
        let e = ErrorBody::parse(revoked);
        assert!(e.token_dead());
        assert_eq!(
            e.words(revoked),
            "REVOKED_ACCESS_TOKEN: The token used in the request has been revoked by the user"
        );
        assert_eq!(ErrorBody::parse(b"<html>").words(b"<html>"), "<html>");
    }

    #[test]
    fn counts_are_read_and_unknown_stays_unknown() {
        let meta = json!({ "reactionSummaries": { "LIKE": { "count": 3 }, "PRAISE": { "count": 2 } }, "commentSummary": { "count": 4 } });
        assert_eq!(
            counts_from_metadata(&meta),
            Counts { likes: Some(5), replies: Some(4), reposts: None, quotes: None, views: None }
        );
        assert_eq!(counts_from_metadata(&json!({})), Counts::default());
        let stat = json!({ "share": "urn:li:share:1", "totalShareStatistics": { "likeCount": 1, "commentCount": 2, "shareCount": 3, "impressionCount": 40 } });
        assert_eq!(
            counts_from_share_statistics(&stat),
            Some((
                "urn:li:share:1".into(),
                Counts { likes: Some(1), replies: Some(2), reposts: Some(3), quotes: None, views: Some(40) }
            ))
        );
        assert_eq!(total_count(&json!({ "elements": [{ "count": 2 }, { "count": 5 }] })), Some(7));
        assert_eq!(total_count(&json!({ "elements": [{ "count": "x" }] })), None);
        assert_eq!(total_count(&json!({})), None);
    }
}

//! What X sends back, and how loudhailer reads it (pure): the JSON shapes, the server's words in
//! an error, and texts compared the way X stores them.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::count::twitter::url_spans;
use crate::metrics::Counts;

/// `{data, errors, meta}`, X's envelope.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    #[serde(default = "none")]
    pub data: Option<T>,
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
    #[serde(default)]
    pub meta: Option<Meta>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Default, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Post {
    pub id: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub public_metrics: Option<PublicMetrics>,
}

/// `public_metrics`: the spec (v2.167) says `repost_count`, the prose docs `retweet_count`;
/// either is read. A count X leaves out is unknown, never 0.
#[derive(Debug, Default, Deserialize)]
pub struct PublicMetrics {
    #[serde(default)]
    pub repost_count: Option<u64>,
    #[serde(default)]
    pub retweet_count: Option<u64>,
    #[serde(default)]
    pub reply_count: Option<u64>,
    #[serde(default)]
    pub like_count: Option<u64>,
    #[serde(default)]
    pub quote_count: Option<u64>,
    #[serde(default)]
    pub impression_count: Option<u64>,
}

impl PublicMetrics {
    pub fn counts(&self) -> Counts {
        Counts {
            likes: self.like_count,
            reposts: self.repost_count.or(self.retweet_count),
            replies: self.reply_count,
            quotes: self.quote_count,
            views: self.impression_count,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct Retweeted {
    #[serde(default)]
    pub retweeted: bool,
    #[serde(default)]
    pub rest_id: Option<String>,
}

/// An upload, as `POST /2/media/upload` and its `STATUS` answer name it.
#[derive(Debug, Deserialize)]
pub struct Media {
    pub id: String,
    #[serde(default)]
    pub expires_after_secs: Option<i64>,
    #[serde(default)]
    pub processing_info: Option<Processing>,
}

#[derive(Debug, Deserialize)]
pub struct Processing {
    /// pending, in_progress, failed or succeeded.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub check_after_secs: Option<u64>,
}

/// How many times an upload X is still processing is looked at.
pub const PROCESSING_POLLS: usize = 30;

impl Media {
    /// Whether X is still processing it (an image usually is not: no `processing_info`).
    pub fn processing(&self) -> bool {
        self.processing_info
            .as_ref()
            .and_then(|p| p.state.as_deref())
            .is_some_and(|s| s == "pending" || s == "in_progress")
    }

    /// Why X could not process it, if it could not.
    pub fn failure(&self) -> Option<&str> {
        self.processing_info.as_ref().and_then(|p| p.state.as_deref()).filter(|s| *s == "failed")
    }
}

/// The id a "not found" problem names (`resource_id`, or `value` for a bad `ids` entry).
pub fn missing_id(problem: &serde_json::Value) -> Option<&str> {
    problem.get("resource_id").or_else(|| problem.get("value")).and_then(|v| v.as_str())
}

/// The server's words in an error body: problem+json `detail` or `title`, `errors[0]`'s
/// `message` or `detail`, OAuth's `error_description` or `error`, or the start of the body.
pub fn message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let pick = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let first = v.get("errors").and_then(|e| e.get(0));
        let found = pick(&v, "detail")
            .or_else(|| first.and_then(|e| pick(e, "message").or_else(|| pick(e, "detail"))))
            .or_else(|| pick(&v, "message"))
            .or_else(|| pick(&v, "error_description"))
            .or_else(|| pick(&v, "title"))
            .or_else(|| pick(&v, "error"));
        if let Some(m) = found {
            return m;
        }
    }
    super::super::http::error_message(body)
}

/// X's refusal of a text it already has from this account.
pub fn is_duplicate(message: &str) -> bool {
    message.to_lowercase().contains("duplicate")
}

/// X's refusal to retweet twice (the retweet exists: the job is done).
pub fn is_already_retweeted(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("already") && (m.contains("retweet") || m.contains("repost"))
}

/// A text as loudhailer compares it with what X stored: NFC, `&amp;`/`&lt;`/`&gt;` unescaped
/// (X returns them escaped), every URL as one token (X stores t.co links), spaces collapsed.
pub fn comparable(text: &str) -> String {
    let text: String = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").nfc().collect();
    let mut out = String::new();
    let mut at = 0;
    for span in url_spans(&text) {
        out.push_str(&text[at..span.start]);
        out.push_str("\u{1}url\u{1}");
        at = span.end;
    }
    out.push_str(&text[at..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A post's address on x.com.
pub fn post_url(username: Option<&str>, id: &str) -> String {
    match username {
        Some(u) => format!("https://x.com/{u}/status/{id}"),
        None => format!("https://x.com/i/status/{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_words() {
        let cases: &[(&str, &str)] = &[
            // akrherz/iembot#163: what X sends for a repeated text.
            (
                r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#,
                "You are not allowed to create a Tweet with duplicate content.",
            ),
            (r#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#, "Rate limit exceeded"),
            (r#"{"code":88,"message":"Rate limit exceeded"}"#, "Rate limit exceeded"),
            (
                r#"{"error":"invalid_request","error_description":"Value passed for the token was invalid."}"#,
                "Value passed for the token was invalid.",
            ),
            (r#"{"title":"Unauthorized","type":"about:blank","status":401}"#, "Unauthorized"),
            ("<html>bad gateway</html>", "<html>bad gateway</html>"),
        ];
        for (body, want) in cases {
            assert_eq!(message(body.as_bytes()), *want, "{body}");
        }
        assert!(is_duplicate("You are not allowed to create a Tweet with duplicate content."));
        assert!(!is_duplicate("Reply to this conversation is not allowed"));
        assert!(is_already_retweeted("You cannot retweet a Tweet that you have already retweeted."));
        assert!(!is_already_retweeted("You are not allowed to retweet this Tweet."));
    }

    #[test]
    fn both_spellings_of_the_repost_count() {
        let new: Post = serde_json::from_str(r#"{"id":"1","text":"t","public_metrics":{"repost_count":3,"reply_count":1,"like_count":7,"quote_count":0,"bookmark_count":2,"impression_count":90}}"#).unwrap();
        let old: Post = serde_json::from_str(r#"{"id":"1","text":"t","public_metrics":{"retweet_count":3,"reply_count":1,"like_count":7,"quote_count":0}}"#).unwrap();
        let want = Counts { likes: Some(7), reposts: Some(3), replies: Some(1), quotes: Some(0), views: None };
        assert_eq!(new.public_metrics.unwrap().counts(), Counts { views: Some(90), ..want });
        assert_eq!(old.public_metrics.unwrap().counts(), want, "no impression_count: views unknown");
        let partial: Post = serde_json::from_str(r#"{"id":"1","public_metrics":{"like_count":2}}"#).unwrap();
        assert_eq!(partial.public_metrics.unwrap().counts(), Counts { likes: Some(2), ..Default::default() });
    }

    #[test]
    fn texts_compare_as_x_stores_them() {
        let cases: &[(&str, &str)] = &[
            ("Q&A at 10 <today> #EMIEP", "Q&amp;A at 10 &lt;today&gt; #EMIEP"),
            ("Slides: https://example.org/slides/1 #EMIEP", "Slides: https://t.co/AbC123 #EMIEP"),
            ("Caf\u{e9}", "Cafe\u{301}"),
            ("two  spaces", "two spaces"),
        ];
        for (ours, theirs) in cases {
            assert_eq!(comparable(ours), comparable(theirs), "{ours:?} vs {theirs:?}");
        }
        assert_ne!(comparable("2/4 The Act"), comparable("The Act"));
    }
}

//! `[[snippet]]`: texts the live desk posts with one tap ("coffee break!", "Lunch: back at
//! 13:30"), from every primary account, amplified like any other post.

use std::collections::HashSet;

use serde::Deserialize;

use super::error::Problems;
use super::values::S;

/// The longest a snippet's button label may be, in characters.
pub const MAX_LABEL: usize = 40;
/// The longest a snippet's text may be, in characters (longer texts continue in a thread).
pub const MAX_TEXT: usize = 5000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSnippet {
    pub text: S<String>,
    /// The button's words (default: the text itself).
    #[serde(default)]
    pub label: Option<S<String>>,
    /// Post it into the current session's thread rather than on its own.
    #[serde(default)]
    pub thread: Option<bool>,
}

/// A snippet, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// Unique among the snippets: what the desk's button says and sends.
    pub label: String,
    pub text: String,
    pub thread: bool,
}

/// Checks the `[[snippet]]` entries: a text, and labels no two alike.
pub(super) fn validate(raw: Vec<S<RawSnippet>>, p: &mut Problems<'_>) -> Vec<Snippet> {
    let mut out = Vec::new();
    let mut labels = HashSet::new();
    for (i, s) in raw.into_iter().enumerate() {
        let key = format!("snippet[{i}]");
        let s = s.into_inner();
        let text = s.text.get_ref().trim().to_string();
        if text.is_empty() {
            p.at(s.text.span(), format!("{key}.text"), "a snippet needs a text to post");
            continue;
        }
        if text.chars().count() > MAX_TEXT {
            p.at(s.text.span(), format!("{key}.text"), format!("longer than {MAX_TEXT} characters"));
            continue;
        }
        let (label, span) = match &s.label {
            Some(l) => (l.get_ref().trim().to_string(), l.span()),
            None => (text.clone(), s.text.span()),
        };
        if label.is_empty() || label.chars().count() > MAX_LABEL {
            let what = if s.label.is_some() { "label" } else { "text" };
            p.at(
                span,
                format!("{key}.{what}"),
                format!("a button label of 1 to {MAX_LABEL} characters is needed: add label = \"…\""),
            );
            continue;
        }
        if !labels.insert(label.to_lowercase()) {
            p.at(span, format!("{key}.label"), format!("another snippet has the label {label:?}"));
            continue;
        }
        out.push(Snippet { label, text, thread: s.thread.unwrap_or(false) });
    }
    out
}

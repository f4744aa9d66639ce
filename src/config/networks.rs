//! Per-network settings: `[linkedin]` (how a session's points go out, and the API version
//! pinned).

use serde::Deserialize;

use super::error::Problems;
use super::values::S;

/// How a thread's later posts go out on LinkedIn, which has no threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Points {
    /// As comments under the session's title post (the way OpenPost and Postiz post threads):
    /// one post per session in the feed, the points under it, one reshare per session.
    #[default]
    Comments,
    /// Each as a post of its own, each reshared.
    Posts,
}

/// `[linkedin]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLinkedIn {
    #[serde(default)]
    pub points: Option<S<String>>,
    #[serde(default)]
    pub version: Option<S<String>>,
}

/// The `LinkedIn-Version` loudhailer is written against: the latest in the notes it was built
/// from (`../shared/specs/linkedin/NOTES.md` §0, L-VER: monthly versions, each served for at
/// least a year).
pub const LINKEDIN_VERSION: &str = "202601";

/// `[linkedin]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedInSettings {
    pub points: Points,
    /// `YYYYMM` (or `YYYYMM.RR`).
    pub version: String,
}

impl Default for LinkedInSettings {
    fn default() -> Self {
        LinkedInSettings { points: Points::default(), version: LINKEDIN_VERSION.into() }
    }
}

pub(super) fn linkedin(raw: Option<RawLinkedIn>, p: &mut Problems<'_>) -> LinkedInSettings {
    let mut out = LinkedInSettings::default();
    let Some(raw) = raw else { return out };
    if let Some(points) = raw.points {
        match points.get_ref().as_str() {
            "comments" => out.points = Points::Comments,
            "posts" => out.points = Points::Posts,
            other => p.at(
                points.span(),
                "linkedin.points",
                format!("{other:?}: expected \"comments\" (under the title post) or \"posts\" (each its own post)"),
            ),
        }
    }
    if let Some(v) = raw.version {
        let text = v.get_ref().trim();
        if linkedin_version_ok(text) {
            out.version = text.to_string();
        } else {
            p.at(
                v.span(),
                "linkedin.version",
                format!("{text:?}: expected a LinkedIn-Version such as \"{LINKEDIN_VERSION}\" (YYYYMM)"),
            );
        }
    }
    out
}

/// `YYYYMM` or `YYYYMM.RR`, a real month.
pub fn linkedin_version_ok(v: &str) -> bool {
    let (month, release) = match v.split_once('.') {
        Some((m, r)) => (m, Some(r)),
        None => (v, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    digits(month, 6)
        && release.is_none_or(|r| digits(r, 2))
        && month[4..].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linkedin_versions() {
        for (v, ok) in [
            ("202601", true),
            ("202512.01", true),
            ("202613", false),
            ("202600", false),
            ("2026-01", false),
            ("20261", false),
            ("202601.1", false),
        ] {
            assert_eq!(linkedin_version_ok(v), ok, "{v}");
        }
    }
}

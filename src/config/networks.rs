//! Per-network settings: `[linkedin]` (how a session's points go out, and the API version
//! pinned), `[facebook]` (how a Page amplifies, and the Graph API version) and `[threads]` (the
//! API version).

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

/// How a Facebook Page amplifies, since it cannot share (the Graph API refuses to publish a share
/// of another post: reference/object/sharedposts, "Publishing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// One post per session when it ends: its title, its points, and a link to the thread.
    #[default]
    Digest,
    /// Each post quoted as a Page post, with a link to the original, on the boosts' timer.
    Quote,
}

/// The Graph API version loudhailer's Facebook client is written and checked against (the spec
/// files' version.txt in `../shared/specs/facebook-graph/`).
pub const GRAPH_VERSION: &str = "v25.0";
/// The Threads API version (the collection's requests and Meta's pages use v1.0).
pub const THREADS_VERSION: &str = "v1.0";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFacebook {
    #[serde(default)]
    pub mode: Option<S<String>>,
    #[serde(default)]
    pub version: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThreads {
    #[serde(default)]
    pub version: Option<S<String>>,
}

/// `[facebook]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacebookSettings {
    pub mode: Mode,
    /// `vNN.N`, in every Graph path.
    pub version: String,
}

impl Default for FacebookSettings {
    fn default() -> Self {
        FacebookSettings { mode: Mode::default(), version: GRAPH_VERSION.into() }
    }
}

pub(super) fn facebook(raw: Option<RawFacebook>, p: &mut Problems<'_>) -> FacebookSettings {
    let mut out = FacebookSettings::default();
    let Some(raw) = raw else { return out };
    if let Some(mode) = raw.mode {
        match mode.get_ref().as_str() {
            "digest" => out.mode = Mode::Digest,
            "quote" => out.mode = Mode::Quote,
            other => p.at(
                mode.span(),
                "facebook.mode",
                format!("{other:?}: expected \"digest\" (one post per session as it ends) or \"quote\" (each post quoted with a link)"),
            ),
        }
    }
    if let Some(v) = graph_version(raw.version, "facebook.version", p) {
        out.version = v;
    }
    out
}

/// `[threads] version`, or the default.
pub(super) fn threads(raw: Option<RawThreads>, p: &mut Problems<'_>) -> String {
    raw.and_then(|r| graph_version(r.version, "threads.version", p)).unwrap_or_else(|| THREADS_VERSION.into())
}

fn graph_version(v: Option<S<String>>, key: &str, p: &mut Problems<'_>) -> Option<String> {
    let v = v?;
    let text = v.get_ref().trim();
    if graph_version_ok(text) {
        Some(text.to_string())
    } else {
        p.at(v.span(), key, format!("{text:?}: expected an API version such as \"{GRAPH_VERSION}\""));
        None
    }
}

/// `vN.N` (Graph's versions: `v25.0`, Threads' `v1.0`).
pub fn graph_version_ok(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else { return false };
    let Some((major, minor)) = rest.split_once('.') else { return false };
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit());
    digits(major) && digits(minor)
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
    fn graph_versions() {
        for (v, ok) in [("v25.0", true), ("v1.0", true), ("25.0", false), ("v25", false), ("v25.x", false), ("", false)]
        {
            assert_eq!(graph_version_ok(v), ok, "{v}");
        }
    }

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

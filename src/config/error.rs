//! Config errors that name the file, line, key and what was expected.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One thing wrong with the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub line: Option<(usize, usize)>,
    /// The key, e.g. `session[2].end` or `account[delegate].token_env`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.line {
            write!(f, ":{line}:{col}")?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.key, self.message)
        }
    }
}

/// Why a config cannot be used: every problem found, not just the first.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}\n(see config/example.toml for a working config)", list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
}

impl ConfigError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid(p) => p,
            ConfigError::Read { .. } => &[],
        }
    }
}

/// Collects problems while validating, placing each by its span in the source.
pub struct Problems<'a> {
    file: &'a Path,
    text: &'a str,
    pub list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        Problems { file, text, list: Vec::new() }
    }

    pub fn at(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let line = Some(line_col(self.text, span.start));
        self.list.push(Problem { file: self.file.to_owned(), line, key: key.into(), message: message.into() });
    }

    pub fn nowhere(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.list.push(Problem { file: self.file.to_owned(), line: None, key: key.into(), message: message.into() });
    }

    /// The problem serde found while reading the file (syntax, unknown key, wrong type).
    pub fn serde(&mut self, error: &toml::de::Error) {
        let span = error.span().unwrap_or(0..0);
        let key = enclosing_key(self.text, span.start);
        self.at(span, key, humane(error.message()));
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The table header (`[event]`, `[[session]]`) and key at an offset, for serde's errors.
fn enclosing_key(text: &str, offset: usize) -> String {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let key =
        text[line_start..line_end].split_once('=').map(|(k, _)| k.trim().to_string()).filter(|k| !k.starts_with('['));
    match (table, key) {
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (Some(t), None) => t,
        (None, Some(k)) => k,
        (None, None) => String::new(),
    }
}

fn humane(message: &str) -> String {
    message
        .replace(
            "data did not match any variant of untagged enum RawPoint",
            "expected a point: a string, or { text = \"…\", at = \"HH:MM\", images = [{ file = \"…\", alt = \"…\" }] } (at and images optional)",
        )
        .replace(
            "data did not match any variant of untagged enum RawSpeaker",
            "expected a speaker: a name, or { name = \"…\", mastodon = \"@user@server\", bluesky = \"handle\", x = \"user\" }",
        )
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        let text = "[event]\nname = 1\n\n[[session]]\ntitle = \"é\"\nstart = 3\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, text.find("name").unwrap()), (2, 1));
        assert_eq!(line_col(text, text.find("start").unwrap() + 8), (6, 9));
        assert_eq!(enclosing_key(text, text.find("= 1").unwrap()), "event.name");
        assert_eq!(enclosing_key(text, text.find("start").unwrap()), "session.start");
    }
}

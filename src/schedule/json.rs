//! Helpers shared by the JSON formats: typed fields that check themselves while serde reads
//! them (so a bad time is reported at its line and column), ids that may be numbers or
//! strings, and names that may be plain strings or `{name, slug}` objects.

use std::collections::HashMap;
use std::fmt;

use chrono::Duration;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::Deserialize;

use super::draft::{LineIndex, Location, ParseError, When};
use super::text;
use super::time::{self, Stamp};

/// Deserialises `source`, turning serde's message into a located [`ParseError`].
pub fn from_str<T: DeserializeOwned>(source: &str) -> Result<T, ParseError> {
    serde_json::from_str(source).map_err(|e| {
        let location =
            if e.line() == 0 { Location::File } else { Location::LineColumn { line: e.line(), column: e.column() } };
        let message = e.to_string();
        let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m).to_owned();
        ParseError::new(location, message)
    })
}

/// Where `"value"` next appears in the indexed source, for problems found after parsing.
pub fn locate(index: &mut LineIndex<'_>, value: &str) -> Location {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    index.find(&quoted)
}

/// An id written as a number or a string (Sessionize mixes both for the same session).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Int(i64),
    Str(String),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Int(n) => write!(f, "{n}"),
            Id::Str(s) => f.write_str(s.trim()),
        }
    }
}

/// A room or track: `"Saal 1"`, or `{"name": "Saal 1", "slug": "saal-1"}` (hub v2).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Named {
    Plain(String),
    Object { name: Option<String>, slug: Option<String> },
}

impl Named {
    /// The display name; a slug alone is looked up in `by_slug` (conference tracks).
    pub fn name(&self, by_slug: &HashMap<String, String>) -> Option<String> {
        match self {
            Named::Plain(name) => text::non_empty_line(Some(name)),
            Named::Object { name, slug } => text::non_empty_line(name.as_deref()).or_else(|| {
                let slug = slug.as_deref()?;
                Some(by_slug.get(slug).cloned().unwrap_or_else(|| slug.to_owned()))
            }),
        }
    }
}

/// A date-time field, checked on reading.
#[derive(Debug, Clone, Copy)]
pub struct StampField(pub When);

impl<'de> Deserialize<'de> for StampField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        match time::parse_stamp(&raw) {
            Some(Stamp::Offset(t)) => Ok(StampField(When::Offset(t))),
            Some(Stamp::Local(t)) => Ok(StampField(When::Local(t))),
            None => Err(de::Error::custom(format!(
                "expected an ISO 8601 date-time such as 2024-02-03T10:00:00+01:00, found {raw:?}"
            ))),
        }
    }
}

/// A duration field (`HH:MM`, ISO 8601); blank means none.
#[derive(Debug, Clone, Copy, Default)]
pub struct DurationField(pub Option<Duration>);

impl<'de> Deserialize<'de> for DurationField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        if raw.trim().is_empty() {
            return Ok(DurationField(None));
        }
        time::parse_duration(&raw)
            .map(|d| DurationField(Some(d)))
            .ok_or_else(|| de::Error::custom(format!("expected a duration such as 01:30, found {raw:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[allow(dead_code)]
        at: StampField,
        #[serde(default)]
        #[allow(dead_code)]
        d: DurationField,
        #[allow(dead_code)]
        id: Id,
    }

    #[test]
    fn located_errors() {
        let e = from_str::<T>("{\"id\": 1,\n \"at\": \"soon\"}").err().unwrap();
        assert_eq!(e.location, Location::LineColumn { line: 2, column: 14 });
        assert!(e.message.contains("ISO 8601"), "{}", e.message);
        let e = from_str::<T>("{\"id\": 1, \"at\": \"2024-01-01T10:00\", \"d\": \"1:99\"}").err().unwrap();
        assert!(e.message.contains("duration"), "{}", e.message);
        assert!(from_str::<T>("{\"id\": \"x\", \"at\": \"2024-01-01T10:00\", \"d\": \"\"}").is_ok());
        assert!(from_str::<T>("{\"id\": [], \"at\": \"2024-01-01T10:00\"}").is_err());
        let mut index = LineIndex::new("{\n \"a\": \"b\"}");
        assert_eq!(locate(&mut index, "b"), Location::LineColumn { line: 2, column: 7 });
        assert_eq!(locate(&mut index, "c"), Location::File);
    }
}

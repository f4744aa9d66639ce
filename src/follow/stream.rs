//! Server-Sent Events, as Mastodon's streaming API sends them (pure): bytes in, events out.
//!
//! An event is a block of `field: value` lines ended by a blank line; `event` names it, `data`
//! lines (joined by newlines) carry it, and lines starting with `:` are comments (Mastodon's
//! `:thump` keep-alive). Line ends may be `\n` or `\r\n`; a chunk may end anywhere.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `message` when the block names none.
    pub name: String,
    pub data: String,
}

/// Collects bytes until whole events are there.
#[derive(Debug, Default)]
pub struct Parser {
    pending: Vec<u8>,
}

impl Parser {
    /// Takes a chunk and returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.pending.extend(chunk.iter().copied().filter(|b| *b != b'\r'));
        let mut out = Vec::new();
        while let Some(end) = self.pending.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = self.pending.drain(..end + 2).collect();
            if let Some(event) = parse_block(&String::from_utf8_lossy(&block[..end])) {
                out.push(event);
            }
        }
        out
    }
}

fn parse_block(block: &str) -> Option<Event> {
    let mut name = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = Some(value.to_string()),
            "data" => data.push(value),
            _ => {}
        }
    }
    if name.is_none() && data.is_empty() {
        return None;
    }
    Some(Event { name: name.unwrap_or_else(|| "message".into()), data: data.join("\n") })
}

/// The id of the account that made the status in an `update` event's data.
pub fn update_author(event: &Event) -> Option<String> {
    if event.name != "update" {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&event.data).ok()?;
    v.pointer("/account/id").and_then(|i| i.as_str()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_where_the_blank_line_is_not_where_the_chunk_is() {
        let mut p = Parser::default();
        assert!(p.push(b":connected\n\n").is_empty(), "a comment is no event");
        assert!(p.push(b"event: upd").is_empty());
        assert!(p.push(b"ate\r\ndata: {\"id\":\"7\",").is_empty());
        let got = p.push(b"\"account\":{\"id\":\"1\"}}\r\n\r\n:thump\n\nevent: delete\ndata: 7\n\n");
        assert_eq!(
            got,
            vec![
                Event { name: "update".into(), data: "{\"id\":\"7\",\"account\":{\"id\":\"1\"}}".into() },
                Event { name: "delete".into(), data: "7".into() },
            ]
        );
        assert_eq!(update_author(&got[0]).as_deref(), Some("1"));
        assert_eq!(update_author(&got[1]), None);
        let two_lines = p.push(b"data: a\ndata:b\n\n");
        assert_eq!(two_lines, vec![Event { name: "message".into(), data: "a\nb".into() }]);
    }
}

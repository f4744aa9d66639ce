//! What the watch takes from Mastodon's live stream (pure). The stream is Server-Sent Events,
//! read by `eventsource-stream`; an `update` event's data is the new status, and only whether
//! the watched account wrote it matters: the watch then reads its posts at once.

/// The id of the account that made the status in an `update` event's data.
pub fn update_author(event: &str, data: &str) -> Option<String> {
    if event != "update" {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(data).ok()?;
    v.pointer("/account/id").and_then(|i| i.as_str()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn updates_are_read_where_the_blank_line_is_not_where_the_chunk_is() {
        // Mastodon's own shapes: a `:thump` keep-alive, CRLF line ends, an event cut across chunks.
        let chunks: Vec<Result<&[u8], std::io::Error>> = vec![
            Ok(b":connected\n\n"),
            Ok(b"event: upd"),
            Ok(b"ate\r\ndata: {\"id\":\"7\","),
            Ok(b"\"account\":{\"id\":\"1\"}}\r\n\r\n:thump\n\nevent: delete\ndata: 7\n\n"),
        ];
        let events: Vec<_> = futures_util::stream::iter(chunks).eventsource().collect().await;
        let authors: Vec<Option<String>> =
            events.iter().map(|e| e.as_ref().ok().and_then(|e| update_author(&e.event, &e.data))).collect();
        assert_eq!(authors, vec![Some("1".to_string()), None]);
        assert_eq!(update_author("update", "not json"), None);
    }
}

//! The HTTP+SSE transport's pure parts: the event-stream parser fed in chunks, and the
//! `endpoint` rule (resolved against the stream's URL, same origin only).

use url::Url;

use super::{MAX_EVENT_BYTES, SseError, SseEvent, SseParser, endpoint_url};

/// Feeds `chunks` in order and compares the events (type, data) they produced.
fn check(chunks: &[&str], expected: &[(&str, &str)]) {
    let mut parser = SseParser::default();
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(
            parser
                .feed(chunk.as_bytes())
                .expect("a small stream parses"),
        );
    }
    let expected: Vec<SseEvent> = expected
        .iter()
        .map(|(event, data)| SseEvent {
            event: (*event).to_owned(),
            data: (*data).to_owned(),
        })
        .collect();
    assert_eq!(events, expected, "{chunks:?}");
}

#[test]
#[rustfmt::skip]
fn events_are_read_across_chunks_and_line_ends() {
    check(&["event: endpoint\ndata: /message?sessionId=1\n\n"], &[("endpoint", "/message?sessionId=1")]);
    // Split anywhere: inside a field name, a value, between the two line ends.
    check(&["eve", "nt: endpoint\nda", "ta: /m", "\n", "\n"], &[("endpoint", "/m")]);
    check(&["data: {\"a\":1}\n", "\n", "data: 2\n\n"], &[("message", "{\"a\":1}"), ("message", "2")]);
    // No event type: `message`.
    check(&["data: x\n\n"], &[("message", "x")]);
    // `\r\n` and `\r`, including a `\r\n` split between chunks.
    check(&["event: message\r\ndata: a\r\n\r\n"], &[("message", "a")]);
    check(&["data: a\r", "\n\r", "\ndata: b\r\r"], &[("message", "a"), ("message", "b")]);
    check(&["data: a\r\rdata: b\n\n"], &[("message", "a"), ("message", "b")]);
    // Nothing is dispatched before its blank line.
    check(&["data: unfinished\n"], &[]);
}

#[test]
#[rustfmt::skip]
fn data_lines_join_and_comments_and_other_fields_are_skipped() {
    check(&["data: one\ndata: two\ndata:three\n\n"], &[("message", "one\ntwo\nthree")]);
    // Only one space after the colon goes; an empty `data` is an empty line of data.
    check(&["data:  indented\ndata\n\n"], &[("message", " indented\n")]);
    check(&[": keep-alive\n\n", ":\n", "data: x\n: in between\n\n"], &[("message", "x")]);
    check(&["id: 7\nretry: 1000\nevent: message\nunknown: y\ndata: z\n\n"], &[("message", "z")]);
    // An event without data is not dispatched, and its type does not leak into the next.
    check(&["event: endpoint\n\ndata: later\n\n"], &[("message", "later")]);
    // A byte-order mark opening the stream is not part of the first field.
    check(&["\u{feff}event: endpoint\ndata: /e\n\n"], &[("endpoint", "/e")]);
}

#[test]
fn a_character_split_between_chunks_is_kept_whole() {
    let stream = "data: caf\u{e9}\n\n".as_bytes();
    let mut parser = SseParser::default();
    let mut events = parser.feed(&stream[..10]).expect("first half");
    events.extend(parser.feed(&stream[10..]).expect("second half"));
    let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(data, ["caf\u{e9}"]);
}

#[test]
fn an_oversized_event_is_refused() {
    let mut parser = SseParser::default();
    let line = format!("data: {}\n", "x".repeat(1024 * 1024));
    let mut outcome = Ok(Vec::new());
    for _ in 0..=MAX_EVENT_BYTES / line.len() {
        outcome = parser.feed(line.as_bytes());
        if outcome.is_err() {
            break;
        }
    }
    assert!(
        matches!(outcome, Err(SseError::EventTooLarge)),
        "{outcome:?}"
    );
}

#[test]
#[rustfmt::skip]
fn the_endpoint_resolves_against_the_stream_and_stays_on_its_origin() {
    let check = |base: &str, data: &str, expected: Result<&str, &str>| {
        let base = Url::parse(base).expect("base URL");
        let found = endpoint_url(&base, data).map(|u| u.to_string()).map_err(|e| e.to_string());
        let expected = expected.map(str::to_owned).map_err(|m| format!("the endpoint event names {m}"));
        assert_eq!(found, expected, "{base} + {data:?}");
    };
    check("http://127.0.0.1:8080/sse", "/message?sessionId=a1", Ok("http://127.0.0.1:8080/message?sessionId=a1"));
    check("http://127.0.0.1:8080/mcp/sse", "messages?s=1", Ok("http://127.0.0.1:8080/mcp/messages?s=1"));
    check("https://mcp.example.com/sse", " https://mcp.example.com/post\n", Ok("https://mcp.example.com/post"));
    check("https://mcp.example.com/sse", "https://mcp.example.com:443/p", Ok("https://mcp.example.com/p"));
    check("https://mcp.example.com/sse", "https://evil.example.net/collect", Err("another origin than the stream's"));
    check("https://mcp.example.com/sse", "//evil.example.net/collect", Err("another origin than the stream's"));
    check("https://mcp.example.com/sse", "http://mcp.example.com/message", Err("another origin than the stream's"));
    check("http://127.0.0.1:8080/sse", "http://127.0.0.1:9090/message", Err("another origin than the stream's"));
    check("http://127.0.0.1:8080/sse", "http://localhost:8080/message", Err("another origin than the stream's"));
    check("https://mcp.example.com/sse", "data:text/plain,hi", Err("another origin than the stream's"));
    check("https://mcp.example.com/sse", "http://[::1", Err("an unreadable URL"));
    check("https://mcp.example.com/sse", "  ", Err("no URL"));
}

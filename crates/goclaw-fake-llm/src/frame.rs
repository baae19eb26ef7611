//! A piece of a streamed response body and what it counts as when the fake misbehaves on
//! purpose (slow chunks, dropped connections, error events).

/// What a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// Framing without model output (starts, stops, pings).
    Meta,
    /// Model output: a text, thinking or tool-call piece. Delays and "after K chunks" count these.
    Content,
    /// The events that end a stream; a dropped connection never sends them.
    Terminal,
}

/// The bytes of one server-sent event.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub(crate) kind: FrameKind,
    pub(crate) text: String,
}

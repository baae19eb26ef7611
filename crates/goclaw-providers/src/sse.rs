//! Reading a server-sent event stream from a response body, one event at a time, with the idle
//! timeout between events and transport failures mapped to `ProviderError`.

use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use goclaw_core::llm::ProviderError;

use crate::errors;

type EventResult = Result<Event, EventStreamError<reqwest::Error>>;

/// The events of one streamed response.
pub(crate) struct SseReader {
    events: Pin<Box<dyn Stream<Item = EventResult> + Send>>,
    idle_timeout: Duration,
}

impl SseReader {
    pub(crate) fn new(response: reqwest::Response, idle_timeout: Duration) -> Self {
        Self {
            events: Box::pin(response.bytes_stream().eventsource()),
            idle_timeout,
        }
    }

    /// The next event, or `None` when the body ended cleanly.
    pub(crate) async fn next(&mut self) -> Result<Option<Event>, ProviderError> {
        let item = tokio::time::timeout(self.idle_timeout, self.events.next())
            .await
            .map_err(|_| ProviderError::Timeout)?;
        match item {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(EventStreamError::Transport(error))) => Err(errors::transport_error(error)),
            Some(Err(error)) => Err(ProviderError::Protocol(format!(
                "unreadable event stream: {error}"
            ))),
        }
    }
}

/// The error for a stream that ended without its terminal event.
pub(crate) fn ended_early() -> ProviderError {
    ProviderError::Connection("stream ended early".to_owned())
}

//! Sending what a channel owes, from the outbox: the oldest due reply first (so a chat gets
//! its parts in order), marked `sending` before the platform is called and `sent` with the
//! platform's message id after it accepted, retried with backoff (or the platform's
//! `retry_after`) when it failed for a reason that may pass, given up after
//! [`MAX_ATTEMPTS`] or a refusal for good.
//!
//! A reply that finishes an answer streamed in place carries the draft's id (`edit`): it is
//! delivered by editing the draft, so the chat keeps one message.
//!
//! A reply left `sending` by a crash is sent again: whether the platform got it cannot be
//! known without its acknowledgement, and a lost answer is worse than a repeated one. That
//! window is one request per channel.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use goclaw_core::{Outbound, Store};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::channel::{Channel, SendError};
use crate::message::OutgoingMessage;

/// Attempts before a reply is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// Replies read per round.
const BATCH: u32 = 32;
/// How often the outbox is looked at without being woken (for retries that came due).
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Sends one channel's replies until stopped.
pub struct OutboxSender {
    pub name: String,
    pub store: Arc<dyn Store>,
    pub channel: Arc<dyn Channel>,
    /// Woken when replies were queued.
    pub wake: Arc<Notify>,
}

impl OutboxSender {
    pub async fn run(self, stop: CancellationToken) {
        loop {
            let due = match self
                .store
                .channel_queue()
                .due(&self.name, Utc::now(), BATCH)
                .await
            {
                Ok(due) => due,
                Err(error) => {
                    tracing::error!(channel = %self.name, error = %error, "reading the outbox failed");
                    Vec::new()
                }
            };
            for reply in &due {
                if stop.is_cancelled() {
                    return;
                }
                self.deliver(reply).await;
            }
            if due.len() as u32 == BATCH {
                continue;
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_CHECK) => {}
            }
        }
    }

    async fn deliver(&self, reply: &Outbound) {
        let queue = self.store.channel_queue();
        let message: OutgoingMessage = match serde_json::from_value(reply.payload.clone()) {
            Ok(message) => message,
            Err(error) => {
                let reason = format!("unreadable reply: {error}");
                let _ = queue.mark_failed(reply.id, &reason, None).await;
                return;
            }
        };
        let attempt = match queue.mark_sending(reply.id).await {
            Ok(attempt) => attempt,
            Err(error) => {
                tracing::error!(channel = %self.name, error = %error, "marking a reply failed");
                return;
            }
        };
        let delivered = match &message.edit {
            // The final text of an answer streamed in place replaces the draft; when the draft
            // cannot be edited (deleted, too old), it is sent as a new message instead.
            Some(draft) => match self.channel.edit(draft, &message).await {
                Ok(()) => Ok(draft.clone()),
                Err(SendError::Permanent(reason)) => {
                    tracing::debug!(channel = %self.name, reason = %reason, "the draft could not be edited; sending the answer");
                    self.channel.send(&message).await
                }
                Err(error) => Err(error),
            },
            None => self.channel.send(&message).await,
        };
        match delivered {
            Ok(platform_id) => {
                if let Err(error) = queue.mark_sent(reply.id, &platform_id).await {
                    tracing::error!(channel = %self.name, error = %error, "recording a sent reply failed");
                }
            }
            Err(error) => {
                let retry_at = match &error {
                    SendError::Retryable { retry_after, .. } if attempt < MAX_ATTEMPTS => {
                        let wait = retry_after.unwrap_or_else(|| backoff(attempt));
                        chrono::Duration::from_std(wait)
                            .ok()
                            .map(|wait| Utc::now() + wait)
                    }
                    _ => None,
                };
                tracing::warn!(
                    channel = %self.name,
                    chat_id = %reply.chat_id,
                    attempt,
                    error = %error,
                    gave_up = retry_at.is_none(),
                    "channel reply not delivered"
                );
                if let Err(error) = queue
                    .mark_failed(reply.id, &error.to_string(), retry_at)
                    .await
                {
                    tracing::error!(channel = %self.name, error = %error, "recording a failed reply failed");
                }
            }
        }
    }
}

/// The wait before attempt `attempt + 1`: 2 s, 4 s, 8 s, ... at most 5 minutes.
fn backoff(attempt: i64) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 8)).unwrap_or(8);
    Duration::from_secs(2u64.pow(exponent)).min(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(8), Duration::from_secs(256));
        assert_eq!(backoff(50), Duration::from_secs(256));
    }
}

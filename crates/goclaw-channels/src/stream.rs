//! Answers streamed in place (`dm_stream`, `group_stream`): while the run writes, the chat
//! gets a draft of the answer's first part, sent once the first words arrive and edited at
//! most once a second as more come (the typing indicator shows until then). The draft lives
//! outside the outbox — it is a preview; the answer itself is still settled through the
//! outbox, its first part delivered by editing the draft into its final text, so the chat
//! ends with the same messages as without streaming. A draft that cannot be sent or edited
//! ends the preview, never the answer.
//!
//! The run's events are read without waiting on the platform (the draft is kept by a task of
//! its own), so a slow platform cannot make the run's event stream fall behind.

use std::sync::Arc;
use std::time::Duration;

use goclaw_agent::{RunEvents, RunOutcome};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::channel::Channel;
use crate::message::{ChatKind, OutgoingMessage};

/// The shortest time between two edits of a draft.
pub const EDIT_EVERY: Duration = Duration::from_secs(1);
/// How often the typing indicator is renewed before the draft appears.
const TYPING_EVERY: Duration = Duration::from_secs(4);

/// Where a channel streams answers in place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamSettings {
    pub direct: bool,
    pub group: bool,
}

impl StreamSettings {
    pub fn applies(&self, kind: ChatKind) -> bool {
        match kind {
            ChatKind::Direct => self.direct,
            ChatKind::Group => self.group,
        }
    }
}

/// Where a draft is recorded once it is in the chat: the update it answers, in the inbox, so
/// an attempt after a crash edits that draft instead of leaving it half-written.
pub struct DraftRecord {
    pub store: Arc<dyn goclaw_core::Store>,
    pub inbox_id: uuid::Uuid,
    /// A draft an earlier attempt left in the chat, edited instead of sending another.
    pub existing: Option<String>,
}

/// Waits for the run's end while keeping a draft of its answer in the chat `base` addresses;
/// the outcome, and the draft's id when there is one.
pub async fn follow(
    channel: Arc<dyn Channel>,
    events: RunEvents,
    base: OutgoingMessage,
    record: DraftRecord,
) -> (RunOutcome, Option<String>) {
    let (text, watched) = watch::channel(String::new());
    let stop = CancellationToken::new();
    let drafter = tokio::spawn(keep_draft(channel, base, watched, stop.clone(), record));
    let outcome = events
        .outcome_with(move |chunk| text.send_modify(|t| t.push_str(chunk)))
        .await;
    stop.cancel();
    let draft = drafter.await.unwrap_or(None);
    (outcome, draft)
}

/// Sends the draft once there is text (recording its id), then edits it as the text grows,
/// until `stop`. An earlier attempt's draft is edited from the start.
async fn keep_draft(
    channel: Arc<dyn Channel>,
    base: OutgoingMessage,
    mut text: watch::Receiver<String>,
    stop: CancellationToken,
    record: DraftRecord,
) -> Option<String> {
    let mut draft: Option<String> = record.existing.clone();
    let mut shown = String::new();
    loop {
        if draft.is_none() {
            channel.typing(&base.chat_id).await;
        }
        tokio::select! {
            _ = stop.cancelled() => return draft,
            changed = text.changed() => if changed.is_err() { return draft },
            _ = tokio::time::sleep(TYPING_EVERY), if draft.is_none() => continue,
        }
        let so_far = text.borrow_and_update().clone();
        // Only the first part streams; the rest arrives with the answer.
        let part = channel
            .render(&so_far)
            .into_iter()
            .next()
            .unwrap_or_default();
        if part.trim().is_empty() || part == shown {
            continue;
        }
        let message = OutgoingMessage {
            text: part.clone(),
            markup: true,
            ..base.clone()
        };
        match &draft {
            None => match channel.send(&message).await {
                Ok(id) => {
                    let queue = record.store.channel_queue();
                    if let Err(error) = queue.record_draft(record.inbox_id, &id).await {
                        tracing::warn!(chat_id = %base.chat_id, error = %error, "recording the draft failed");
                    }
                    draft = Some(id);
                }
                Err(error) => {
                    tracing::debug!(chat_id = %base.chat_id, error = %error, "the draft was not sent; no preview");
                    return None;
                }
            },
            Some(id) => {
                if let Err(error) = channel.edit(id, &message).await {
                    tracing::debug!(chat_id = %base.chat_id, error = %error, "the draft was not edited; the preview stops");
                    return draft;
                }
            }
        }
        shown = part;
        tokio::select! {
            _ = stop.cancelled() => return draft,
            _ = tokio::time::sleep(EDIT_EVERY) => {}
        }
    }
}

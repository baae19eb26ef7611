//! Posting to a chat on the gateway's own initiative (a `message` webhook): the text is
//! rendered and split like a reply, queued in the channel's outbox under keys derived from
//! the caller's key (so posting the same key twice queues nothing twice), and waited for until
//! the platform accepted every part, gave up on one, or [`POST_WAIT`] passed.

use std::time::Duration;

use goclaw_core::{NewOutbound, OutboundStatus};

use crate::dispatch::Dispatcher;
use crate::message::OutgoingMessage;

/// How long a post waits for the platform before it is answered as queued.
pub const POST_WAIT: Duration = Duration::from_secs(20);
/// How often the outbox is read while waiting.
const POLL: Duration = Duration::from_millis(50);

/// How a post ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Every part was accepted.
    Sent,
    /// Still in the outbox; it is sent when the platform takes it.
    Queued,
    /// The platform refused a part for good.
    Failed(String),
}

impl Dispatcher {
    /// Posts `markdown` to `chat_id` as the parts keyed `post:{key}:{n}`.
    pub async fn post(
        &self,
        chat_id: &str,
        markdown: &str,
        key: &str,
    ) -> Result<Posted, goclaw_core::StoreError> {
        let parts: Vec<NewOutbound> = self
            .channel
            .render(markdown)
            .into_iter()
            .enumerate()
            .map(|(n, text)| {
                let outgoing = OutgoingMessage {
                    edit: None,
                    media: None,
                    chat_id: chat_id.to_owned(),
                    text,
                    markup: true,
                    reply_to: None,
                    thread_id: None,
                    buttons: Vec::new(),
                };
                NewOutbound {
                    tenant_id: self.tenant,
                    channel: self.name.clone(),
                    chat_id: chat_id.to_owned(),
                    dedup_key: format!("post:{key}:{n}"),
                    payload: serde_json::to_value(&outgoing).unwrap_or_default(),
                }
            })
            .collect();
        let keys: Vec<String> = parts.iter().map(|p| p.dedup_key.clone()).collect();
        let queue = self.store.channel_queue();
        queue.enqueue(parts).await?;
        self.outbox.notify_one();
        let deadline = tokio::time::Instant::now() + POST_WAIT;
        loop {
            let rows = queue.outbound_for_chat(&self.name, chat_id).await?;
            let mine: Vec<_> = rows
                .iter()
                .filter(|row| keys.contains(&row.dedup_key))
                .collect();
            if let Some(dead) = mine.iter().find(|r| r.status == OutboundStatus::Dead) {
                return Ok(Posted::Failed(
                    dead.last_error
                        .clone()
                        .unwrap_or_else(|| "refused".to_owned()),
                ));
            }
            if mine.len() == keys.len() && mine.iter().all(|r| r.status == OutboundStatus::Sent) {
                return Ok(Posted::Sent);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Posted::Queued);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

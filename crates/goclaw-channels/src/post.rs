//! Posting to a chat on the gateway's own initiative (a `message` webhook): the text is
//! rendered and split like a reply, and a file follows it with its caption; each is queued in
//! the channel's outbox under keys derived from the caller's key (so posting the same key twice
//! queues nothing twice), and waited for until the platform accepted every part, gave up on
//! one, or [`POST_WAIT`] passed.

use std::time::Duration;

use goclaw_core::{NewOutbound, OutboundStatus};

use crate::dispatch::Dispatcher;
use crate::media::OutgoingMedia;
use crate::message::OutgoingMessage;

/// A file posted with its caption.
#[derive(Debug, Clone)]
pub struct PostFile {
    pub media: OutgoingMedia,
    pub caption: String,
}

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
    /// Posts `markdown` to `chat_id` as the parts keyed `post:{key}:{n}`, then `file` (keyed
    /// `post:{key}:file`) with its caption.
    pub async fn post(
        &self,
        chat_id: &str,
        markdown: &str,
        key: &str,
        file: Option<PostFile>,
    ) -> Result<Posted, goclaw_core::StoreError> {
        let queued = |dedup_key: String, text: String, media: Option<OutgoingMedia>| {
            let outgoing = OutgoingMessage {
                edit: None,
                media,
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
                dedup_key,
                payload: serde_json::to_value(&outgoing).unwrap_or_default(),
            }
        };
        let mut parts: Vec<NewOutbound> = self
            .channel
            .render(markdown)
            .into_iter()
            .filter(|text| !text.trim().is_empty())
            .enumerate()
            .map(|(n, text)| queued(format!("post:{key}:{n}"), text, None))
            .collect();
        if let Some(file) = file {
            let caption = self
                .channel
                .render(&file.caption)
                .into_iter()
                .next()
                .unwrap_or_default();
            parts.push(queued(
                format!("post:{key}:file"),
                caption,
                Some(file.media),
            ));
        }
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

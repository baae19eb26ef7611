//! A group's pending history, as GoClaw gives it: the messages written in a group since the bot
//! last answered there, which it did not answer because nobody mentioned it, go with the next
//! message it answers — at most `history_limit` of them, oldest first — so it knows what the
//! group was talking about. They are read back from the inbox (where every update is stored),
//! so the history survives restarts and needs no table of its own.

use goclaw_core::{Inbound, InboundStatus, Store, StoreError};

use crate::message::IncomingMessage;
use crate::policy::{AccessPolicy, Decision};

/// The reason a group message was not answered that makes it history.
const NOT_MENTIONED: &str = "the bot was not mentioned";

/// How the history is introduced to the agent.
const HEADING: &str = "[Earlier in this group, not addressed to you]";

/// The unanswered, unmentioned messages of `inbound`'s chat since the bot last answered there,
/// oldest first, as `[Name (@user)]: text` lines under a heading; empty when there are none.
pub async fn pending(
    store: &dyn Store,
    policy: &AccessPolicy,
    inbound: &Inbound,
    limit: u32,
) -> Result<String, StoreError> {
    if limit == 0 {
        return Ok(String::new());
    }
    let earlier = store
        .channel_queue()
        .earlier_in_chat(
            inbound.tenant_id,
            &inbound.channel,
            &inbound.chat_id,
            inbound.received_at,
            limit,
        )
        .await?;
    let mut lines: Vec<String> = earlier
        .iter()
        // Newest first: the history ends where the bot last answered (or is answering).
        .take_while(|update| update.status == InboundStatus::Ignored)
        .filter_map(|update| serde_json::from_value::<IncomingMessage>(update.payload.clone()).ok())
        .filter(|message| {
            message.press.is_none()
                && !message.text.trim().is_empty()
                && policy.decide(message) == Decision::Ignore(NOT_MENTIONED)
        })
        .map(|message| {
            format!(
                "[{}]: {}",
                super::dispatch::sender_label(&message),
                message.text
            )
        })
        .collect();
    if lines.is_empty() {
        return Ok(String::new());
    }
    lines.reverse();
    Ok(format!("{HEADING}\n{}\n\n", lines.join("\n")))
}

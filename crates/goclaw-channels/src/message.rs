//! Messages as the channel layer sees them, whatever the platform: an incoming message
//! normalized by its adapter (stored as the inbox row's payload), and an outgoing one (the
//! outbox row's payload). Both may carry files ([`crate::media`]).

use serde::{Deserialize, Serialize};

/// A direct conversation or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    Direct,
    Group,
}

/// A message a platform delivered, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingMessage {
    /// The platform's id of the update, unique within the channel (de-duplication key).
    pub platform_id: String,
    /// The platform's id of the message itself (to reply to it).
    pub message_id: String,
    pub chat_id: String,
    pub chat_kind: ChatKind,
    /// A forum topic or thread inside the chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    pub sender_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_username: Option<String>,
    #[serde(default)]
    pub sender_name: String,
    /// The text, with a mention of the bot taken out.
    pub text: String,
    /// Whether the bot was addressed: mentioned, replied to, or a command meant for it.
    #[serde(default)]
    pub mentioned: bool,
    /// A button of the bot's message was pressed (then `text` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub press: Option<ButtonPress>,
    /// Files sent with the message (then `text` may be empty), not yet downloaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<crate::media::Media>,
}

/// A press of one of the bot's buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonPress {
    /// The platform's id of the press, to acknowledge it.
    pub id: String,
    /// The button's data.
    pub data: String,
}

/// A button under a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub text: String,
    /// What a press hands back (at most 64 bytes on Telegram).
    pub data: String,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    pub chat_id: String,
    /// Already in the platform's markup and within its limit.
    pub text: String,
    /// Whether `text` is markup (Telegram HTML) rather than plain text.
    #[serde(default)]
    pub markup: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// Buttons shown under the message, in one row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
    /// The platform's id of a draft of this message the bot already sent (an answer streamed
    /// in place): the draft is edited into this message instead of sending another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<String>,
    /// A file sent as an attachment, `text` its caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<crate::media::OutgoingMedia>,
}

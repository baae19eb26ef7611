//! Slack's Socket Mode envelopes and the events inside them as the channel layer's messages:
//! who is addressed, which thread a reply goes to, what text the agent gets, and what is not
//! answered at all (the bot's own messages, other bots, edits and deletions, other events).

use serde::Deserialize;
use serde_json::Value;

use crate::channel::BotIdentity;
use crate::message::{ButtonPress, ChatKind, IncomingMessage};

/// One frame Slack sends on a Socket Mode connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    /// `hello`, `disconnect`, `events_api`, `interactive`, `slash_commands`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What an acknowledgement names; absent on `hello` and `disconnect`.
    #[serde(default)]
    pub envelope_id: Option<String>,
    #[serde(default)]
    pub payload: Value,
    /// Why a `disconnect` is asked for (`refresh_requested`, `warning`, `link_disabled`).
    #[serde(default)]
    pub reason: Option<String>,
    /// How many times Slack sent this envelope before (0 the first time).
    #[serde(default)]
    pub retry_attempt: Option<u32>,
}

/// What an envelope carries, for the channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A message for the agent: store it, then acknowledge.
    Message(Box<IncomingMessage>),
    /// Nothing the bot answers: acknowledge right away.
    Ignored,
}

/// What an `events_api` or `interactive` envelope's payload is, for the channel.
pub fn delivery(envelope: &Envelope, bot: &BotIdentity) -> Delivery {
    let message = match envelope.kind.as_str() {
        "events_api" => normalize_event(&envelope.payload["event"], bot),
        "interactive" => normalize_press(&envelope.payload),
        _ => None,
    };
    match message {
        Some(message) => Delivery::Message(Box::new(message)),
        None => Delivery::Ignored,
    }
}

/// The subtypes of a `message` event that are a person writing: a reply also sent to the
/// channel, and a message with files (whose text the agent still gets).
const ANSWERED_SUBTYPES: [&str; 2] = ["thread_broadcast", "file_share"];

/// A `message` or `app_mention` event as a message; `None` for what the bot does not answer.
///
/// Its `platform_id` is `{channel}:{ts}`: the `ts` of a message is unique in its channel, so
/// the `message` and `app_mention` events Slack sends for one mention store as one message.
pub fn normalize_event(event: &Value, bot: &BotIdentity) -> Option<IncomingMessage> {
    let kind = event["type"].as_str()?;
    if kind != "message" && kind != "app_mention" {
        return None;
    }
    if let Some(subtype) = event["subtype"].as_str() {
        if !ANSWERED_SUBTYPES.contains(&subtype) {
            return None;
        }
    }
    let user = event["user"].as_str().filter(|u| !u.is_empty())?;
    if user == bot.id || event.get("bot_id").is_some_and(|b| !b.is_null()) {
        return None;
    }
    let channel = event["channel"].as_str().filter(|c| !c.is_empty())?;
    let ts = event["ts"].as_str().filter(|t| !t.is_empty())?;
    let raw = event["text"].as_str().unwrap_or_default();
    let chat_kind = chat_kind(channel, event["channel_type"].as_str());
    let mention = format!("<@{}>", bot.id);
    let mentioned =
        chat_kind == ChatKind::Direct || kind == "app_mention" || raw.contains(&mention);
    let text = raw.replace(&mention, "").trim().to_owned();
    let media = super::media::attachments(event);
    // A file without text is still a message.
    if text.is_empty() && media.is_empty() {
        return None;
    }
    let profile = &event["user_profile"];
    let username = profile["name"].as_str().filter(|n| !n.is_empty());
    let name = ["display_name", "real_name", "name"]
        .iter()
        .find_map(|key| profile[*key].as_str().filter(|n| !n.is_empty()))
        .unwrap_or(user);
    Some(IncomingMessage {
        platform_id: format!("{channel}:{ts}"),
        message_id: ts.to_owned(),
        chat_id: channel.to_owned(),
        chat_kind,
        thread_id: event["thread_ts"].as_str().map(str::to_owned),
        sender_id: user.to_owned(),
        sender_username: Some(username.unwrap_or(user).to_owned()),
        sender_name: name.to_owned(),
        text,
        mentioned,
        press: None,
        media,
    })
}

/// A `block_actions` interaction (a press of one of the bot's buttons) as a message carrying
/// the press; its id is the interaction's `response_url`, where the answer goes.
pub fn normalize_press(payload: &Value) -> Option<IncomingMessage> {
    if payload["type"].as_str() != Some("block_actions") {
        return None;
    }
    let action = payload["actions"].as_array()?.first()?;
    let data = action["value"].as_str()?;
    let user = payload["user"]["id"].as_str().filter(|u| !u.is_empty())?;
    let channel = payload["channel"]["id"]
        .as_str()
        .or_else(|| payload["container"]["channel_id"].as_str())
        .filter(|c| !c.is_empty())?;
    let response_url = payload["response_url"].as_str().unwrap_or_default();
    let press_id = action["action_ts"]
        .as_str()
        .or_else(|| payload["trigger_id"].as_str())?;
    let message_id = payload["container"]["message_ts"]
        .as_str()
        .or_else(|| payload["message"]["ts"].as_str())
        .unwrap_or_default();
    let username = payload["user"]["username"]
        .as_str()
        .or_else(|| payload["user"]["name"].as_str())
        .filter(|n| !n.is_empty());
    Some(IncomingMessage {
        platform_id: format!("press:{press_id}"),
        message_id: message_id.to_owned(),
        chat_id: channel.to_owned(),
        chat_kind: chat_kind(channel, None),
        thread_id: payload["message"]["thread_ts"].as_str().map(str::to_owned),
        sender_id: user.to_owned(),
        sender_username: Some(username.unwrap_or(user).to_owned()),
        sender_name: username.unwrap_or(user).to_owned(),
        text: String::new(),
        mentioned: true,
        press: Some(ButtonPress {
            id: response_url.to_owned(),
            data: data.to_owned(),
        }),
        media: Vec::new(),
    })
}

/// A direct conversation (`im`, whose ids start with `D`) or a channel or group DM.
pub fn chat_kind(channel: &str, channel_type: Option<&str>) -> ChatKind {
    match channel_type {
        Some("im") => ChatKind::Direct,
        Some(_) => ChatKind::Group,
        None if channel.starts_with('D') => ChatKind::Direct,
        None => ChatKind::Group,
    }
}

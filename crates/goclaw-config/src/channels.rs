//! The `channels` section: messaging platforms the gateway connects to.
//! Every channel shares the access keys (`allow_from`, `dm_policy`,
//! `group_policy`, `require_mention`, `history_limit`); credentials differ. Telegram, Discord
//! and Slack also bound the attachments they take and send (`media_max_bytes`).
//! Channel instances stored in the database win over these.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Secret;
use crate::gateway::ChatBehaviorConfig;

/// Messaging channels.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ChannelsConfig {
    /// Telegram bot.
    pub telegram: TelegramConfig,
    /// Discord bot.
    pub discord: DiscordConfig,
    /// Slack app (Socket Mode).
    pub slack: SlackConfig,
    /// WhatsApp through a bridge.
    pub whatsapp: WhatsAppConfig,
    /// Zalo Official Account bot.
    pub zalo: ZaloConfig,
    /// Zalo personal account.
    pub zalo_personal: ZaloPersonalConfig,
    /// Feishu / Lark bot.
    pub feishu: FeishuConfig,
    /// Compaction of group history collected while the bot was not mentioned.
    pub pending_compaction: PendingCompactionConfig,
}

/// Who may start a direct conversation with the bot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DmPolicy {
    /// Unknown senders get a pairing code an operator must approve.
    #[default]
    Pairing,
    /// Only senders in `allow_from`.
    Allowlist,
    /// Anyone.
    Open,
    /// Nobody.
    Disabled,
}

/// Who may use the bot in groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupPolicy {
    /// Any group member.
    #[default]
    Open,
    /// Only senders in `allow_from`.
    Allowlist,
    /// The bot ignores groups.
    Disabled,
}

/// Defines a channel struct with the shared access keys plus its own fields.
macro_rules! channel_config {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            defaults: ($dm:expr, $mention:expr, $history:expr),
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty = $default:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
        #[serde(default)]
        pub struct $name {
            /// Start this channel. Setting its token in the environment
            /// turns it on.
            pub enabled: bool,
            $( $(#[$field_meta])* pub $field: $ty, )*
            /// Sender IDs allowed to talk to the bot (strings or numbers).
            #[serde(deserialize_with = "crate::flex::string_list")]
            pub allow_from: Vec<String>,
            /// Who may start a direct conversation.
            pub dm_policy: DmPolicy,
            /// Who may use the bot in groups.
            pub group_policy: GroupPolicy,
            /// In groups, answer only when mentioned.
            pub require_mention: bool,
            /// Group messages kept as context for the next mention.
            pub history_limit: u32,
            /// Override of `gateway.block_reply` for this channel.
            pub block_reply: Option<bool>,
            /// Override of `gateway.chat_behavior` for this channel.
            pub chat_behavior: Option<ChatBehaviorConfig>,
            /// Agent that answers voice messages on this channel.
            pub voice_agent_id: Option<String>,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    enabled: false,
                    $( $field: $default, )*
                    allow_from: Vec::new(),
                    dm_policy: $dm,
                    group_policy: GroupPolicy::Open,
                    require_mention: $mention,
                    history_limit: $history,
                    block_reply: None,
                    chat_behavior: None,
                    voice_agent_id: None,
                }
            }
        }
    };
}

channel_config! {
    /// Telegram bot.
    pub struct TelegramConfig {
        defaults: (DmPolicy::Pairing, true, 50),
        /// Bot token from BotFather (`GOCLAW_TELEGRAM_TOKEN`).
        pub token: Option<Secret> = None,
        /// Per-group overrides keyed by chat ID or `*` (any group not listed): `enabled`,
        /// `group_policy`, `require_mention`, `allow_from`, and per forum topic
        /// `topics.{id}` the same; the topic's setting wins over the chat's, the chat's
        /// over `*`'s, `*`'s over the channel's.
        pub groups: BTreeMap<String, serde_json::Value> = BTreeMap::new(),
        /// Bot API server; empty for Telegram's own (`https://api.telegram.org`). A local
        /// Bot API server, or a test double, goes here.
        pub api_server: Option<String> = None,
        /// Seconds one long poll (`getUpdates`) waits for updates; a poll not answered
        /// 5 s past this is abandoned and started again.
        pub poll_timeout: u64 = 25,
        /// Public HTTPS URL that reaches this gateway's `/channels/telegram/webhook`; set,
        /// Telegram POSTs updates there instead of being polled.
        pub webhook_url: Option<String> = None,
        /// Secret Telegram sends with each webhook update (1-256 of `A-Z a-z 0-9 _ -`);
        /// derived from the token when unset.
        pub webhook_secret: Option<Secret> = None,
        /// Stream answers in direct chats: a draft of the answer is edited in place as the
        /// agent writes (at most once a second).
        pub dm_stream: bool = false,
        /// Stream answers in place in groups too.
        pub group_stream: bool = false,
        /// Largest attachment, in bytes, taken from or sent to this channel: a bigger file
        /// is not downloaded (the agent is told it was not received) and not sent.
        pub media_max_bytes: u64 = 20 * 1024 * 1024,
    }
}

channel_config! {
    /// Discord bot.
    pub struct DiscordConfig {
        defaults: (DmPolicy::Open, true, 50),
        /// Bot token (`GOCLAW_DISCORD_TOKEN`).
        pub token: Option<Secret> = None,
        /// Discord REST API base; empty for Discord's own (`https://discord.com/api/v10`).
        /// The gateway WebSocket URL is asked of it (`GET /gateway/bot`), so a proxy or a
        /// test double needs only this key.
        pub api_server: Option<String> = None,
        /// Stream answers in direct chats: a draft of the answer is edited in place as the
        /// agent writes (at most once a second).
        pub dm_stream: bool = false,
        /// Stream answers in place in groups too.
        pub group_stream: bool = false,
        /// Largest attachment, in bytes, taken from or sent to this channel: a bigger file
        /// is not downloaded (the agent is told it was not received) and not sent.
        pub media_max_bytes: u64 = 25 * 1024 * 1024,
    }
}

channel_config! {
    /// Slack app in Socket Mode.
    pub struct SlackConfig {
        defaults: (DmPolicy::Pairing, true, 50),
        /// Bot token `xoxb-...` (`GOCLAW_SLACK_BOT_TOKEN`).
        pub bot_token: Option<Secret> = None,
        /// App-level token `xapp-...` (`GOCLAW_SLACK_APP_TOKEN`).
        pub app_token: Option<Secret> = None,
        /// User token `xoxp-...` (`GOCLAW_SLACK_USER_TOKEN`).
        pub user_token: Option<Secret> = None,
        /// Slack Web API base; empty for Slack's own (`https://slack.com/api`). The Socket
        /// Mode WebSocket URL is asked of it (`apps.connections.open`), so a proxy or a test
        /// double needs only this key.
        pub api_server: Option<String> = None,
        /// Stream answers in direct chats: a draft of the answer is edited in place as the
        /// agent writes (at most once a second).
        pub dm_stream: bool = false,
        /// Stream answers in place in groups too.
        pub group_stream: bool = false,
        /// Largest attachment, in bytes, taken from or sent to this channel: a bigger file
        /// is not downloaded (the agent is told it was not received) and not sent.
        pub media_max_bytes: u64 = 20 * 1024 * 1024,
    }
}

channel_config! {
    /// WhatsApp through an external bridge.
    pub struct WhatsAppConfig {
        defaults: (DmPolicy::Pairing, false, 200),
        /// WebSocket URL of the bridge (`GOCLAW_WHATSAPP_BRIDGE_URL`).
        pub bridge_url: Option<String> = None,
    }
}

channel_config! {
    /// Zalo Official Account bot.
    pub struct ZaloConfig {
        defaults: (DmPolicy::Pairing, true, 50),
        /// Bot token (`GOCLAW_ZALO_TOKEN`).
        pub token: Option<Secret> = None,
        /// Secret that signs webhook calls.
        pub webhook_secret: Option<Secret> = None,
    }
}

channel_config! {
    /// Zalo personal account.
    pub struct ZaloPersonalConfig {
        defaults: (DmPolicy::Pairing, true, 50),
    }
}

channel_config! {
    /// Feishu / Lark bot.
    pub struct FeishuConfig {
        defaults: (DmPolicy::Pairing, true, 50),
        /// App ID (`GOCLAW_LARK_APP_ID`).
        pub app_id: Option<Secret> = None,
        /// App secret (`GOCLAW_LARK_APP_SECRET`).
        pub app_secret: Option<Secret> = None,
        /// Event encryption key (`GOCLAW_LARK_ENCRYPT_KEY`).
        pub encrypt_key: Option<Secret> = None,
        /// Event verification token (`GOCLAW_LARK_VERIFICATION_TOKEN`).
        pub verification_token: Option<Secret> = None,
        /// How events arrive.
        pub connection_mode: FeishuConnectionMode = FeishuConnectionMode::Websocket,
    }
}

/// How Feishu delivers events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FeishuConnectionMode {
    /// Long-lived WebSocket opened by the gateway.
    #[default]
    Websocket,
    /// HTTP callbacks to `/feishu/events`.
    Webhook,
}

/// Compaction of pending group history.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PendingCompactionConfig {
    /// Pending messages that trigger compaction.
    pub threshold: u32,
    /// Messages kept verbatim.
    pub keep_recent: u32,
    /// Maximum tokens of the summary.
    pub max_tokens: u32,
    /// Provider used for the summary; empty uses the agent default.
    pub provider: Option<String>,
    /// Model used for the summary; empty uses the agent default.
    pub model: Option<String>,
}

impl Default for PendingCompactionConfig {
    fn default() -> Self {
        Self {
            threshold: 200,
            keep_recent: 40,
            max_tokens: 4096,
            provider: None,
            model: None,
        }
    }
}

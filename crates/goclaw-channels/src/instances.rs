//! Building channel adapters from settings: the configuration's `channels.<type>` sections
//! (a channel runs when it is enabled — setting its token in the environment enables it — and
//! has its credentials) and the database's channel instances, whose `config` holds the same
//! keys as those sections and whose credentials (`token`; Slack's `bot_token`, `app_token`)
//! fill in the secrets.

use std::sync::Arc;
use std::time::Duration;

use goclaw_config::{ChannelsConfig, DmPolicy, GroupPolicy};
use serde_json::Value;

use crate::channel::Channel;
use crate::groups::GroupOverrides;
use crate::policy::AccessPolicy;
use crate::stream::StreamSettings;

/// An adapter, who it answers, and where it streams answers in place.
pub struct Built {
    pub channel: Arc<dyn Channel>,
    pub policy: AccessPolicy,
    pub stream: StreamSettings,
    /// Unanswered group messages given with the next answered one.
    pub history_limit: u32,
}

fn stream(direct: bool, group: bool) -> StreamSettings {
    StreamSettings { direct, group }
}

/// The channels the configuration enables, named by their type.
pub fn configured(config: &ChannelsConfig, http: &reqwest::Client) -> Vec<(&'static str, Built)> {
    let mut built = Vec::new();
    #[cfg(feature = "telegram")]
    if let Some(channel) = telegram(config, http.clone()) {
        let c = &config.telegram;
        let mut policy = policy(
            c.dm_policy,
            c.group_policy,
            c.require_mention,
            &c.allow_from,
        );
        policy.groups = GroupOverrides::parse(&c.groups);
        built.push((
            "telegram",
            Built {
                channel,
                policy,
                stream: stream(c.dm_stream, c.group_stream),
                history_limit: c.history_limit,
            },
        ));
    }
    #[cfg(feature = "discord")]
    if let Some(channel) = crate::discord::from_config(&config.discord, http.clone()) {
        let c = &config.discord;
        let policy = policy(
            c.dm_policy,
            c.group_policy,
            c.require_mention,
            &c.allow_from,
        );
        built.push((
            "discord",
            Built {
                channel,
                policy,
                stream: stream(c.dm_stream, c.group_stream),
                history_limit: c.history_limit,
            },
        ));
    }
    #[cfg(feature = "slack")]
    if let Some(channel) = crate::slack::from_config(&config.slack, http.clone()) {
        let c = &config.slack;
        let policy = policy(
            c.dm_policy,
            c.group_policy,
            c.require_mention,
            &c.allow_from,
        );
        built.push((
            "slack",
            Built {
                channel,
                policy,
                stream: stream(c.dm_stream, c.group_stream),
                history_limit: c.history_limit,
            },
        ));
    }
    let _ = http;
    built
}

/// A stored instance of `channel_type` with `config` and (opened) `credentials`, both JSON
/// objects. The reason, without secrets, when they do not make a runnable channel.
pub fn stored(
    channel_type: &str,
    config: &Value,
    credentials: &Value,
    http: &reqwest::Client,
) -> Result<Built, String> {
    let mut section = match config {
        Value::Object(map) => map.clone(),
        Value::Null => serde_json::Map::new(),
        _ => return Err("config is not an object".to_owned()),
    };
    match credentials {
        Value::Object(map) => section.extend(map.clone()),
        Value::Null => {}
        _ => return Err("credentials are not an object".to_owned()),
    }
    section.insert("enabled".to_owned(), Value::Bool(true));
    let section = Value::Object(section);
    // Not one of the serde messages: they may quote a value, and values include tokens.
    let unreadable = |_| format!("config does not fit channels.{channel_type}");
    let missing = || "credentials are missing".to_owned();
    match channel_type {
        #[cfg(feature = "telegram")]
        "telegram" => {
            let c: goclaw_config::TelegramConfig =
                serde_json::from_value(section).map_err(unreadable)?;
            let channel = telegram_of(&c, http.clone()).ok_or_else(missing)?;
            let mut policy = policy(
                c.dm_policy,
                c.group_policy,
                c.require_mention,
                &c.allow_from,
            );
            policy.groups = GroupOverrides::parse(&c.groups);
            Ok(Built {
                channel,
                policy,
                stream: stream(c.dm_stream, c.group_stream),
                history_limit: c.history_limit,
            })
        }
        #[cfg(feature = "discord")]
        "discord" => {
            let c: goclaw_config::DiscordConfig =
                serde_json::from_value(section).map_err(unreadable)?;
            let channel = crate::discord::from_config(&c, http.clone()).ok_or_else(missing)?;
            let policy = policy(
                c.dm_policy,
                c.group_policy,
                c.require_mention,
                &c.allow_from,
            );
            Ok(Built {
                channel,
                policy,
                stream: stream(c.dm_stream, c.group_stream),
                history_limit: c.history_limit,
            })
        }
        #[cfg(feature = "slack")]
        "slack" => {
            let c: goclaw_config::SlackConfig =
                serde_json::from_value(section).map_err(unreadable)?;
            let channel = crate::slack::from_config(&c, http.clone()).ok_or_else(missing)?;
            let policy = policy(
                c.dm_policy,
                c.group_policy,
                c.require_mention,
                &c.allow_from,
            );
            Ok(Built {
                channel,
                policy,
                stream: stream(c.dm_stream, c.group_stream),
                history_limit: c.history_limit,
            })
        }
        other => Err(format!("{other} channels are not supported by this build")),
    }
}

fn policy(
    dm: DmPolicy,
    group: GroupPolicy,
    require_mention: bool,
    allow_from: &[String],
) -> AccessPolicy {
    AccessPolicy {
        dm,
        group,
        require_mention,
        allow_from: allow_from.to_vec(),
        groups: GroupOverrides::default(),
    }
}

/// The Telegram bot `channels.telegram` describes, if it is enabled and has a token.
#[cfg(feature = "telegram")]
pub fn telegram(config: &ChannelsConfig, http: reqwest::Client) -> Option<Arc<dyn Channel>> {
    telegram_of(&config.telegram, http)
}

#[cfg(feature = "telegram")]
fn telegram_of(
    telegram: &goclaw_config::TelegramConfig,
    http: reqwest::Client,
) -> Option<Arc<dyn Channel>> {
    let token = telegram.token.as_ref().filter(|t| !t.is_empty())?;
    if !telegram.enabled {
        return None;
    }
    let api_server = telegram
        .api_server
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(crate::telegram::api::DEFAULT_API_SERVER);
    let receiving = match telegram.webhook_url.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => crate::telegram::Receiving::Webhook {
            url: url.to_owned(),
            secret: telegram
                .webhook_secret
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| s.expose().to_owned())
                .unwrap_or_else(|| webhook_secret_of(token.expose())),
        },
        _ => crate::telegram::Receiving::Poll(Duration::from_secs(
            telegram.poll_timeout.clamp(1, 50),
        )),
    };
    Some(Arc::new(
        crate::telegram::TelegramChannel::new(http, api_server, token.expose(), receiving)
            .with_media_max_bytes(telegram.media_max_bytes),
    ))
}

/// The webhook secret of a bot whose configuration names none: a digest of its token (hex,
/// which Telegram's secret alphabet allows), so it needs no setting and reveals nothing.
pub fn webhook_secret_of(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    digest.update(b"goclaw telegram webhook secret\0");
    digest.update(token.as_bytes());
    hex::encode(digest.finalize())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{stored, webhook_secret_of};

    #[test]
    fn derived_webhook_secrets_fit_telegram_and_hide_the_token() {
        let secret = webhook_secret_of("123:abc");
        assert_eq!(secret.len(), 64);
        assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            secret,
            webhook_secret_of("123:abc"),
            "stable across restarts"
        );
        assert_ne!(secret, webhook_secret_of("123:abd"));
        assert!(!secret.contains("abc"));
    }

    #[test]
    fn stored_instances_take_their_settings_and_credentials() {
        let http = reqwest::Client::new();
        let check = |kind: &str, config: serde_json::Value, credentials: serde_json::Value| {
            stored(kind, &config, &credentials, &http).map(|b| b.policy)
        };
        let built = check(
            "telegram",
            json!({"dm_policy": "open", "allow_from": [42]}),
            json!({"token": "1:secret-token"}),
        )
        .expect("a bot");
        assert_eq!(built.dm, goclaw_config::DmPolicy::Open);
        assert_eq!(built.allow_from, vec!["42".to_owned()]);
        for kind in ["telegram", "discord", "slack"] {
            let credentials =
                json!({"token": "1:secret-token", "bot_token": "xoxb-1", "app_token": "xapp-1"});
            let limits = |config: serde_json::Value| {
                stored(kind, &config, &credentials, &http)
                    .map(|b| b.channel.limits().media_max_bytes)
                    .expect("a channel")
            };
            assert_eq!(limits(json!({"media_max_bytes": 1234})), 1234, "{kind}");
            let default = if kind == "discord" { 25 } else { 20 } * 1024 * 1024;
            assert_eq!(limits(json!({})), default, "{kind}");
        }
        for (kind, config, credentials, reason) in [
            ("telegram", json!({}), json!({}), "credentials are missing"),
            ("telegram", json!([]), json!({}), "config is not an object"),
            (
                "telegram",
                json!({"dm_policy": "1:secret-token"}),
                json!({"token": "t"}),
                "config does not fit channels.telegram",
            ),
            (
                "zalo_oa",
                json!({}),
                json!({"token": "t"}),
                "zalo_oa channels are not supported by this build",
            ),
        ] {
            let error = check(kind, config, credentials).expect_err("refused");
            assert_eq!(error, reason);
            assert!(!error.contains("secret-token"));
        }
    }
}

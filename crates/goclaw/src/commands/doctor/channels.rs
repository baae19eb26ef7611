//! The doctor's channels: each channel this version runs is checked against its platform
//! through the configured API base (Telegram: `getMe` on `channels.telegram.api_server`) and
//! reported as working, failing with the platform's reason, or disabled; the credentials of
//! channels this version does not run are reported as unused. Secrets are shown masked.

use std::time::Duration;

use goclaw_channels::ChannelError;
use goclaw_config::{LoadedConfig, Secret};

use super::checks::masked;
use super::{Check, Section, unused};

const S: &str = "channels";
/// Longest wait for a platform's answer.
const PLATFORM_TIMEOUT: Duration = Duration::from_secs(10);

/// A channel's name, whether it is enabled, and its credentials by key.
type ChannelCredentials<'a> = (&'static str, bool, Vec<(&'static str, Option<&'a Secret>)>);

pub async fn section(loaded: &LoadedConfig) -> Section {
    let c = &loaded.config.channels;
    let mut checks = Vec::new();
    if let Some(check) = telegram(loaded).await {
        checks.push(check);
    }
    let unused_list: [ChannelCredentials<'_>; 4] = [
        (
            "discord",
            c.discord.enabled,
            vec![("token", c.discord.token.as_ref())],
        ),
        (
            "slack",
            c.slack.enabled,
            vec![
                ("bot_token", c.slack.bot_token.as_ref()),
                ("app_token", c.slack.app_token.as_ref()),
            ],
        ),
        (
            "zalo",
            c.zalo.enabled,
            vec![("token", c.zalo.token.as_ref())],
        ),
        (
            "feishu",
            c.feishu.enabled,
            vec![
                ("app_id", c.feishu.app_id.as_ref()),
                ("app_secret", c.feishu.app_secret.as_ref()),
            ],
        ),
    ];
    for (name, enabled, credentials) in unused_list {
        let present = |s: &Option<&Secret>| s.is_some_and(|s| !s.is_empty());
        if !enabled && !credentials.iter().any(|(_, s)| present(s)) {
            continue;
        }
        let shown: Vec<String> = credentials
            .iter()
            .map(|(key, s)| format!("{key} {}", masked(*s)))
            .collect();
        let state = if enabled { "enabled" } else { "disabled" };
        checks.push(unused::check(
            S,
            name,
            &format!("{state}, {}", shown.join(", ")),
        ));
    }
    let bridge = c.whatsapp.bridge_url.as_deref().filter(|u| !u.is_empty());
    if c.whatsapp.enabled || bridge.is_some() {
        let state = if c.whatsapp.enabled {
            "enabled"
        } else {
            "disabled"
        };
        checks.push(unused::check(
            S,
            "whatsapp",
            &format!("{state}, bridge {}", bridge.unwrap_or("(empty)")),
        ));
    }
    if checks.is_empty() {
        checks.push(Check::ok(S, "channels", "none configured"));
    }
    Section::new("Channels", checks)
}

/// Telegram: asks the Bot API who the bot is.
async fn telegram(loaded: &LoadedConfig) -> Option<Check> {
    let telegram = &loaded.config.channels.telegram;
    let token = telegram.token.as_ref().filter(|t| !t.is_empty());
    let shown = format!("token {}", masked(token));
    if !telegram.enabled {
        return token.map(|_| Check::ok(S, "telegram", format!("disabled, {shown}")));
    }
    let Some(channel) =
        goclaw_channels::instances::telegram(&loaded.config.channels, reqwest::Client::new())
    else {
        return Some(
            Check::fail(S, "telegram", "enabled, but no token")
                .fix("set GOCLAW_TELEGRAM_TOKEN (from @BotFather) or disable the channel"),
        );
    };
    let answer = tokio::time::timeout(PLATFORM_TIMEOUT, channel.identify()).await;
    Some(match answer {
        Ok(Ok(bot)) => {
            let name = bot.username.map(|u| format!("@{u}")).unwrap_or(bot.id);
            Check::ok(
                S,
                "telegram",
                format!("enabled, {shown}, bot {name} answers"),
            )
        }
        Ok(Err(error @ ChannelError::Unauthorized(_))) => {
            Check::fail(S, "telegram", format!("failing, {shown}: {error}"))
                .fix("the Bot API refused the token: take the current one from @BotFather")
        }
        Ok(Err(error)) => Check::fail(S, "telegram", format!("failing, {shown}: {error}"))
            .fix("check that the gateway can reach channels.telegram.api_server"),
        Err(_) => Check::fail(
            S,
            "telegram",
            format!("failing, {shown}: no answer within {PLATFORM_TIMEOUT:?}"),
        )
        .fix("check that the gateway can reach channels.telegram.api_server"),
    })
}

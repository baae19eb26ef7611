//! The doctor's channels: each channel this version runs (Telegram, Discord, Slack) is checked
//! against its platform through the configured API base (`getMe` on
//! `channels.telegram.api_server`, `users/@me` on `channels.discord.api_server`, `auth.test`
//! on `channels.slack.api_server`) and reported as working, failing with the platform's
//! reason, or disabled; the credentials of channels this version does not run are reported as
//! unused. The enabled channel instances stored in the database are checked the same way (their
//! credentials opened with `GOCLAW_ENCRYPTION_KEY`). Secrets are shown masked.

use std::sync::Arc;
use std::time::Duration;

use goclaw_channels::{Channel, ChannelError};
use goclaw_config::{LoadedConfig, Secret};

use super::checks::masked;
use super::{Check, Section, unused};

const S: &str = "channels";
/// Longest wait for a platform's answer.
const PLATFORM_TIMEOUT: Duration = Duration::from_secs(10);

/// A channel's name, whether it is enabled, and its credentials by key.
type ChannelCredentials<'a> = (&'static str, bool, Vec<(&'static str, Option<&'a Secret>)>);

/// A channel this version runs, as the doctor checks it.
struct Platform<'a> {
    name: &'static str,
    enabled: bool,
    credentials: Vec<(&'static str, Option<&'a Secret>)>,
    /// The adapter, when enabled with its credentials.
    channel: Option<Arc<dyn Channel>>,
    /// What to do when credentials are missing, or refused.
    missing_fix: &'static str,
    refused_fix: &'static str,
}

pub async fn section(loaded: &LoadedConfig, db: &super::probe::DatabaseProbe) -> Section {
    let c = &loaded.config.channels;
    let mut checks = stored_instances(loaded, db).await;
    let http = reqwest::Client::new();
    let platforms = [
        Platform {
            name: "telegram",
            enabled: c.telegram.enabled,
            credentials: vec![("token", c.telegram.token.as_ref())],
            channel: goclaw_channels::instances::telegram(c, http.clone()),
            missing_fix: "set GOCLAW_TELEGRAM_TOKEN (from @BotFather) or disable the channel",
            refused_fix: "the Bot API refused the token: take the current one from @BotFather",
        },
        Platform {
            name: "discord",
            enabled: c.discord.enabled,
            credentials: vec![("token", c.discord.token.as_ref())],
            channel: goclaw_channels::discord::from_config(&c.discord, http.clone()),
            missing_fix: "set GOCLAW_DISCORD_TOKEN (from the Discord Developer Portal) or disable the channel",
            refused_fix: "Discord refused the token: reset it in the Developer Portal and set the new one",
        },
        Platform {
            name: "slack",
            enabled: c.slack.enabled,
            credentials: vec![
                ("bot_token", c.slack.bot_token.as_ref()),
                ("app_token", c.slack.app_token.as_ref()),
            ],
            channel: goclaw_channels::slack::from_config(&c.slack, http.clone()),
            missing_fix: "set GOCLAW_SLACK_BOT_TOKEN and GOCLAW_SLACK_APP_TOKEN, or disable the channel",
            refused_fix: "Slack refused the token: reinstall the app and set its current tokens",
        },
    ];
    for platform in platforms {
        if let Some(check) = platform_check(platform).await {
            checks.push(check);
        }
    }
    let unused_list: [ChannelCredentials<'_>; 2] = [
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

/// Asks the platform who the bot is; `None` for a channel neither enabled nor given
/// credentials.
async fn platform_check(platform: Platform<'_>) -> Option<Check> {
    let name = platform.name;
    let present = |s: &Option<&Secret>| s.is_some_and(|s| !s.is_empty());
    let shown = platform
        .credentials
        .iter()
        .map(|(key, s)| format!("{key} {}", masked(*s)))
        .collect::<Vec<_>>()
        .join(", ");
    if !platform.enabled {
        return platform
            .credentials
            .iter()
            .any(|(_, s)| present(s))
            .then(|| Check::ok(S, name, format!("disabled, {shown}")));
    }
    let reach = format!("check that the gateway can reach channels.{name}.api_server");
    let Some(channel) = platform.channel else {
        return Some(
            Check::fail(S, name, format!("enabled, but no credentials ({shown})"))
                .fix(platform.missing_fix),
        );
    };
    let answer = tokio::time::timeout(PLATFORM_TIMEOUT, channel.identify()).await;
    Some(match answer {
        Ok(Ok(bot)) => {
            let bot = bot.username.map(|u| format!("@{u}")).unwrap_or(bot.id);
            Check::ok(S, name, format!("enabled, {shown}, bot {bot} answers"))
        }
        Ok(Err(error @ ChannelError::Unauthorized(_))) => {
            Check::fail(S, name, format!("failing, {shown}: {error}")).fix(platform.refused_fix)
        }
        Ok(Err(error)) => Check::fail(S, name, format!("failing, {shown}: {error}")).fix(reach),
        Err(_) => Check::fail(
            S,
            name,
            format!("failing, {shown}: no answer within {PLATFORM_TIMEOUT:?}"),
        )
        .fix(reach),
    })
}

/// The enabled channel instances stored in the database, each asked of its platform.
async fn stored_instances(loaded: &LoadedConfig, db: &super::probe::DatabaseProbe) -> Vec<Check> {
    let Some(opened) = &db.opened else {
        return Vec::new();
    };
    let instances = match opened.store().channel_instances().list_enabled().await {
        Ok(instances) => instances,
        // An older schema without the table: the database section says what to do.
        Err(_) => return Vec::new(),
    };
    let secrets = loaded
        .runtime
        .encryption_key
        .as_ref()
        .filter(|k| !k.is_empty())
        .and_then(|k| goclaw_crypto::EncryptionKey::parse(k.expose()).ok())
        .map(|k| goclaw_crypto::SecretBox::new(&k));
    let http = reqwest::Client::new();
    let mut checks = Vec::new();
    for instance in instances {
        let name = format!("{} ({}, stored)", instance.name, instance.channel_type);
        let shown = instance
            .credential_keys
            .iter()
            .map(|key| format!("{key} ***"))
            .collect::<Vec<_>>()
            .join(", ");
        let credentials = match (&instance.encrypted_credentials, &secrets) {
            (None, _) => Ok(serde_json::Value::Null),
            (Some(_), None) => Err("its credentials need GOCLAW_ENCRYPTION_KEY".to_owned()),
            (Some(sealed), Some(secrets)) => secrets
                .decrypt(sealed)
                .map_err(|_| "its credentials do not open with this key".to_owned())
                .and_then(|plain| {
                    serde_json::from_str(&plain)
                        .map_err(|_| "its credentials are not a JSON object".to_owned())
                }),
        };
        let built = credentials.and_then(|credentials| {
            goclaw_channels::instances::stored(
                &instance.channel_type,
                &instance.config,
                &credentials,
                &http,
            )
        });
        let check = match built {
            Err(reason) => Check::fail(S, &name, format!("cannot start, {shown}: {reason}"))
                .fix("fix it with PUT /v1/channels/instances/{id} or goclaw channels delete"),
            Ok(built) => {
                let answer = tokio::time::timeout(PLATFORM_TIMEOUT, built.channel.identify()).await;
                match answer {
                    Ok(Ok(bot)) => {
                        let bot = bot.username.map(|u| format!("@{u}")).unwrap_or(bot.id);
                        Check::ok(S, &name, format!("enabled, {shown}, bot {bot} answers"))
                    }
                    Ok(Err(error)) => Check::fail(S, &name, format!("failing, {shown}: {error}"))
                        .fix("check the instance's credentials and its api_server"),
                    Err(_) => Check::fail(
                        S,
                        &name,
                        format!("failing, {shown}: no answer within {PLATFORM_TIMEOUT:?}"),
                    )
                    .fix("check that the gateway can reach the platform"),
                }
            }
        };
        checks.push(check);
    }
    checks
}

//! The channel adapters the configuration asks for: a channel runs when it is enabled (setting
//! its token in the environment enables it) and has its credentials.

use std::sync::Arc;
use std::time::Duration;

use goclaw_config::ChannelsConfig;

use crate::channel::Channel;

/// The Telegram bot `channels.telegram` describes, if it is enabled and has a token.
#[cfg(feature = "telegram")]
pub fn telegram(config: &ChannelsConfig, http: reqwest::Client) -> Option<Arc<dyn Channel>> {
    let telegram = &config.telegram;
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
    let wait = Duration::from_secs(telegram.poll_timeout.clamp(1, 50));
    Some(Arc::new(crate::telegram::TelegramChannel::new(
        http,
        api_server,
        token.expose(),
        wait,
    )))
}

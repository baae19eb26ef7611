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
    Some(Arc::new(crate::telegram::TelegramChannel::new(
        http,
        api_server,
        token.expose(),
        receiving,
    )))
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
    use super::webhook_secret_of;

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
}

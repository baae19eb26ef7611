//! Files on Discord: a message's `attachments` as attachments of the channel layer; a
//! download only from Discord's file hosts (`https://cdn.discordapp.com`,
//! `https://media.discordapp.net`) or the configured API server's host — the URL comes from a
//! payload, so any other host (an internal address) is never contacted, nor followed to by a
//! redirect — without the bot's token (attachment URLs are signed); and sending one as a
//! message whose `payload_json` names it and whose `files[0]` part carries it.

use tokio::io::AsyncWrite;

use super::DiscordChannel;
use super::api::Attachment;
use crate::channel::SendError;
use crate::media::outbound::read_outgoing;
use crate::media::{HostAllowlist, Media, MediaError, MediaKind, OutgoingMedia};
use crate::message::OutgoingMessage;

/// Where Discord serves attachments, and the API server (a proxy or a double serves them
/// there).
pub fn file_hosts(api_server: &str) -> HostAllowlist {
    HostAllowlist::new()
        .https_host("cdn.discordapp.com")
        .https_host("media.discordapp.net")
        .origin_of(api_server)
}

/// The attachments of a message.
pub fn attachments(attachments: &[Attachment]) -> Vec<Media> {
    attachments
        .iter()
        .filter(|a| !a.url.is_empty())
        .map(|a| {
            let kind = match MediaKind::of_mime(a.content_type.as_deref()) {
                // Voice messages are audio attachments with a duration.
                MediaKind::Audio if a.duration_secs.is_some() => MediaKind::Voice,
                kind => kind,
            };
            Media {
                kind,
                reference: a.url.clone(),
                file_name: Some(a.filename.clone()).filter(|n| !n.is_empty()),
                mime_type: a.content_type.clone(),
                size: a.size,
            }
        })
        .collect()
}

impl DiscordChannel {
    pub(super) async fn fetch(
        &self,
        media: &Media,
        limit: u64,
        sink: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<u64, MediaError> {
        self.files.fetch(media, None, limit, sink).await
    }

    pub(super) async fn send_media(
        &self,
        message: &OutgoingMessage,
        media: &OutgoingMedia,
    ) -> Result<String, SendError> {
        let bytes = read_outgoing(media, self.media_max_bytes).await?;
        let body = super::message_body(message);
        self.api
            .create_message_with_file(
                &message.chat_id,
                &body,
                &media.file_name,
                &media.mime_type,
                bytes,
            )
            .await
            .map(|sent| sent.id)
            .map_err(super::send_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_urls_outside_discord_are_not_fetched() {
        let hosts = file_hosts("http://127.0.0.1:4000/api/v10");
        for (url, allowed) in [
            (
                "https://cdn.discordapp.com/attachments/1/2/a.png?ex=6&is=6&hm=ab",
                true,
            ),
            ("https://media.discordapp.net/attachments/1/2/a.png", true),
            ("http://127.0.0.1:4000/attachments/1/a.png", true),
            ("http://cdn.discordapp.com/attachments/1/2/a.png", false),
            ("https://cdn.discordapp.com.attacker.example/a.png", false),
            ("https://discord.com/api/v10/users/@me", false),
            ("http://169.254.169.254/latest/meta-data/", false),
            ("http://127.0.0.1:6379/", false),
            ("https://[::1]/a.png", false),
            ("gopher://cdn.discordapp.com/a", false),
        ] {
            assert_eq!(hosts.allows_str(url), allowed, "{url}");
        }
    }

    #[test]
    fn attachments_keep_their_kind_name_and_size() {
        let parsed: Vec<Attachment> = serde_json::from_value(serde_json::json!([
            {"id": "1", "filename": "cat.png", "content_type": "image/png", "size": 1234,
             "url": "https://cdn.discordapp.com/attachments/9/1/cat.png", "proxy_url": "x"},
            {"id": "2", "filename": "voice-message.ogg", "content_type": "audio/ogg",
             "size": 99, "url": "https://cdn.discordapp.com/a/2/v.ogg", "duration_secs": 2.5},
            {"id": "3", "filename": "notes", "size": 5, "url": "https://cdn.discordapp.com/a/3/notes"}
        ]))
        .expect("attachments");
        let media = attachments(&parsed);
        let kinds: Vec<_> = media.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [MediaKind::Image, MediaKind::Voice, MediaKind::Document]
        );
        assert_eq!(media[0].size, Some(1234));
        assert_eq!(media[0].file_name.as_deref(), Some("cat.png"));
    }
}

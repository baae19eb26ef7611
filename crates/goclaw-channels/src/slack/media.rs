//! Files on Slack: a message's `files` as attachments; a download of `url_private` with the
//! bot token, only from Slack's file host (`https://files.slack.com`) or the configured Web
//! API's host — the token is never sent anywhere else, a redirect included; and sending one
//! the way Slack asks: `files.getUploadURLExternal`, the bytes to the URL it gave (again only
//! on those hosts), then `files.completeUploadExternal` sharing it in the chat and thread.

use serde_json::Value;
use tokio::io::AsyncWrite;

use super::SlackChannel;
use crate::channel::SendError;
use crate::media::outbound::read_outgoing;
use crate::media::{HostAllowlist, Media, MediaError, MediaKind, OutgoingMedia};
use crate::message::OutgoingMessage;

/// Where Slack serves and takes files, and the Web API's own host.
pub fn file_hosts(api_server: &str) -> HostAllowlist {
    HostAllowlist::new()
        .https_host("files.slack.com")
        .origin_of(api_server)
}

/// The files of a `message` event that can be downloaded (not hidden by the workspace's plan,
/// not deleted).
pub fn attachments(event: &Value) -> Vec<Media> {
    event["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|file| !matches!(file["mode"].as_str(), Some("tombstone" | "hidden_by_limit")))
        .filter_map(|file| {
            let url = file["url_private"].as_str().filter(|u| !u.is_empty())?;
            let mime = file["mimetype"].as_str().map(str::to_owned);
            let kind = match file["subtype"].as_str() {
                Some("slack_audio") => MediaKind::Voice,
                _ => MediaKind::of_mime(mime.as_deref()),
            };
            Some(Media {
                kind,
                reference: url.to_owned(),
                file_name: file["name"].as_str().map(str::to_owned),
                mime_type: mime,
                size: file["size"].as_u64(),
            })
        })
        .collect()
}

impl SlackChannel {
    pub(super) async fn fetch(
        &self,
        media: &Media,
        limit: u64,
        sink: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<u64, MediaError> {
        self.files
            .fetch(media, Some(self.api.bot_token()), limit, sink)
            .await
    }

    pub(super) async fn send_media(
        &self,
        message: &OutgoingMessage,
        media: &OutgoingMedia,
    ) -> Result<String, SendError> {
        let bytes = read_outgoing(media, self.media_max_bytes).await?;
        let (upload_url, file_id) = self
            .api
            .upload_url(&media.file_name, bytes.len())
            .await
            .map_err(super::send_error)?;
        if !self.files.allows_str(&upload_url) {
            return Err(SendError::Permanent(
                "slack gave an upload URL outside its file host".to_owned(),
            ));
        }
        self.api
            .upload(
                self.files.client(),
                &upload_url,
                &media.file_name,
                &media.mime_type,
                bytes,
            )
            .await
            .map_err(super::send_error)?;
        let thread = message
            .thread_id
            .as_deref()
            .or(message.reply_to.as_deref())
            .filter(|ts| !ts.is_empty());
        let comment = Some(message.text.trim()).filter(|t| !t.is_empty());
        self.api
            .complete_upload(
                &file_id,
                &media.file_name,
                &message.chat_id,
                thread,
                comment,
            )
            .await
            .map_err(super::send_error)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn file_urls_outside_slack_are_not_fetched() {
        let hosts = file_hosts("http://127.0.0.1:5000/api");
        for (url, allowed) in [
            ("https://files.slack.com/files-pri/T1-F1/report.pdf", true),
            ("https://files.slack.com/files-tmb/T1-F1/a_720.png", true),
            ("http://127.0.0.1:5000/files-pri/T1-F1/report.pdf", true),
            ("http://files.slack.com/files-pri/T1-F1/report.pdf", false),
            ("https://files.slack.com.attacker.example/x", false),
            ("https://slack-files.com/T1-F1-abc", false),
            ("https://hooks.slack.com/services/T/B/X", false),
            ("http://127.0.0.1:5001/files-pri/x", false),
            ("http://metadata.google.internal/computeMetadata/v1/", false),
            ("https://attacker.example/?u=files.slack.com", false),
        ] {
            assert_eq!(hosts.allows_str(url), allowed, "{url}");
        }
        assert!(!file_hosts("https://slack.com/api").allows_str("http://127.0.0.1:5000/x"));
    }

    #[test]
    fn files_of_a_message_are_attachments() {
        let event = json!({"files": [
            {"id": "F1", "name": "report.pdf", "mimetype": "application/pdf", "size": 1200,
             "url_private": "https://files.slack.com/files-pri/T1-F1/report.pdf"},
            {"id": "F2", "mode": "hidden_by_limit"},
            {"id": "F3", "name": "clip.webm", "mimetype": "audio/webm", "subtype": "slack_audio",
             "size": 10, "url_private": "https://files.slack.com/files-pri/T1-F3/clip.webm"}
        ]});
        let media = attachments(&event);
        assert_eq!(media.len(), 2);
        assert_eq!(media[0].kind, MediaKind::Document);
        assert_eq!(media[0].size, Some(1200));
        assert_eq!(media[1].kind, MediaKind::Voice);
    }
}

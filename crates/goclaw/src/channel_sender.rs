//! Lets the `message` tool post to the running channels. The tools are built before the
//! channel manager (which needs the runtime), so the manager is bound once it exists; until
//! then, and for a channel that is not running, a message is refused.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use goclaw_channels::{ChannelManager, Posted};
use goclaw_core::TenantId;
use goclaw_tools::message::{ChannelSender, Delivery, MessageFile};

/// A `ChannelSender` over the channel manager it is bound to.
#[derive(Default)]
pub struct BoundSender {
    channels: OnceLock<Arc<ChannelManager>>,
}

impl BoundSender {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Binds the channel manager; later calls are ignored.
    pub fn bind(&self, channels: Arc<ChannelManager>) {
        let _ = self.channels.set(channels);
    }
}

#[async_trait]
impl ChannelSender for BoundSender {
    async fn send(
        &self,
        tenant: TenantId,
        channel: &str,
        chat_id: &str,
        text: &str,
        key: &str,
        file: Option<MessageFile>,
    ) -> Result<Delivery, String> {
        let channels = self
            .channels
            .get()
            .ok_or_else(|| "the channels are not running yet".to_owned())?;
        let file = file.map(|file| goclaw_channels::post::PostFile {
            media: goclaw_channels::media::OutgoingMedia {
                path: file.path.to_string_lossy().into_owned(),
                file_name: file.file_name,
                mime_type: file.mime_type,
            },
            caption: String::new(),
        });
        match channels
            .post(tenant, channel, chat_id, text, key, file)
            .await
        {
            None => Err(format!("no running channel named {channel}")),
            Some(Ok(Posted::Sent)) => Ok(Delivery::Sent),
            Some(Ok(Posted::Queued)) => Ok(Delivery::Queued),
            Some(Ok(Posted::Failed(reason))) => {
                Err(format!("the platform refused the message: {reason}"))
            }
            Some(Err(error)) => {
                tracing::error!(error = %error, "queuing a message tool's post failed");
                Err("the message could not be queued".to_owned())
            }
        }
    }
}

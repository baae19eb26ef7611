//! The channels as the gateway's routes reach them (posts of `message` webhooks, updates
//! platforms deliver to `/channels/{name}/webhook`): the gateway's [`Channels`] over the
//! channel manager.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_channels::WebhookError;
use goclaw_channels::{ChannelManager, Posted};
use goclaw_gateway::webhooks::{ChannelTarget, Channels, DeliveryError, PostError, PostOutcome};

/// Posts through the running channel instances.
pub struct ManagedChannels(pub Arc<ChannelManager>);

#[async_trait]
impl Channels for ManagedChannels {
    async fn post(
        &self,
        target: &ChannelTarget,
        text: &str,
        key: &str,
    ) -> Result<PostOutcome, PostError> {
        match self
            .0
            .post(
                target.tenant_id,
                &target.channel,
                &target.chat_id,
                text,
                key,
            )
            .await
        {
            None => Err(PostError::NoChannel),
            Some(Ok(Posted::Sent)) => Ok(PostOutcome::Sent),
            Some(Ok(Posted::Queued)) => Ok(PostOutcome::Queued),
            Some(Ok(Posted::Failed(reason))) => Err(PostError::Failed(reason)),
            Some(Err(error)) => {
                tracing::error!(error = %error, "queuing a webhook's channel post failed");
                Err(PostError::Failed(
                    "the outbox could not be written".to_owned(),
                ))
            }
        }
    }

    async fn paired(&self, device: &goclaw_core::PairedDevice) {
        self.0.notify_paired(device).await;
    }

    async fn deliver(
        &self,
        channel: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), DeliveryError> {
        self.0
            .webhook(channel, headers, body)
            .await
            .map_err(|error| match error {
                WebhookError::NotEnabled => DeliveryError::NoChannel,
                WebhookError::Unauthorized => DeliveryError::Unauthorized,
                WebhookError::Invalid(reason) => DeliveryError::Invalid(reason),
                WebhookError::NotStored(reason) => DeliveryError::NotStored(reason),
            })
    }
}

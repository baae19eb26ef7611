//! The channels as the gateway reaches them (posts of `message` webhooks, updates platforms
//! deliver to `/channels/{name}/webhook`, pairing notices, `channels.status`/`toggle`, reloads
//! after a stored instance changed): the gateway's [`Channels`] over the channel manager.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_channels::WebhookError;
use goclaw_channels::{ChannelManager, Posted};
use goclaw_channels::{ChannelState, Toggled};
use goclaw_core::TenantId;
use goclaw_gateway::channels::{
    ChannelRun, ChannelTarget, Channels, DeliveryError, PostError, PostOutcome, PostedFile, Toggle,
};

/// Posts through the running channel instances.
pub struct ManagedChannels(pub Arc<ChannelManager>);

#[async_trait]
impl Channels for ManagedChannels {
    async fn post(
        &self,
        target: &ChannelTarget,
        text: &str,
        key: &str,
        file: Option<&PostedFile>,
    ) -> Result<PostOutcome, PostError> {
        let file = file.map(|file| goclaw_channels::post::PostFile {
            media: goclaw_channels::media::OutgoingMedia {
                path: file.path.to_string_lossy().into_owned(),
                file_name: file.file_name.clone(),
                mime_type: file.mime_type.clone(),
            },
            caption: file.caption.clone(),
        });
        match self
            .0
            .post(
                target.tenant_id,
                &target.channel,
                &target.chat_id,
                text,
                key,
                file,
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

    fn runs(&self) -> Vec<ChannelRun> {
        self.0
            .statuses()
            .into_iter()
            .map(|status| {
                let (state, reason) = match &status.state {
                    ChannelState::Starting => ("starting", None),
                    ChannelState::Running => ("running", None),
                    ChannelState::Failing(reason) => ("failing", Some(reason.clone())),
                    ChannelState::Stopped => ("stopped", None),
                };
                ChannelRun {
                    running: status.is_running(),
                    name: status.name,
                    kind: status.kind,
                    tenant_id: status.tenant,
                    state: state.to_owned(),
                    reason,
                }
            })
            .collect()
    }

    async fn toggle(&self, tenant: TenantId, name: &str, enabled: bool) -> Toggle {
        match self.0.toggle(tenant, name, enabled).await {
            Ok(Toggled::Changed) => Toggle::Changed,
            Ok(Toggled::AlreadyRunning) => Toggle::AlreadyRunning,
            Ok(Toggled::AlreadyStopped) => Toggle::AlreadyStopped,
            Err(_) => Toggle::NotFound,
        }
    }

    async fn reload(&self) {
        self.0.reload().await;
    }
}

//! The messaging channels as the gateway reaches them: the [`Channels`] the application hands
//! it (over its channel manager) carries `message` webhooks' posts, platforms' webhook
//! deliveries and pairing notices, and answers `channels.status` / `channels.toggle`; the
//! database's channel instances are managed by `instances.rs` (`/v1/channels/instances…`) and
//! the `channels.instances.*` methods, which tell the channels to reload.

pub(crate) mod instances;
pub mod schemas;

use async_trait::async_trait;
use axum::Router;
use axum::routing::get;
use goclaw_core::TenantId;

use crate::routes::AppState;

/// `/v1/channels/instances…`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/channels/instances",
            get(instances::list).post(instances::create),
        )
        .route(
            "/v1/channels/instances/{id}",
            get(instances::get)
                .put(instances::update)
                .delete(instances::delete),
        )
}

/// What one channel instance is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRun {
    pub name: String,
    /// The platform (`telegram`, …).
    pub kind: String,
    pub tenant_id: TenantId,
    pub running: bool,
    /// `starting`, `running`, `failing` or `stopped`.
    pub state: String,
    /// Why it is failing, without secrets.
    pub reason: Option<String>,
}

/// What `channels.toggle` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    Changed,
    AlreadyRunning,
    AlreadyStopped,
    /// No channel of that name in the caller's tenant.
    NotFound,
}

/// A channel chat a `message` webhook posts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTarget {
    pub tenant_id: TenantId,
    /// The channel instance's name (`telegram`, …).
    pub channel: String,
    pub chat_id: String,
}

/// A file posted after the text: on disk until the platform took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedFile {
    pub path: std::path::PathBuf,
    /// The name the recipient sees.
    pub file_name: String,
    pub mime_type: String,
    pub caption: String,
}

/// How a post went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    /// The platform accepted it.
    Sent,
    /// Queued and still being tried; it is sent when the platform takes it.
    Queued,
}

/// Why a post was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostError {
    /// No such channel is running.
    NoChannel,
    /// The platform refused it for good.
    Failed(String),
}

/// Why a channel's webhook delivery was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// No running channel of that name receives webhooks.
    NoChannel,
    /// The delivery does not carry the channel's secret.
    Unauthorized,
    /// The body is not an update of the platform.
    Invalid(String),
    /// Not stored now; the platform should deliver it again.
    NotStored(String),
}

/// The channels, as the gateway's routes reach them.
#[async_trait]
pub trait Channels: Send + Sync {
    /// Posts `text` to `target`, then `file` (if any) with its caption, once: `key` names the
    /// post, and posting the same key again queues nothing new.
    async fn post(
        &self,
        target: &ChannelTarget,
        text: &str,
        key: &str,
        file: Option<&PostedFile>,
    ) -> Result<PostOutcome, PostError>;

    /// Tells a sender just paired (`device.pair.approve`) in their chat that they may write.
    async fn paired(&self, device: &goclaw_core::PairedDevice);

    /// Hands an update a platform POSTed to `/channels/{channel}/webhook` (headers with
    /// lowercase names) to that channel; `Ok` once it is stored.
    async fn deliver(
        &self,
        channel: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), DeliveryError>;

    /// Every channel instance and what it is doing.
    fn runs(&self) -> Vec<ChannelRun>;

    /// Stops (`enabled: false`) or starts again the channel `name` of `tenant`.
    async fn toggle(&self, tenant: TenantId, name: &str, enabled: bool) -> Toggle;

    /// Reads the stored channel instances again and starts, restarts or stops channels to
    /// match (after one was created, changed or deleted).
    async fn reload(&self);
}

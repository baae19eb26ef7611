//! Inbound webhooks, as GoClaw serves them: admin routes that register webhooks and hand out
//! their secrets (`admin.rs`), and the two routes other systems call with a secret —
//! `/v1/webhooks/llm` runs the webhook's agent (`llm.rs`; answered in the response, or later
//! by a signed callback from `worker.rs`) and `/v1/webhooks/message` posts to a channel chat
//! (`message.rs`). Every call passes `guard.rs` first: the per-source window, the body cap,
//! the secret (bearer or HMAC signature, replays refused), the webhook's own address rules and
//! rate, and the tenant's rate; then `idempotency.rs` answers a repeated `Idempotency-Key`.
//!
//! The routes exist only when the gateway has an encryption key: a webhook's secret is kept
//! encrypted (it is the HMAC key), never in the clear.

pub(crate) mod admin;
pub(crate) mod channel;
mod guard;
mod idempotency;
mod limits;
pub(crate) mod llm;
pub mod media;
pub(crate) mod message;
pub mod net;
pub mod schemas;
pub mod secret;
pub mod worker;

pub use crate::channels::{ChannelTarget, Channels, DeliveryError, PostError, PostOutcome};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::{Notify, Semaphore};

use crate::ratelimit::BoundedWindowLimiter;
use crate::routes::AppState;

/// Agent runs webhooks may have going at once (sync calls and async ones together).
pub const LANE_SLOTS: usize = 4;
/// How long a sync call may wait for a slot and its run, together.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(30);

/// What the webhook routes share: the limiters, the replay cache and the run lane.
#[derive(Clone)]
pub struct Webhooks {
    inner: Arc<Inner>,
}

struct Inner {
    sources: BoundedWindowLimiter<std::net::IpAddr>,
    buckets: limits::Buckets,
    replays: limits::ReplayCache,
    lane: Arc<Semaphore>,
    private_callbacks: bool,
    /// Where files named by `message` calls wait until their channel sent them.
    media_dir: std::path::PathBuf,
    /// Woken when an async call was queued.
    queued: Notify,
}

impl Default for Webhooks {
    fn default() -> Self {
        Self::new(false, std::env::temp_dir().join("goclaw-webhook-media"))
    }
}

impl Webhooks {
    /// `private_callbacks` lets callbacks (and `media_url`s) go to private and loopback
    /// addresses; files named by `message` calls wait in `media_dir` until sent.
    pub fn new(private_callbacks: bool, media_dir: std::path::PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                sources: BoundedWindowLimiter::for_webhooks(),
                buckets: limits::Buckets::default(),
                replays: limits::ReplayCache::default(),
                lane: Arc::new(Semaphore::new(LANE_SLOTS)),
                private_callbacks,
                media_dir,
                queued: Notify::new(),
            }),
        }
    }

    /// Sources the per-source window tracks now (at most 4,096).
    pub fn tracked_sources(&self) -> usize {
        self.inner.sources.tracked()
    }

    /// Counts a call from `peer` in its window; false when the window is used up.
    pub(crate) fn allow_source(&self, peer: std::net::IpAddr) -> bool {
        self.inner.sources.allow(&peer)
    }

    /// Takes a token of `key`'s bucket of `per_minute`.
    pub(crate) fn take(&self, key: &str, per_minute: u32, now: std::time::Instant) -> bool {
        self.inner.buckets.take(key, per_minute, now)
    }

    /// Remembers a signature; false when it was seen within the replay window.
    pub(crate) fn first_use(&self, signature: &str) -> bool {
        self.inner
            .replays
            .first_use(signature, std::time::Instant::now())
    }

    pub(crate) fn lane(&self) -> Arc<Semaphore> {
        self.inner.lane.clone()
    }

    pub(crate) fn private_callbacks(&self) -> bool {
        self.inner.private_callbacks
    }

    pub(crate) fn media_dir(&self) -> &std::path::Path {
        &self.inner.media_dir
    }

    /// Tells the callback worker an async call is waiting.
    pub(crate) fn wake_worker(&self) {
        self.inner.queued.notify_one();
    }

    pub(crate) async fn queued(&self) {
        self.inner.queued.notified().await;
    }
}

/// The channels' own webhook route, which each channel's secret guards (mounted always).
pub fn channel_router() -> Router<AppState> {
    Router::new().route("/channels/{name}/webhook", post(channel::deliver))
}

/// The webhook routes; mounted only when the gateway has an encryption key.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks", get(admin::list).post(admin::create))
        .route(
            "/v1/webhooks/{id}",
            get(admin::get).patch(admin::update).delete(admin::delete),
        )
        .route("/v1/webhooks/{id}/rotate", post(admin::rotate))
        .route("/v1/webhooks/{id}/calls", get(admin::list_calls))
        .route("/v1/webhooks/{id}/calls/{callId}", get(admin::get_call))
        .route("/v1/webhooks/llm", post(llm::call))
        .route("/v1/webhooks/message", post(message::call))
}

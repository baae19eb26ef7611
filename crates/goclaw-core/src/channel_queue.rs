//! The channels' durable queues: what a messaging platform delivered (the inbox) and what the
//! gateway owes it (the outbox).
//!
//! An inbound update is stored before the platform is told it arrived, keyed by the platform's
//! own id, so an update delivered again — after a restart, a lost acknowledgement — is
//! recognized and never answered twice. A reply is written to the outbox, under a key that
//! names what it answers, in the same transaction that settles the inbound message; it is
//! marked sent only after the platform accepted it, with the platform's message id, so a
//! crash never loses a reply.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::TenantId;
use crate::store::StoreError;

/// Where an inbound message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundStatus {
    /// Stored, not yet answered (possibly a turn is running for it).
    Received,
    /// Answered: its replies are in the outbox.
    Answered,
    /// Settled without a run (a policy refused it, a command, a pairing prompt).
    Ignored,
}

impl InboundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundStatus::Received => "received",
            InboundStatus::Answered => "answered",
            InboundStatus::Ignored => "ignored",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "received" => InboundStatus::Received,
            "answered" => InboundStatus::Answered,
            "ignored" => InboundStatus::Ignored,
            _ => return None,
        })
    }
}

/// An update as a channel adapter received it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInbound {
    pub tenant_id: TenantId,
    /// The channel instance (`telegram`, or a stored instance's name).
    pub channel: String,
    /// The platform's id of the update, unique within the channel.
    pub platform_id: String,
    pub chat_id: String,
    pub sender_id: String,
    /// The adapter's normalized message.
    pub payload: Value,
}

/// A stored inbound update.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub channel: String,
    pub platform_id: String,
    pub chat_id: String,
    pub sender_id: String,
    pub payload: Value,
    pub status: InboundStatus,
    /// Turns started for it so far (more than one only after an interrupted run).
    pub attempts: i64,
    pub received_at: DateTime<Utc>,
    /// The platform's id of a draft of its answer already in the chat (streamed by an attempt
    /// that did not finish), to be edited into the answer.
    pub draft_message_id: Option<String>,
}

/// Where an outbound message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Handed to the platform; not yet confirmed. After a crash this is the one state in which
    /// the platform may or may not have the message.
    Sending,
    /// Accepted by the platform.
    Sent,
    /// Given up after too many failures.
    Dead,
}

impl OutboundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboundStatus::Pending => "pending",
            OutboundStatus::Sending => "sending",
            OutboundStatus::Sent => "sent",
            OutboundStatus::Dead => "dead",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => OutboundStatus::Pending,
            "sending" => OutboundStatus::Sending,
            "sent" => OutboundStatus::Sent,
            "dead" => OutboundStatus::Dead,
            _ => return None,
        })
    }
}

/// A reply to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbound {
    pub tenant_id: TenantId,
    pub channel: String,
    pub chat_id: String,
    /// Names what the message is (`run:{run id}:{part}`, `pairing:{inbox id}`, ...): queuing
    /// the same key twice keeps the first.
    pub dedup_key: String,
    /// What the adapter sends (formatted text, reply target, buttons).
    pub payload: Value,
}

/// A queued reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub channel: String,
    pub chat_id: String,
    pub dedup_key: String,
    pub payload: Value,
    pub status: OutboundStatus,
    pub attempts: i64,
    pub platform_message_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
}

/// The inbox and the outbox of every channel.
#[async_trait]
pub trait ChannelQueueStore: Send + Sync {
    /// Stores an update; `None` when the channel already holds one with its platform id.
    async fn receive(&self, inbound: NewInbound) -> Result<Option<Inbound>, StoreError>;
    /// The channel's unanswered updates, oldest first.
    async fn unanswered(&self, channel: &str, limit: u32) -> Result<Vec<Inbound>, StoreError>;
    /// The updates of one chat received before `before`, newest first (at most `limit`).
    async fn earlier_in_chat(
        &self,
        tenant: TenantId,
        channel: &str,
        chat_id: &str,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Inbound>, StoreError>;
    /// Counts a new attempt at answering `id`; returns the attempt's number (from 1).
    async fn begin_attempt(&self, id: Uuid) -> Result<i64, StoreError>;
    /// Records the platform's id of a draft of the update's answer, sent to the chat.
    async fn record_draft(&self, id: Uuid, message_id: &str) -> Result<(), StoreError>;
    /// Settles an update and queues its replies, in one transaction. Replies whose key is
    /// queued already are skipped. Settling a settled update changes nothing.
    async fn settle(
        &self,
        id: Uuid,
        status: InboundStatus,
        replies: Vec<NewOutbound>,
    ) -> Result<(), StoreError>;
    /// Queues replies that answer no stored update (an approval's notice, a command's answer).
    async fn enqueue(&self, replies: Vec<NewOutbound>) -> Result<(), StoreError>;
    /// The channel's replies due at `now` (waiting, or left sending by a previous process),
    /// oldest first.
    async fn due(
        &self,
        channel: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Outbound>, StoreError>;
    /// Marks a reply as handed to the platform; returns the attempt's number (from 1).
    async fn mark_sending(&self, id: Uuid) -> Result<i64, StoreError>;
    /// Records the platform's acceptance and its message id.
    async fn mark_sent(&self, id: Uuid, platform_message_id: &str) -> Result<(), StoreError>;
    /// Records a failed attempt: retried at `retry_at`, or given up (`None`).
    async fn mark_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// The channel's replies to one chat, oldest first (for inspection and tests).
    async fn outbound_for_chat(
        &self,
        channel: &str,
        chat_id: &str,
    ) -> Result<Vec<Outbound>, StoreError>;
    /// Deletes settled updates and sent or dead replies older than `before`; returns how many
    /// rows went.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

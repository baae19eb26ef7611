//! Stored turns: one record per acknowledged user message, saying which run answers it and how
//! that run ended. A user message and its turn are stored in one transaction, and a run's final
//! message and the end of its turns in another, so after a crash every stored user message is
//! either answered, visibly failed, or still `queued` (and found by [`TurnStore::unfinished`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{Message, NewMessage, SessionId, SessionKey, TenantId};
use crate::store::StoreError;

/// Longest idempotency key a client may give, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 255;

/// Where a turn stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TurnStatus {
    /// Stored and waiting for (or inside) its run.
    Queued,
    /// Its run answered.
    Completed,
    /// Its run failed, or the gateway stopped before the run ended.
    Failed,
    /// Its run was aborted.
    Cancelled,
    /// It never reached a run (a full session queue, shutdown).
    Dropped,
}

impl TurnStatus {
    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TurnStatus::Queued => "queued",
            TurnStatus::Completed => "completed",
            TurnStatus::Failed => "failed",
            TurnStatus::Cancelled => "cancelled",
            TurnStatus::Dropped => "dropped",
        }
    }

    /// The status called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "queued" => TurnStatus::Queued,
            "completed" => TurnStatus::Completed,
            "failed" => TurnStatus::Failed,
            "cancelled" => TurnStatus::Cancelled,
            "dropped" => TurnStatus::Dropped,
            _ => return None,
        })
    }

    /// Whether the turn has ended.
    pub fn is_terminal(self) -> bool {
        self != TurnStatus::Queued
    }
}

/// A turn to record with its user message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTurn {
    pub tenant_id: TenantId,
    /// The run that will answer the message.
    pub run_id: Uuid,
    /// The sender.
    pub user_id: String,
    /// The client's key for this request: unique per tenant and user.
    pub idempotency_key: Option<String>,
}

/// One acknowledged user message and the run that answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// The user message's id.
    pub message_id: Uuid,
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    pub session_key: SessionKey,
    /// The user message's `seq` in its session.
    pub seq: i64,
    pub run_id: Uuid,
    pub user_id: String,
    pub idempotency_key: Option<String>,
    pub status: TurnStatus,
    /// Why the turn failed or was dropped.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a run (or a message outside any run) ended, for [`TurnStore::finish_run`] and
/// [`TurnStore::finish_message`].
#[derive(Debug, Clone, PartialEq)]
pub struct TurnEnd {
    /// Terminal: never [`TurnStatus::Queued`].
    pub status: TurnStatus,
    pub error: Option<String>,
    /// The message that ends the run in its transcript (the answer, the partial answer of an
    /// aborted run, a visible failure), appended in the same transaction.
    pub message: Option<NewMessage>,
}

/// Storage of turns.
#[async_trait]
pub trait TurnStore: Send + Sync {
    /// Appends the user message to its session and records its turn (`queued`) in one
    /// transaction. A turn with the same tenant, user and idempotency key is a
    /// `StoreError::Conflict`, and then nothing is stored. Nothing is stored either when the
    /// session does not exist or belongs to another tenant than `turn.tenant_id`
    /// (`NotFound("session")`), or when the key is longer than [`MAX_IDEMPOTENCY_KEY_BYTES`].
    async fn accept(
        &self,
        session: SessionId,
        message: NewMessage,
        turn: NewTurn,
    ) -> Result<(Message, Turn), StoreError>;

    /// Ends every still-`queued` turn of `run` in `session` with `end`, appending
    /// `end.message` in the same transaction. Returns the appended message. Turns already
    /// ended keep their status. An `end` of [`TurnStatus::Queued`] is an error, and changes
    /// nothing.
    async fn finish_run(
        &self,
        session: SessionId,
        run: Uuid,
        end: TurnEnd,
    ) -> Result<Option<Message>, StoreError>;

    /// Ends the still-`queued` turn of one user message (`seq` in `session`) with `end`,
    /// appending `end.message` in the same transaction; used for a message dropped from a
    /// queue. Returns the appended message. An `end` of [`TurnStatus::Queued`] is an error.
    async fn finish_message(
        &self,
        session: SessionId,
        seq: i64,
        end: TurnEnd,
    ) -> Result<Option<Message>, StoreError>;

    /// The turn a client's idempotency key names, if any.
    async fn by_idempotency_key(
        &self,
        tenant: TenantId,
        user_id: &str,
        key: &str,
    ) -> Result<Option<Turn>, StoreError>;

    /// The turns of `run`, in `seq` order.
    async fn of_run(&self, run: Uuid) -> Result<Vec<Turn>, StoreError>;

    /// Turns still `queued`, across tenants, oldest first, at most `limit`.
    async fn unfinished(&self, limit: u32) -> Result<Vec<Turn>, StoreError>;
}

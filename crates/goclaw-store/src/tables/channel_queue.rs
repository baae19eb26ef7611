//! `channel_inbox` and `channel_outbox`: the channels' durable queues. An update is inserted
//! once per channel and platform id (`ON CONFLICT DO NOTHING`, so a redelivery is told apart
//! by the missing row); settling it and queuing its replies is one write transaction, and a
//! reply's key is unique per channel, so answering twice queues nothing twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    ChannelQueueStore, Inbound, InboundStatus, NewInbound, NewOutbound, Outbound, OutboundStatus,
    StoreError, TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Record, Row, Statement, Tx};

const INBOX_COLUMNS: &str = "id, tenant_id, channel, platform_id, chat_id, sender_id, payload, \
     status, attempts, received_at, draft_message_id";
const OUTBOX_COLUMNS: &str = "id, tenant_id, channel, chat_id, dedup_key, payload, status, \
     attempts, platform_message_id, last_error, created_at, next_attempt_at";

static RECEIVE: Statement = Statement::joined(&[
    "INSERT INTO channel_inbox (id, tenant_id, channel, platform_id, chat_id, sender_id, \
     payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (tenant_id, channel, platform_id) DO NOTHING RETURNING ",
    INBOX_COLUMNS,
]);
static UNANSWERED: Statement = Statement::joined(&[
    "SELECT ",
    INBOX_COLUMNS,
    " FROM channel_inbox WHERE channel = ? AND status = 'received' \
     ORDER BY received_at, id LIMIT ?",
]);
static EARLIER_IN_CHAT: Statement = Statement::joined(&[
    "SELECT ",
    INBOX_COLUMNS,
    " FROM channel_inbox WHERE tenant_id = ? AND channel = ? AND chat_id = ? \
     AND received_at < ? ORDER BY received_at DESC, id DESC LIMIT ?",
]);
static BEGIN_ATTEMPT: Statement = Statement::new(
    "UPDATE channel_inbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
);
static RECORD_DRAFT: Statement =
    Statement::new("UPDATE channel_inbox SET draft_message_id = ? WHERE id = ?");
static SETTLE: Statement = Statement::new(
    "UPDATE channel_inbox SET status = ?, settled_at = ? WHERE id = ? AND status = 'received'",
);
static ENQUEUE: Statement = Statement::new(
    "INSERT INTO channel_outbox (id, tenant_id, channel, chat_id, dedup_key, payload, \
     created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (tenant_id, channel, dedup_key) DO NOTHING",
);
static DUE: Statement = Statement::joined(&[
    "SELECT ",
    OUTBOX_COLUMNS,
    " FROM channel_outbox WHERE channel = ? AND status IN ('pending', 'sending') \
     AND next_attempt_at <= ? ORDER BY created_at, dedup_key LIMIT ?",
]);
static MARK_SENDING: Statement = Statement::new(
    "UPDATE channel_outbox SET status = 'sending', attempts = attempts + 1 \
     WHERE id = ? AND status IN ('pending', 'sending') RETURNING attempts",
);
static MARK_SENT: Statement = Statement::new(
    "UPDATE channel_outbox SET status = 'sent', platform_message_id = ?, sent_at = ?, \
     last_error = NULL WHERE id = ?",
);
static MARK_FAILED: Statement = Statement::new(
    "UPDATE channel_outbox SET status = ?, last_error = ?, next_attempt_at = ? \
     WHERE id = ? AND status <> 'sent'",
);
static FOR_CHAT: Statement = Statement::joined(&[
    "SELECT ",
    OUTBOX_COLUMNS,
    " FROM channel_outbox WHERE channel = ? AND chat_id = ? ORDER BY created_at, dedup_key",
]);
static PRUNE_INBOX: Statement =
    Statement::new("DELETE FROM channel_inbox WHERE status <> 'received' AND received_at < ?");
static PRUNE_OUTBOX: Statement = Statement::new(
    "DELETE FROM channel_outbox WHERE status IN ('sent', 'dead') AND created_at < ?",
);

impl Record for Inbound {
    const TABLE: &'static str = "channel_inbox";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Inbound {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            channel: row.text("channel")?,
            platform_id: row.text("platform_id")?,
            chat_id: row.text("chat_id")?,
            sender_id: row.text("sender_id")?,
            payload: row.json("payload")?,
            status: row.parse("status", |s: &str| {
                InboundStatus::parse(s).ok_or_else(|| format!("unknown inbox status {s:?}"))
            })?,
            attempts: row.int("attempts")?,
            received_at: row.time("received_at")?,
            draft_message_id: row.opt_text("draft_message_id")?,
        })
    }
}

impl Record for Outbound {
    const TABLE: &'static str = "channel_outbox";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Outbound {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            channel: row.text("channel")?,
            chat_id: row.text("chat_id")?,
            dedup_key: row.text("dedup_key")?,
            payload: row.json("payload")?,
            status: row.parse("status", |s: &str| {
                OutboundStatus::parse(s).ok_or_else(|| format!("unknown outbox status {s:?}"))
            })?,
            attempts: row.int("attempts")?,
            platform_message_id: row.opt_text("platform_message_id")?,
            last_error: row.opt_text("last_error")?,
            created_at: row.time("created_at")?,
            next_attempt_at: row.time("next_attempt_at")?,
        })
    }
}

/// Queues `replies` in `tx`; a key already queued is skipped.
async fn enqueue_in(tx: &mut Tx, replies: &[NewOutbound]) -> Result<(), StoreError> {
    let now = Utc::now();
    for reply in replies {
        let params = [
            Uuid::now_v7().into(),
            reply.tenant_id.into(),
            reply.channel.as_str().into(),
            reply.chat_id.as_str().into(),
            reply.dedup_key.as_str().into(),
            (&reply.payload).into(),
            now.into(),
            now.into(),
        ];
        tx.execute(&ENQUEUE, &params)
            .await
            .map_err(|e| store_error_with_parent(e, "channel reply", "tenant"))?;
    }
    Ok(())
}

#[async_trait]
impl ChannelQueueStore for SqlStore {
    async fn receive(&self, inbound: NewInbound) -> Result<Option<Inbound>, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            inbound.tenant_id.into(),
            inbound.channel.as_str().into(),
            inbound.platform_id.as_str().into(),
            inbound.chat_id.as_str().into(),
            inbound.sender_id.as_str().into(),
            (&inbound.payload).into(),
            Utc::now().into(),
        ];
        self.pool
            .fetch_optional(&RECEIVE, &params)
            .await
            .map_err(|e| store_error_with_parent(e, "channel update", "tenant"))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn unanswered(&self, channel: &str, limit: u32) -> Result<Vec<Inbound>, StoreError> {
        self.pool
            .fetch_all(&UNANSWERED, &[channel.into(), i64::from(limit).into()])
            .await
            .map_err(|e| store_error(e, "channel update"))?
            .decode()
    }

    async fn earlier_in_chat(
        &self,
        tenant: TenantId,
        channel: &str,
        chat_id: &str,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Inbound>, StoreError> {
        self.pool
            .fetch_all(
                &EARLIER_IN_CHAT,
                &[
                    tenant.into(),
                    channel.into(),
                    chat_id.into(),
                    before.into(),
                    i64::from(limit).into(),
                ],
            )
            .await
            .map_err(|e| store_error(e, "channel update"))?
            .decode()
    }

    async fn begin_attempt(&self, id: Uuid) -> Result<i64, StoreError> {
        self.pool
            .fetch_optional(&BEGIN_ATTEMPT, &[id.into()])
            .await
            .map_err(|e| store_error(e, "channel update"))?
            .ok_or(StoreError::NotFound("channel update"))?
            .read("channel_inbox")
            .int("attempts")
    }

    async fn record_draft(&self, id: Uuid, message_id: &str) -> Result<(), StoreError> {
        let updated = self
            .pool
            .execute(&RECORD_DRAFT, &[message_id.into(), id.into()])
            .await
            .map_err(|e| store_error(e, "channel update"))?;
        if updated == 0 {
            return Err(StoreError::NotFound("channel update"));
        }
        Ok(())
    }

    async fn settle(
        &self,
        id: Uuid,
        status: InboundStatus,
        replies: Vec<NewOutbound>,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_write()
            .await
            .map_err(|e| store_error(e, "channel update"))?;
        let settled = tx
            .execute(
                &SETTLE,
                &[status.as_str().into(), Utc::now().into(), id.into()],
            )
            .await
            .map_err(|e| store_error(e, "channel update"))?;
        // Settled before (by another worker, or a replay): its replies are queued already.
        if settled > 0 {
            enqueue_in(&mut tx, &replies).await?;
        }
        tx.commit()
            .await
            .map_err(|e| store_error(e, "channel update"))
    }

    async fn enqueue(&self, replies: Vec<NewOutbound>) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_write()
            .await
            .map_err(|e| store_error(e, "channel reply"))?;
        enqueue_in(&mut tx, &replies).await?;
        tx.commit()
            .await
            .map_err(|e| store_error(e, "channel reply"))
    }

    async fn due(
        &self,
        channel: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Outbound>, StoreError> {
        self.pool
            .fetch_all(&DUE, &[channel.into(), now.into(), i64::from(limit).into()])
            .await
            .map_err(|e| store_error(e, "channel reply"))?
            .decode()
    }

    async fn mark_sending(&self, id: Uuid) -> Result<i64, StoreError> {
        self.pool
            .fetch_optional(&MARK_SENDING, &[id.into()])
            .await
            .map_err(|e| store_error(e, "channel reply"))?
            .ok_or(StoreError::NotFound("channel reply"))?
            .read("channel_outbox")
            .int("attempts")
    }

    async fn mark_sent(&self, id: Uuid, platform_message_id: &str) -> Result<(), StoreError> {
        self.pool
            .execute(
                &MARK_SENT,
                &[platform_message_id.into(), Utc::now().into(), id.into()],
            )
            .await
            .map_err(|e| store_error(e, "channel reply"))?;
        Ok(())
    }

    async fn mark_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let (status, at) = match retry_at {
            Some(at) => (OutboundStatus::Pending, at),
            None => (OutboundStatus::Dead, Utc::now()),
        };
        self.pool
            .execute(
                &MARK_FAILED,
                &[status.as_str().into(), error.into(), at.into(), id.into()],
            )
            .await
            .map_err(|e| store_error(e, "channel reply"))?;
        Ok(())
    }

    async fn outbound_for_chat(
        &self,
        channel: &str,
        chat_id: &str,
    ) -> Result<Vec<Outbound>, StoreError> {
        self.pool
            .fetch_all(&FOR_CHAT, &[channel.into(), chat_id.into()])
            .await
            .map_err(|e| store_error(e, "channel reply"))?
            .decode()
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let inbox = self
            .pool
            .execute(&PRUNE_INBOX, &[before.into()])
            .await
            .map_err(|e| store_error(e, "channel update"))?;
        let outbox = self
            .pool
            .execute(&PRUNE_OUTBOX, &[before.into()])
            .await
            .map_err(|e| store_error(e, "channel reply"))?;
        Ok(inbox + outbox)
    }
}

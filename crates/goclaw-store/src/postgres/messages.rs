//! Session transcripts on PostgreSQL.
//!
//! `append` bumps `sessions.message_count` and inserts the message with the new count as its
//! `seq` in one transaction; the `UPDATE` locks the session row, so concurrent appends to one
//! session take turns and each sees the count its predecessor committed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{Message, MessageId, MessageStore, NewMessage, Role, SessionId, StoreError};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{corrupt, store_error};
use crate::patch::object_or_empty;

const COLUMNS: &str =
    "id, session_id, seq, role, content, tool_calls, tool_call_id, metadata, created_at";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    session_id: Uuid,
    seq: i64,
    role: String,
    content: String,
    tool_calls: Option<serde_json::Value>,
    tool_call_id: Option<String>,
    metadata: serde_json::Value,
    created_at: DateTime<Utc>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;

    fn try_from(row: MessageRow) -> Result<Self, StoreError> {
        Ok(Message {
            id: MessageId::from_uuid(row.id),
            session_id: SessionId::from_uuid(row.session_id),
            seq: row.seq,
            role: Role::parse(&row.role).map_err(|e| corrupt("messages", e))?,
            content: row.content,
            tool_calls: row.tool_calls.unwrap_or(serde_json::Value::Null),
            tool_call_id: row.tool_call_id,
            metadata: row.metadata,
            created_at: row.created_at,
        })
    }
}

#[async_trait]
impl MessageStore for PostgresStore {
    async fn append(&self, session: SessionId, message: NewMessage) -> Result<Message, StoreError> {
        let db_error = |e| store_error(e, "message");
        let metadata = object_or_empty("metadata", message.metadata)?;
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let (seq, tenant_id): (i64, Uuid) = sqlx::query_as(
            "UPDATE sessions SET message_count = message_count + 1, updated_at = now() \
             WHERE id = $1 RETURNING message_count, tenant_id",
        )
        .bind(session.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound("session"))?;
        let tool_calls = (!message.tool_calls.is_null()).then_some(&message.tool_calls);
        let row: MessageRow = sqlx::query_as(&format!(
            "INSERT INTO messages \
             (id, tenant_id, session_id, seq, role, content, tool_calls, tool_call_id, metadata) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
        ))
        .bind(MessageId::generate().as_uuid())
        .bind(tenant_id)
        .bind(session.as_uuid())
        .bind(seq)
        .bind(message.role.as_str())
        .bind(&message.content)
        .bind(tool_calls)
        .bind(&message.tool_call_id)
        .bind(&metadata)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.try_into()
    }

    async fn list(
        &self,
        session: SessionId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages \
             WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        sqlx::query_as::<_, MessageRow>(&sql)
            .bind(session.as_uuid())
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "message"))?
            .into_iter()
            .map(Message::try_from)
            .collect()
    }
}

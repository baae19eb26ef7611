//! Session transcripts on PostgreSQL.
//!
//! An append is one statement: a data-modifying `WITH` bumps `sessions.message_count` and
//! inserts the message with the new count as its `seq`. The `UPDATE` locks the session row, so
//! concurrent appends to one session take turns and each sees the count its predecessor
//! committed. [`append_on`] runs it on any executor, including a transaction that writes more
//! rows with the message (turns).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{Message, MessageId, MessageStore, NewMessage, Role, SessionId, StoreError};
use sqlx::{Executor, Postgres};
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

/// The session a message was appended to, as its row said when `seq` was handed out.
pub(super) struct AppendedTo {
    pub(super) tenant_id: Uuid,
    pub(super) session_key: String,
}

#[derive(sqlx::FromRow)]
struct AppendedRow {
    #[sqlx(flatten)]
    message: MessageRow,
    tenant_id: Uuid,
    session_key: String,
}

/// Appends `message` to `session` in one statement on `executor`; inside a transaction, it
/// commits with the rest of it.
pub(super) async fn append_on<'c, E>(
    executor: E,
    session: SessionId,
    message: NewMessage,
) -> Result<(Message, AppendedTo), StoreError>
where
    E: Executor<'c, Database = Postgres>,
{
    let metadata = object_or_empty("metadata", message.metadata)?;
    let tool_calls = (!message.tool_calls.is_null()).then_some(&message.tool_calls);
    let sql = format!(
        "WITH bump AS ( \
             UPDATE sessions SET message_count = message_count + 1, updated_at = now() \
             WHERE id = $2 RETURNING message_count, tenant_id, session_key \
         ), appended AS ( \
             INSERT INTO messages \
             (id, tenant_id, session_id, seq, role, content, tool_calls, tool_call_id, metadata) \
             SELECT $1, bump.tenant_id, $2, bump.message_count, $3, $4, $5, $6, $7 FROM bump \
             RETURNING {COLUMNS}, tenant_id \
         ) \
         SELECT appended.*, bump.session_key FROM appended CROSS JOIN bump"
    );
    let row: AppendedRow = sqlx::query_as(&sql)
        .bind(MessageId::generate().as_uuid())
        .bind(session.as_uuid())
        .bind(message.role.as_str())
        .bind(&message.content)
        .bind(tool_calls)
        .bind(&message.tool_call_id)
        .bind(&metadata)
        .fetch_optional(executor)
        .await
        .map_err(|e| store_error(e, "message"))?
        .ok_or(StoreError::NotFound("session"))?;
    let session = AppendedTo {
        tenant_id: row.tenant_id,
        session_key: row.session_key,
    };
    Ok((row.message.try_into()?, session))
}

#[async_trait]
impl MessageStore for PostgresStore {
    async fn append(&self, session: SessionId, message: NewMessage) -> Result<Message, StoreError> {
        let (message, _) = append_on(&self.pool, session, message).await?;
        Ok(message)
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

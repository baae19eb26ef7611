//! Session transcripts on SQLite.
//!
//! `append` runs in one `BEGIN IMMEDIATE` transaction: it takes SQLite's write lock up front,
//! bumps `sessions.message_count` and inserts the message with the new count as its `seq`, so
//! concurrent appends queue on the lock instead of racing for a `seq`. [`append_on`] is that
//! append inside a transaction the caller holds, for the turn stores that write more rows with
//! the message.

use async_trait::async_trait;
use goclaw_core::{Message, MessageId, MessageStore, NewMessage, Role, SessionId, StoreError};
use sqlx::SqliteConnection;

use super::{NOW, SqliteStore, json_text, parse_id, parse_json, parse_time};
use crate::error::{corrupt, store_error};
use crate::patch::object_or_empty;

const COLUMNS: &str =
    "id, session_id, seq, role, content, tool_calls, tool_call_id, metadata, created_at";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    session_id: String,
    seq: i64,
    role: String,
    content: String,
    tool_calls: Option<String>,
    tool_call_id: Option<String>,
    metadata: String,
    created_at: String,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;

    fn try_from(row: MessageRow) -> Result<Self, StoreError> {
        Ok(Message {
            id: parse_id("messages", &row.id)?,
            session_id: parse_id("messages", &row.session_id)?,
            seq: row.seq,
            role: Role::parse(&row.role).map_err(|e| corrupt("messages", e))?,
            content: row.content,
            tool_calls: parse_json("messages", row.tool_calls.as_deref())?,
            tool_call_id: row.tool_call_id,
            metadata: parse_json("messages", Some(&row.metadata))?,
            created_at: parse_time("messages", &row.created_at)?,
        })
    }
}

/// The session a message was appended to, as its row said when `seq` was handed out.
pub(super) struct AppendedTo {
    pub(super) tenant_id: String,
    pub(super) session_key: String,
}

/// Appends `message` to `session` on `conn`, which must be inside a `BEGIN IMMEDIATE`
/// transaction: the write lock taken up front is what keeps concurrent appends from sharing a
/// `seq`. Nothing is committed here.
pub(super) async fn append_on(
    conn: &mut SqliteConnection,
    session: SessionId,
    message: NewMessage,
) -> Result<(Message, AppendedTo), StoreError> {
    let db_error = |e| store_error(e, "message");
    let metadata = object_or_empty("metadata", message.metadata)?;
    let bump = format!(
        "UPDATE sessions SET message_count = message_count + 1, updated_at = {NOW} \
         WHERE id = ? RETURNING message_count, tenant_id, session_key"
    );
    let (seq, tenant_id, session_key): (i64, String, String) = sqlx::query_as(&bump)
        .bind(session.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound("session"))?;
    // The row is built from what is inserted rather than read back: `RETURNING` costs SQLite a
    // temporary table per statement, and decoding the row parsed the JSON just written. The
    // time is taken here, in the format `NOW` writes, from the same clock.
    let created_at = now_text();
    let id = MessageId::generate();
    let insert = "INSERT INTO messages \
         (id, tenant_id, session_id, seq, role, content, tool_calls, tool_call_id, metadata, \
          created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlx::query(insert)
        .bind(id.to_string())
        .bind(&tenant_id)
        .bind(session.to_string())
        .bind(seq)
        .bind(message.role.as_str())
        .bind(&message.content)
        .bind(json_text(&message.tool_calls))
        .bind(&message.tool_call_id)
        .bind(metadata.to_string())
        .bind(&created_at)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    let appended = Message {
        id,
        session_id: session,
        seq,
        role: message.role,
        content: message.content,
        tool_calls: message.tool_calls,
        tool_call_id: message.tool_call_id,
        metadata,
        created_at: parse_time("messages", &created_at)?,
    };
    let session = AppendedTo {
        tenant_id,
        session_key,
    };
    Ok((appended, session))
}

/// The current time as `NOW` writes it: ISO-8601 UTC with milliseconds.
fn now_text() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn append(&self, session: SessionId, message: NewMessage) -> Result<Message, StoreError> {
        let db_error = |e| store_error(e, "message");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)?;
        let (message, _) = append_on(&mut tx, session, message).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(message)
    }

    async fn list(
        &self,
        session: SessionId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        );
        sqlx::query_as::<_, MessageRow>(&sql)
            .bind(session.to_string())
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

//! Session transcripts.
//!
//! A message's `seq` is handed out by bumping `sessions.message_count` and inserting the
//! message with the new count, in one transaction, so concurrent appends to a session take
//! turns instead of racing for a `seq`. The engines need a different number of statements for
//! it, the one place a table module matches on the dialect:
//!
//! - SQLite has no data-modifying `WITH`: the bump (`UPDATE … RETURNING`) and the `INSERT` are
//!   two statements inside a write transaction (`BEGIN IMMEDIATE`), whose lock, taken up front,
//!   is what keeps concurrent appends apart.
//! - PostgreSQL runs both as one statement (`WITH bump AS (UPDATE …) INSERT …`): the `UPDATE`
//!   locks the session row, so concurrent appends take turns and each sees the count its
//!   predecessor committed. It needs no transaction of its own.
//!
//! [`append_on`] is the append on a connection the caller holds, for the turn stores that write
//! more rows with the message.

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use goclaw_core::{
    Message, MessageId, MessageStore, NewMessage, Role, SessionId, StoreError, TenantId,
};

use super::SqlStore;
use crate::error::store_error;
use crate::patch::object_or_empty;
use crate::sql::{Conn, Dialect, Record, Row, Statement};

const COLUMNS: &str =
    "id, session_id, seq, role, content, tool_calls, tool_call_id, metadata, created_at";

/// Hands out the session's next `seq`.
const BUMP_SEQ: &str = "UPDATE sessions SET message_count = message_count + 1, \
                        updated_at = {now} WHERE id = ? \
                        RETURNING message_count, tenant_id, session_key";
const INSERT_COLUMNS: &str = "id, tenant_id, session_id, seq, role, content, tool_calls, \
                              tool_call_id, metadata, created_at";

/// SQLite: the bump, then the insert.
static BUMP: Statement = Statement::new(BUMP_SEQ);
static INSERT: Statement = Statement::joined(&[
    "INSERT INTO messages (",
    INSERT_COLUMNS,
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
]);
/// PostgreSQL: both at once.
static BUMP_AND_INSERT: Statement = Statement::joined(&[
    "WITH bump AS (",
    BUMP_SEQ,
    "), appended AS (INSERT INTO messages (",
    INSERT_COLUMNS,
    ") SELECT ?, bump.tenant_id, ?, bump.message_count, ?, ?, ?, ?, ?, {now} FROM bump \
     RETURNING created_at) \
     SELECT bump.message_count, bump.tenant_id, bump.session_key, appended.created_at \
     FROM appended CROSS JOIN bump",
]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
]);

impl Record for Message {
    const TABLE: &'static str = "messages";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Message {
            id: row.id("id")?,
            session_id: row.id("session_id")?,
            seq: row.int("seq")?,
            role: row.parse("role", Role::parse)?,
            content: row.text("content")?,
            tool_calls: row.json("tool_calls")?,
            tool_call_id: row.opt_text("tool_call_id")?,
            metadata: row.json("metadata")?,
            created_at: row.time("created_at")?,
        })
    }
}

/// The session a message was appended to, as its row said when `seq` was handed out.
pub(super) struct AppendedTo {
    pub(super) tenant_id: TenantId,
    pub(super) session_key: String,
}

/// What the bump returned: the new `seq` and the session it belongs to.
fn bumped(row: &Row<'_>) -> Result<(i64, AppendedTo), StoreError> {
    let appended_to = AppendedTo {
        tenant_id: row.id("tenant_id")?,
        session_key: row.text("session_key")?,
    };
    Ok((row.int("message_count")?, appended_to))
}

/// Appends `message` to `session` on `conn`. On SQLite `conn` must be a write transaction's
/// (see the module documentation); inside any transaction, nothing is committed here.
pub(super) async fn append_on(
    conn: &mut Conn<'_>,
    session: SessionId,
    message: NewMessage,
) -> Result<(Message, AppendedTo), StoreError> {
    let db_error = |e| store_error(e, "message");
    let metadata = object_or_empty("metadata", message.metadata)?;
    let tool_calls = (!message.tool_calls.is_null()).then_some(&message.tool_calls);
    let id = MessageId::generate();
    let (seq, appended_to, created_at) = match conn.dialect() {
        Dialect::Sqlite => {
            let row = conn
                .fetch_optional(&BUMP, &[session.into()])
                .await
                .map_err(db_error)?
                .ok_or(StoreError::NotFound("session"))?;
            let (seq, appended_to) = bumped(&row.read("sessions"))?;
            // The time is taken here, in the format `{now}` writes, and the message is built
            // from what is inserted rather than read back: `RETURNING` costs SQLite a
            // temporary table per statement.
            let created_at: DateTime<Utc> = Utc::now().trunc_subsecs(3);
            conn.execute(
                &INSERT,
                &[
                    id.into(),
                    appended_to.tenant_id.into(),
                    session.into(),
                    seq.into(),
                    message.role.as_str().into(),
                    (&message.content).into(),
                    tool_calls.into(),
                    (&message.tool_call_id).into(),
                    (&metadata).into(),
                    created_at.into(),
                ],
            )
            .await
            .map_err(db_error)?;
            (seq, appended_to, created_at)
        }
        Dialect::Postgres => {
            let row = conn
                .fetch_optional(
                    &BUMP_AND_INSERT,
                    &[
                        session.into(),
                        id.into(),
                        session.into(),
                        message.role.as_str().into(),
                        (&message.content).into(),
                        tool_calls.into(),
                        (&message.tool_call_id).into(),
                        (&metadata).into(),
                    ],
                )
                .await
                .map_err(db_error)?
                .ok_or(StoreError::NotFound("session"))?;
            let row = row.read("sessions");
            let (seq, appended_to) = bumped(&row)?;
            (seq, appended_to, row.time("created_at")?)
        }
    };
    let appended = Message {
        id,
        session_id: session,
        seq,
        role: message.role,
        content: message.content,
        tool_calls: message.tool_calls,
        tool_call_id: message.tool_call_id,
        metadata,
        created_at,
    };
    Ok((appended, appended_to))
}

#[async_trait]
impl MessageStore for SqlStore {
    async fn append(&self, session: SessionId, message: NewMessage) -> Result<Message, StoreError> {
        let db_error = |e| store_error(e, "message");
        match self.pool.dialect() {
            Dialect::Sqlite => {
                let mut tx = self.pool.begin_write().await.map_err(db_error)?;
                let (message, _) = append_on(&mut tx.conn(), session, message).await?;
                tx.commit().await.map_err(db_error)?;
                Ok(message)
            }
            Dialect::Postgres => {
                let (message, _) = append_on(&mut self.pool.conn(), session, message).await?;
                Ok(message)
            }
        }
    }

    async fn list(
        &self,
        session: SessionId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.pool
            .fetch_all(
                &LIST,
                &[session.into(), after_seq.into(), i64::from(limit).into()],
            )
            .await
            .map_err(|e| store_error(e, "message"))?
            .decode()
    }
}

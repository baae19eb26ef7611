//! Turns on SQLite.
//!
//! `accept` and a `finish_*` that carries a message run in one `BEGIN IMMEDIATE` transaction
//! with [`append_on`]: the session's `seq` bump, the message and the turn row commit together or
//! not at all. An idempotency key already taken fails the turn's `INSERT` on the unique index,
//! which rolls the message back with it. A `finish_*` without a message is one `UPDATE`.

use async_trait::async_trait;
use goclaw_core::{
    Message, NewMessage, NewTurn, SessionId, SessionKey, StoreError, TenantId, Turn, TurnEnd,
    TurnStatus, TurnStore,
};
use sqlx::query::QueryAs;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Sqlite, SqlitePool};
use uuid::Uuid;

use super::messages::append_on;
use super::{NOW, SqliteStore, parse_id, parse_time};
use crate::error::{corrupt, store_error};
use crate::turn_rules::{KEY_TAKEN, check_end, check_new};

/// A turn's columns with its session's key, for `FROM turns t JOIN sessions s`.
const COLUMNS: &str = "t.message_id, t.tenant_id, t.session_id, s.session_key, t.seq, t.run_id, \
                       t.user_id, t.idempotency_key, t.status, t.error, t.created_at, \
                       t.updated_at";

#[derive(sqlx::FromRow)]
struct TurnRow {
    message_id: String,
    tenant_id: String,
    session_id: String,
    session_key: String,
    seq: i64,
    run_id: String,
    user_id: String,
    idempotency_key: Option<String>,
    status: String,
    error: Option<String>,
    created_at: String,
    updated_at: String,
}

impl TryFrom<TurnRow> for Turn {
    type Error = StoreError;

    fn try_from(row: TurnRow) -> Result<Self, StoreError> {
        Ok(Turn {
            message_id: parse_id("turns", &row.message_id)?,
            tenant_id: parse_id("turns", &row.tenant_id)?,
            session_id: parse_id("turns", &row.session_id)?,
            session_key: SessionKey::parse(&row.session_key).map_err(|e| corrupt("turns", e))?,
            seq: row.seq,
            run_id: parse_id("turns", &row.run_id)?,
            user_id: row.user_id,
            idempotency_key: row.idempotency_key,
            status: TurnStatus::parse(&row.status)
                .ok_or_else(|| corrupt("turns", format!("status {:?}", row.status)))?,
            error: row.error,
            created_at: parse_time("turns", &row.created_at)?,
            updated_at: parse_time("turns", &row.updated_at)?,
        })
    }
}

/// Which still-`queued` turns of a session a `finish_*` ends.
enum Ending {
    Run(Uuid),
    Message(i64),
}

impl SqliteStore {
    /// Ends the `queued` turns `which` of `session` and appends `end.message`, atomically.
    async fn finish(
        &self,
        session: SessionId,
        which: Ending,
        end: TurnEnd,
    ) -> Result<Option<Message>, StoreError> {
        check_end(&end)?;
        let db_error = |e| store_error(e, "turn");
        let filter = match which {
            Ending::Run(_) => "run_id = ?",
            Ending::Message(_) => "seq = ?",
        };
        let sql = format!(
            "UPDATE turns SET status = ?, error = ?, updated_at = {NOW} \
             WHERE session_id = ? AND {filter} AND status = 'queued'"
        );
        let update = sqlx::query(&sql)
            .bind(end.status.as_str())
            .bind(&end.error)
            .bind(session.to_string());
        let update = match which {
            Ending::Run(run) => update.bind(run.to_string()),
            Ending::Message(seq) => update.bind(seq),
        };
        let Some(message) = end.message else {
            update.execute(&self.pool).await.map_err(db_error)?;
            return Ok(None);
        };
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)?;
        let (message, _) = append_on(&mut tx, session, message).await?;
        update.execute(&mut *tx).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(message))
    }
}

/// The SELECT of turns matching `filter`, over `t` (the turns) and `s` (their sessions).
fn select(filter: &str) -> String {
    format!("SELECT {COLUMNS} FROM turns t JOIN sessions s ON s.id = t.session_id WHERE {filter}")
}

/// Runs a query of [`select`] and decodes its rows.
async fn fetch_turns<'q>(
    query: QueryAs<'q, Sqlite, TurnRow, SqliteArguments<'q>>,
    pool: &SqlitePool,
) -> Result<Vec<Turn>, StoreError> {
    query
        .fetch_all(pool)
        .await
        .map_err(|e| store_error(e, "turn"))?
        .into_iter()
        .map(Turn::try_from)
        .collect()
}

#[async_trait]
impl TurnStore for SqliteStore {
    async fn accept(
        &self,
        session: SessionId,
        message: NewMessage,
        turn: NewTurn,
    ) -> Result<(Message, Turn), StoreError> {
        check_new(&turn)?;
        let db_error = |e| store_error(e, "turn");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)?;
        let (message, appended_to) = append_on(&mut tx, session, message).await?;
        if parse_id::<TenantId>("sessions", &appended_to.tenant_id)? != turn.tenant_id {
            // Dropping the transaction rolls the message back.
            return Err(StoreError::NotFound("session"));
        }
        let insert = format!(
            "INSERT INTO turns \
             (message_id, tenant_id, session_id, seq, run_id, user_id, idempotency_key, status, \
              created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', {NOW}, {NOW}) RETURNING created_at"
        );
        let created_at: String = sqlx::query_scalar(&insert)
            .bind(message.id.to_string())
            .bind(&appended_to.tenant_id)
            .bind(session.to_string())
            .bind(message.seq)
            .bind(turn.run_id.to_string())
            .bind(&turn.user_id)
            .bind(&turn.idempotency_key)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| store_error(e, KEY_TAKEN))?;
        tx.commit().await.map_err(db_error)?;
        let created_at = parse_time("turns", &created_at)?;
        let turn = Turn {
            message_id: message.id.as_uuid(),
            tenant_id: turn.tenant_id,
            session_id: session,
            session_key: SessionKey::parse(&appended_to.session_key)
                .map_err(|e| corrupt("sessions", e))?,
            seq: message.seq,
            run_id: turn.run_id,
            user_id: turn.user_id,
            idempotency_key: turn.idempotency_key,
            status: TurnStatus::Queued,
            error: None,
            created_at,
            updated_at: created_at,
        };
        Ok((message, turn))
    }

    async fn finish_run(
        &self,
        session: SessionId,
        run: Uuid,
        end: TurnEnd,
    ) -> Result<Option<Message>, StoreError> {
        self.finish(session, Ending::Run(run), end).await
    }

    async fn finish_message(
        &self,
        session: SessionId,
        seq: i64,
        end: TurnEnd,
    ) -> Result<Option<Message>, StoreError> {
        self.finish(session, Ending::Message(seq), end).await
    }

    async fn by_idempotency_key(
        &self,
        tenant: TenantId,
        user_id: &str,
        key: &str,
    ) -> Result<Option<Turn>, StoreError> {
        let sql = select("t.tenant_id = ? AND t.user_id = ? AND t.idempotency_key = ?");
        let query = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(user_id)
            .bind(key);
        Ok(fetch_turns(query, &self.pool).await?.into_iter().next())
    }

    async fn of_run(&self, run: Uuid) -> Result<Vec<Turn>, StoreError> {
        let sql = select("t.run_id = ? ORDER BY t.seq, t.message_id");
        fetch_turns(sqlx::query_as(&sql).bind(run.to_string()), &self.pool).await
    }

    async fn unfinished(&self, limit: u32) -> Result<Vec<Turn>, StoreError> {
        // Message ids are time-ordered: they break ties between equal timestamps in arrival
        // order.
        let sql = select("t.status = 'queued' ORDER BY t.created_at, t.message_id LIMIT ?");
        fetch_turns(sqlx::query_as(&sql).bind(i64::from(limit)), &self.pool).await
    }
}

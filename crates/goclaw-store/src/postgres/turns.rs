//! Turns on PostgreSQL.
//!
//! `accept` and a `finish_*` that carries a message run in one transaction with [`append_on`]:
//! the session's `seq` bump, the message and the turn row commit together or not at all. An
//! idempotency key already taken fails the turn's `INSERT` on the unique index, which rolls the
//! message back with it. The append comes first, so every writer locks the session row before
//! any turn row. A `finish_*` without a message is one `UPDATE`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    Message, NewMessage, NewTurn, SessionId, SessionKey, StoreError, TenantId, Turn, TurnEnd,
    TurnStatus, TurnStore,
};
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use super::PostgresStore;
use super::messages::append_on;
use crate::error::{corrupt, store_error};
use crate::turn_rules::{KEY_TAKEN, check_end, check_new};

/// A turn's columns with its session's key, for `FROM turns t JOIN sessions s`.
const COLUMNS: &str = "t.message_id, t.tenant_id, t.session_id, s.session_key, t.seq, t.run_id, \
                       t.user_id, t.idempotency_key, t.status, t.error, t.created_at, \
                       t.updated_at";

#[derive(sqlx::FromRow)]
struct TurnRow {
    message_id: Uuid,
    tenant_id: Uuid,
    session_id: Uuid,
    session_key: String,
    seq: i64,
    run_id: Uuid,
    user_id: String,
    idempotency_key: Option<String>,
    status: String,
    error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<TurnRow> for Turn {
    type Error = StoreError;

    fn try_from(row: TurnRow) -> Result<Self, StoreError> {
        Ok(Turn {
            message_id: row.message_id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            session_id: SessionId::from_uuid(row.session_id),
            session_key: SessionKey::parse(&row.session_key).map_err(|e| corrupt("turns", e))?,
            seq: row.seq,
            run_id: row.run_id,
            user_id: row.user_id,
            idempotency_key: row.idempotency_key,
            status: TurnStatus::parse(&row.status)
                .ok_or_else(|| corrupt("turns", format!("status {:?}", row.status)))?,
            error: row.error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Which still-`queued` turns of a session a `finish_*` ends.
enum Ending {
    Run(Uuid),
    Message(i64),
}

impl PostgresStore {
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
            Ending::Run(_) => "run_id = $4",
            Ending::Message(_) => "seq = $4",
        };
        let sql = format!(
            "UPDATE turns SET status = $1, error = $2, updated_at = now() \
             WHERE session_id = $3 AND {filter} AND status = 'queued'"
        );
        let update = sqlx::query(&sql)
            .bind(end.status.as_str())
            .bind(&end.error)
            .bind(session.as_uuid());
        let update = match which {
            Ending::Run(run) => update.bind(run),
            Ending::Message(seq) => update.bind(seq),
        };
        let Some(message) = end.message else {
            update.execute(&self.pool).await.map_err(db_error)?;
            return Ok(None);
        };
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let (message, _) = append_on(&mut *tx, session, message).await?;
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
async fn fetch_turns(
    query: QueryAs<'_, Postgres, TurnRow, PgArguments>,
    pool: &PgPool,
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
impl TurnStore for PostgresStore {
    async fn accept(
        &self,
        session: SessionId,
        message: NewMessage,
        turn: NewTurn,
    ) -> Result<(Message, Turn), StoreError> {
        check_new(&turn)?;
        let db_error = |e| store_error(e, "turn");
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let (message, appended_to) = append_on(&mut *tx, session, message).await?;
        if appended_to.tenant_id != turn.tenant_id.as_uuid() {
            // Dropping the transaction rolls the message back.
            return Err(StoreError::NotFound("session"));
        }
        let created_at: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO turns \
             (message_id, tenant_id, session_id, seq, run_id, user_id, idempotency_key, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued') RETURNING created_at",
        )
        .bind(message.id.as_uuid())
        .bind(appended_to.tenant_id)
        .bind(session.as_uuid())
        .bind(message.seq)
        .bind(turn.run_id)
        .bind(&turn.user_id)
        .bind(&turn.idempotency_key)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| store_error(e, KEY_TAKEN))?;
        tx.commit().await.map_err(db_error)?;
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
        let sql = select("t.tenant_id = $1 AND t.user_id = $2 AND t.idempotency_key = $3");
        let query = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(user_id)
            .bind(key);
        Ok(fetch_turns(query, &self.pool).await?.into_iter().next())
    }

    async fn of_run(&self, run: Uuid) -> Result<Vec<Turn>, StoreError> {
        let sql = select("t.run_id = $1 ORDER BY t.seq, t.message_id");
        fetch_turns(sqlx::query_as(&sql).bind(run), &self.pool).await
    }

    async fn unfinished(&self, limit: u32) -> Result<Vec<Turn>, StoreError> {
        // Message ids are time-ordered: they break ties between equal timestamps in arrival
        // order.
        let sql = select("t.status = 'queued' ORDER BY t.created_at, t.message_id LIMIT $1");
        fetch_turns(sqlx::query_as(&sql).bind(i64::from(limit)), &self.pool).await
    }
}

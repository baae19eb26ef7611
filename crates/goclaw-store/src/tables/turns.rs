//! Turns.
//!
//! `accept` and a `finish_*` that carries a message run in one write transaction with
//! [`append_on`]: the session's `seq` bump, the message and the turn row commit together or not
//! at all. An idempotency key already taken fails the turn's `INSERT` on the unique index,
//! which rolls the message back with it. The append comes first, so every writer locks the
//! session row (PostgreSQL) before any turn row. A `finish_*` without a message is one
//! `UPDATE`.

use async_trait::async_trait;
use goclaw_core::{
    Message, NewMessage, NewTurn, SessionId, SessionKey, StoreError, TenantId, Turn, TurnEnd,
    TurnStatus, TurnStore,
};
use uuid::Uuid;

use super::SqlStore;
use super::messages::append_on;
use crate::error::{corrupt, store_error};
use crate::sql::{Param, Record, Row, Statement};
use crate::turn_rules::{KEY_TAKEN, check_end, check_new};

/// The SELECT of turns, over `t` (the turns) and `s` (their sessions), up to its filter.
const SELECT: &str = "SELECT t.message_id, t.tenant_id, t.session_id, s.session_key, t.seq, \
                      t.run_id, t.user_id, t.idempotency_key, t.status, t.error, t.created_at, \
                      t.updated_at FROM turns t JOIN sessions s ON s.id = t.session_id WHERE ";

static INSERT: Statement = Statement::new(
    "INSERT INTO turns \
     (message_id, tenant_id, session_id, seq, run_id, user_id, idempotency_key, status, \
      created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', {now}, {now}) RETURNING created_at",
);
static FINISH_RUN: Statement = Statement::new(
    "UPDATE turns SET status = ?, error = ?, updated_at = {now} \
     WHERE session_id = ? AND run_id = ? AND status = 'queued'",
);
static FINISH_MESSAGE: Statement = Statement::new(
    "UPDATE turns SET status = ?, error = ?, updated_at = {now} \
     WHERE session_id = ? AND seq = ? AND status = 'queued'",
);
static BY_IDEMPOTENCY_KEY: Statement = Statement::joined(&[
    SELECT,
    "t.tenant_id = ? AND t.user_id = ? AND t.idempotency_key = ?",
]);
static OF_RUN: Statement =
    Statement::joined(&[SELECT, "t.run_id = ? ORDER BY t.seq, t.message_id"]);
// Message ids are time-ordered: they break ties between equal timestamps in arrival order.
static UNFINISHED: Statement = Statement::joined(&[
    SELECT,
    "t.status = 'queued' ORDER BY t.created_at, t.message_id LIMIT ?",
]);

impl Record for Turn {
    const TABLE: &'static str = "turns";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        let status = row.text("status")?;
        Ok(Turn {
            message_id: row.id("message_id")?,
            tenant_id: row.id("tenant_id")?,
            session_id: row.id("session_id")?,
            session_key: row.parse("session_key", SessionKey::parse)?,
            seq: row.int("seq")?,
            run_id: row.id("run_id")?,
            user_id: row.text("user_id")?,
            idempotency_key: row.opt_text("idempotency_key")?,
            status: TurnStatus::parse(&status)
                .ok_or_else(|| row.corrupt(format!("status {status:?}")))?,
            error: row.opt_text("error")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// Which still-`queued` turns of a session a `finish_*` ends.
enum Ending {
    Run(Uuid),
    Message(i64),
}

impl SqlStore {
    /// Ends the `queued` turns `which` of `session` and appends `end.message`, atomically.
    async fn finish(
        &self,
        session: SessionId,
        which: Ending,
        end: TurnEnd,
    ) -> Result<Option<Message>, StoreError> {
        check_end(&end)?;
        let db_error = |e| store_error(e, "turn");
        let (update, which): (&Statement, Param<'_>) = match which {
            Ending::Run(run) => (&FINISH_RUN, run.into()),
            Ending::Message(seq) => (&FINISH_MESSAGE, seq.into()),
        };
        let params = [
            end.status.as_str().into(),
            (&end.error).into(),
            session.into(),
            which,
        ];
        let Some(message) = end.message else {
            self.pool.execute(update, &params).await.map_err(db_error)?;
            return Ok(None);
        };
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let (message, _) = append_on(&mut tx.conn(), session, message).await?;
        tx.execute(update, &params).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(message))
    }

    /// The turns `statement` selects.
    async fn turns(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Vec<Turn>, StoreError> {
        self.pool
            .fetch_all(statement, params)
            .await
            .map_err(|e| store_error(e, "turn"))?
            .decode()
    }
}

#[async_trait]
impl TurnStore for SqlStore {
    async fn accept(
        &self,
        session: SessionId,
        message: NewMessage,
        turn: NewTurn,
    ) -> Result<(Message, Turn), StoreError> {
        check_new(&turn)?;
        let db_error = |e| store_error(e, "turn");
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let (message, appended_to) = append_on(&mut tx.conn(), session, message).await?;
        if appended_to.tenant_id != turn.tenant_id {
            // Dropping the transaction rolls the message back.
            return Err(StoreError::NotFound("session"));
        }
        let inserted = tx
            .fetch_one(
                &INSERT,
                &[
                    message.id.into(),
                    appended_to.tenant_id.into(),
                    session.into(),
                    message.seq.into(),
                    turn.run_id.into(),
                    (&turn.user_id).into(),
                    (&turn.idempotency_key).into(),
                ],
            )
            .await
            .map_err(|e| store_error(e, KEY_TAKEN))?;
        tx.commit().await.map_err(db_error)?;
        let created_at = inserted.read(Turn::TABLE).time("created_at")?;
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
        let params = [tenant.into(), user_id.into(), key.into()];
        Ok(self
            .turns(&BY_IDEMPOTENCY_KEY, &params)
            .await?
            .into_iter()
            .next())
    }

    async fn of_run(&self, run: Uuid) -> Result<Vec<Turn>, StoreError> {
        self.turns(&OF_RUN, &[run.into()]).await
    }

    async fn unfinished(&self, limit: u32) -> Result<Vec<Turn>, StoreError> {
        self.turns(&UNFINISHED, &[i64::from(limit).into()]).await
    }
}

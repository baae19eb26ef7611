//! Running statements on either engine: [`Pool`], [`Tx`] and [`Conn`], which both of them
//! lend.
//!
//! Transactions come in two kinds because the engines serialize writers differently. A write
//! transaction ([`Pool::begin_write`]) is `BEGIN IMMEDIATE` on SQLite, which takes the
//! database's single write lock up front, so a transaction that reads before it writes cannot be
//! overtaken; on PostgreSQL it is a plain `BEGIN`, and the statements lock the rows they need
//! (`{for_update}`, an `UPDATE`, or [`Tx::lock`]). [`Pool::begin`] is a plain `BEGIN` on both.

use goclaw_core::StoreBackend;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use super::dialect::Dialect;
use super::param::{Param, bind_postgres, bind_sqlite};
use super::row::{OneRow, Rows};
use super::statement::Statement;

/// The connection pool of one engine.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction of either engine; dropping it without [`Tx::commit`] rolls it back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Somewhere to run statements: a pool (each statement on whichever connection is free, in
/// its own implicit transaction) or the connection of a transaction.
pub(crate) enum Conn<'c> {
    SqlitePool(&'c SqlitePool),
    PostgresPool(&'c PgPool),
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// What [`Tx::lock`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    /// The row is locked until the transaction ends.
    Row,
    /// There is no such row (nothing is locked).
    NoRow,
    /// Nothing to do: the write transaction already excludes every other writer (SQLite). A
    /// missing row shows in the statements that follow.
    Database,
}

impl Pool {
    pub(crate) fn backend(&self) -> StoreBackend {
        match self {
            Pool::Sqlite(_) => StoreBackend::Sqlite,
            Pool::Postgres(_) => StoreBackend::Postgres,
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The pool as a place to run statements.
    pub(crate) fn conn(&self) -> Conn<'_> {
        match self {
            Pool::Sqlite(pool) => Conn::SqlitePool(pool),
            Pool::Postgres(pool) => Conn::PostgresPool(pool),
        }
    }

    /// Starts a transaction that will write (see the module documentation).
    pub(crate) async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Starts a plain transaction (deferred on SQLite: it takes the write lock at its first
    /// write).
    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub(crate) async fn execute(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<u64, sqlx::Error> {
        self.conn().execute(statement, params).await
    }

    pub(crate) async fn fetch_one(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<OneRow, sqlx::Error> {
        self.conn().fetch_one(statement, params).await
    }

    pub(crate) async fn fetch_optional(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Option<OneRow>, sqlx::Error> {
        self.conn().fetch_optional(statement, params).await
    }

    pub(crate) async fn fetch_all(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Rows, sqlx::Error> {
        self.conn().fetch_all(statement, params).await
    }
}

impl Tx {
    /// The transaction's connection as a place to run statements.
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// Locks the row `statement` selects (a `SELECT … FOR [NO KEY] UPDATE` in PostgreSQL's
    /// spelling) on an engine that locks rows; on SQLite, inside [`Pool::begin_write`], it runs
    /// nothing.
    pub(crate) async fn lock(
        &mut self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Locked, sqlx::Error> {
        if matches!(self, Tx::Sqlite(_)) {
            return Ok(Locked::Database);
        }
        Ok(match self.fetch_optional(statement, params).await? {
            Some(_) => Locked::Row,
            None => Locked::NoRow,
        })
    }

    pub(crate) async fn execute(
        &mut self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<u64, sqlx::Error> {
        self.conn().execute(statement, params).await
    }

    pub(crate) async fn fetch_one(
        &mut self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<OneRow, sqlx::Error> {
        self.conn().fetch_one(statement, params).await
    }

    pub(crate) async fn fetch_optional(
        &mut self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Option<OneRow>, sqlx::Error> {
        self.conn().fetch_optional(statement, params).await
    }
}

/// Builds the engine's query for `statement` with `params` bound, and runs `$run` on it with
/// the executor of this connection.
macro_rules! on_engine {
    ($conn:expr, $statement:expr, $params:expr, |$query:ident, $exec:ident| $run:expr) => {{
        let params = $params;
        match $conn {
            Conn::SqlitePool(pool) => {
                let $query = sqlite_query($statement, params);
                let $exec = *pool;
                $run
            }
            Conn::Sqlite(conn) => {
                let $query = sqlite_query($statement, params);
                let $exec = &mut **conn;
                $run
            }
            Conn::PostgresPool(pool) => {
                let $query = postgres_query($statement, params);
                let $exec = *pool;
                $run
            }
            Conn::Postgres(conn) => {
                let $query = postgres_query($statement, params);
                let $exec = &mut **conn;
                $run
            }
        }
    }};
}

impl Conn<'_> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Conn::SqlitePool(_) | Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::PostgresPool(_) | Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `statement`; the number of rows it changed.
    pub(crate) async fn execute(
        &mut self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<u64, sqlx::Error> {
        on_engine!(self, statement, params, |query, exec| Ok(query
            .execute(exec)
            .await?
            .rows_affected()))
    }

    /// The one row `statement` returns; `RowNotFound` without one.
    pub(crate) async fn fetch_one(
        &mut self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<OneRow, sqlx::Error> {
        on_engine!(self, statement, params, |query, exec| query
            .fetch_one(exec)
            .await
            .map(OneRow::from))
    }

    /// The first row `statement` returns, if any.
    pub(crate) async fn fetch_optional(
        &mut self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Option<OneRow>, sqlx::Error> {
        on_engine!(self, statement, params, |query, exec| Ok(query
            .fetch_optional(exec)
            .await?
            .map(OneRow::from)))
    }

    /// Every row `statement` returns.
    pub(crate) async fn fetch_all(
        &mut self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Rows, sqlx::Error> {
        on_engine!(self, statement, params, |query, exec| query
            .fetch_all(exec)
            .await
            .map(Rows::from))
    }
}

fn sqlite_query<'q>(
    statement: &'q Statement,
    params: &[Param<'q>],
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    let rendered = statement.rendered(Dialect::Sqlite);
    debug_assert_eq!(rendered.params, params.len(), "{}", rendered.text);
    bind_sqlite(sqlx::query(&rendered.text), params)
}

fn postgres_query<'q>(
    statement: &'q Statement,
    params: &[Param<'q>],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let rendered = statement.rendered(Dialect::Postgres);
    debug_assert_eq!(rendered.params, params.len(), "{}", rendered.text);
    bind_postgres(sqlx::query(&rendered.text), params)
}

impl From<sqlx::sqlite::SqliteRow> for OneRow {
    fn from(row: sqlx::sqlite::SqliteRow) -> Self {
        OneRow::Sqlite(row)
    }
}

impl From<sqlx::postgres::PgRow> for OneRow {
    fn from(row: sqlx::postgres::PgRow) -> Self {
        OneRow::Postgres(row)
    }
}

impl From<Vec<sqlx::sqlite::SqliteRow>> for Rows {
    fn from(rows: Vec<sqlx::sqlite::SqliteRow>) -> Self {
        Rows::Sqlite(rows)
    }
}

impl From<Vec<sqlx::postgres::PgRow>> for Rows {
    fn from(rows: Vec<sqlx::postgres::PgRow>) -> Self {
        Rows::Postgres(rows)
    }
}

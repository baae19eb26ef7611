//! The `schema_migrations` table on each engine, kept the way golang-migrate keeps it: at most
//! one row `(version, dirty)`, no row (or no table) meaning nothing is applied.
//!
//! A migration's SQL and the row's new value commit in one transaction; the row is marked dirty
//! in its own transaction just before, so a process killed in between leaves `dirty = true`.

use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

use crate::sql::{Conn, Statement};

/// The single row of `schema_migrations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionRow {
    pub(crate) version: i64,
    pub(crate) dirty: bool,
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
                            (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)";

/// Arbitrary constant naming the session-level advisory lock that serializes migrators of one
/// PostgreSQL database (several replicas may start at once).
const PG_MIGRATION_LOCK: i64 = 0x676f_636c_6177_6d67; // "goclawmg"

/// One connection to the database whose version row is read and written.
pub(crate) enum SchemaConn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl SchemaConn<'_> {
    /// The row, or `None` when the table is missing or empty.
    pub(crate) async fn read(&mut self) -> Result<Option<VersionRow>, sqlx::Error> {
        match self {
            SchemaConn::Sqlite(conn) => sqlite_read(conn).await,
            SchemaConn::Postgres(conn) => postgres_read(conn).await,
        }
    }

    /// Replaces the row (`None` empties the table), creating the table when missing.
    pub(crate) async fn write(&mut self, row: Option<VersionRow>) -> Result<(), sqlx::Error> {
        match self {
            SchemaConn::Sqlite(conn) => {
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                set(Conn::Sqlite(&mut tx), row).await?;
                tx.commit().await
            }
            SchemaConn::Postgres(conn) => {
                let mut tx = conn.begin().await?;
                set(Conn::Postgres(&mut tx), row).await?;
                tx.commit().await
            }
        }
    }

    /// Runs `sql` and then sets the row to `after`, all in one transaction.
    pub(crate) async fn apply(
        &mut self,
        sql: &'static str,
        after: Option<VersionRow>,
    ) -> Result<(), sqlx::Error> {
        // The script runs through `Executor::execute` (a boxed `Send` future), not
        // `RawSql::execute`, whose generic `async fn` would make every future that awaits it,
        // up to `Migrator::up`, unprovably `Send`.
        match self {
            SchemaConn::Sqlite(conn) => {
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                (&mut *tx).execute(sqlx::raw_sql(sql)).await?;
                set(Conn::Sqlite(&mut tx), after).await?;
                tx.commit().await
            }
            SchemaConn::Postgres(conn) => {
                let mut tx = conn.begin().await?;
                (&mut *tx).execute(sqlx::raw_sql(sql)).await?;
                set(Conn::Postgres(&mut tx), after).await?;
                tx.commit().await
            }
        }
    }
}

impl SchemaConn<'_> {
    /// Runs `sql` on a connection that is already inside the caller's transaction.
    pub(crate) async fn execute_in_transaction(
        &mut self,
        sql: &'static str,
    ) -> Result<(), sqlx::Error> {
        match self {
            SchemaConn::Sqlite(conn) => {
                (&mut **conn).execute(sqlx::raw_sql(sql)).await?;
            }
            SchemaConn::Postgres(conn) => {
                (&mut **conn).execute(sqlx::raw_sql(sql)).await?;
            }
        }
        Ok(())
    }

    /// Replaces the row inside the caller's transaction.
    pub(crate) async fn set_in_transaction(
        &mut self,
        row: Option<VersionRow>,
    ) -> Result<(), sqlx::Error> {
        match self {
            SchemaConn::Sqlite(conn) => set(Conn::Sqlite(conn), row).await,
            SchemaConn::Postgres(conn) => set(Conn::Postgres(conn), row).await,
        }
    }

    /// Waits for the migration lock until the caller's transaction ends (PostgreSQL; SQLite's
    /// write transaction already excludes every other migrator).
    pub(crate) async fn lock_in_transaction(&mut self) -> Result<(), sqlx::Error> {
        if let SchemaConn::Postgres(conn) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_MIGRATION_LOCK)
                .execute(&mut **conn)
                .await?;
        }
        Ok(())
    }
}

async fn sqlite_read(conn: &mut SqliteConnection) -> Result<Option<VersionRow>, sqlx::Error> {
    let exists = sqlx::query_scalar::<_, i64>(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if exists.is_none() {
        return Ok(None);
    }
    select(Conn::Sqlite(conn)).await
}

async fn postgres_read(conn: &mut PgConnection) -> Result<Option<VersionRow>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(None);
    }
    select(Conn::Postgres(conn)).await
}

static CREATE: Statement = Statement::new(CREATE_TABLE);
static CLEAR: Statement = Statement::new("DELETE FROM schema_migrations");
static INSERT: Statement =
    Statement::new("INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)");
static SELECT: Statement = Statement::new("SELECT version, dirty FROM schema_migrations LIMIT 1");

/// Replaces the row on either engine, creating the table when missing.
async fn set(mut conn: Conn<'_>, row: Option<VersionRow>) -> Result<(), sqlx::Error> {
    conn.execute(&CREATE, &[]).await?;
    conn.execute(&CLEAR, &[]).await?;
    if let Some(row) = row {
        conn.execute(&INSERT, &[row.version.into(), row.dirty.into()])
            .await?;
    }
    Ok(())
}

/// The row of an existing table.
async fn select(mut conn: Conn<'_>) -> Result<Option<VersionRow>, sqlx::Error> {
    let Some(row) = conn.fetch_optional(&SELECT, &[]).await? else {
        return Ok(None);
    };
    let row = row.read("schema_migrations");
    let value = |e: goclaw_core::StoreError| sqlx::Error::Decode(e.to_string().into());
    Ok(Some(VersionRow {
        version: row.int("version").map_err(value)?,
        dirty: row.bool("dirty").map_err(value)?,
    }))
}

/// Waits for the migration lock of this PostgreSQL database.
pub(crate) async fn pg_lock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(PG_MIGRATION_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// Releases the migration lock taken by [`pg_lock`].
pub(crate) async fn pg_unlock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(PG_MIGRATION_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

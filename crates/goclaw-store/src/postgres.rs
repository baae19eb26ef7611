//! Opening the PostgreSQL pool and checking the server: PostgreSQL 15 or newer, with the
//! pgvector extension available to `CREATE EXTENSION`.
//!
//! The DSN never appears in an error: messages name `host:port/database` as parsed by sqlx, and
//! text coming back from the driver is scrubbed of the DSN's password.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool, Row};

use crate::error::{OpenError, describe_connect_error, scrub_dsn};
use crate::options::PostgresOptions;

/// The oldest server release the schema is written for (`server_version_num`).
const MIN_SERVER_VERSION_NUM: i32 = 150_000;

/// Opens the pool and checks the server's version and extensions.
pub(crate) async fn connect(options: &PostgresOptions) -> Result<PgPool, OpenError> {
    let dsn = options.expose_dsn();
    let connect_options = PgConnectOptions::from_str(dsn)
        .map_err(|_| OpenError::InvalidDsn)?
        .application_name("goclaw");
    let target = describe_target(&connect_options);
    let connect_failed = |reason: String| OpenError::PostgresConnect {
        target: target.clone(),
        reason,
    };
    // One direct connection first: a pool would retry a refused connection until its timeout
    // and then report only "timed out", hiding the cause from the operator.
    let mut conn = tokio::time::timeout(
        options.connect_timeout,
        PgConnection::connect_with(&connect_options),
    )
    .await
    .map_err(|_| {
        connect_failed(format!(
            "no answer within {} s",
            options.connect_timeout.as_secs_f32()
        ))
    })?
    .map_err(|e| connect_failed(scrub_dsn(&describe_connect_error(&e), dsn)))?;
    let check_failed = |e: sqlx::Error| OpenError::PostgresCheck {
        target: target.clone(),
        reason: scrub_dsn(&describe_connect_error(&e), dsn),
    };
    let row = sqlx::query(
        "SELECT current_setting('server_version_num')::int AS num, \
                current_setting('server_version') AS version, \
                EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS vector",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(check_failed)?;
    let num: i32 = row.try_get("num").map_err(check_failed)?;
    let version: String = row.try_get("version").map_err(check_failed)?;
    let vector: bool = row.try_get("vector").map_err(check_failed)?;
    // The check connection has done its job; failing to close it politely changes nothing.
    let _ = conn.close().await;
    check_server(num, &version, vector)?;
    Ok(PgPoolOptions::new()
        .max_connections(options.max_open.max(1))
        .min_connections(options.max_idle.min(options.max_open))
        .idle_timeout(Some(PostgresOptions::IDLE_TIMEOUT))
        .acquire_timeout(options.connect_timeout)
        // A scoped nearest-neighbour query (one agent's memory) filters what the HNSW index
        // returns; without iterative scans the index stops after `hnsw.ef_search` candidates
        // and a scope outnumbered by others' rows would come back short or empty. Set with a
        // statement, not the `options` startup parameter, which connection poolers such as
        // PgBouncer refuse by default. A pgvector older than 0.8 preloaded by the server
        // refuses the setting; the connection is still good, and searches are then only as
        // complete as that pgvector makes them.
        .after_connect(|conn, _| {
            Box::pin(async move {
                if let Err(error) = conn.execute("SET hnsw.iterative_scan = strict_order").await {
                    tracing::debug!(%error, "hnsw.iterative_scan not set");
                }
                Ok(())
            })
        })
        .connect_lazy_with(connect_options))
}

/// `server_version` and the installed `vector` extension's version.
pub(crate) async fn server_versions(
    pool: &PgPool,
) -> Result<(String, Option<String>), sqlx::Error> {
    sqlx::query_as(
        "SELECT current_setting('server_version'), \
                (SELECT extversion FROM pg_extension WHERE extname = 'vector')",
    )
    .fetch_one(pool)
    .await
}

/// Accepts a server of release 15 or newer that offers the `vector` extension.
pub(crate) fn check_server(
    version_num: i32,
    version: &str,
    vector_available: bool,
) -> Result<(), OpenError> {
    if version_num < MIN_SERVER_VERSION_NUM {
        return Err(OpenError::PostgresTooOld {
            found: version.to_owned(),
        });
    }
    if !vector_available {
        return Err(OpenError::VectorUnavailable);
    }
    Ok(())
}

/// ` to host:port/database`, the part of a connection error that is safe to show.
fn describe_target(options: &PgConnectOptions) -> String {
    let database = options.get_database().unwrap_or("postgres");
    format!(
        " to {}:{}/{database}",
        options.get_host(),
        options.get_port()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_servers_are_refused_by_name() {
        let error = check_server(140_010, "14.10", true).expect_err("14 is too old");
        assert_eq!(
            error.to_string(),
            "PostgreSQL 14.10 is too old; goclaw needs PostgreSQL 15 or newer"
        );
    }

    #[test]
    fn missing_pgvector_is_refused() {
        let error = check_server(150_004, "15.4", false).expect_err("no pgvector");
        assert!(matches!(error, OpenError::VectorUnavailable), "{error}");
    }

    #[test]
    fn recent_servers_with_pgvector_pass() {
        check_server(150_000, "15.0", true).expect("15 with pgvector");
        check_server(180_001, "18.1", true).expect("18 with pgvector");
    }

    #[test]
    fn target_names_host_port_and_database_only() {
        let options = PgConnectOptions::from_str("postgres://app:hunter2@db.local:6543/goclaw")
            .expect("valid DSN");
        let target = describe_target(&options);
        assert_eq!(target, " to db.local:6543/goclaw");
    }

    #[tokio::test]
    async fn unparsable_dsn_is_reported_without_echoing_it() {
        let options = PostgresOptions::new("not a dsn with s3cret");
        let error = connect(&options).await.expect_err("invalid DSN");
        assert!(matches!(error, OpenError::InvalidDsn));
        assert!(!error.to_string().contains("s3cret"));
    }

    #[tokio::test]
    async fn refused_connection_names_the_target_but_not_the_password() {
        let mut options = PostgresOptions::new("postgres://app:s3cret@127.0.0.1:1/goclaw");
        options.connect_timeout = std::time::Duration::from_secs(2);
        let error = connect(&options)
            .await
            .expect_err("nothing listens on port 1");
        let message = error.to_string();
        assert!(
            matches!(error, OpenError::PostgresConnect { .. }),
            "{message}"
        );
        assert!(
            message.starts_with("PostgreSQL connection failed to 127.0.0.1:1/goclaw: "),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
    }
}

//! Test support: a fresh database per test on either engine, and macros that write a store
//! test once and run it on both SQLite and PostgreSQL.
//!
//! SQLite databases live in a temporary directory. PostgreSQL databases are created as
//! `goclaw_test_<uuid>` on the server named by `GOCLAW_TEST_POSTGRES_DSN` and dropped when the
//! [`TestDatabase`] is dropped; databases left behind by a killed test run are swept once they
//! are an hour old. Without that variable PostgreSQL tests print one `skipped:` line and pass,
//! except under `CI=true`, where they fail.
//!
//! The macros expand to `#[tokio::test]` functions, so the calling crate needs `tokio` (with
//! the `macros` and `rt-multi-thread` features) among its dev-dependencies.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use goclaw_core::Store;
pub use goclaw_core::StoreBackend;
use sqlx::{Connection, PgConnection, PgPool, SqlitePool};
use tempfile::TempDir;
use uuid::Uuid;

use crate::open::Pool;
use crate::{Migrator, OpenedStore, PostgresOptions, StoreOptions, open};

/// The variable naming the PostgreSQL server tests create their databases on.
pub const POSTGRES_DSN_ENV: &str = "GOCLAW_TEST_POSTGRES_DSN";

/// Prefix of every database a [`TestDatabase`] creates on PostgreSQL.
const DATABASE_PREFIX: &str = "goclaw_test_";

/// How old a leftover test database must be before a later run drops it.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// The DSN of the test PostgreSQL server, or `None` (after printing a `skipped:` line naming
/// the current test) when none is configured.
///
/// # Panics
/// When none is configured and `CI=true`: CI must run every test on both engines.
pub fn postgres_test_dsn() -> Option<String> {
    let configured = std::env::var(POSTGRES_DSN_ENV).ok();
    if let Some(dsn) = configured.filter(|dsn| !dsn.trim().is_empty()) {
        return Some(dsn);
    }
    let current = std::thread::current();
    let test = current.name().unwrap_or("this test");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test} needs PostgreSQL, which is required when CI=true: run scripts/postgres.sh \
             (it starts a server with pgvector and prints its DSN) and set {POSTGRES_DSN_ENV} \
             to that DSN"
        );
    }
    // Written to the real stderr, not through the test harness's capture, so it is seen.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {test} needs PostgreSQL (set {POSTGRES_DSN_ENV})"
    );
    None
}

/// A fresh, empty database that disappears with this value.
pub struct TestDatabase {
    opened: OpenedStore,
    options: StoreOptions,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Held only to delete the directory when the database is dropped.
    Sqlite {
        _dir: TempDir,
    },
    Postgres {
        admin_dsn: String,
        database: String,
    },
}

impl TestDatabase {
    /// A new empty database on `backend`; `None` when PostgreSQL is not configured (see
    /// [`postgres_test_dsn`]).
    pub async fn new(backend: StoreBackend) -> Option<Self> {
        match backend {
            StoreBackend::Sqlite => Some(Self::sqlite().await),
            StoreBackend::Postgres => Self::postgres().await,
        }
    }

    /// Like [`TestDatabase::new`], with every migration applied.
    pub async fn migrated(backend: StoreBackend) -> Option<Self> {
        let db = Self::new(backend).await?;
        db.migrator()
            .up(|_, _| {})
            .await
            .expect("migrating a fresh test database");
        Some(db)
    }

    /// A new empty SQLite database in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("goclaw-test-")
            .tempdir()
            .expect("creating a temporary directory for a test database");
        let options = StoreOptions::sqlite(dir.path().join("goclaw.db"));
        let opened = open(&options)
            .await
            .expect("opening a test SQLite database");
        Self {
            opened,
            options,
            cleanup: Cleanup::Sqlite { _dir: dir },
        }
    }

    /// A new empty PostgreSQL database, or `None` when no test server is configured.
    pub async fn postgres() -> Option<Self> {
        let admin_dsn = postgres_test_dsn()?;
        let mut admin = PgConnection::connect(&admin_dsn)
            .await
            .unwrap_or_else(|e| panic!("connecting to the server in {POSTGRES_DSN_ENV}: {e}"));
        sweep_stale_databases(&mut admin).await;
        let database = format!("{DATABASE_PREFIX}{}", Uuid::now_v7().simple());
        sqlx::query(&format!("CREATE DATABASE \"{database}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("creating test database {database}: {e}"));
        let _ = admin.close().await;
        let dsn = dsn_with_database(&admin_dsn, &database)
            .unwrap_or_else(|| panic!("{POSTGRES_DSN_ENV} must be a postgres:// URL"));
        let mut pg = PostgresOptions::new(&dsn);
        pg.max_open = 8;
        pg.max_idle = 0;
        let options = StoreOptions::Postgres(pg);
        let cleanup = Cleanup::Postgres {
            admin_dsn,
            database,
        };
        let opened = match open(&options).await {
            Ok(opened) => opened,
            Err(e) => {
                drop_postgres_database(&cleanup);
                panic!("opening a test PostgreSQL database: {e}");
            }
        };
        Some(Self {
            opened,
            options,
            cleanup,
        })
    }

    pub fn backend(&self) -> StoreBackend {
        self.opened.backend()
    }

    /// The store on this database.
    pub fn store(&self) -> Arc<dyn Store> {
        self.opened.store()
    }

    /// The migrator of this database.
    pub fn migrator(&self) -> Migrator {
        self.opened.migrator()
    }

    /// The opened database, as [`crate::open`] returned it.
    pub fn opened(&self) -> &OpenedStore {
        &self.opened
    }

    /// Options that open this same database, e.g. for an application under test.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// The SQLite pool, for tests of engine features below the store traits.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match self.opened.pool() {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for tests of engine features below the store traits.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match self.opened.pool() {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    /// Runs raw SQL on the database, independently of the code under test.
    ///
    /// # Panics
    /// When the SQL fails.
    pub async fn execute(&self, sql: &str) {
        match self.opened.pool() {
            Pool::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
            Pool::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        }
        .expect(sql);
    }

    /// This database migrated, with tenant `slug` (id `id`) beside the master tenant.
    ///
    /// # Panics
    /// When migrating or inserting the tenant fails.
    pub async fn migrated_with_tenant(self, id: &str, slug: &str) -> Self {
        self.migrator().up(|_, _| {}).await.expect("migrate");
        self.add_tenant(id, slug).await;
        self
    }

    /// Adds tenant `slug` (id `id`) to this migrated database (the store creates no tenants).
    ///
    /// # Panics
    /// When inserting the tenant fails.
    pub async fn add_tenant(&self, id: &str, slug: &str) {
        self.execute(&format!(
            "INSERT INTO tenants (id, slug, name) VALUES ('{id}', '{slug}', '{slug}')"
        ))
        .await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        drop_postgres_database(&self.cleanup);
    }
}

/// Runs `body` on a migrated database of `backend`; returns at once when PostgreSQL is not
/// configured. Used by [`store_test!`](crate::store_test).
pub async fn run_store_test<F, Fut>(backend: StoreBackend, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = TestDatabase::migrated(backend).await else {
        return;
    };
    body(db.store()).await;
    drop(db);
}

/// Runs `body` on an empty database of `backend`; returns at once when PostgreSQL is not
/// configured. Used by [`database_test!`](crate::database_test).
pub async fn run_database_test<F, Fut>(backend: StoreBackend, body: F)
where
    F: FnOnce(TestDatabase) -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(db) = TestDatabase::new(backend).await {
        body(db).await;
    }
}

/// Writes a test once and runs it on a migrated database of each engine:
/// `store_test!(name, |store: Arc<dyn Store>| async move { ... });` expands to a module `name`
/// with the tests `sqlite` and `postgres`.
#[macro_export]
macro_rules! store_test {
    ($name:ident, $body:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::testing::run_store_test($crate::testing::StoreBackend::Sqlite, $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::testing::run_store_test($crate::testing::StoreBackend::Postgres, $body)
                    .await;
            }
        }
    };
}

/// Like [`store_test!`](crate::store_test), but the body gets the whole [`TestDatabase`] of an
/// empty (unmigrated) database: `database_test!(name, |db: TestDatabase| async move { ... });`.
#[macro_export]
macro_rules! database_test {
    ($name:ident, $body:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::testing::run_database_test($crate::testing::StoreBackend::Sqlite, $body)
                    .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::testing::run_database_test($crate::testing::StoreBackend::Postgres, $body)
                    .await;
            }
        }
    };
}

/// Opens PostgreSQL database `database` on the server of `admin_dsn` with every migration
/// applied, creating it when it does not exist; unlike a [`TestDatabase`] it is left in place
/// (benchmarks keep one between runs). `Ok(true)` with the store when it was created now.
pub async fn open_kept_postgres(
    admin_dsn: &str,
    database: &str,
) -> Result<(OpenedStore, bool), String> {
    let valid = !database.is_empty()
        && database.len() <= 63
        && database
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(format!(
            "{database:?}: a database name is 1 to 63 of a-z, 0-9 and _"
        ));
    }
    let mut admin = PgConnection::connect(admin_dsn)
        .await
        .map_err(|e| format!("connecting to the admin DSN: {e}"))?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut admin)
            .await
            .map_err(|e| format!("looking for database {database}: {e}"))?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE \"{database}\""))
            .execute(&mut admin)
            .await
            .map_err(|e| format!("creating database {database}: {e}"))?;
    }
    let _ = admin.close().await;
    let dsn = dsn_with_database(admin_dsn, database)
        .ok_or_else(|| "the admin DSN must be a postgres:// URL".to_owned())?;
    let opened = open(&StoreOptions::Postgres(PostgresOptions::new(&dsn)))
        .await
        .map_err(|e| format!("opening database {database}: {e}"))?;
    opened
        .migrator()
        .up(|_, _| {})
        .await
        .map_err(|e| format!("migrating database {database}: {e}"))?;
    Ok((opened, !exists))
}

/// `dsn` with its database name replaced by `database`; `None` unless `dsn` is a URL.
pub fn dsn_with_database(dsn: &str, database: &str) -> Option<String> {
    let (scheme, rest) = dsn.split_once("://")?;
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, Some(query)),
        None => (rest, None),
    };
    let authority = location.split('/').next().unwrap_or(location);
    let mut out = format!("{scheme}://{authority}/{database}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Some(out)
}

/// Drops a test database from a thread of its own: `Drop` cannot await, and the test's runtime
/// may be the single thread that is running this very `drop`.
fn drop_postgres_database(cleanup: &Cleanup) {
    let Cleanup::Postgres {
        admin_dsn,
        database,
    } = cleanup
    else {
        return;
    };
    let (admin_dsn, database) = (admin_dsn.clone(), database.clone());
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let mut admin = PgConnection::connect(&admin_dsn)
                .await
                .map_err(|e| e.to_string())?;
            let result = drop_database(&mut admin, &database).await;
            let _ = admin.close().await;
            result.map_err(|e| format!("{database}: {e}"))
        })
    })
    .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let _ = writeln!(std::io::stderr(), "warning: dropping test database: {e}");
        }
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "warning: dropping test database panicked"
            );
        }
    }
}

async fn drop_database(admin: &mut PgConnection, database: &str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
    ))
    .execute(admin)
    .await?;
    Ok(())
}

/// Once per process, drops test databases older than [`STALE_AFTER`] (their names carry a
/// UUID v7, hence their creation time) that a killed test run left behind.
async fn sweep_stale_databases(admin: &mut PgConnection) {
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'goclaw\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    for name in names {
        let created = name
            .strip_prefix(DATABASE_PREFIX)
            .and_then(|id| Uuid::parse_str(id).ok())
            .and_then(|id| id.get_timestamp())
            .map(|ts| Duration::from_secs(ts.to_unix().0));
        if created.is_some_and(|created| now.saturating_sub(created) > STALE_AFTER) {
            let _ = drop_database(admin, &name).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(dsn: &str, expected: Option<&str>) {
        assert_eq!(
            dsn_with_database(dsn, "t1").as_deref(),
            expected,
            "dsn {dsn:?}"
        );
    }

    #[test]
    fn database_name_is_replaced() {
        check(
            "postgres://postgres@127.0.0.1:54329/postgres",
            Some("postgres://postgres@127.0.0.1:54329/t1"),
        );
        check(
            "postgres://u:p@h/db?sslmode=disable",
            Some("postgres://u:p@h/t1?sslmode=disable"),
        );
        check("postgresql://h:5432", Some("postgresql://h:5432/t1"));
        check(
            "postgres://h?application_name=x",
            Some("postgres://h/t1?application_name=x"),
        );
        check("host=h dbname=db", None);
    }
}

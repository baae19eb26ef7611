//! Opening the SQLite pool: file creation, per-connection pragmas, and the extensions the
//! gateway relies on (sqlite-vec for vector search, FTS5 for full-text search).
//!
//! sqlite-vec is compiled into the binary and registered once per process as an automatic
//! extension, so every connection SQLite opens afterwards has it, together with the gateway's
//! own SQL function `memory_signature(embedding)` (the binary signature the vector index
//! compares, [`crate::signature`]), which the memory triggers call. Before that, SQLite's memory
//! statistics are turned off (a global mutex on every allocation).

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};

use crate::error::OpenError;
use crate::options::SqliteOptions;

/// How long a connection waits for another writer before giving up with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Opens (creating if missing) the SQLite database and checks its extensions.
pub(crate) async fn connect(options: &SqliteOptions) -> Result<SqlitePool, OpenError> {
    let path = options.path.as_path();
    register_sqlite_vec()?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|source| OpenError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
    }
    let connect_options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .pragma("cache_size", "-8000");
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(BUSY_TIMEOUT)
        .connect_with(connect_options)
        .await
        .map_err(|e| OpenError::Sqlite {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let mut conn = pool.acquire().await.map_err(|e| OpenError::Sqlite {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    check_extensions(&mut conn, path).await?;
    Ok(pool)
}

/// `sqlite_version()` and `vec_version()`.
pub(crate) async fn server_versions(
    pool: &SqlitePool,
) -> Result<(String, Option<String>), sqlx::Error> {
    let (sqlite, vec): (String, String) = sqlx::query_as("SELECT sqlite_version(), vec_version()")
        .fetch_one(pool)
        .await?;
    Ok((sqlite, Some(vec)))
}

/// Fails unless sqlite-vec answers and an FTS5 table can be created on this connection.
async fn check_extensions(conn: &mut SqliteConnection, path: &Path) -> Result<(), OpenError> {
    sqlx::query_scalar::<_, String>("SELECT vec_version()")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| OpenError::VecUnavailable {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let fts5_unavailable = |e: sqlx::Error| OpenError::Fts5Unavailable {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    sqlx::query("CREATE VIRTUAL TABLE temp.goclaw_fts5_probe USING fts5(body)")
        .execute(&mut *conn)
        .await
        .map_err(fts5_unavailable)?;
    sqlx::query("DROP TABLE temp.goclaw_fts5_probe")
        .execute(&mut *conn)
        .await
        .map_err(fts5_unavailable)?;
    conn.ping().await.map_err(|e| OpenError::Sqlite {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Registers sqlite-vec for every SQLite connection opened from now on, once per process.
fn register_sqlite_vec() -> Result<(), OpenError> {
    static REGISTERED: OnceLock<i32> = OnceLock::new();
    let code = *REGISTERED.get_or_init(|| {
        disable_memory_statistics();
        match auto_extension_sqlite_vec() {
            libsqlite3_sys::SQLITE_OK => auto_extension_signature(),
            code => code,
        }
    });
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(OpenError::VecRegistration { code })
    }
}

/// Turns off SQLite's allocation statistics, which nothing here reads: with them on, every
/// allocation SQLite makes (hundreds per turn) takes one process-wide mutex, shared by all
/// connections' threads. It must happen before SQLite initializes; when it is too late (SQLite
/// already initialized in this process) SQLite refuses it and keeps counting, which only costs
/// time.
#[allow(unsafe_code)]
fn disable_memory_statistics() {
    // SAFETY: `sqlite3_config` is called before any connection of this process is opened (it
    // runs once, ahead of the first pool), with `SQLITE_CONFIG_MEMSTATUS` and the one `int`
    // argument that option takes. Called after initialization it returns `SQLITE_MISUSE` and
    // changes nothing.
    let code = unsafe {
        libsqlite3_sys::sqlite3_config(
            libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
            0 as std::os::raw::c_int,
        )
    };
    if code != libsqlite3_sys::SQLITE_OK {
        tracing::debug!(code, "sqlite memory statistics stay on");
    }
}

#[allow(unsafe_code)]
fn auto_extension_sqlite_vec() -> i32 {
    type EntryPoint = unsafe extern "C" fn(
        *mut libsqlite3_sys::sqlite3,
        *mut *mut std::os::raw::c_char,
        *const libsqlite3_sys::sqlite3_api_routines,
    ) -> std::os::raw::c_int;
    // SAFETY: `sqlite3_vec_init` is sqlite-vec's extension entry point, a C function with
    // exactly the `EntryPoint` signature (the `sqlite-vec` crate declares it without
    // parameters only for brevity), so the transmute changes the declared type, not the ABI.
    // It is compiled with SQLITE_CORE and linked against the same SQLite library sqlx uses, and
    // `sqlite3_auto_extension` is thread-safe and only stores the pointer, which stays valid for
    // the life of the process.
    unsafe {
        let entry: EntryPoint =
            std::mem::transmute::<*const (), EntryPoint>(sqlite_vec::sqlite3_vec_init as *const ());
        libsqlite3_sys::sqlite3_auto_extension(Some(entry))
    }
}

/// The name of the signature function, NUL-terminated for SQLite.
const SIGNATURE_FUNCTION: &[u8] = b"memory_signature\0";

#[allow(unsafe_code)]
fn auto_extension_signature() -> i32 {
    // SAFETY: `register_signature` has the entry-point signature SQLite calls automatic
    // extensions with, and lives for the life of the process; `sqlite3_auto_extension` is
    // thread-safe and only stores the pointer.
    unsafe { libsqlite3_sys::sqlite3_auto_extension(Some(register_signature)) }
}

/// Defines `memory_signature(blob)` on a new connection: deterministic and innocuous, so
/// triggers and indexes may use it.
#[allow(unsafe_code)]
unsafe extern "C" fn register_signature(
    db: *mut libsqlite3_sys::sqlite3,
    _error: *mut *mut std::os::raw::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::os::raw::c_int {
    let flags = libsqlite3_sys::SQLITE_UTF8
        | libsqlite3_sys::SQLITE_DETERMINISTIC
        | libsqlite3_sys::SQLITE_INNOCUOUS;
    // SAFETY: `db` is the connection SQLite is opening; the name is a NUL-terminated static
    // string; the function takes one argument and has no application data or destructor.
    unsafe {
        libsqlite3_sys::sqlite3_create_function_v2(
            db,
            SIGNATURE_FUNCTION.as_ptr().cast(),
            1,
            flags,
            std::ptr::null_mut(),
            Some(memory_signature),
            None,
            None,
            None,
        )
    }
}

/// `memory_signature(embedding)`: the signature of a float32 blob, NULL for NULL or a blob
/// that is not a whole number of floats.
#[allow(unsafe_code)]
unsafe extern "C" fn memory_signature(
    context: *mut libsqlite3_sys::sqlite3_context,
    argc: std::os::raw::c_int,
    argv: *mut *mut libsqlite3_sys::sqlite3_value,
) {
    // SAFETY: SQLite calls this with `argc` (1, as registered) valid values in `argv`. The
    // blob pointer it returns stays valid, for `sqlite3_value_bytes` bytes, until the value
    // is read again or the call returns; the slice is dropped before either. The result is
    // copied by SQLite (`SQLITE_TRANSIENT`) before `bits` goes out of scope.
    unsafe {
        if argc != 1 || argv.is_null() {
            libsqlite3_sys::sqlite3_result_null(context);
            return;
        }
        let value = *argv;
        let bits = if libsqlite3_sys::sqlite3_value_type(value) == libsqlite3_sys::SQLITE_NULL {
            None
        } else {
            let data = libsqlite3_sys::sqlite3_value_blob(value).cast::<u8>();
            let length = usize::try_from(libsqlite3_sys::sqlite3_value_bytes(value)).unwrap_or(0);
            if data.is_null() || length == 0 {
                None
            } else {
                crate::signature::blob_signature(std::slice::from_raw_parts(data, length))
            }
        };
        match bits {
            Some(bits) => libsqlite3_sys::sqlite3_result_blob(
                context,
                bits.as_ptr().cast(),
                crate::signature::SIGNATURE_BYTES as std::os::raw::c_int,
                libsqlite3_sys::SQLITE_TRANSIENT(),
            ),
            None => libsqlite3_sys::sqlite3_result_null(context),
        }
    }
}

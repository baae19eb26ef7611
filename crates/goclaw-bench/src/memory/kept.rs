//! A PostgreSQL database the bench keeps between runs (`--keep-postgres NAME`): created and
//! migrated the first time, opened as it is afterwards.

use anyhow::{Result, anyhow};
use goclaw_store::OpenedStore;
use goclaw_store::testing::open_kept_postgres;

/// Opens (creating it when missing) `goclaw_bench_memory_<name>` on the server of `admin_dsn`,
/// with every migration applied.
pub async fn open_kept(admin_dsn: &str, name: &str) -> Result<OpenedStore> {
    let database = format!("goclaw_bench_memory_{name}");
    let (opened, created) = open_kept_postgres(admin_dsn, &database)
        .await
        .map_err(|e| anyhow!(e))?;
    if created {
        eprintln!("  created database {database}; it is kept after this run");
    } else {
        eprintln!("  reusing database {database}");
    }
    Ok(opened)
}

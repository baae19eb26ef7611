//! The `goclaw-core` store traits on SQLite and on PostgreSQL.
//!
//! This is the only crate of the gateway that contains SQL. It opens a database from
//! [`StoreOptions`] ([`open`]), hands out the [`goclaw_core::Store`] behind it, and owns the
//! versioned schema of both engines ([`Migrator`]): the same migration numbers and names
//! describe the same logical schema on SQLite and on PostgreSQL, and every behaviour the traits
//! promise is tested on both. It must not depend on providers, channels or the gateway.
//!
//! Every query and row mapping is written once: the table modules (`tables`) implement the
//! traits on one store type through an engine-neutral layer (`sql`) that renders each statement
//! for the engine once, binds domain values in each engine's encoding and decodes them back.
//! Only opening a connection (`sqlite`, `postgres`) and the migrations are per engine.
//!
//! SQLite runs with sqlite-vec and FTS5 available on every connection; PostgreSQL must be 15 or
//! newer with the pgvector extension available.

pub mod archive;
mod error;
mod migrate;
mod open;
mod options;
mod patch;
mod postgres;
mod signature;
mod signature_index;
mod sql;
mod sqlite;
mod tables;
mod turn_rules;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{BackupError, OpenError};
pub use migrate::{MigrateError, MigrationInfo, Migrator, SchemaState, SchemaStatus, migrations};
pub use open::{OpenedStore, ServerInfo, backup_sqlite, open};
pub use options::{PostgresOptions, SqliteOptions, StoreOptions};

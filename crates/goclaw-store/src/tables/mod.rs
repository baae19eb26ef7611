//! The store: one module per table family, each implementing its `goclaw-core` trait once on
//! [`SqlStore`], for either engine, through the neutral layer of [`crate::sql`].
//!
//! A module holds its statements as `static` [`crate::sql::Statement`]s, maps its rows with a
//! [`crate::sql::Record`] impl, and names no engine; where the engines need a different
//! number of statements for one operation (appending a message), it matches on
//! [`crate::sql::Dialect`] once and both arms share the statements' pieces and the mapping.

mod agents;
mod messages;
mod sessions;
mod tenants;
mod turns;

use crate::sql::Pool;

/// The store on either engine's pool.
pub(crate) struct SqlStore {
    pool: Pool,
}

impl SqlStore {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

//! Reading rows back: [`Row`], typed getters that undo what [`super::Param`] stored on each
//! engine, and [`Record`], the mapping of one table's row onto its domain type.
//!
//! A value that cannot be turned back into a domain value (an id that is not a UUID, a time
//! that is not RFC 3339, JSON that does not parse) is `StoreError::Corrupt` naming the table;
//! a column the driver cannot decode at all is `StoreError::Database` with the driver's error.

use chrono::{DateTime, Utc};
use goclaw_core::StoreError;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Postgres, Row as _, Sqlite, Type};
use uuid::Uuid;

use super::param::StoredId;
use super::vector::{self, PgVectorValue};
use crate::error::corrupt;

/// A domain value stored as one row of a table.
pub(crate) trait Record: Sized {
    /// The table named in `Corrupt` errors.
    const TABLE: &'static str;

    /// Reads the value from `row`, which holds the columns the table's statements select.
    fn from_row(row: &Row<'_>) -> Result<Self, StoreError>;
}

/// One fetched row of either engine, read on behalf of a table.
pub(crate) struct Row<'r> {
    raw: RawRow<'r>,
    table: &'static str,
}

#[derive(Clone, Copy)]
enum RawRow<'r> {
    Sqlite(&'r SqliteRow),
    Postgres(&'r PgRow),
}

/// A row as the engine returned it.
pub(crate) enum OneRow {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// Rows as the engine returned them.
pub(crate) enum Rows {
    Sqlite(Vec<SqliteRow>),
    Postgres(Vec<PgRow>),
}

impl OneRow {
    /// The row as a `T`.
    pub(crate) fn decode<T: Record>(&self) -> Result<T, StoreError> {
        T::from_row(&self.read(T::TABLE))
    }

    /// The row, for reading columns that make no [`Record`]; errors name `table`.
    pub(crate) fn read(&self, table: &'static str) -> Row<'_> {
        let raw = match self {
            OneRow::Sqlite(row) => RawRow::Sqlite(row),
            OneRow::Postgres(row) => RawRow::Postgres(row),
        };
        Row { raw, table }
    }
}

impl Rows {
    /// Every row as a `T`, in order.
    pub(crate) fn decode<T: Record>(self) -> Result<Vec<T>, StoreError> {
        self.map(T::TABLE, T::from_row)
    }

    /// Every row through `read`, in order; errors name `table`.
    pub(crate) fn map<T>(
        self,
        table: &'static str,
        read: impl Fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Rows::Sqlite(rows) => rows
                .iter()
                .map(|row| read(&Row::new(RawRow::Sqlite(row), table)))
                .collect(),
            Rows::Postgres(rows) => rows
                .iter()
                .map(|row| read(&Row::new(RawRow::Postgres(row), table)))
                .collect(),
        }
    }
}

impl<'r> Row<'r> {
    fn new(raw: RawRow<'r>, table: &'static str) -> Self {
        Self { raw, table }
    }

    /// A value both engines decode alike.
    fn get<T>(&self, column: &str) -> Result<T, StoreError>
    where
        T: Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>,
    {
        decoded(match self.raw {
            RawRow::Sqlite(row) => row.try_get(column),
            RawRow::Postgres(row) => row.try_get(column),
        })
    }

    /// A `Corrupt` error about this row's table.
    pub(crate) fn corrupt(&self, reason: impl std::fmt::Display) -> StoreError {
        corrupt(self.table, reason)
    }

    pub(crate) fn text(&self, column: &str) -> Result<String, StoreError> {
        self.get(column)
    }

    pub(crate) fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.get(column)
    }

    pub(crate) fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.get(column)
    }

    pub(crate) fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.get(column)
    }

    pub(crate) fn int32(&self, column: &str) -> Result<i32, StoreError> {
        self.get(column)
    }

    pub(crate) fn real(&self, column: &str) -> Result<f64, StoreError> {
        self.get(column)
    }

    pub(crate) fn blob(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        self.get(column)
    }

    pub(crate) fn bool(&self, column: &str) -> Result<bool, StoreError> {
        self.get(column)
    }

    /// A text column through a domain parser; a refusal is `Corrupt`.
    pub(crate) fn parse<T, E: std::fmt::Display>(
        &self,
        column: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        parse(self.get::<&str>(column)?).map_err(|e| self.corrupt(e))
    }

    pub(crate) fn id<T: StoredId>(&self, column: &str) -> Result<T, StoreError> {
        match self.raw {
            RawRow::Sqlite(_) => self.parse(column, str::parse),
            RawRow::Postgres(row) => decoded(row.try_get(column)).map(T::from_uuid),
        }
    }

    pub(crate) fn opt_id<T: StoredId>(&self, column: &str) -> Result<Option<T>, StoreError> {
        match self.raw {
            RawRow::Sqlite(_) => self
                .get::<Option<&str>>(column)?
                .map(|text| text.parse().map_err(|e| self.corrupt(e)))
                .transpose(),
            RawRow::Postgres(row) => {
                Ok(decoded::<Option<_>>(row.try_get(column))?.map(T::from_uuid))
            }
        }
    }

    pub(crate) fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        match self.raw {
            RawRow::Sqlite(_) => self.parse_time(self.get(column)?),
            RawRow::Postgres(row) => decoded(row.try_get(column)),
        }
    }

    pub(crate) fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.raw {
            RawRow::Sqlite(_) => self
                .get::<Option<&str>>(column)?
                .map(|text| self.parse_time(text))
                .transpose(),
            RawRow::Postgres(row) => decoded(row.try_get(column)),
        }
    }

    /// A JSON column; SQL `NULL` reads as JSON `null`.
    pub(crate) fn json(&self, column: &str) -> Result<Value, StoreError> {
        match self.raw {
            RawRow::Sqlite(_) => match self.get::<Option<&str>>(column)? {
                None => Ok(Value::Null),
                Some(text) => serde_json::from_str(text).map_err(|e| self.corrupt(e)),
            },
            RawRow::Postgres(row) => {
                Ok(decoded::<Option<Value>>(row.try_get(column))?.unwrap_or(Value::Null))
            }
        }
    }

    /// A list of text: `TEXT[]` on PostgreSQL, a JSON array on SQLite.
    pub(crate) fn text_list(&self, column: &str) -> Result<Vec<String>, StoreError> {
        match self.raw {
            RawRow::Sqlite(_) => {
                serde_json::from_str(self.get(column)?).map_err(|e| self.corrupt(e))
            }
            RawRow::Postgres(row) => decoded(row.try_get(column)),
        }
    }

    /// A list of ids: `UUID[]` on PostgreSQL, a JSON array of hyphenated ids on SQLite.
    pub(crate) fn id_list(&self, column: &str) -> Result<Vec<Uuid>, StoreError> {
        match self.raw {
            RawRow::Sqlite(_) => {
                serde_json::from_str(self.get(column)?).map_err(|e| self.corrupt(e))
            }
            RawRow::Postgres(row) => decoded(row.try_get(column)),
        }
    }

    /// An embedding: pgvector's `vector` on PostgreSQL, a float32 blob on SQLite.
    pub(crate) fn opt_vector(&self, column: &str) -> Result<Option<Vec<f32>>, StoreError> {
        match self.raw {
            RawRow::Sqlite(row) => decoded::<Option<&[u8]>>(row.try_get(column))?
                .map(|blob| {
                    vector::from_blob(blob).ok_or_else(|| {
                        self.corrupt(format!("a vector blob of {} bytes", blob.len()))
                    })
                })
                .transpose(),
            RawRow::Postgres(row) => {
                Ok(decoded::<Option<PgVectorValue>>(row.try_get(column))?.map(|v| v.0))
            }
        }
    }

    fn parse_time(&self, text: &str) -> Result<DateTime<Utc>, StoreError> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| self.corrupt(format!("timestamp {text:?}: {e}")))
    }
}

/// A column the driver could not decode: a database error, as a failed fetch would be.
fn decoded<T>(value: Result<T, sqlx::Error>) -> Result<T, StoreError> {
    value.map_err(|e| StoreError::Database(Box::new(e)))
}

//! [`Param`]: a value bound to a statement's `?`, in domain terms, and how each engine stores
//! it.
//!
//! PostgreSQL gets native values (`UUID`, `TIMESTAMPTZ`, `JSONB`, `BOOLEAN`, `TEXT[]`). SQLite,
//! which has none of those types, gets what the SQLite schema stores: hyphenated UUID text,
//! ISO-8601 UTC text with milliseconds (`%Y-%m-%dT%H:%M:%S%.3fZ`, the format `{now}` writes, so
//! text order is time order), 0/1, JSON text, and a list of text as a JSON array.
//!
//! Two kinds serve retrieval: a vector (pgvector's `vector`, or the float32 little-endian blob
//! sqlite-vec reads) and a full-text query of plain words (given to PostgreSQL's
//! `plainto_tsquery` as typed; for FTS5, each word quoted, so no input is read as FTS5 syntax).

use chrono::{DateTime, Utc};
use goclaw_core::{AgentId, ApiKeyId, MessageId, SessionId, TenantId};
use serde_json::Value;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Postgres, Sqlite};
use uuid::Uuid;

use super::vector;

/// One parameter value; `None` binds SQL `NULL`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Id(Option<Uuid>),
    Text(Option<&'a str>),
    Int(Option<i64>),
    Int32(i32),
    Real(f64),
    Bool(Option<bool>),
    Json(Option<&'a Value>),
    Time(Option<DateTime<Utc>>),
    TextList(&'a [&'a str]),
    Vector(Option<&'a [f32]>),
    /// Plain words to find, all of them; see the module documentation.
    Words(&'a str),
    /// Plain words to find, any of them: for PostgreSQL's `to_tsquery` as `'a' | 'b'`, for
    /// FTS5 as `"a" OR "b"`. Only letters and digits reach either engine.
    AnyWords(&'a str),
}

/// An id stored as a UUID: a native `UUID` on PostgreSQL, hyphenated text on SQLite.
pub(crate) trait StoredId: Copy + std::str::FromStr<Err: std::fmt::Display> {
    fn from_uuid(id: Uuid) -> Self;
    fn uuid(self) -> Uuid;
}

impl StoredId for Uuid {
    fn from_uuid(id: Uuid) -> Self {
        id
    }

    fn uuid(self) -> Uuid {
        self
    }
}

macro_rules! stored_ids {
    ($($id:ty),*) => {$(
        impl StoredId for $id {
            fn from_uuid(id: Uuid) -> Self {
                <$id>::from_uuid(id)
            }

            fn uuid(self) -> Uuid {
                self.as_uuid()
            }
        }
    )*};
}

stored_ids!(TenantId, AgentId, SessionId, MessageId, ApiKeyId);

impl<T: StoredId> From<T> for Param<'_> {
    fn from(id: T) -> Self {
        Param::Id(Some(id.uuid()))
    }
}

impl<T: StoredId> From<Option<T>> for Param<'_> {
    fn from(id: Option<T>) -> Self {
        Param::Id(id.map(StoredId::uuid))
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Param::Text(Some(text))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(text: &'a String) -> Self {
        Param::Text(Some(text))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(text: Option<&'a str>) -> Self {
        Param::Text(text)
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(text: &'a Option<String>) -> Self {
        Param::Text(text.as_deref())
    }
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Param::Int(Some(value))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(value: Option<i64>) -> Self {
        Param::Int(value)
    }
}

impl From<i32> for Param<'_> {
    fn from(value: i32) -> Self {
        Param::Int32(value)
    }
}

impl From<f64> for Param<'_> {
    fn from(value: f64) -> Self {
        Param::Real(value)
    }
}

impl From<bool> for Param<'_> {
    fn from(value: bool) -> Self {
        Param::Bool(Some(value))
    }
}

impl From<Option<bool>> for Param<'_> {
    fn from(value: Option<bool>) -> Self {
        Param::Bool(value)
    }
}

impl<'a> From<&'a Value> for Param<'a> {
    fn from(value: &'a Value) -> Self {
        Param::Json(Some(value))
    }
}

impl<'a> From<Option<&'a Value>> for Param<'a> {
    fn from(value: Option<&'a Value>) -> Self {
        Param::Json(value)
    }
}

impl From<DateTime<Utc>> for Param<'_> {
    fn from(at: DateTime<Utc>) -> Self {
        Param::Time(Some(at))
    }
}

impl From<Option<DateTime<Utc>>> for Param<'_> {
    fn from(at: Option<DateTime<Utc>>) -> Self {
        Param::Time(at)
    }
}

impl<'a> From<&'a [&'a str]> for Param<'a> {
    fn from(list: &'a [&'a str]) -> Self {
        Param::TextList(list)
    }
}

impl<'a> From<&'a [f32]> for Param<'a> {
    fn from(vector: &'a [f32]) -> Self {
        Param::Vector(Some(vector))
    }
}

impl<'a> From<Option<&'a [f32]>> for Param<'a> {
    fn from(vector: Option<&'a [f32]>) -> Self {
        Param::Vector(vector)
    }
}

/// The words of `text` (runs of letters and digits, as FTS5's `unicode61` tokenizer splits
/// them), each quoted as an FTS5 string, so that together they match rows holding all of them.
pub(crate) fn fts5_words(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{word}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of `text` as [`fts5_words`] splits them, each quoted, joined by `separator`.
fn joined_words(text: &str, quote: char, separator: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("{quote}{word}{quote}"))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Any word of `text`, as an FTS5 query.
pub(crate) fn fts5_any_words(text: &str) -> String {
    joined_words(text, '"', " OR ")
}

/// Any word of `text`, as a PostgreSQL `tsquery` text.
pub(crate) fn tsquery_any_words(text: &str) -> String {
    joined_words(text, '\'', " | ")
}

/// A time as SQLite stores it.
pub(crate) fn sqlite_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Binds `params` in order to a SQLite query.
pub(super) fn bind_sqlite<'q>(
    mut query: Query<'q, Sqlite, SqliteArguments<'q>>,
    params: &[Param<'q>],
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    for param in params {
        query = match *param {
            Param::Id(id) => query.bind(id.map(|id| id.hyphenated().to_string())),
            Param::Text(text) => query.bind(text),
            Param::Int(value) => query.bind(value),
            Param::Int32(value) => query.bind(value),
            Param::Real(value) => query.bind(value),
            Param::Bool(value) => query.bind(value),
            Param::Json(value) => query.bind(value.map(Value::to_string)),
            Param::Time(at) => query.bind(at.map(sqlite_time)),
            Param::TextList(list) => query.bind(Value::from(list.to_vec()).to_string()),
            Param::Vector(vector) => query.bind(vector.map(vector::to_blob)),
            Param::Words(text) => query.bind(fts5_words(text)),
            Param::AnyWords(text) => query.bind(fts5_any_words(text)),
        };
    }
    query
}

/// Binds `params` in order to a PostgreSQL query.
pub(super) fn bind_postgres<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    params: &[Param<'q>],
) -> Query<'q, Postgres, PgArguments> {
    for param in params {
        query = match *param {
            Param::Id(id) => query.bind(id),
            Param::Text(text) => query.bind(text),
            Param::Int(value) => query.bind(value),
            Param::Int32(value) => query.bind(value),
            Param::Real(value) => query.bind(value),
            Param::Bool(value) => query.bind(value),
            Param::Json(value) => query.bind(value),
            Param::Time(at) => query.bind(at),
            Param::TextList(list) => query.bind(list),
            Param::Vector(vector) => query.bind(vector.map(vector::PgVector)),
            Param::Words(text) => query.bind(text),
            Param::AnyWords(text) => query.bind(tsquery_any_words(text)),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts5_queries_are_quoted_words() {
        let check = |text: &str, expected: &str| assert_eq!(fts5_words(text), expected, "{text:?}");
        check("alpha", "\"alpha\"");
        check("  alpha, beta-gamma ", "\"alpha\" \"beta\" \"gamma\"");
        check("\"NEAR(a b)\" OR c*", "\"NEAR\" \"a\" \"b\" \"OR\" \"c\"");
        check("été 2025", "\"été\" \"2025\"");
        check("?!", "");
    }

    #[test]
    fn any_word_queries_are_quoted_alternatives() {
        let check = |text: &str, fts5: &str, pg: &str| {
            assert_eq!(fts5_any_words(text), fts5, "{text:?}");
            assert_eq!(tsquery_any_words(text), pg, "{text:?}");
        };
        check("alpha", "\"alpha\"", "'alpha'");
        check(
            "teal, colour?",
            "\"teal\" OR \"colour\"",
            "'teal' | 'colour'",
        );
        check(
            "it's a | b & !c",
            "\"it\" OR \"s\" OR \"a\" OR \"b\" OR \"c\"",
            "'it' | 's' | 'a' | 'b' | 'c'",
        );
        check("?!", "", "");
    }

    #[test]
    fn sqlite_times_have_milliseconds_and_a_zulu_suffix() {
        let at = DateTime::parse_from_rfc3339("2025-01-02T03:04:05.678901Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(sqlite_time(at), "2025-01-02T03:04:05.678Z");
    }
}

//! [`Param`]: a value bound to a statement's `?`, in domain terms, and how each engine stores
//! it.
//!
//! PostgreSQL gets native values (`UUID`, `TIMESTAMPTZ`, `JSONB`, `BOOLEAN`, `TEXT[]`). SQLite,
//! which has none of those types, gets what the SQLite schema stores: hyphenated UUID text,
//! ISO-8601 UTC text with milliseconds (`%Y-%m-%dT%H:%M:%S%.3fZ`, the format `{now}` writes, so
//! text order is time order), 0/1, JSON text, and a list of text as a JSON array.
//!
//! Two kinds serve retrieval: a vector (pgvector's `vector`, or the float32 little-endian blob
//! sqlite-vec reads) and a full-text query of plain words, any of which may match
//! ([`query_words`]): each word is a run of letters and digits, so no input is read as query
//! syntax; FTS5 gets them double-quoted and OR-ed; PostgreSQL gets the tokens holding them
//! ([`tsquery_source`]), which the statement parses like the chunks and ORs, quoted.

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
    /// A list of ids: `UUID[]` on PostgreSQL, a JSON array of hyphenated ids on SQLite.
    IdList(&'a [Uuid]),
    Vector(Option<&'a [f32]>),
    /// Plain words to find, any of them; see the module documentation.
    Words(&'a str),
    /// Plain words to find, any of them: for PostgreSQL's `to_tsquery` as `'a' | 'b'`, for
    /// FTS5 as `"a" OR "b"`. Only letters and digits reach either engine.
    AnyWords(&'a str),
    /// [`Param::Words`] for a statement that weighs each word before matching: PostgreSQL gets
    /// the same text, SQLite the words of [`query_words`] as a JSON array.
    WordList(&'a str),
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

impl<'a> From<&'a [Uuid]> for Param<'a> {
    fn from(list: &'a [Uuid]) -> Self {
        Param::IdList(list)
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

/// Most words of a query sent to the engine: a pasted page must not become a query that
/// matches every chunk with thousands of terms.
pub(crate) const MAX_QUERY_WORDS: usize = 32;

/// English function words: articles, pronouns, auxiliaries, prepositions, conjunctions and
/// question words. Sorted, for a binary search.
const FUNCTION_WORDS: &[&str] = &[
    "a", "about", "after", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has",
    "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my",
    "no", "not", "of", "on", "or", "our", "she", "should", "so", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "up", "us", "was", "we",
    "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you",
    "your",
];

/// The words of a full-text query: runs of letters and digits (as FTS5's `unicode61` tokenizer
/// and PostgreSQL's parser split text), lower-cased, each once, at most [`MAX_QUERY_WORDS`].
/// Nothing else survives, so quotes, operators, `NEAR`, `*`, `^`, colons and parentheses are
/// never query syntax (an operator's letters become a plain word: `OR` is the word `or`).
///
/// English function words ("what", "do", "we", "the") are left out of a query that has other
/// words: any-word matching would otherwise match nearly every chunk through them, costing a
/// scan and rank of all of them while adding nothing to what the query means. A query of
/// function words only keeps them.
pub(crate) fn query_words(text: &str) -> Vec<String> {
    let (mut content, mut function): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let word = word.to_lowercase();
        let list = if is_function_word(&word) {
            &mut function
        } else {
            &mut content
        };
        if list.len() < MAX_QUERY_WORDS && !list.contains(&word) {
            list.push(word);
        }
        if content.len() == MAX_QUERY_WORDS {
            break;
        }
    }
    if content.is_empty() {
        function
    } else {
        content
    }
}

fn is_function_word(word: &str) -> bool {
    FUNCTION_WORDS.binary_search(&word).is_ok()
}

/// The FTS5 query matching any word of `text`: each word a quoted string, joined by `OR`.
pub(crate) fn fts5_any_word(text: &str) -> String {
    query_words(text)
        .iter()
        .map(|word| format!("\"{word}\""))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The text PostgreSQL parses into the query's lexemes: the whitespace-separated tokens of
/// `text` that hold a word of [`query_words`], at most [`MAX_QUERY_WORDS`]. PostgreSQL's parser
/// then reads `INC-2146`, `10.20.3.21` or `db-prod-1` exactly as it read them in the chunks
/// (the statement quotes each lexeme it finds, so nothing in the text is tsquery syntax).
pub(crate) fn tsquery_source(text: &str) -> String {
    let words = query_words(text);
    text.split_whitespace()
        .filter(|token| {
            token
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| !w.is_empty() && words.contains(&w.to_lowercase()))
        })
        .take(MAX_QUERY_WORDS)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The runs of letters and digits of `text`, each quoted, joined by `separator`.
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
            Param::IdList(list) => query.bind(
                Value::from(
                    list.iter()
                        .map(|id| id.hyphenated().to_string())
                        .collect::<Vec<_>>(),
                )
                .to_string(),
            ),
            Param::Vector(vector) => query.bind(vector.map(vector::to_blob)),
            Param::Words(text) => query.bind(fts5_any_word(text)),
            Param::AnyWords(text) => query.bind(fts5_any_words(text)),
            Param::WordList(text) => query.bind(Value::from(query_words(text)).to_string()),
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
            Param::IdList(list) => query.bind(list),
            Param::Vector(vector) => query.bind(vector.map(vector::PgVector)),
            Param::Words(text) => query.bind(tsquery_source(text)),
            Param::AnyWords(text) => query.bind(tsquery_any_words(text)),
            Param::WordList(text) => query.bind(tsquery_source(text)),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_quoted_words_any_of_which_may_match() {
        let check = |text: &str, fts5: &str, postgres: &str| {
            assert_eq!(fts5_any_word(text), fts5, "{text:?}");
            assert_eq!(tsquery_source(text), postgres, "{text:?}");
        };
        check("alpha", r#""alpha""#, "alpha");
        check(
            "  alpha, beta-Gamma ",
            r#""alpha" OR "beta" OR "gamma""#,
            "alpha, beta-Gamma",
        );
        check(
            r#""NEAR(x y)" OR z*"#,
            r#""near" OR "x" OR "y" OR "z""#,
            r#""NEAR(x y)" z*"#,
        );
        check(
            "What database do we use for production?",
            r#""database" OR "use" OR "production""#,
            "database use production?",
        );
        check("what is it", r#""what" OR "is" OR "it""#, "what is it");
        check("été 2025 Été", r#""été" OR "2025""#, "été 2025 Été");
        check(
            r"it's x:b\c INC-2146",
            r#""s" OR "x" OR "b" OR "c" OR "inc" OR "2146""#,
            r"it's x:b\c INC-2146",
        );
        check("?!", "", "");
        let long: String = (0..100).map(|n| format!("w{n} ")).collect();
        assert_eq!(query_words(&long).len(), MAX_QUERY_WORDS);
        assert_eq!(query_words(&long)[MAX_QUERY_WORDS - 1], "w31");
        assert_eq!(tsquery_source(&long).split(' ').count(), MAX_QUERY_WORDS);
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

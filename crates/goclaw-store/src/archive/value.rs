//! Column values between each engine and the archive's JSON: the `SELECT` list that reads a
//! table, the decoding of one row into a JSON object, and the `INSERT` that writes one back.
//!
//! Values keep their engine's exact text where both engines agree on it (JSON text and SQLite
//! timestamps are carried verbatim), so a backup restored into the engine it came from gives back
//! the very same rows. PostgreSQL timestamps are written with microseconds, its full precision,
//! and restored into SQLite in SQLite's own millisecond format.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Postgres, Row, Sqlite};

use super::ArchiveError;
use super::catalog::{ColumnType, Table, quote};
use crate::sql::vector;

/// Rows read per query: a backup pages through each table in key order inside its snapshot,
/// so no single statement runs long (or holds many rows in memory).
pub const PAGE: usize = 1000;

/// `SELECT` of the first page of `table` on SQLite in key order, or with `after`, of the page
/// after the key bound to the `?` placeholders (one per [`Table::order_by`] column).
pub fn sqlite_select(table: &Table, after: bool) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| match c.ty {
            // A REAL column may hold an integer (a `DEFAULT 0`, say); read every value as real.
            ColumnType::Real => format!("CAST({0} AS REAL) AS {0}", quote(c.name)),
            _ => quote(c.name),
        })
        .collect();
    let marks = vec!["?".to_owned(); table.order_by.len()];
    select(table, &columns, after.then_some(marks))
}

/// Like [`sqlite_select`] on PostgreSQL, every column cast to the type this module decodes.
pub fn postgres_select(table: &Table, after: bool) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let name = quote(c.name);
            match c.ty {
                ColumnType::Text | ColumnType::Uuid | ColumnType::Json => {
                    format!("{name}::text AS {name}")
                }
                ColumnType::Integer => format!("{name}::int8 AS {name}"),
                ColumnType::Real => format!("{name}::float8 AS {name}"),
                ColumnType::TextList | ColumnType::UuidList => format!("{name}::text[] AS {name}"),
                ColumnType::Vector => format!("{name}::text AS {name}"),
                ColumnType::Boolean | ColumnType::Timestamp => name,
            }
        })
        .collect();
    let marks = table
        .order_by
        .iter()
        .enumerate()
        .map(|(i, key)| match table.column(key).map(|c| c.ty) {
            Some(ColumnType::Uuid) => format!("${}::uuid", i + 1),
            _ => format!("${}", i + 1),
        })
        .collect();
    select(table, &columns, after.then_some(marks))
}

/// The key columns are qualified with the table so that they name the stored columns, not the
/// cast output columns of the same name (PostgreSQL's `ORDER BY` would prefer those).
fn select(table: &Table, columns: &[String], after: Option<Vec<String>>) -> String {
    let name = quote(table.name);
    let keys: Vec<String> = table
        .order_by
        .iter()
        .map(|c| format!("{name}.{}", quote(c)))
        .collect();
    let keys = keys.join(", ");
    let filter = after.map_or_else(String::new, |marks| {
        format!(" WHERE ({keys}) > ({})", marks.join(", "))
    });
    format!(
        "SELECT {} FROM {name}{filter} ORDER BY {keys} LIMIT {PAGE}",
        columns.join(", ")
    )
}

/// The key of an archived `row` of `table`, to page on from.
pub fn key_of(table: &Table, row: &Map<String, Value>) -> Result<Vec<String>, ArchiveError> {
    table
        .order_by
        .iter()
        .map(|key| match row.get(*key) {
            Some(Value::String(text)) => Ok(text.clone()),
            _ => Err(ArchiveError::value(
                table.name,
                key,
                "a key column must hold text".to_owned(),
            )),
        })
        .collect()
}

/// Rows a restore writes per `INSERT` (at most 24 columns × 100 rows = 2,400 parameters, far
/// below either engine's limit).
pub const BATCH: usize = 100;

/// `INSERT` of `rows` rows of `table` on SQLite, columns in catalog order.
pub fn sqlite_insert(table: &Table, rows: usize) -> String {
    let one = format!("({})", vec!["?"; table.columns.len()].join(", "));
    insert(table, &vec![one; rows].join(", "))
}

/// `INSERT` of `rows` rows of `table` on PostgreSQL, columns in catalog order.
pub fn postgres_insert(table: &Table, rows: usize) -> String {
    let width = table.columns.len();
    let tuples: Vec<String> = (0..rows)
        .map(|row| {
            let marks: Vec<String> = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let n = row * width + i + 1;
                    match c.ty {
                        ColumnType::Uuid => format!("${n}::uuid"),
                        ColumnType::Json => format!("${n}::jsonb"),
                        ColumnType::Vector => format!("${n}::vector"),
                        ColumnType::UuidList => format!("${n}::uuid[]"),
                        _ => format!("${n}"),
                    }
                })
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    insert(table, &tuples.join(", "))
}

fn insert(table: &Table, tuples: &str) -> String {
    let columns: Vec<String> = table.columns.iter().map(|c| quote(c.name)).collect();
    format!(
        "INSERT INTO {} ({}) VALUES {tuples}",
        quote(table.name),
        columns.join(", ")
    )
}

/// One SQLite row of `table` as the archive's JSON object.
pub fn sqlite_row(table: &Table, row: &SqliteRow) -> Result<Map<String, Value>, ArchiveError> {
    let mut out = Map::new();
    for (i, column) in table.columns.iter().enumerate() {
        let bad = |reason: String| ArchiveError::value(table.name, column.name, reason);
        let value = match column.ty {
            ColumnType::Text | ColumnType::Uuid | ColumnType::Json => {
                text(row.try_get::<Option<String>, _>(i))?
            }
            ColumnType::Timestamp => {
                let value: Option<String> = row.try_get(i)?;
                if let Some(text) = &value
                    && parse_timestamp(text).is_none()
                {
                    return Err(bad(format!("{text:?} is not a timestamp")));
                }
                value.map_or(Value::Null, Value::String)
            }
            ColumnType::Integer => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, Value::from),
            ColumnType::Real => row.try_get::<Option<f64>, _>(i)?.map_or(Value::Null, real),
            ColumnType::Boolean => match row.try_get::<Option<i64>, _>(i)? {
                None => Value::Null,
                Some(0) => Value::Bool(false),
                Some(1) => Value::Bool(true),
                Some(other) => return Err(bad(format!("{other} is not a boolean (0 or 1)"))),
            },
            ColumnType::TextList | ColumnType::UuidList => {
                match row.try_get::<Option<String>, _>(i)? {
                    None => Value::Null,
                    Some(text) => match serde_json::from_str::<Vec<String>>(&text) {
                        Ok(list) => json!(list),
                        Err(e) => return Err(bad(format!("not a JSON list of strings: {e}"))),
                    },
                }
            }
            ColumnType::Vector => match row.try_get::<Option<Vec<u8>>, _>(i)? {
                None => Value::Null,
                Some(blob) => match vector::from_blob(&blob) {
                    Some(values) => json!(values),
                    None => return Err(bad(format!("a vector blob of {} bytes", blob.len()))),
                },
            },
        };
        out.insert(column.name.to_owned(), value);
    }
    Ok(out)
}

/// One PostgreSQL row of `table` (read with [`postgres_select`]) as the archive's JSON object.
pub fn postgres_row(table: &Table, row: &PgRow) -> Result<Map<String, Value>, ArchiveError> {
    let mut out = Map::new();
    for (i, column) in table.columns.iter().enumerate() {
        let value = match column.ty {
            ColumnType::Text | ColumnType::Uuid | ColumnType::Json => {
                text(row.try_get::<Option<String>, _>(i))?
            }
            ColumnType::Timestamp => row
                .try_get::<Option<DateTime<Utc>>, _>(i)?
                .map_or(Value::Null, |t| Value::String(format_timestamp(t))),
            ColumnType::Integer => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, Value::from),
            ColumnType::Real => row.try_get::<Option<f64>, _>(i)?.map_or(Value::Null, real),
            ColumnType::Boolean => row
                .try_get::<Option<bool>, _>(i)?
                .map_or(Value::Null, Value::Bool),
            ColumnType::TextList | ColumnType::UuidList => row
                .try_get::<Option<Vec<String>>, _>(i)?
                .map_or(Value::Null, |list| json!(list)),
            ColumnType::Vector => match row.try_get::<Option<String>, _>(i)? {
                None => Value::Null,
                Some(text) => json!(vector::from_text(&text).map_err(|e| {
                    ArchiveError::value(table.name, column.name, format!("not a vector: {e}"))
                })?),
            },
        };
        out.insert(column.name.to_owned(), value);
    }
    Ok(out)
}

fn text(value: Result<Option<String>, sqlx::Error>) -> Result<Value, ArchiveError> {
    Ok(value?.map_or(Value::Null, Value::String))
}

fn real(value: f64) -> Value {
    if value.is_finite() {
        return json!(value);
    }
    let name = if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    };
    json!({ "float": name })
}

/// Binds the archive's `row` to a SQLite [`sqlite_insert`] of `table`.
///
/// With `verbatim_times` false (the backup came from PostgreSQL) timestamps are rewritten in
/// SQLite's stored format, milliseconds: text that mixed precisions would no longer sort
/// chronologically, which the SQLite store relies on.
pub fn bind_sqlite<'q>(
    table: &Table,
    row: &Map<String, Value>,
    verbatim_times: bool,
    mut query: Query<'q, Sqlite, SqliteArguments<'q>>,
) -> Result<Query<'q, Sqlite, SqliteArguments<'q>>, ArchiveError> {
    for column in table.columns {
        let value = field(table, column.name, row)?;
        let bad = |reason: &str| ArchiveError::value(table.name, column.name, reason.to_owned());
        query = match column.ty {
            ColumnType::Text | ColumnType::Uuid | ColumnType::Json => {
                query.bind(as_text(value).map_err(bad)?)
            }
            ColumnType::Timestamp => {
                let text = match as_text(value).map_err(bad)? {
                    None => None,
                    Some(text) => {
                        let at = parse_timestamp(&text).ok_or_else(|| bad("not a timestamp"))?;
                        Some(if verbatim_times {
                            text
                        } else {
                            at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
                        })
                    }
                };
                query.bind(text)
            }
            ColumnType::Integer => query.bind(as_integer(value).map_err(bad)?),
            ColumnType::Real => query.bind(as_real(value).map_err(bad)?),
            ColumnType::Boolean => query.bind(as_bool(value).map_err(bad)?.map(i64::from)),
            ColumnType::TextList | ColumnType::UuidList => {
                let list = as_list(value).map_err(bad)?;
                query.bind(list.map(|l| json!(l).to_string()))
            }
            ColumnType::Vector => {
                query.bind(as_vector(value).map_err(bad)?.map(|v| vector::to_blob(&v)))
            }
        };
    }
    Ok(query)
}

/// Binds the archive's `row` to a PostgreSQL [`postgres_insert`] of `table`.
pub fn bind_postgres<'q>(
    table: &Table,
    row: &Map<String, Value>,
    mut query: Query<'q, Postgres, PgArguments>,
) -> Result<Query<'q, Postgres, PgArguments>, ArchiveError> {
    for column in table.columns {
        let value = field(table, column.name, row)?;
        let bad = |reason: &str| ArchiveError::value(table.name, column.name, reason.to_owned());
        query = match column.ty {
            ColumnType::Text | ColumnType::Uuid | ColumnType::Json => {
                query.bind(as_text(value).map_err(bad)?)
            }
            ColumnType::Timestamp => {
                let text = as_text(value).map_err(bad)?;
                let at = match text {
                    None => None,
                    Some(t) => Some(parse_timestamp(&t).ok_or_else(|| bad("not a timestamp"))?),
                };
                query.bind(at)
            }
            ColumnType::Integer => query.bind(as_integer(value).map_err(bad)?),
            ColumnType::Real => query.bind(as_real(value).map_err(bad)?),
            ColumnType::Boolean => query.bind(as_bool(value).map_err(bad)?),
            ColumnType::TextList | ColumnType::UuidList => query.bind(as_list(value).map_err(bad)?),
            ColumnType::Vector => {
                query.bind(as_vector(value).map_err(bad)?.map(|v| vector::to_text(&v)))
            }
        };
    }
    Ok(query)
}

fn field<'r>(
    table: &Table,
    column: &str,
    row: &'r Map<String, Value>,
) -> Result<&'r Value, ArchiveError> {
    row.get(column)
        .ok_or_else(|| ArchiveError::value(table.name, column, "missing from the row".to_owned()))
}

fn as_text(value: &Value) -> Result<Option<String>, &'static str> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err("expected a string"),
    }
}

fn as_integer(value: &Value) -> Result<Option<i64>, &'static str> {
    match value {
        Value::Null => Ok(None),
        other => other.as_i64().map(Some).ok_or("expected a 64-bit integer"),
    }
}

fn as_real(value: &Value) -> Result<Option<f64>, &'static str> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_f64().map(Some).ok_or("expected a number"),
        Value::Object(o) => match o.get("float").and_then(Value::as_str) {
            Some("NaN") => Ok(Some(f64::NAN)),
            Some("Infinity") => Ok(Some(f64::INFINITY)),
            Some("-Infinity") => Ok(Some(f64::NEG_INFINITY)),
            _ => Err("expected a number"),
        },
        _ => Err("expected a number"),
    }
}

fn as_bool(value: &Value) -> Result<Option<bool>, &'static str> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        _ => Err("expected a boolean"),
    }
}

fn as_list(value: &Value) -> Result<Option<Vec<String>>, &'static str> {
    match value {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or("expected a list of strings"),
        _ => Err("expected a list of strings"),
    }
}

fn as_vector(value: &Value) -> Result<Option<Vec<f32>>, &'static str> {
    match value {
        Value::Null => Ok(None),
        // Values were read from float32s, so narrowing gives each back exactly.
        #[allow(clippy::cast_possible_truncation)]
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_f64().map(|f| f as f32))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or("expected a list of numbers"),
        _ => Err("expected a list of numbers"),
    }
}

/// A timestamp as PostgreSQL holds it: RFC 3339 UTC with microseconds.
fn format_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// RFC 3339, or `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC (SQLite's `datetime()` form).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_timestamp(text: &str, expected: Option<&str>) {
        let parsed = parse_timestamp(text).map(format_timestamp);
        assert_eq!(parsed.as_deref(), expected, "text {text:?}");
    }

    #[test]
    fn timestamps_of_both_engines_parse() {
        check_timestamp(
            "2026-11-30T01:34:46.123Z",
            Some("2026-11-30T01:34:46.123000Z"),
        );
        check_timestamp("2026-11-30T01:34:46Z", Some("2026-11-30T01:34:46.000000Z"));
        check_timestamp(
            "2026-11-30T02:34:46.5+01:00",
            Some("2026-11-30T01:34:46.500000Z"),
        );
        check_timestamp("2026-11-30 01:34:46", Some("2026-11-30T01:34:46.000000Z"));
        check_timestamp(
            "2026-11-30 01:34:46.25",
            Some("2026-11-30T01:34:46.250000Z"),
        );
        check_timestamp("yesterday", None);
        check_timestamp("", None);
    }

    fn check_real(value: Value, expected: Option<f64>) {
        let got = as_real(&value).ok().flatten();
        match (got, expected) {
            (Some(g), Some(e)) if e.is_nan() => assert!(g.is_nan(), "{value}"),
            _ => assert_eq!(got, expected, "{value}"),
        }
    }

    #[test]
    fn reals_round_trip_including_non_finite() {
        for v in [0.0, -1.5, 1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            check_real(real(v), Some(v));
        }
        check_real(json!("1.5"), None);
        check_real(json!({ "float": "huge" }), None);
    }
}

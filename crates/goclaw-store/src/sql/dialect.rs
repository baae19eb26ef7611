//! The two SQL dialects and the rendering of a statement written once into each of them.
//!
//! Statements are written in SQL both engines understand, with `?` for every parameter and a
//! few `{tokens}` where the engines spell the same thing differently:
//!
//! | token             | SQLite                                   | PostgreSQL        |
//! |-------------------|------------------------------------------|-------------------|
//! | `{now}`           | `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`  | `now()`           |
//! | `{true}`/`{false}`| `1` / `0`                                | `true` / `false`  |
//! | `{bytewise}`      | nothing (`BINARY` is the default)        | `COLLATE "C"`     |
//! | `{for_update}`    | nothing (the write transaction locks)    | `FOR UPDATE`      |
//! | `{skip_locked}`   | nothing (the write transaction locks)    | `FOR UPDATE SKIP LOCKED` |
//! | `{ms_since:col}`  | milliseconds from `col` to now, through `julianday` | through `EXTRACT(EPOCH …)` |
//! | `{utc_text:col}`  | `col` (times are stored as UTC text)     | `col` as the same text, through `to_char` |
//! | `{json_real:col,key}` | the number at `key` of the JSON in `col`, through `json_extract` | through `->>` |
//!
//! PostgreSQL numbers its parameters, so each `?` becomes `$1`, `$2`, … in order; a value used
//! twice is therefore bound twice. Text inside quotes (`'…'`, `"…"`) is copied untouched. A
//! `?` outside quotes is always a parameter, so PostgreSQL's `?` JSON operators are spelled
//! with their functions (`jsonb_exists`).

/// SQLite's `{now}`: ISO-8601 UTC with milliseconds, the stored time format, which sorts
/// chronologically as text.
pub(crate) const SQLITE_NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// One engine's SQL spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A statement rendered for one dialect.
#[derive(Debug)]
pub(crate) struct Rendered {
    /// The SQL the engine runs.
    pub(crate) text: String,
    /// How many parameters it takes.
    pub(crate) params: usize,
}

impl Dialect {
    /// Renders `source` (the pieces of one statement, in order) for this dialect.
    ///
    /// # Panics
    /// On an unknown or unterminated `{token}`: statements are the crate's own constants, so
    /// this is a programming error, found the first time a test runs the statement.
    pub(crate) fn render(self, source: &[&str]) -> Rendered {
        let mut out = String::with_capacity(source.iter().map(|p| p.len()).sum::<usize>() + 16);
        let mut params = 0;
        let mut quote = None;
        for piece in source {
            let mut chars = piece.char_indices();
            while let Some((at, c)) = chars.next() {
                match (quote, c) {
                    (Some(open), c) => {
                        out.push(c);
                        if c == open {
                            quote = None;
                        }
                    }
                    (None, '\'' | '"') => {
                        out.push(c);
                        quote = Some(c);
                    }
                    (None, '?') => {
                        params += 1;
                        match self {
                            Dialect::Sqlite => out.push('?'),
                            Dialect::Postgres => {
                                out.push('$');
                                out.push_str(&params.to_string());
                            }
                        }
                    }
                    (None, '{') => {
                        let rest = &piece[at + 1..];
                        let Some(end) = rest.find('}') else {
                            panic!("unterminated token in SQL {piece:?}");
                        };
                        self.token(&rest[..end], &mut out);
                        // Skip the token's text and its closing brace.
                        for _ in 0..=rest[..end].chars().count() {
                            chars.next();
                        }
                    }
                    (None, c) => out.push(c),
                }
            }
        }
        Rendered { text: out, params }
    }

    /// Appends this dialect's spelling of `token` (`name` or `name:argument`).
    fn token(self, token: &str, out: &mut String) {
        let (name, argument) = match token.split_once(':') {
            Some((name, argument)) => (name, Some(argument)),
            None => (token, None),
        };
        let sqlite = self == Dialect::Sqlite;
        match (name, argument) {
            ("now", None) => out.push_str(if sqlite { SQLITE_NOW } else { "now()" }),
            ("true", None) => out.push_str(if sqlite { "1" } else { "true" }),
            ("false", None) => out.push_str(if sqlite { "0" } else { "false" }),
            ("bytewise", None) => out.push_str(if sqlite { "" } else { "COLLATE \"C\"" }),
            ("for_update", None) => out.push_str(if sqlite { "" } else { "FOR UPDATE" }),
            ("skip_locked", None) => {
                out.push_str(if sqlite { "" } else { "FOR UPDATE SKIP LOCKED" })
            }
            ("ms_since", Some(column)) if sqlite => out.push_str(&format!(
                "CAST((julianday({SQLITE_NOW}) - julianday({column})) * 86400000 AS INTEGER)"
            )),
            ("ms_since", Some(column)) => out.push_str(&format!(
                "(EXTRACT(EPOCH FROM (now() - {column})) * 1000)::BIGINT"
            )),
            ("utc_text", Some(column)) if sqlite => out.push_str(column),
            ("utc_text", Some(column)) => out.push_str(&format!(
                "to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            )),
            ("json_real", Some(argument)) => {
                let Some((column, key)) = argument.split_once(',') else {
                    panic!("{{json_real:…}} takes a column and a key: {{{token}}}");
                };
                if sqlite {
                    out.push_str(&format!("CAST(json_extract({column}, '$.{key}') AS REAL)"));
                } else {
                    out.push_str(&format!("CAST({column}->>'{key}' AS DOUBLE PRECISION)"));
                }
            }
            _ => panic!("unknown SQL token {{{token}}}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(source: &[&str], sqlite: &str, postgres: &str, params: usize) {
        let rendered = Dialect::Sqlite.render(source);
        assert_eq!(rendered.text, sqlite, "SQLite rendering of {source:?}");
        assert_eq!(rendered.params, params, "SQLite parameters of {source:?}");
        let rendered = Dialect::Postgres.render(source);
        assert_eq!(
            rendered.text, postgres,
            "PostgreSQL rendering of {source:?}"
        );
        assert_eq!(
            rendered.params, params,
            "PostgreSQL parameters of {source:?}"
        );
    }

    #[test]
    fn placeholders_are_numbered_on_postgres() {
        check(&["SELECT 1"], "SELECT 1", "SELECT 1", 0);
        check(
            &["SELECT a FROM t WHERE b = ? AND c = ?"],
            "SELECT a FROM t WHERE b = ? AND c = ?",
            "SELECT a FROM t WHERE b = $1 AND c = $2",
            2,
        );
        check(
            &["VALUES (?, ", "?, ?, ?, ?, ?, ?, ?, ?, ?)"],
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            10,
        );
    }

    #[test]
    fn tokens_take_each_dialects_spelling() {
        check(
            &["UPDATE t SET at = {now}, on = {true}, off = {false}"],
            "UPDATE t SET at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), on = 1, off = 0",
            "UPDATE t SET at = now(), on = true, off = false",
            0,
        );
        check(
            &["SELECT a FROM t ORDER BY a {bytewise}"],
            "SELECT a FROM t ORDER BY a ",
            "SELECT a FROM t ORDER BY a COLLATE \"C\"",
            0,
        );
        check(
            &["SELECT a FROM t WHERE b = ? {for_update}"],
            "SELECT a FROM t WHERE b = ? ",
            "SELECT a FROM t WHERE b = $1 FOR UPDATE",
            1,
        );
        check(
            &["SELECT a FROM t WHERE b = ? LIMIT ? {skip_locked}"],
            "SELECT a FROM t WHERE b = ? LIMIT ? ",
            "SELECT a FROM t WHERE b = $1 LIMIT $2 FOR UPDATE SKIP LOCKED",
            2,
        );
        check(
            &["SET d = {ms_since:start_time}"],
            "SET d = CAST((julianday(strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) - \
             julianday(start_time)) * 86400000 AS INTEGER)",
            "SET d = (EXTRACT(EPOCH FROM (now() - start_time)) * 1000)::BIGINT",
            0,
        );
        check(
            &["SELECT substr({utc_text:start_time}, 1, 13) WHERE a = ?"],
            "SELECT substr(start_time, 1, 13) WHERE a = ?",
            "SELECT substr(to_char(start_time AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 1, 13) WHERE a = $1",
            1,
        );
        check(
            &["SELECT SUM({json_real:s.metadata,cost}) WHERE a = ?"],
            "SELECT SUM(CAST(json_extract(s.metadata, '$.cost') AS REAL)) WHERE a = ?",
            "SELECT SUM(CAST(s.metadata->>'cost' AS DOUBLE PRECISION)) WHERE a = $1",
            1,
        );
    }

    #[test]
    fn quoted_text_is_copied_as_is() {
        check(
            &["SELECT '?{now}', \"q?\" FROM t WHERE s = 'queued' AND x = ?"],
            "SELECT '?{now}', \"q?\" FROM t WHERE s = 'queued' AND x = ?",
            "SELECT '?{now}', \"q?\" FROM t WHERE s = 'queued' AND x = $1",
            1,
        );
    }

    #[test]
    fn unknown_tokens_are_refused() {
        let refused = std::panic::catch_unwind(|| Dialect::Sqlite.render(&["SELECT {nope}"]));
        assert!(refused.is_err(), "an unknown token rendered");
        let refused = std::panic::catch_unwind(|| Dialect::Postgres.render(&["SELECT {now"]));
        assert!(refused.is_err(), "an unterminated token rendered");
    }
}

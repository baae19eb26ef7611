//! [`Statement`]: one SQL statement written once, rendered for each dialect on first use and
//! kept, so running it never builds SQL text again.

use std::sync::OnceLock;

use super::dialect::{Dialect, Rendered};

/// A statement in the neutral spelling of [`super::dialect`].
///
/// Table modules declare theirs as `static`s; the text each engine runs is rendered the first
/// time the statement runs there and reused for the life of the process (and sqlx keeps one
/// prepared statement per connection for it). [`Statement::dynamic`] makes one for a query
/// assembled at run time, such as a list with optional filters.
#[derive(Debug)]
pub(crate) struct Statement {
    source: Source,
    sqlite: OnceLock<Rendered>,
    postgres: OnceLock<Rendered>,
}

#[derive(Debug)]
enum Source {
    One(&'static str),
    Parts(&'static [&'static str]),
    Owned(String),
    /// Each engine's own text, for the rare operation no token makes one statement of.
    PerEngine {
        sqlite: &'static [&'static str],
        postgres: &'static [&'static str],
    },
}

impl Statement {
    /// A statement of one piece of SQL.
    pub(crate) const fn new(sql: &'static str) -> Self {
        Self::from_source(Source::One(sql))
    }

    /// A statement of several pieces, joined without separators: the way to reuse a column
    /// list constant, `Statement::joined(&["SELECT ", COLUMNS, " FROM t WHERE id = ?"])`.
    pub(crate) const fn joined(parts: &'static [&'static str]) -> Self {
        Self::from_source(Source::Parts(parts))
    }

    /// A statement each engine spells its own way, both taking the same parameters in the
    /// same order (only [`super::retrieval`] needs one).
    pub(crate) const fn per_engine(
        sqlite: &'static [&'static str],
        postgres: &'static [&'static str],
    ) -> Self {
        Self::from_source(Source::PerEngine { sqlite, postgres })
    }

    /// A statement assembled at run time; it is rendered when it runs.
    pub(crate) fn dynamic(sql: String) -> Self {
        Self::from_source(Source::Owned(sql))
    }

    const fn from_source(source: Source) -> Self {
        Self {
            source,
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// The statement as `dialect` spells it.
    pub(crate) fn rendered(&self, dialect: Dialect) -> &Rendered {
        let cell = match dialect {
            Dialect::Sqlite => &self.sqlite,
            Dialect::Postgres => &self.postgres,
        };
        cell.get_or_init(|| match &self.source {
            Source::One(sql) => dialect.render(&[sql]),
            Source::Parts(parts) => dialect.render(parts),
            Source::Owned(sql) => dialect.render(&[sql.as_str()]),
            Source::PerEngine { sqlite, postgres } => dialect.render(match dialect {
                Dialect::Sqlite => sqlite,
                Dialect::Postgres => postgres,
            }),
        })
    }
}

//! Fresh databases for one benchmark step: a SQLite file in the run's temporary directory, or a
//! PostgreSQL database created on the admin DSN (`GOCLAW_BENCH_POSTGRES_DSN`, else
//! `GOCLAW_TEST_POSTGRES_DSN`) and dropped afterwards.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sqlx::{Connection, Executor, PgConnection};

/// Which store a step runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// The PostgreSQL server to create databases on, from the environment.
pub fn postgres_admin_dsn() -> Option<String> {
    ["GOCLAW_BENCH_POSTGRES_DSN", "GOCLAW_TEST_POSTGRES_DSN"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|dsn| !dsn.trim().is_empty())
}

/// One fresh database.
#[derive(Debug)]
pub enum Database {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        admin: String,
        name: String,
        dsn: String,
    },
}

impl Database {
    /// Creates an empty database named after `label` (unique within one bench run).
    pub async fn fresh(
        backend: Backend,
        work: &Path,
        admin: Option<&str>,
        label: &str,
    ) -> Result<Self> {
        match backend {
            Backend::Sqlite => Ok(Self::Sqlite {
                path: work.join(format!("{label}.db")),
            }),
            Backend::Postgres => {
                let admin = admin.context("PostgreSQL needs GOCLAW_BENCH_POSTGRES_DSN")?;
                let name = format!("goclaw_bench_{}_{label}", std::process::id());
                let mut conn = PgConnection::connect(admin)
                    .await
                    .context("connecting to the PostgreSQL admin DSN")?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                    .await
                    .context("dropping a leftover bench database")?;
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .with_context(|| format!("creating database {name}"))?;
                Ok(Self::Postgres {
                    admin: admin.to_owned(),
                    dsn: with_database(admin, &name),
                    name,
                })
            }
        }
    }

    /// The `GOCLAW_*` variables that point the gateway at this database.
    pub fn gateway_env(&self) -> Vec<(String, String)> {
        match self {
            Self::Sqlite { path } => vec![
                ("GOCLAW_STORAGE_BACKEND".into(), "sqlite".into()),
                (
                    "GOCLAW_SQLITE_PATH".into(),
                    path.to_string_lossy().into_owned(),
                ),
            ],
            Self::Postgres { dsn, .. } => vec![
                ("GOCLAW_STORAGE_BACKEND".into(), "postgres".into()),
                ("GOCLAW_POSTGRES_DSN".into(), dsn.clone()),
                ("GOCLAW_AUTO_UPGRADE".into(), "true".into()),
            ],
        }
    }

    /// An sqlx URL for the floor program.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite://{}?mode=rwc", path.display()),
            Self::Postgres { dsn, .. } => dsn.clone(),
        }
    }

    /// Drops a PostgreSQL database (a SQLite file goes with the run's temporary directory).
    pub async fn remove(self) -> Result<()> {
        let Self::Postgres { admin, name, .. } = self else {
            return Ok(());
        };
        let mut conn = PgConnection::connect(&admin).await?;
        conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .with_context(|| format!("dropping database {name}"))?;
        Ok(())
    }
}

/// `dsn` with its database path replaced by `name`, query parameters kept.
fn with_database(dsn: &str, name: &str) -> String {
    let (main, query) = match dsn.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (dsn, None),
    };
    let authority_start = main.find("://").map_or(0, |i| i + 3);
    let base = match main[authority_start..].find('/') {
        Some(slash) => &main[..authority_start + slash],
        None => main,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_replace_the_path() {
        let check = |dsn: &str, expected: &str| assert_eq!(with_database(dsn, "b"), expected);
        check(
            "postgres://postgres@127.0.0.1:54329/postgres",
            "postgres://postgres@127.0.0.1:54329/b",
        );
        check(
            "postgres://u:p@h/db?sslmode=disable",
            "postgres://u:p@h/b?sslmode=disable",
        );
        check("postgres://h:5432", "postgres://h:5432/b");
    }
}

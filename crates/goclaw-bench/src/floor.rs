//! The floor: a minimal program that does only what a chat turn must do — accept
//! `POST /v1/chat/completions`, store the user message, make one streamed loopback call to the
//! fake LLM, store the assistant message, answer — so the gateway's figures can be read as a
//! ratio to what this machine can do at all. It runs as a child process of the bench
//! (`goclaw-bench __floor <database-url> <fake-llm-base-url>`), measured like the gateway.
//!
//! Unlike the gateway, whose SQL lives only in `goclaw-store`, the floor writes its own table
//! (statements in `floor.sql`): it is a reference program outside the gateway's architecture.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool, query};

/// The four statements of `floor.sql`, comments dropped.
fn statements() -> Vec<&'static str> {
    include_str!("floor.sql")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("--"))
        .collect()
}

enum Pool {
    Sqlite(SqlitePool, &'static str),
    Postgres(PgPool, &'static str),
}

struct Floor {
    pool: Pool,
    http: reqwest::Client,
    fake_url: String,
}

/// Runs the floor server on `GOCLAW_PORT` until killed.
pub async fn serve(database_url: &str, fake_base: &str) -> Result<()> {
    let sql = statements();
    let [sqlite_create, sqlite_insert, pg_create, pg_insert] = sql[..] else {
        anyhow::bail!("floor.sql holds four statements");
    };
    // Pool sizes and SQLite pragmas as the gateway's store uses them.
    let pool = if database_url.starts_with("sqlite:") {
        let options: SqliteConnectOptions = database_url
            .parse::<SqliteConnectOptions>()?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .context("opening the floor's SQLite database")?;
        query(sqlite_create).execute(&pool).await?;
        Pool::Sqlite(pool, sqlite_insert)
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(database_url)
            .await
            .context("opening the floor's PostgreSQL database")?;
        query(pg_create).execute(&pool).await?;
        Pool::Postgres(pool, pg_insert)
    };
    let floor = Arc::new(Floor {
        pool,
        http: reqwest::Client::new(),
        fake_url: format!("{fake_base}/messages"),
    });
    let app = Router::new()
        .route("/health", any(|| async { "ok" }))
        .route("/v1/chat/completions", post(turn))
        .with_state(floor);
    let port = std::env::var("GOCLAW_PORT").context("GOCLAW_PORT is set by the bench")?;
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn turn(State(floor): State<Arc<Floor>>, body: axum::Json<Value>) -> Response {
    match answer(&floor, &body).await {
        Ok(reply) => axum::Json(reply).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error:#}")).into_response(),
    }
}

async fn answer(floor: &Floor, request: &Value) -> Result<Value> {
    let session = request["user"].as_str().unwrap_or("anonymous");
    let message = request["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    floor.insert(session, "user", message).await?;
    let upstream = json!({
        "model": "floor",
        "max_tokens": 1024,
        "stream": true,
        "messages": [{"role": "user", "content": message}],
    });
    let events = floor
        .http
        .post(&floor.fake_url)
        .header("x-api-key", "x")
        .header("anthropic-version", "2023-06-01")
        .json(&upstream)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let content = streamed_text(&events);
    floor.insert(session, "assistant", &content).await?;
    Ok(json!({
        "id": "floor",
        "object": "chat.completion",
        "model": "goclaw:default",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }))
}

impl Floor {
    async fn insert(&self, session: &str, role: &str, content: &str) -> Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        match &self.pool {
            Pool::Sqlite(pool, insert) => {
                query(insert)
                    .bind(session)
                    .bind(role)
                    .bind(content)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
            Pool::Postgres(pool, insert) => {
                query(insert)
                    .bind(session)
                    .bind(role)
                    .bind(content)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The text of an Anthropic event stream: every `text_delta`, concatenated.
fn streamed_text(events: &str) -> String {
    events
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| data.contains("text_delta"))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .filter_map(|event| event["delta"]["text"].as_str().map(str::to_owned))
        .collect()
}

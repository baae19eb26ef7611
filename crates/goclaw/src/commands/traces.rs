//! `goclaw traces list|get|follow`: run traces read through the HTTP API of a running gateway
//! (`--server`/`--token` as for `goclaw keys`).

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow};
use goclaw_config::{Environment, LoadedConfig};
use serde_json::Value;

use super::agent::{server_url, token};
use crate::cli::{Cli, TracesCommand};

/// How long one request to the gateway may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often `follow` asks for new traces.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(
    cli: &Cli,
    env: &Environment,
    loaded: &LoadedConfig,
    command: &TracesCommand,
) -> anyhow::Result<ExitCode> {
    let gateway = Gateway {
        base: server_url(cli, env, loaded)
            .trim_end_matches('/')
            .to_owned(),
        token: token(cli, env, loaded),
        http: reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("cannot build the HTTP client")?,
    };
    match command {
        TracesCommand::List {
            agent,
            session,
            limit,
            json,
        } => {
            let mut query = vec![("limit", limit.to_string())];
            if let Some(agent) = agent {
                query.push(("agent_id", agent.clone()));
            }
            if let Some(session) = session {
                query.push(("session_key", session.clone()));
            }
            let body = gateway.get("/v1/traces", &query).await?;
            let traces = body["traces"].as_array().cloned().unwrap_or_default();
            if *json {
                println!("{}", serde_json::to_string_pretty(&traces)?);
            } else if traces.is_empty() {
                println!("No traces.");
            } else {
                print_table(&traces);
            }
        }
        TracesCommand::Get { id, json } => {
            let trace = gateway
                .get(&format!("/v1/traces/{}", id.trim()), &[])
                .await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&trace)?);
            } else {
                print_trace(&trace);
            }
        }
        TracesCommand::Follow => follow(&gateway).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints traces as they appear (and again when a running one ends) until Ctrl-C.
async fn follow(gateway: &Gateway) -> anyhow::Result<()> {
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut first = true;
    loop {
        let body = gateway
            .get("/v1/traces", &[("limit", "50".to_owned())])
            .await?;
        let traces = body["traces"].as_array().cloned().unwrap_or_default();
        let fresh: Vec<Value> = traces
            .into_iter()
            .rev()
            .filter(|t| seen.insert((text(t, "id"), text(t, "status"))))
            .collect();
        if !first {
            for trace in &fresh {
                println!("{}", row(trace).join("  "));
            }
        }
        first = false;
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_INTERVAL) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn text(value: &Value, field: &str) -> String {
    match &value[field] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn row(trace: &Value) -> [String; 7] {
    let duration = match trace["durationMs"].as_i64() {
        Some(ms) => format!("{ms}ms"),
        None => "-".to_owned(),
    };
    let tokens = format!(
        "{}/{}",
        trace["inputTokens"].as_i64().unwrap_or(0),
        trace["outputTokens"].as_i64().unwrap_or(0)
    );
    [
        text(trace, "id"),
        text(trace, "startTime"),
        text(trace, "agentKey"),
        text(trace, "sessionKey"),
        text(trace, "status"),
        duration,
        tokens,
    ]
}

fn print_table(traces: &[Value]) {
    let header = [
        "ID", "STARTED", "AGENT", "SESSION", "STATUS", "DURATION", "TOKENS",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 7]> = traces.iter().map(row).collect();
    let widths: Vec<usize> = (0..7)
        .map(|i| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in [&header].into_iter().chain(&rows) {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

fn print_trace(trace: &Value) {
    println!("id:       {}", text(trace, "id"));
    println!("name:     {}", text(trace, "name"));
    println!("agent:    {}", text(trace, "agentKey"));
    println!("session:  {}", text(trace, "sessionKey"));
    println!("status:   {}", text(trace, "status"));
    println!("duration: {}ms", text(trace, "durationMs"));
    println!(
        "tokens:   in {} / out {} / cache read {} / cache write {}",
        text(trace, "inputTokens"),
        text(trace, "outputTokens"),
        text(trace, "cacheReadTokens"),
        text(trace, "cacheWriteTokens")
    );
    if let Some(error) = trace["error"].as_str() {
        println!("error:    {error}");
    }
    let spans = trace["spans"].as_array().cloned().unwrap_or_default();
    println!("spans:    {}", spans.len());
    for span in &spans {
        let detail = match span["spanType"].as_str() {
            Some("llm_call") => format!(
                "{}/{} in {} out {}",
                text(span, "provider"),
                text(span, "model"),
                text(span, "inputTokens"),
                text(span, "outputTokens")
            ),
            _ => text(span, "toolCallId"),
        };
        println!(
            "  {:<10} {:<30} {:<8} {:>6}ms  {detail}",
            text(span, "spanType"),
            text(span, "name"),
            text(span, "status"),
            text(span, "durationMs"),
        );
    }
}

struct Gateway {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Gateway {
    /// GETs `path` as user `system` and returns the JSON body of a 2xx answer.
    async fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .header("X-GoClaw-User-Id", "system");
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the gateway at {}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["error"]["message"]
                .as_str()
                .unwrap_or("request failed")
                .to_owned();
            return Err(anyhow!("GET {path}: {status}: {message}"));
        }
        Ok(body)
    }
}

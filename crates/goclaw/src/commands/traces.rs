//! `goclaw traces list|get|follow`: run traces read through the HTTP API of a running gateway
//! (`--server`/`--token` as for `goclaw keys`).

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use goclaw_config::{Environment, LoadedConfig};
use serde_json::Value;

use super::client::GatewayClient;
use super::table::print_table;
use crate::cli::{Cli, TracesCommand};

/// How often `follow` asks for new traces.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(
    cli: &Cli,
    env: &Environment,
    loaded: &LoadedConfig,
    command: &TracesCommand,
) -> anyhow::Result<ExitCode> {
    let gateway = GatewayClient::new(cli, env, loaded)?;
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
                print_traces(&traces);
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
async fn follow(gateway: &GatewayClient) -> anyhow::Result<()> {
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

fn print_traces(traces: &[Value]) {
    let rows: Vec<[String; 7]> = traces.iter().map(row).collect();
    print_table(
        [
            "ID", "STARTED", "AGENT", "SESSION", "STATUS", "DURATION", "TOKENS",
        ],
        &rows,
    );
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

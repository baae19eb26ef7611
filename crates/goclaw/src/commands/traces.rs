//! `goclaw traces list|get|follow`: run traces read through the HTTP API of a running gateway
//! (`--server`/`--token` as for `goclaw keys`), in GoClaw's shape: a list is `{traces, …}`,
//! one trace `{trace, spans}`.

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
            let detail = gateway
                .get(&format!("/v1/traces/{}", id.trim()), &[])
                .await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&detail)?);
            } else {
                print_trace(&detail["trace"], &detail["spans"]);
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
    let duration = match trace["duration_ms"].as_i64() {
        Some(ms) => format!("{ms}ms"),
        None => "-".to_owned(),
    };
    let tokens = format!(
        "{}/{}",
        trace["total_input_tokens"].as_i64().unwrap_or(0),
        trace["total_output_tokens"].as_i64().unwrap_or(0)
    );
    [
        text(trace, "id"),
        text(trace, "start_time"),
        text(trace, "agent_key"),
        text(trace, "session_key"),
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

fn print_trace(trace: &Value, spans: &Value) {
    let metadata = &trace["metadata"];
    println!("id:       {}", text(trace, "id"));
    println!("name:     {}", text(trace, "name"));
    println!("agent:    {}", text(trace, "agent_key"));
    println!("session:  {}", text(trace, "session_key"));
    println!("status:   {}", text(trace, "status"));
    println!("duration: {}ms", text(trace, "duration_ms"));
    println!(
        "tokens:   in {} / out {} / cache read {} / cache write {}",
        text(trace, "total_input_tokens"),
        text(trace, "total_output_tokens"),
        text(metadata, "total_cache_read_tokens"),
        text(metadata, "total_cache_creation_tokens")
    );
    if let Some(error) = trace["error"].as_str() {
        println!("error:    {error}");
    }
    let spans = spans.as_array().cloned().unwrap_or_default();
    println!("spans:    {}", spans.len());
    for span in &spans {
        let detail = match span["span_type"].as_str() {
            Some("llm_call") => format!(
                "{}/{} in {} out {}",
                text(span, "provider"),
                text(span, "model"),
                text(span, "input_tokens"),
                text(span, "output_tokens")
            ),
            _ => text(span, "tool_call_id"),
        };
        println!(
            "  {:<10} {:<30} {:<9} {:>6}ms  {detail}",
            text(span, "span_type"),
            text(span, "name"),
            text(span, "status"),
            text(span, "duration_ms"),
        );
    }
}

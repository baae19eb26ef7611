//! `goclaw memory search|reindex`: an agent's memory through the HTTP API of a running gateway
//! (`--server`/`--token` as for `goclaw keys`). `reindex` lists the documents and re-indexes
//! them one request at a time, so a large memory never runs into the request timeout and each
//! document's outcome is printed.

use std::process::ExitCode;

use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Value, json};

use super::client::GatewayClient;
use super::table::print_table;
use crate::cli::{Cli, MemoryCommand};

/// Characters of a snippet shown in the table.
const SNIPPET_CHARS: usize = 80;

pub async fn run(
    cli: &Cli,
    env: &Environment,
    loaded: &LoadedConfig,
    command: &MemoryCommand,
) -> anyhow::Result<ExitCode> {
    let gateway = GatewayClient::new(cli, env, loaded)?;
    match command {
        MemoryCommand::Search {
            query,
            agent,
            user,
            max_results,
            json,
        } => {
            let mut body = json!({ "query": query, "max_results": max_results });
            if let Some(user) = user {
                body["user_id"] = json!(user);
            }
            let path = format!("/v1/agents/{}/memory/search", segment(agent));
            let found = gateway
                .call(reqwest::Method::POST, &path, &[], Some(body))
                .await?;
            let results = found["results"].as_array().cloned().unwrap_or_default();
            if *json {
                println!("{}", serde_json::to_string_pretty(&results)?);
            } else if results.is_empty() {
                println!("Nothing found.");
            } else {
                print_results(&results);
            }
            Ok(ExitCode::SUCCESS)
        }
        MemoryCommand::Reindex { agent, user } => reindex(&gateway, agent, user.as_deref()).await,
    }
}

/// An agent key or id as one path segment.
fn segment(agent: &str) -> String {
    agent.trim().replace('/', "%2F")
}

fn print_results(results: &[Value]) {
    let rows: Vec<[String; 4]> = results
        .iter()
        .map(|r| {
            let snippet: String = r["snippet"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(SNIPPET_CHARS)
                .collect();
            [
                format!("{:.3}", r["score"].as_f64().unwrap_or_default()),
                format!(
                    "{}:{}-{}",
                    r["path"].as_str().unwrap_or_default(),
                    r["start_line"],
                    r["end_line"]
                ),
                r["scope"].as_str().unwrap_or_default().to_owned(),
                snippet,
            ]
        })
        .collect();
    print_table(["SCORE", "WHERE", "SCOPE", "SNIPPET"], &rows);
}

async fn reindex(
    gateway: &GatewayClient,
    agent: &str,
    user: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let agent = segment(agent);
    let query: Vec<(&str, String)> = user
        .map(|u| ("user_id", u.to_owned()))
        .into_iter()
        .collect();
    let listed = gateway
        .get(&format!("/v1/agents/{agent}/memory/documents"), &query)
        .await?;
    let documents = listed.as_array().cloned().unwrap_or_default();
    // A user's listing holds the shared documents too; those are not theirs to re-index.
    let documents: Vec<&Value> = documents
        .iter()
        .filter(|d| user.is_none() || d["user_id"].as_str() == user)
        .collect();
    let mut failed = 0usize;
    for document in &documents {
        let path = document["path"].as_str().unwrap_or_default();
        let mut body = json!({ "path": path });
        if let Some(owner) = document["user_id"].as_str() {
            body["user_id"] = json!(owner);
        }
        let owner = document["user_id"].as_str().unwrap_or("shared");
        match gateway
            .call(
                reqwest::Method::POST,
                &format!("/v1/agents/{agent}/memory/index"),
                &[],
                Some(body),
            )
            .await
        {
            Ok(_) => println!("indexed {path} ({owner})"),
            Err(error) => {
                failed += 1;
                eprintln!("failed {path} ({owner}): {error:#}");
            }
        }
    }
    println!(
        "re-indexed {} of {} documents",
        documents.len() - failed,
        documents.len()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

//! `goclaw pairing approve [CODE] | list | revoke CHANNEL SENDER_ID`: pairing through the
//! WebSocket API of a running gateway (`device.pair.*`), with GoClaw's output. `approve` without
//! a code shows the waiting codes and asks which one (an empty answer cancels).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use chrono::{TimeZone, Utc};
use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Value, json};

use super::rpc::GatewayRpc;
use crate::cli::{Cli, PairingCommand};

/// Who a CLI approval is recorded as, as in GoClaw.
const CLI_APPROVER: &str = "cli-operator";

pub async fn run(
    cli: &Cli,
    env: &Environment,
    loaded: &LoadedConfig,
    command: &PairingCommand,
) -> anyhow::Result<ExitCode> {
    let mut rpc = GatewayRpc::connect(cli, env, loaded).await?;
    match command {
        PairingCommand::List => {
            let listed = rpc.call("device.pair.list", json!({})).await?;
            println!("{}", serde_json::to_string_pretty(&listed)?);
        }
        PairingCommand::Approve { code } => {
            let code = match code {
                Some(code) => code.trim().to_owned(),
                None => match choose(&mut rpc).await? {
                    Some(code) => code,
                    None => return Ok(ExitCode::SUCCESS),
                },
            };
            let params = json!({ "code": code, "approvedBy": CLI_APPROVER });
            let approved = rpc.call("device.pair.approve", params).await?;
            println!("Pairing approved! Code: {code}");
            println!("{}", serde_json::to_string_pretty(&approved)?);
        }
        PairingCommand::Revoke { channel, sender_id } => {
            let params = json!({ "channel": channel, "senderId": sender_id });
            rpc.call("device.pair.revoke", params).await?;
            println!("Revoked pairing for {channel}/{sender_id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows the waiting codes and reads the one to approve from standard input; `None` when none
/// waits or the answer is empty.
async fn choose(rpc: &mut GatewayRpc) -> anyhow::Result<Option<String>> {
    println!("Fetching pending pairings...");
    println!();
    let listed = rpc.call("device.pair.list", json!({})).await?;
    let pending = listed["pending"].as_array().cloned().unwrap_or_default();
    if pending.is_empty() {
        println!("No pending pairing requests.");
        return Ok(None);
    }
    println!("Found {} pending request(s).", pending.len());
    println!();
    for (number, request) in pending.iter().enumerate() {
        println!("  {}. {}", number + 1, describe(request));
    }
    print!("\nCode (or number) to approve, empty to cancel: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    let answer = answer.trim();
    if answer.is_empty() {
        println!("Cancelled.");
        return Ok(None);
    }
    let by_number = answer
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| pending.get(i))
        .and_then(|r| r["code"].as_str());
    Ok(Some(by_number.unwrap_or(answer).to_owned()))
}

/// `[CODE]  channel / sender  (age ago)`.
fn describe(request: &Value) -> String {
    let text = |field: &str| request[field].as_str().unwrap_or_default().to_owned();
    let age = request["created_at"]
        .as_i64()
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .map(|at| (Utc::now() - at).num_seconds().max(0))
        .map_or_else(String::new, |secs| {
            format!("  ({}m{}s ago)", secs / 60, secs % 60)
        });
    format!(
        "[{}]  {} / {}{age}",
        text("code"),
        text("channel"),
        text("sender_id")
    )
}

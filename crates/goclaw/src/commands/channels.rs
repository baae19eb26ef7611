//! `goclaw channels list|add|delete`: the channel instances stored in the database, through
//! the HTTP API of a running gateway (`/v1/channels/instances`), with GoClaw's output. `add`
//! asks for what its flags leave out; credentials are never taken as flags (they would show in
//! the process list): they are asked hidden, or read from standard input when it is piped.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Map, Value, json};

use super::client::GatewayClient;
use super::table::print_table;
use crate::cli::{ChannelAddArgs, ChannelsCommand, Cli};

/// The platforms `add` knows the credentials of.
const TYPES: &[&str] = &["telegram", "discord", "slack"];

pub async fn run(
    cli: &Cli,
    env: &Environment,
    loaded: &LoadedConfig,
    command: &ChannelsCommand,
) -> anyhow::Result<ExitCode> {
    let gateway = GatewayClient::new(cli, env, loaded)?;
    match command {
        ChannelsCommand::List { json } => list(&gateway, *json).await?,
        ChannelsCommand::Add(args) => add(&gateway, args).await?,
        ChannelsCommand::Delete { id, force } => {
            let id = id.trim();
            if !force && !confirm(&format!("Delete channel \"{id}\"?"))? {
                println!("Cancelled.");
                return Ok(ExitCode::SUCCESS);
            }
            let path = format!("/v1/channels/instances/{id}");
            gateway
                .call(reqwest::Method::DELETE, &path, &[], None)
                .await?;
            println!("Channel \"{id}\" deleted.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(gateway: &GatewayClient, as_json: bool) -> anyhow::Result<()> {
    let body = gateway
        .get("/v1/channels/instances", &[("limit", "200".to_owned())])
        .await?;
    let instances = body["instances"].as_array().cloned().unwrap_or_default();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&instances)?);
        return Ok(());
    }
    if instances.is_empty() {
        println!("No channel instances configured.");
        return Ok(());
    }
    let rows: Vec<[String; 5]> = instances
        .iter()
        .map(|instance| {
            let text = |field: &str| instance[field].as_str().unwrap_or_default().to_owned();
            [
                text("id"),
                text("name"),
                text("channel_type"),
                instance["enabled"].as_bool().unwrap_or(false).to_string(),
                text("status"),
            ]
        })
        .collect();
    print_table(["ID", "NAME", "TYPE", "ENABLED", "STATUS"], &rows);
    Ok(())
}

async fn add(gateway: &GatewayClient, args: &ChannelAddArgs) -> anyhow::Result<()> {
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!("── Add Channel Instance ──");
        println!();
    }
    let channel_type = match &args.channel_type {
        Some(kind) => kind.trim().to_lowercase(),
        None if interactive => {
            let items: Vec<String> = TYPES.iter().map(|t| (*t).to_owned()).collect();
            let chosen = dialoguer::Select::new()
                .with_prompt("Channel type")
                .items(&items)
                .default(0)
                .interact()
                .context("no channel type chosen")?;
            TYPES[chosen].to_owned()
        }
        None => bail!("--type is required when standard input is not a terminal"),
    };
    if !TYPES.contains(&channel_type.as_str()) {
        bail!("--type must be one of {}", TYPES.join(", "));
    }
    let name = match &args.name {
        Some(name) => name.trim().to_owned(),
        None if interactive => dialoguer::Input::<String>::new()
            .with_prompt("Instance name")
            .default(format!("{channel_type}-bot"))
            .interact_text()
            .context("no name given")?,
        None => bail!("--name is required when standard input is not a terminal"),
    };
    let agent = match &args.agent {
        Some(agent) => agent.trim().to_owned(),
        None if interactive => choose_agent(gateway).await?,
        None => bail!("--agent is required when standard input is not a terminal"),
    };
    let credentials = read_credentials(&channel_type, interactive)?;
    let mut body = json!({
        "name": name,
        "channel_type": channel_type,
        "agent_id": agent,
        "enabled": true,
        "credentials": credentials,
    });
    if let Some(policy) = &args.dm_policy {
        body["config"] = json!({ "dm_policy": policy.trim() });
    }
    let created = gateway
        .call(
            reqwest::Method::POST,
            "/v1/channels/instances",
            &[],
            Some(body),
        )
        .await?;
    println!();
    println!("Channel \"{name}\" ({channel_type}) created and bound to agent.");
    if let Some(id) = created["id"].as_str() {
        println!("ID: {id}");
    }
    Ok(())
}

/// The credential names of a platform, with how to ask for each.
fn credential_fields(channel_type: &str) -> &'static [(&'static str, &'static str)] {
    match channel_type {
        "slack" => &[
            ("bot_token", "Bot token (xoxb-...)"),
            ("app_token", "App-level token (xapp-...)"),
        ],
        "discord" => &[("token", "Bot token (from the Discord Developer Portal)")],
        _ => &[("token", "Bot token (from @BotFather)")],
    }
}

fn read_credentials(channel_type: &str, interactive: bool) -> anyhow::Result<Map<String, Value>> {
    let mut credentials = Map::new();
    let mut piped = std::io::stdin().lock().lines();
    for (key, prompt) in credential_fields(channel_type) {
        let value = if interactive {
            dialoguer::Password::new()
                .with_prompt(*prompt)
                .interact()
                .context("no credential given")?
        } else {
            piped
                .next()
                .transpose()
                .context("cannot read standard input")?
                .unwrap_or_default()
        };
        let value = value.trim().to_owned();
        if value.is_empty() {
            bail!("{prompt} is required (one per line on standard input)");
        }
        credentials.insert((*key).to_owned(), Value::String(value));
    }
    Ok(credentials)
}

async fn choose_agent(gateway: &GatewayClient) -> anyhow::Result<String> {
    let listed = gateway.get("/v1/agents", &[]).await?;
    let agents = listed
        .as_array()
        .or_else(|| listed["agents"].as_array())
        .cloned()
        .unwrap_or_default();
    let keys: Vec<String> = agents
        .iter()
        .filter_map(|a| a["agent_key"].as_str().map(str::to_owned))
        .collect();
    if keys.is_empty() {
        bail!("no agents found; create an agent first");
    }
    let chosen = dialoguer::Select::new()
        .with_prompt("Bind to agent")
        .items(&keys)
        .default(0)
        .interact()
        .context("no agent chosen")?;
    Ok(keys[chosen].clone())
}

/// Asks yes or no on a terminal; refuses without one (use --force).
fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("standard input is not a terminal: pass --force to delete without asking");
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

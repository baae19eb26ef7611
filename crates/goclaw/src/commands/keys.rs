//! `goclaw keys list|create|revoke`: API key management through the HTTP API of a running
//! gateway. The plaintext of a new key is printed once, by `create`; nothing else ever shows it.

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Value, json};

use super::client::GatewayClient;
use super::table::print_table;
use crate::cli::{Cli, KeyCreateArgs, KeysCommand};

pub async fn run(
    cli: &Cli,
    env: &Environment,
    loaded: &LoadedConfig,
    command: &KeysCommand,
) -> anyhow::Result<ExitCode> {
    let gateway = GatewayClient::new(cli, env, loaded)?;
    match command {
        KeysCommand::List { json } => list(&gateway, *json).await?,
        KeysCommand::Create(args) => create(&gateway, args).await?,
        KeysCommand::Revoke { id } => {
            let path = format!("/v1/api-keys/{}/revoke", id.trim());
            gateway
                .call(reqwest::Method::POST, &path, &[], None)
                .await?;
            println!("API key {} revoked.", id.trim());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(gateway: &GatewayClient, as_json: bool) -> anyhow::Result<()> {
    // A bare array, as GoClaw answers.
    let body = gateway.get("/v1/api-keys", &[]).await?;
    let keys = body.as_array().cloned().unwrap_or_default();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&keys)?);
        return Ok(());
    }
    if keys.is_empty() {
        println!("No API keys.");
        return Ok(());
    }
    let rows: Vec<[String; 6]> = keys.iter().map(row).collect();
    print_table(
        ["ID", "NAME", "PREFIX", "SCOPES", "EXPIRES", "STATUS"],
        &rows,
    );
    Ok(())
}

fn row(key: &Value) -> [String; 6] {
    let text = |field: &str| key[field].as_str().unwrap_or_default().to_owned();
    let scopes: Vec<&str> = key["scopes"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let expires = key["expires_at"].as_str().unwrap_or("never").to_owned();
    let status = if key["revoked"] == true {
        "revoked"
    } else {
        "active"
    };
    [
        text("id"),
        text("name"),
        text("prefix"),
        scopes.join(","),
        expires,
        status.to_owned(),
    ]
}

async fn create(gateway: &GatewayClient, args: &KeyCreateArgs) -> anyhow::Result<()> {
    let mut body = json!({ "name": args.name, "scopes": args.scopes });
    if let Some(raw) = &args.expires_in {
        body["expires_in"] = json!(parse_duration(raw)?);
    }
    if let Some(owner) = &args.owner_id {
        body["owner_id"] = json!(owner);
    }
    let created = gateway
        .call(reqwest::Method::POST, "/v1/api-keys", &[], Some(body))
        .await?;
    let field = |name: &str| created[name].as_str().unwrap_or_default().to_owned();
    let scopes: Vec<&str> = created["scopes"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    println!("id:      {}", field("id"));
    println!("name:    {}", field("name"));
    println!("prefix:  {}", field("prefix"));
    println!("scopes:  {}", scopes.join(","));
    println!(
        "expires: {}",
        created["expires_at"].as_str().unwrap_or("never")
    );
    println!("key:     {}", field("key"));
    println!();
    println!("Store this key now: it is shown only once.");
    Ok(())
}

/// A lifetime given as seconds (`3600`) or with a unit: `90s`, `90m`, `12h`, `30d`.
pub fn parse_duration(raw: &str) -> anyhow::Result<u64> {
    let raw = raw.trim();
    let (digits, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => raw.split_at(at),
        None => (raw, "s"),
    };
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("invalid duration {raw:?}: use seconds or a number with s, m, h or d"),
    };
    let count: u64 = digits.parse().map_err(|_| {
        anyhow!("invalid duration {raw:?}: use seconds or a number with s, m, h or d")
    })?;
    match count.checked_mul(factor) {
        Some(0) => bail!("invalid duration {raw:?}: must be longer than 0"),
        Some(secs) => Ok(secs),
        None => bail!("invalid duration {raw:?}: too long"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Option<u64>) {
        assert_eq!(parse_duration(raw).ok(), expected, "{raw:?}");
    }

    #[test]
    fn durations() {
        check("3600", Some(3600));
        check("90s", Some(90));
        check("90m", Some(5400));
        check("12h", Some(43_200));
        check("30d", Some(2_592_000));
        check(" 1d ", Some(86_400));
        check("0", None);
        check("0d", None);
        check("d", None);
        check("", None);
        check("1w", None);
        check("-5", None);
        check("1.5h", None);
        check("99999999999999999999d", None);
    }
}

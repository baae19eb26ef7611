//! `goclaw cron list [--all] [--json] | delete JOB_ID | toggle JOB_ID true|false`: a running
//! gateway's cron jobs through its WebSocket API (`cron.list`, `cron.delete`, `cron.toggle`).

use std::process::ExitCode;

use chrono::DateTime;
use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Value, json};

use super::rpc::GatewayRpc;
use super::table::print_table;
use crate::cli::{Cli, CronCommand};

pub async fn run(
    cli: &Cli,
    env: &Environment,
    loaded: &LoadedConfig,
    command: &CronCommand,
) -> anyhow::Result<ExitCode> {
    let mut rpc = GatewayRpc::connect(cli, env, loaded).await?;
    match command {
        CronCommand::List { all, json } => {
            let listed = rpc
                .call("cron.list", json!({ "includeDisabled": all }))
                .await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&listed)?);
            } else {
                print_jobs(&listed);
            }
        }
        CronCommand::Delete { job_id } => {
            rpc.call("cron.delete", json!({ "jobId": job_id })).await?;
            println!("Deleted cron job {job_id}");
        }
        CronCommand::Toggle { job_id, enabled } => {
            let enabled = parse_enabled(enabled)?;
            rpc.call(
                "cron.toggle",
                json!({ "jobId": job_id, "enabled": enabled }),
            )
            .await?;
            let word = if enabled { "enabled" } else { "disabled" };
            println!("Cron job {job_id} {word}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `true`/`false` (also `on`/`off`, `enable`/`disable`).
fn parse_enabled(raw: &str) -> anyhow::Result<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "enable" | "enabled" | "1" => Ok(true),
        "false" | "off" | "disable" | "disabled" | "0" => Ok(false),
        other => anyhow::bail!("expected true or false, not {other:?}"),
    }
}

fn print_jobs(listed: &Value) {
    let jobs = listed["jobs"].as_array().cloned().unwrap_or_default();
    if jobs.is_empty() {
        println!("No cron jobs.");
        return;
    }
    let rows: Vec<[String; 6]> = jobs.iter().map(row).collect();
    print_table(
        [
            "ID",
            "NAME",
            "SCHEDULE",
            "ENABLED",
            "NEXT RUN",
            "LAST STATUS",
        ],
        &rows,
    );
}

fn row(job: &Value) -> [String; 6] {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let state = &job["state"];
    [
        text(&job["id"]),
        text(&job["name"]),
        schedule(&job["schedule"]),
        job["enabled"].as_bool().unwrap_or_default().to_string(),
        time(&state["nextRunAtMs"]),
        state["lastStatus"].as_str().unwrap_or("-").to_owned(),
    ]
}

/// `every 60s`, `cron 0 9 * * 1 (Europe/Berlin)`, `at 2030-01-07T09:00:00Z`.
fn schedule(schedule: &Value) -> String {
    match schedule["kind"].as_str() {
        Some("every") => {
            let ms = schedule["everyMs"].as_i64().unwrap_or_default();
            if ms % 1000 == 0 {
                format!("every {}s", ms / 1000)
            } else {
                format!("every {ms}ms")
            }
        }
        Some("cron") => {
            let expr = schedule["expr"].as_str().unwrap_or_default();
            match schedule["tz"].as_str().filter(|tz| !tz.is_empty()) {
                Some(tz) => format!("cron {expr} ({tz})"),
                None => format!("cron {expr}"),
            }
        }
        Some("at") => format!("at {}", time(&schedule["atMs"])),
        _ => "-".to_owned(),
    }
}

fn time(ms: &Value) -> String {
    ms.as_i64()
        .and_then(DateTime::from_timestamp_millis)
        .map_or_else(
            || "-".to_owned(),
            |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_as_text() {
        assert_eq!(
            schedule(&json!({ "kind": "every", "everyMs": 60000 })),
            "every 60s"
        );
        assert_eq!(
            schedule(&json!({ "kind": "every", "everyMs": 1500 })),
            "every 1500ms"
        );
        assert_eq!(
            schedule(&json!({ "kind": "cron", "expr": "0 9 * * 1", "tz": "Europe/Berlin" })),
            "cron 0 9 * * 1 (Europe/Berlin)"
        );
        assert_eq!(
            schedule(&json!({ "kind": "at", "atMs": 1_894_006_800_000_i64 })),
            "at 2030-01-07T09:00:00Z"
        );
    }

    #[test]
    fn toggles_read_as_booleans() {
        assert!(parse_enabled("true").is_ok_and(|b| b));
        assert!(parse_enabled("OFF").is_ok_and(|b| !b));
        assert!(parse_enabled("maybe").is_err());
    }
}

//! The two handlers, speaking GoClaw's protocol. `command`: `sh -c <command>` with the event
//! JSON on stdin and an environment holding only `allowed_env_vars`; exit 2 blocks, exit 0
//! allows unless stdout is JSON with `"continue": false`, any other exit is an error. `http`:
//! the event JSON POSTed to `url` with the configured `headers`, to the address the SSRF check
//! passed (no redirects); a 5xx or a failed connection is tried once more after 1 s, a 4xx is
//! an error, a 2xx body with `"decision": "block"` or `"continue": false` blocks. Ours on top:
//! a block may say why — the stderr of an exit 2, or a `reason` field in the JSON answer.
//! Output is read up to [`super::MAX_HOOK_OUTPUT_BYTES`] and loses the gateway's own secrets.

use std::process::Stdio;
use std::time::Duration;

use goclaw_core::{Decision, HandlerType, Hook};
use goclaw_tools::web::hook_post::{HookPostError, post_hook};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::MAX_HOOK_OUTPUT_BYTES;

/// What one run of a handler produced (GoClaw's `hooks.test` result).
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerOutcome {
    pub decision: Decision,
    pub reason: String,
    pub duration_ms: i64,
    pub stdout: String,
    pub stderr: String,
    pub status_code: u16,
    pub error: String,
}

impl Default for HandlerOutcome {
    fn default() -> Self {
        HandlerOutcome {
            decision: Decision::Allow,
            reason: String::new(),
            duration_ms: 0,
            stdout: String::new(),
            stderr: String::new(),
            status_code: 0,
            error: String::new(),
        }
    }
}

impl HandlerOutcome {
    pub(crate) fn failed(decision: Decision, error: impl Into<String>) -> Self {
        HandlerOutcome {
            decision,
            error: error.into(),
            ..Default::default()
        }
    }
}

pub(crate) async fn run_handler(
    hook: &Hook,
    payload: &Value,
    allow_private: bool,
) -> HandlerOutcome {
    match hook.handler_type {
        HandlerType::Command => run_command(&hook.config, payload).await,
        HandlerType::Http => run_http(&hook.config, payload, allow_private).await,
        other => HandlerOutcome::failed(
            Decision::Error,
            format!("hook: {} handler is not supported", other.as_str()),
        ),
    }
}

/// What a JSON answer (stdout of exit 0, or a 2xx body) decides, and why.
fn answer_decision(body: &str) -> (Decision, String) {
    let Ok(answer) = serde_json::from_str::<Value>(body) else {
        return (Decision::Allow, String::new());
    };
    let reason = answer["reason"].as_str().unwrap_or_default().to_owned();
    if let Some(decision) = answer["decision"].as_str() {
        let decision = if decision == "block" {
            Decision::Block
        } else {
            Decision::Allow
        };
        return (decision, reason);
    }
    if answer["continue"] == Value::Bool(false) {
        return (Decision::Block, reason);
    }
    (Decision::Allow, String::new())
}

fn scrubbed(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    goclaw_tools::known_secrets::known_secrets()
        .scrub(&text)
        .into_owned()
}

async fn read_capped(mut reader: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8192];
    // Read to the end so the process never blocks on a full pipe; keep only the cap.
    while let Ok(n) = reader.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        let room = MAX_HOOK_OUTPUT_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
    }
    kept
}

async fn run_command(config: &Value, payload: &Value) -> HandlerOutcome {
    let Some(command) = config["command"].as_str().filter(|c| !c.trim().is_empty()) else {
        return HandlerOutcome::failed(Decision::Error, "hook: command handler: missing 'command'");
    };
    let mut child = tokio::process::Command::new("sh");
    child
        .arg("-c")
        .arg(command)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for name in config["allowed_env_vars"].as_array().into_iter().flatten() {
        if let Some(value) = name.as_str().and_then(std::env::var_os) {
            child.env(name.as_str().unwrap_or_default(), value);
        }
    }
    let mut child = match child.spawn() {
        Ok(child) => child,
        Err(error) => {
            return HandlerOutcome::failed(Decision::Error, format!("hook: command exec: {error}"));
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input closes the pipe early; that is its business.
        let _ = stdin.write_all(payload.to_string().as_bytes()).await;
    }
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return HandlerOutcome::failed(Decision::Error, "hook: command pipes unavailable");
    };
    let (stdout, stderr, status) =
        tokio::join!(read_capped(stdout), read_capped(stderr), child.wait());
    let (stdout, stderr) = (scrubbed(&stdout), scrubbed(&stderr));
    let code = match status {
        Ok(status) => status.code(),
        Err(error) => {
            return HandlerOutcome::failed(Decision::Error, format!("hook: command wait: {error}"));
        }
    };
    let mut outcome = HandlerOutcome {
        stdout,
        stderr,
        ..Default::default()
    };
    match code {
        Some(0) => {
            let (decision, reason) = answer_decision(&outcome.stdout);
            outcome.decision = decision;
            outcome.reason = reason;
        }
        Some(2) => {
            outcome.decision = Decision::Block;
            outcome.reason = outcome.stderr.trim().to_owned();
        }
        other => {
            outcome.decision = Decision::Error;
            let code = other.map_or_else(|| "by a signal".to_owned(), |c| c.to_string());
            outcome.error = format!("hook: command exited {code}: {}", outcome.stderr.trim());
        }
    }
    outcome
}

async fn run_http(config: &Value, payload: &Value, allow_private: bool) -> HandlerOutcome {
    let Some(url) = config["url"].as_str().filter(|u| !u.is_empty()) else {
        return HandlerOutcome::failed(Decision::Error, "hook: http handler: missing 'url'");
    };
    let body = payload.to_string();
    match post(url, config, &body, allow_private).await {
        Ok(outcome) => outcome,
        Err(Retry::No(outcome)) => outcome,
        Err(Retry::Once) => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match post(url, config, &body, allow_private).await {
                Ok(outcome) | Err(Retry::No(outcome)) => outcome,
                Err(Retry::Once) => HandlerOutcome::failed(
                    Decision::Error,
                    "hook: http handler: the endpoint failed twice",
                ),
            }
        }
    }
}

enum Retry {
    /// A 5xx or a failed connection: worth one more try.
    Once,
    No(HandlerOutcome),
}

async fn post(
    url: &str,
    config: &Value,
    body: &str,
    allow_private: bool,
) -> Result<HandlerOutcome, Retry> {
    let headers: Vec<(String, String)> = config["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
        .collect();
    let response = post_hook(
        url,
        &headers,
        body.to_owned(),
        allow_private,
        MAX_HOOK_OUTPUT_BYTES,
    )
    .await
    .map_err(|error| match error {
        HookPostError::Refused(reason) => Retry::No(HandlerOutcome::failed(
            Decision::Error,
            format!("hook: http handler: ssrf check: {reason}"),
        )),
        HookPostError::Failed => Retry::Once,
    })?;
    let status = response.status;
    if status >= 500 {
        return Err(Retry::Once);
    }
    let mut outcome = HandlerOutcome {
        status_code: status,
        stdout: scrubbed(&response.body),
        ..Default::default()
    };
    if status >= 400 {
        outcome.decision = Decision::Error;
        outcome.error = format!("hook: http handler: client error {status}");
        return Ok(outcome);
    }
    let (decision, reason) = answer_decision(&outcome.stdout);
    outcome.decision = decision;
    outcome.reason = reason;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_decide_as_goclaw_reads_them() {
        let check = |body: &str, decision: Decision, reason: &str| {
            assert_eq!(
                answer_decision(body),
                (decision, reason.to_owned()),
                "{body}"
            );
        };
        check("", Decision::Allow, "");
        check("not json", Decision::Allow, "");
        check(r#"{"continue": true}"#, Decision::Allow, "");
        check(r#"{"continue": false}"#, Decision::Block, "");
        check(
            r#"{"decision": "block", "reason": "no"}"#,
            Decision::Block,
            "no",
        );
        check(
            r#"{"decision": "allow", "continue": false}"#,
            Decision::Allow,
            "",
        );
    }
}

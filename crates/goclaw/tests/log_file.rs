//! `GOCLAW_LOG_FILE`: the gateway, run as the real executable, writes its JSON log lines to the
//! file instead of stdout, with secrets masked, and serves as usual.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

const TOKEN: &str = "log-file-test-token-7c1e9a3b5d";

/// The address from the `gateway listening` line of the log file, once it is there.
fn listening_addr(log: &str) -> Option<String> {
    log.lines().find_map(|line| {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        if value.get("message")?.as_str()? != "gateway listening" {
            return None;
        }
        Some(value.get("addr")?.as_str()?.to_owned())
    })
}

#[tokio::test]
async fn gateway_logs_to_the_file_with_secrets_masked() {
    let home = tempfile::tempdir().expect("tempdir");
    let log_path = home.path().join("logs/goclaw.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_goclaw"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("GOCLAW_CONFIG", home.path().join("config.json"))
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
        .env("GOCLAW_LOG_FILE", &log_path)
        .env("GOCLAW_LOG_LEVEL", "debug")
        .current_dir(home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("goclaw starts");

    let mut addr = None;
    for _ in 0..300 {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(found) = listening_addr(&log) {
            addr = Some(found);
            break;
        }
        assert!(
            child.try_wait().expect("child status").is_none(),
            "the gateway exited early; log:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let addr = addr.expect("the gateway logs `gateway listening` to the file within 15 s");
    let health = reqwest::get(format!("http://{addr}/health"))
        .await
        .expect("GET /health");
    assert_eq!(health.status(), 200);

    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the gateway stops within 30 s")
        .expect("waiting for the gateway");
    assert!(
        output.stdout.is_empty(),
        "stdout is not used when GOCLAW_LOG_FILE is set: {}",
        String::from_utf8_lossy(&output.stdout)
    );

    let log = std::fs::read_to_string(&log_path).expect("the log file exists");
    assert!(log.lines().count() >= 3, "{log}");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
    }
    assert!(
        !log.contains(TOKEN),
        "the gateway token reached the log file"
    );
}

#[tokio::test]
async fn an_unwritable_log_file_is_a_clear_start_up_error() {
    let home = tempfile::tempdir().expect("tempdir");
    let blocker = home.path().join("not-a-dir");
    std::fs::write(&blocker, "file").expect("writing a file where a directory should be");
    let output = Command::new(env!("CARGO_BIN_EXE_goclaw"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("GOCLAW_CONFIG", home.path().join("config.json"))
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_LOG_FILE", blocker.join("goclaw.log"))
        .current_dir(home.path())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("goclaw runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot open the log file") && stderr.contains("GOCLAW_LOG_FILE"),
        "{stderr}"
    );
}

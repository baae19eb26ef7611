//! The dashboard end to end, on both engines: `e2e/dashboard.mjs` drives Debian's Chromium
//! through Playwright against a real gateway whose model is the scripted fake. It signs in
//! with the gateway token, chats (a streamed reply, then an `exec` call approved live from a
//! second tab), creates an API key (shown once, working) and revokes it (refused), opens the
//! run's trace, searches memory, visits every page, signs in as a viewer with her own key (who
//! sees no one else's runs and is refused what she may not do), and checks that the pages asked nothing of
//! any host but the gateway and reported no error (a Content-Security-Policy violation is one).
//!
//! Needs `node`, `e2e/node_modules` (`npm ci --prefix e2e`, which `scripts/test` runs) and
//! `/usr/bin/chromium`; without them the test is skipped, and under `CI=true` it fails.
//! `GOCLAW_E2E_SCREENSHOTS=<folder>` also writes one screenshot per page (SQLite run).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with_config};
use serde_json::json;

const TOKEN: &str = "dashboard-e2e-token-5c1d93";
const CONFIG: &str = r#"{ tools: { execApproval: { security: "full", ask: "always" } } }"#;
const CHROMIUM: &str = "/usr/bin/chromium";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(backend, CONFIG, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e")
}

/// Why the browser test cannot run here, if it cannot.
fn missing() -> Option<String> {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        return Some("node is not installed".into());
    }
    if !e2e_dir().join("node_modules/playwright-core").is_dir() {
        return Some("e2e/node_modules is missing (npm ci --prefix e2e)".into());
    }
    if !Path::new(CHROMIUM).is_file() {
        return Some(format!("{CHROMIUM} is missing (apt-get install chromium)"));
    }
    None
}

app_test!(dashboard_end_to_end, app, |app: TestApp| async move {
    if let Some(reason) = missing() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the dashboard test cannot run under CI: {reason}"
        );
        eprintln!("skipping the dashboard test: {reason}");
        return;
    }
    app.llm
        .push(Reply::text_in_chunks("Hello from the dashboard test.", 4));
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        json!({"command": "echo dashboard-e2e"}),
    ));
    app.llm.push(Reply::text_in_chunks(
        "The command printed dashboard-e2e.",
        3,
    ));
    let seeded = app
        .client
        .put(app.url("/v1/agents/default/memory/documents/MEMORY.md"))
        .bearer_auth(TOKEN)
        .header("X-GoClaw-User-Id", "system")
        .json(&json!({"content": "# Notes\n\nThe owner drinks jasmine tea.\n"}))
        .send()
        .await
        .expect("seeding memory");
    assert_eq!(seeded.status(), 200, "{:?}", seeded.text().await);

    let (_, viewer_key) = app
        .create_api_key(
            TOKEN,
            json!({"name": "vera's key", "scopes": ["operator.read"], "owner_id": "vera"}),
        )
        .await;

    let tenant = app
        .client
        .post(app.url("/v1/tenants"))
        .bearer_auth(TOKEN)
        .header("X-GoClaw-User-Id", "system")
        .json(&json!({"name": "Acme", "slug": "acme"}))
        .send()
        .await
        .expect("creating a tenant");
    assert_eq!(tenant.status(), 201, "{:?}", tenant.text().await);

    let mut command = tokio::process::Command::new("node");
    command
        .arg("dashboard.mjs")
        .current_dir(e2e_dir())
        .env("GOCLAW_E2E_URL", app.url(""))
        .env("GOCLAW_E2E_TOKEN", TOKEN)
        .env("GOCLAW_E2E_VIEWER_KEY", &viewer_key)
        .env("GOCLAW_E2E_TENANT", "acme")
        .env("GOCLAW_E2E_CHROMIUM", CHROMIUM)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let screenshots = std::env::var("GOCLAW_E2E_SCREENSHOTS").ok();
    match screenshots {
        Some(dir) if app.db.backend() == StoreBackend::Sqlite => {
            command.env("GOCLAW_E2E_SCREENSHOTS", dir);
        }
        _ => {
            command.env_remove("GOCLAW_E2E_SCREENSHOTS");
        }
    }
    let run = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .expect("the browser test finished within five minutes")
        .expect("running node");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the dashboard test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
    assert!(
        stdout.contains("\"viewer\""),
        "the viewer's steps ran: {stdout}"
    );
    assert!(
        stdout.contains("\"tenant\""),
        "the tenant's steps ran: {stdout}"
    );
    for secret in [TOKEN, viewer_key.as_str()] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }

    // What the browser did reached the gateway: the approved command ran, the key is revoked.
    let requests = app.llm.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.body.to_string().contains("dashboard-e2e")),
        "the command's output went back to the model"
    );
    let keys: serde_json::Value = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("listing keys")
        .json()
        .await
        .expect("a JSON list");
    let revoked = keys
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["name"] == "e2e key");
    assert_eq!(
        revoked.map(|k| k["revoked"].clone()),
        Some(json!(true)),
        "{keys}"
    );
});

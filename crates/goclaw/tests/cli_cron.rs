//! `goclaw cron list|toggle|delete` against a running gateway process: a job created over
//! WebSocket is listed as a table and as JSON, disabled (then listed only with `--all`),
//! enabled again and deleted; a bad toggle value or an unknown job fails with a clear message.

mod support;

use goclaw_testkit::WsClient;
use serde_json::{Value, json};
use support::{Goclaw, home};

const TOKEN: &str = "cli-cron-token-8b1f";

#[tokio::test]
async fn jobs_are_listed_toggled_and_deleted_through_the_cli() {
    let home = home();
    let server = Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
        .start()
        .await
        .expect("gateway starts");
    let base = server.url("");
    let cli = |args: &[&str]| {
        Goclaw::new(home.path())
            .env("GOCLAW_SERVER", &base)
            .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
            .args(args)
    };
    let mut ws = WsClient::open(&format!("{}/ws", base.replace("http://", "ws://"))).await;
    ws.call_ok("connect", json!({ "token": TOKEN, "user_id": "system" }))
        .await;
    let created = ws
        .call_ok(
            "cron.create",
            json!({
                "name": "nightly report",
                "schedule": { "kind": "cron", "expr": "0 2 * * *", "tz": "Europe/Berlin" },
                "message": "summarize the day",
            }),
        )
        .await;
    let id = created["job"]["id"].as_str().expect("id").to_owned();

    let out = cli(&["cron", "list"]).run().await;
    assert!(out.success, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("ID"), "{}", out.stdout);
    assert!(lines[0].contains("SCHEDULE") && lines[0].contains("NEXT RUN"));
    assert!(
        lines[1].starts_with(&id)
            && lines[1].contains("nightly report")
            && lines[1].contains("cron 0 2 * * * (Europe/Berlin)")
            && lines[1].contains("true"),
        "{}",
        out.stdout
    );

    let out = cli(&["cron", "toggle", &id, "false"]).run().await;
    assert!(out.success, "{out:?}");
    assert_eq!(out.stdout.trim(), format!("Cron job {id} disabled"));
    let out = cli(&["cron", "list"]).run().await;
    assert_eq!(out.stdout.trim(), "No cron jobs.", "{out:?}");
    let out = cli(&["cron", "list", "--all", "--json"]).run().await;
    let listed: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(listed["jobs"][0]["id"], id.as_str());
    assert_eq!(listed["jobs"][0]["enabled"], false);

    let out = cli(&["cron", "toggle", &id, "maybe"]).run().await;
    assert!(!out.success, "{out:?}");
    assert!(out.stderr.contains("expected true or false"), "{out:?}");
    let out = cli(&["cron", "toggle", &id, "true"]).run().await;
    assert_eq!(
        out.stdout.trim(),
        format!("Cron job {id} enabled"),
        "{out:?}"
    );

    let out = cli(&["cron", "delete", &id]).run().await;
    assert!(out.success, "{out:?}");
    assert_eq!(out.stdout.trim(), format!("Deleted cron job {id}"));
    let out = cli(&["cron", "delete", &id]).run().await;
    assert!(!out.success, "{out:?}");
    assert!(out.stderr.contains("cron job not found"), "{out:?}");
    let out = cli(&["cron", "list", "--all"]).run().await;
    assert_eq!(out.stdout.trim(), "No cron jobs.");
}

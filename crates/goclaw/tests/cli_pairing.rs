//! `goclaw pairing list|approve|revoke` against a running gateway process, with GoClaw's
//! output: codes asked for over WebSocket are listed as JSON, approved by code or by choosing
//! one at the prompt (recorded as `cli-operator`), and the sender unpaired again; a wrong code
//! or sender fails with the gateway's message.

mod support;

use goclaw_testkit::WsClient;
use serde_json::{Value, json};
use support::{Goclaw, home};

const TOKEN: &str = "cli-pairing-token-5e2a";

#[tokio::test]
async fn pairings_are_listed_approved_and_revoked_through_the_cli() {
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
    let mut ask = async |sender: &str| {
        let params = json!({ "senderId": sender, "channel": "telegram", "chatId": sender });
        let answer = ws.call_ok("device.pair.request", params).await;
        answer["code"].as_str().expect("code").to_owned()
    };
    let first = ask("4711").await;
    let second = ask("4712").await;

    let out = cli(&["pairing", "list"]).run().await;
    assert!(out.success, "{out:?}");
    let listed: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let codes: Vec<&str> = listed["pending"]
        .as_array()
        .map(|p| p.iter().filter_map(|r| r["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, [second.as_str(), first.as_str()], "{listed}");

    let out = cli(&["pairing", "approve", &first]).run().await;
    assert!(out.success, "{out:?}");
    let (head, json) = out.stdout.split_once('\n').expect("two parts");
    assert_eq!(head, format!("Pairing approved! Code: {first}"));
    let approved: Value = serde_json::from_str(json).expect("JSON");
    assert_eq!(approved["paired"]["sender_id"], "4711");
    assert_eq!(approved["paired"]["paired_by"], "cli-operator");

    // Without a code: the waiting ones are shown and one is chosen by number.
    let out = cli(&["pairing", "approve"]).run_with_stdin("1\n").await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout.contains("Found 1 pending request(s)."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("[{second}]  telegram / 4712")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("Pairing approved! Code: {second}")),
        "{}",
        out.stdout
    );
    let out = cli(&["pairing", "approve"]).run_with_stdin("").await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout.contains("No pending pairing requests."),
        "{}",
        out.stdout
    );

    let out = cli(&["pairing", "approve", "ZZZZ2222"]).run().await;
    assert!(!out.success, "{out:?}");
    assert!(out.stderr.contains("not found"), "{}", out.stderr);

    let out = cli(&["pairing", "revoke", "telegram", "4711"]).run().await;
    assert!(out.success, "{out:?}");
    assert_eq!(out.stdout.trim(), "Revoked pairing for telegram/4711");
    let out = cli(&["pairing", "revoke", "telegram", "4711"]).run().await;
    assert!(!out.success, "{out:?}");
    assert!(
        out.stderr.contains("paired device not found"),
        "{}",
        out.stderr
    );

    let out = cli(&["pairing", "list"]).run().await;
    let listed: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let paired: Vec<&str> = listed["paired"]
        .as_array()
        .map(|p| p.iter().filter_map(|r| r["sender_id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(paired, ["4712"], "{listed}");
}

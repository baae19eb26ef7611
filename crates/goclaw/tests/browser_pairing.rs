//! Browser pairing on both backends, as GoClaw's dashboard goes through it: a browser that
//! connects without a token gets a pairing code and stays signed out (every other method is
//! refused, and it may ask `browser.pairing.status` only about itself); the code shows up for
//! admins; once an admin approves it, connecting again with the `sender_id` signs the browser in
//! as an operator; revoking the pairing closes that connection and the `sender_id` no longer
//! signs in. A wrong token is still refused outright.

use std::time::Duration;

use goclaw_testkit::{StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use serde_json::json;

const TOKEN: &str = "browser-pairing-token-3a9f";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

async fn admin(app: &TestApp) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": TOKEN, "user_id": "ada" }))
        .await;
    ws
}

app_test!(
    a_browser_is_paired_signed_in_and_revoked,
    app,
    |app: TestApp| async move {
        let mut admin = admin(&app).await;
        let mut browser = WsClient::open(&app.ws_url()).await;
        let pending = browser
            .call_ok("connect", json!({ "user_id": "web" }))
            .await;
        assert_eq!(pending["status"], "pending_pairing", "{pending}");
        assert_eq!(pending["protocol"], 3);
        assert_eq!(pending["server"]["name"], "goclaw");
        let code = pending["pairing_code"].as_str().expect("a code").to_owned();
        let sender = pending["sender_id"]
            .as_str()
            .expect("a sender id")
            .to_owned();
        assert_eq!(code.len(), 8);
        assert!(pending.get("role").is_none(), "not signed in: {pending}");

        // Signed out: nothing but its own pairing status.
        for method in ["health", "sessions.list", "chat.send", "device.pair.list"] {
            let refused = browser.call(method, json!({})).await;
            assert_eq!(
                refused["error"]["code"], "UNAUTHORIZED",
                "{method}: {refused}"
            );
        }
        let own = browser
            .call_ok("browser.pairing.status", json!({ "sender_id": sender }))
            .await;
        assert_eq!(own, json!({ "status": "pending" }));
        let other = browser
            .call(
                "browser.pairing.status",
                json!({ "sender_id": "someone-else" }),
            )
            .await;
        assert_eq!(other["error"]["code"], "UNAUTHORIZED", "{other}");

        // Admins see the code and approve it.
        let listed = admin.call_ok("device.pair.list", json!({})).await;
        assert!(
            listed["pending"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["code"] == code.as_str() && p["channel"] == "browser"),
            "{listed}"
        );
        admin
            .call_ok("device.pair.approve", json!({ "code": code }))
            .await;
        let approved = browser
            .call_ok("browser.pairing.status", json!({ "sender_id": sender }))
            .await;
        assert_eq!(approved, json!({ "status": "approved" }));
        let asked = admin
            .call_ok("browser.pairing.status", json!({ "sender_id": sender }))
            .await;
        assert_eq!(asked, json!({ "status": "approved" }));

        // Connecting again with the sender id signs in as an operator.
        let mut signed = WsClient::open(&app.ws_url()).await;
        let connected = signed
            .call_ok("connect", json!({ "user_id": "web", "sender_id": sender }))
            .await;
        assert_eq!(connected["role"], "operator", "{connected}");
        assert_eq!(connected["user_id"], "web");
        signed.call_ok("sessions.list", json!({})).await;
        let refused = signed.call("device.pair.list", json!({})).await;
        assert_eq!(
            refused["error"]["code"], "UNAUTHORIZED",
            "an operator is no admin"
        );

        // Revoking closes it, and the sender id no longer signs in.
        admin
            .call_ok(
                "device.pair.revoke",
                json!({ "senderId": sender, "channel": "browser" }),
            )
            .await;
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            while signed.next_frame().await.is_some() {}
        })
        .await;
        assert!(
            closed.is_ok(),
            "the revoked browser's connection stays open"
        );
        let mut again = WsClient::open(&app.ws_url()).await;
        let answer = again
            .call_ok("connect", json!({ "sender_id": sender }))
            .await;
        assert_eq!(answer["status"], "pending_pairing", "{answer}");
        assert_ne!(
            answer["sender_id"],
            sender.as_str(),
            "a new code, for a new sender"
        );

        // A wrong token is refused, not answered with a code.
        let mut wrong = WsClient::open(&app.ws_url()).await;
        let refused = wrong
            .call("connect", json!({ "token": "not-the-token" }))
            .await;
        assert_eq!(refused["error"]["code"], "UNAUTHORIZED", "{refused}");
        app.stop().await.expect("clean stop");
    }
);

app_test!(waiting_codes_are_capped, app, |app: TestApp| async move {
    let mut codes = Vec::new();
    for _ in 0..3 {
        let mut browser = WsClient::open(&app.ws_url()).await;
        let pending = browser.call_ok("connect", json!({})).await;
        codes.push(pending["pairing_code"].as_str().expect("code").to_owned());
    }
    let mut fourth = WsClient::open(&app.ws_url()).await;
    let refused = fourth.call("connect", json!({})).await;
    assert_eq!(refused["error"]["code"], "RESOURCE_EXHAUSTED", "{refused}");
    let mut admin = admin(&app).await;
    admin
        .call_ok("device.pair.deny", json!({ "code": codes[0] }))
        .await;
    let mut fifth = WsClient::open(&app.ws_url()).await;
    let pending = fifth.call_ok("connect", json!({})).await;
    assert_eq!(pending["status"], "pending_pairing");
    app.stop().await.expect("clean stop");
});

//! Browser pairing on both backends, as GoClaw's dashboard goes through it: a browser that
//! connects without a token gets a pairing code and stays signed out (every other method is
//! refused, and it may ask `browser.pairing.status` only about itself); the code shows up for
//! admins; once an admin approves it, connecting again with the `sender_id` signs the browser in
//! as an operator, and so does an HTTP request carrying it as `X-GoClaw-Sender-Id`; revoking the
//! pairing closes that connection and the `sender_id` no longer signs in anywhere. The sender id
//! is a random UUID; a waiting browser's status questions are rate limited per address. A wrong
//! token is still refused outright.

use std::time::Duration;

use goclaw_testkit::{StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use serde_json::json;

const TOKEN: &str = "browser-pairing-token-3a9f";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

/// The status of `GET path` sent with `X-GoClaw-Sender-Id: sender` and no bearer.
async fn http_as_browser(app: &TestApp, path: &str, sender: &str) -> u16 {
    reqwest::Client::new()
        .get(app.url(path))
        .header("X-GoClaw-Sender-Id", sender)
        .send()
        .await
        .expect("HTTP request")
        .status()
        .as_u16()
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
        let uuid = uuid::Uuid::parse_str(&sender).expect("the sender id is a UUID");
        assert_eq!(
            uuid.get_version_num(),
            4,
            "random, not time-ordered: {sender}"
        );
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
        // Over HTTP too: an operator's route answers, an admin's is forbidden, and an unknown
        // sender id is no credential.
        assert_eq!(http_as_browser(&app, "/v1/agents", &sender).await, 200);
        assert_eq!(http_as_browser(&app, "/v1/api-keys", &sender).await, 403);
        assert_eq!(
            http_as_browser(&app, "/v1/agents", "00000000-0000-4000-8000-000000000000").await,
            401
        );
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
        assert_eq!(http_as_browser(&app, "/v1/agents", &sender).await, 401);
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

app_test!(
    a_waiting_browser_asks_for_its_status_at_a_limited_rate,
    app,
    |app: TestApp| async move {
        let mut browser = WsClient::open(&app.ws_url()).await;
        let pending = browser.call_ok("connect", json!({})).await;
        let sender = pending["sender_id"].as_str().expect("sender id").to_owned();
        // `gateway.rate_limit_rpm` 20 with bursts of 5: ten quick questions meet the limit.
        let mut answers = Vec::new();
        for _ in 0..10 {
            answers.push(
                browser
                    .call("browser.pairing.status", json!({ "sender_id": sender }))
                    .await,
            );
        }
        assert_eq!(
            answers[0]["payload"],
            json!({ "status": "pending" }),
            "{:?}",
            answers[0]
        );
        let limited: Vec<_> = answers
            .iter()
            .filter(|a| a["error"]["code"] == "RESOURCE_EXHAUSTED")
            .collect();
        assert!(!limited.is_empty(), "{answers:?}");
        assert!(
            limited
                .iter()
                .all(|a| a["error"]["message"] == "rate limited")
        );
        app.stop().await.expect("clean stop");
    }
);

//! Revoking or expiring an API key closes the WebSocket connections opened with it at once, with
//! a close frame saying why, on both backends; connections of other keys keep working and keep
//! receiving their events. A revocation this gateway did not see (another replica's) is caught
//! on the connection's next request.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "revocation-test-token-5d1e7b93";

/// An application with a gateway token.
async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

/// How long a test waits for something that should happen at once.
const PROMPTLY: Duration = Duration::from_secs(5);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

app_test!(
    revoking_a_key_closes_its_connections_at_once,
    app,
    |app: TestApp| async move {
        let (alice_id, alice_key) = user_key(&app, "alice", None).await;
        let (carol_id, carol_key) = user_key(&app, "carol", None).await;
        let (_, bob_key) = user_key(&app, "bob", None).await;
        let mut alice = connected(&app, &alice_key).await;
        let mut carol = connected(&app, &carol_key).await;
        let mut bob = WsClient::open(&app.ws_url()).await;
        bob.call_ok("connect", json!({ "token": bob_key })).await;

        // Over HTTP.
        let response = app
            .client
            .post(app.url(&format!("/v1/api-keys/{alice_id}/revoke")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("revoke over HTTP");
        assert_eq!(response.status(), 200);
        assert_closed_with(&mut alice, "api key revoked").await;

        // Over WebSocket, by an admin.
        let mut admin = WsClient::open(&app.ws_url()).await;
        admin
            .call_ok("connect", json!({ "token": TOKEN, "user_id": "system" }))
            .await;
        admin
            .call_ok("api_keys.revoke", json!({ "id": carol_id }))
            .await;
        assert_closed_with(&mut carol, "api key revoked").await;

        // Bob's connection keeps working and keeps receiving his events.
        app.llm.push(Reply::text("hello bob"));
        bob.call_ok("chat.send", json!({ "message": "hi" })).await;
        bob.wait_agent_event("run.completed").await;
        bob.call_ok("health", json!({})).await;
    }
);

app_test!(
    a_connection_is_closed_when_its_key_expires,
    app,
    |app: TestApp| async move {
        let (_, key) = user_key(&app, "dave", Some(2)).await;
        let mut dave = connected(&app, &key).await;
        let started = Instant::now();
        let reason = close_reason(&mut dave, Duration::from_secs(10)).await;
        assert_eq!(reason, "api key expired");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
);

app_test!(
    a_key_revoked_by_another_replica_is_refused_on_the_next_request,
    app,
    |app: TestApp| async move {
        let (id, key) = user_key(&app, "erin", None).await;
        let mut erin = WsClient::open(&app.ws_url()).await;
        erin.call_ok("connect", json!({ "token": key })).await;
        erin.call_ok("agents.list", json!({})).await;
        // Another replica on the same database revokes it: this one learns on the next request.
        let id: goclaw_core::ApiKeyId = id.parse().expect("key id");
        app.db
            .store()
            .api_keys()
            .revoke(id)
            .await
            .expect("revoke in the store");
        let res = erin.call("agents.list", json!({})).await;
        assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");
        let res = erin.call("agents.list", json!({})).await;
        assert_eq!(
            res["error"]["message"], "first request must be 'connect'",
            "{res}"
        );
    }
);

/// A key bound to `user` with operator.read and operator.write, expiring after `expires_in`
/// seconds if given; returns its id and the key.
async fn user_key(app: &TestApp, user: &str, expires_in: Option<i64>) -> (String, String) {
    let mut body = json!({
        "name": format!("{user}'s key"),
        "scopes": ["operator.read", "operator.write"],
        "owner_id": user,
    });
    if let Some(secs) = expires_in {
        body["expires_in"] = json!(secs);
    }
    app.create_api_key(TOKEN, body).await
}

/// A raw WebSocket that sent `connect` with `key` and got its answer.
async fn connected(app: &TestApp, key: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .expect("websocket upgrade");
    let connect =
        json!({ "type": "req", "id": "c", "method": "connect", "params": { "token": key } });
    socket
        .send(Message::Text(connect.to_string().into()))
        .await
        .expect("send connect");
    loop {
        let message = tokio::time::timeout(PROMPTLY, socket.next())
            .await
            .expect("connect answered")
            .expect("socket open")
            .expect("websocket frame");
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(text.as_str()).expect("JSON frame");
            if frame["id"] == "c" {
                assert_eq!(frame["ok"], true, "{frame}");
                return socket;
            }
        }
    }
}

/// Asserts the gateway closes `socket` at once with `reason`, sending nothing else before.
async fn assert_closed_with(socket: &mut Socket, reason: &str) {
    assert_eq!(close_reason(socket, PROMPTLY).await, reason);
    // Nothing follows the close frame.
    let after = tokio::time::timeout(PROMPTLY, socket.next()).await;
    assert!(
        matches!(after, Ok(None | Some(Err(_)))),
        "after close: {after:?}"
    );
}

/// Waits up to `deadline` for the gateway's close frame and returns its reason; any event
/// frame before it fails the test.
async fn close_reason(socket: &mut Socket, deadline: Duration) -> String {
    let until = Instant::now() + deadline;
    loop {
        let message = tokio::time::timeout_at(until, socket.next())
            .await
            .expect("the connection is closed within the deadline");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return frame.reason.to_string(),
            Some(Ok(Message::Text(text))) => panic!("a frame instead of the close: {text}"),
            Some(Ok(_)) => {}
            other => panic!("closed without a close frame: {other:?}"),
        }
    }
}

//! The one way into a turn, over the gateway's protocols on both backends: interactive turns
//! are not held back by the debounce, a consumer that falls behind is told (an HTTP stream ends
//! with an error object, never with `stop`; a WebSocket is closed with the reason), a retried
//! idempotency key returns the first run over HTTP and WebSocket, and another user's session is
//! refused on every entry point.

use std::time::Duration;

use futures_util::StreamExt;
use goclaw_core::{MASTER_TENANT_ID, Role, SessionKey};
use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "turns-test-token-5b1f0c";
/// Longest a test waits for anything.
const DEADLINE: Duration = Duration::from_secs(60);

async fn app_with(backend: StoreBackend, config: &str) -> Option<TestApp> {
    spawn_app_with_config(backend, config, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

/// A debounce window far longer than any test deadline: a turn that waited for it would fail.
async fn slow_debounce(backend: StoreBackend) -> Option<TestApp> {
    app_with(
        backend,
        r#"{ gateway: { rate_limit_rpm: 0, inbound_debounce_ms: 600000 } }"#,
    )
    .await
}

/// Consumers may fall only a few events behind.
async fn small_buffer(backend: StoreBackend) -> Option<TestApp> {
    app_with(
        backend,
        r#"{ gateway: { rate_limit_rpm: 0, event_buffer: 8 } }"#,
    )
    .await
}

async fn default_app(backend: StoreBackend) -> Option<TestApp> {
    app_with(backend, r#"{ gateway: { rate_limit_rpm: 0 } }"#).await
}

async fn connect(app: &TestApp, user_id: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": TOKEN, "user_id": user_id }))
        .await;
    ws
}

fn completion(user: &str, text: &str, stream: bool) -> Value {
    json!({
        "model": "goclaw:default",
        "user": user,
        "stream": stream,
        "messages": [{ "role": "user", "content": text }],
    })
}

app_test!(
    interactive_turns_do_not_wait_for_the_debounce,
    slow_debounce,
    |app: TestApp| async move {
        app.llm.push(Reply::text("over http"));
        let answered = tokio::time::timeout(
            DEADLINE,
            app.client
                .post(app.url("/v1/chat/completions"))
                .bearer_auth(TOKEN)
                .json(&completion("alice", "hi", true))
                .send(),
        )
        .await
        .expect("the HTTP turn is not held back")
        .expect("POST");
        let body = tokio::time::timeout(DEADLINE, answered.text())
            .await
            .expect("the stream ends")
            .expect("body");
        assert!(body.contains("over "), "{body}");
        assert!(body.contains("\"finish_reason\":\"stop\""), "{body}");

        app.llm.push(Reply::text("over ws"));
        let mut ws = connect(&app, "alice").await;
        let reply = tokio::time::timeout(
            DEADLINE,
            ws.call_ok("chat.send", json!({ "message": "hello" })),
        )
        .await
        .expect("the WebSocket turn is not held back");
        assert_eq!(reply["content"], "over ws");
    }
);

/// Sends a streamed completion over a socket with a tiny receive window, reads the response
/// head, stops reading while the answer streams, then reads the rest.
async fn slow_http_stream(app: &TestApp) -> String {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(2048).expect("receive buffer");
    let mut stream = socket.connect(app.addr).await.expect("connect");
    let body = completion("alice", "tell me everything", true).to_string();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = vec![0u8; 512];
    let read = stream.read(&mut head).await.expect("response head");
    let head = String::from_utf8_lossy(&head[..read]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The fake streams the whole answer meanwhile; the gateway cannot write it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut rest = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut rest))
        .await
        .expect("the stream ends")
        .expect("read");
    head + &String::from_utf8_lossy(&rest)
}

app_test!(
    a_slow_http_stream_ends_with_an_error_never_stop,
    small_buffer,
    |app: TestApp| async move {
        app.llm.push(Reply::tokens(20_000));
        let body = slow_http_stream(&app).await;
        assert!(
            !body.contains("\"finish_reason\":\"stop\""),
            "a stream that lost chunks must not end with stop"
        );
        assert!(body.contains("\"error\""), "{}", tail(&body));
        assert!(body.contains("fell behind"), "{}", tail(&body));
        assert!(body.contains("RESOURCE_EXHAUSTED"), "{}", tail(&body));
        assert!(body.contains("[DONE]"), "{}", tail(&body));
        // The run itself finished and stored its whole answer.
        let answer = stored_answer(&app, "agent:default:http:alice").await;
        assert!(answer.ends_with("t19999"), "{}", tail(&answer));
    }
);

/// The answer the session's run stored, once it has: the run may still be streaming from the
/// fake after the HTTP stream ended. Read from the store, as a WebSocket client watching the
/// rest of that run with this small buffer would itself be closed as a slow consumer.
async fn stored_answer(app: &TestApp, key: &str) -> String {
    let store = app.db.store();
    let key = SessionKey::parse(key).expect("session key");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Ok(session) = store.sessions().get(MASTER_TENANT_ID, &key).await {
            let messages = store
                .messages()
                .list(session.id, 0, 10)
                .await
                .expect("messages");
            if let Some(answer) = messages.iter().find(|m| m.role == Role::Assistant) {
                return answer.content.clone();
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no answer stored within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(600);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    &text[start..]
}

app_test!(
    a_slow_websocket_is_told_why_it_is_closed,
    small_buffer,
    |app: TestApp| async move {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(2048).expect("receive buffer");
        let stream = socket.connect(app.addr).await.expect("connect");
        let (mut ws, _) = tokio_tungstenite::client_async(app.ws_url(), stream)
            .await
            .expect("websocket handshake");
        use futures_util::SinkExt;
        let connect = json!({ "type": "req", "id": "1", "method": "connect",
            "params": { "token": TOKEN, "user_id": "alice" } });
        ws.send(Message::text(connect.to_string()))
            .await
            .expect("send");
        let send = json!({ "type": "req", "id": "2", "method": "chat.send",
            "params": { "message": "stream a lot" } });
        ws.send(Message::text(send.to_string()))
            .await
            .expect("send");
        app.llm.push(Reply::tokens(20_000));
        // Not reading while the run streams its events.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut close_reason = None;
        while let Ok(Some(frame)) = tokio::time::timeout(DEADLINE, ws.next()).await {
            match frame {
                Ok(Message::Close(Some(close))) => {
                    close_reason = Some(close.reason.to_string());
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let reason = close_reason.expect("a close frame saying why");
        assert!(reason.starts_with("slow consumer"), "{reason}");
    }
);

app_test!(
    a_retried_http_request_returns_the_first_run,
    default_app,
    |app: TestApp| async move {
        app.llm.push(Reply::text("the one answer"));
        let post = |stream: bool, key: &str| {
            app.client
                .post(app.url("/v1/chat/completions"))
                .bearer_auth(TOKEN)
                .header("Idempotency-Key", key)
                .json(&completion("alice", "only once", stream))
                .send()
        };
        let run_of = |response: &reqwest::Response| {
            response
                .headers()
                .get("x-goclaw-run-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .expect("X-GoClaw-Run-Id")
        };
        let first = post(false, "req-7").await.expect("POST");
        let run = run_of(&first);
        let first: Value = first.json().await.expect("json");
        let again = post(false, "req-7").await.expect("POST");
        assert_eq!(run_of(&again), run, "the same run");
        let again: Value = again.json().await.expect("json");
        let content = &first["choices"][0]["message"]["content"];
        assert_eq!(content, "the one answer");
        assert_eq!(&again["choices"][0]["message"]["content"], content);
        // Streamed, the retry gets the whole answer, then stop.
        let streamed = post(true, "req-7").await.expect("POST");
        assert_eq!(run_of(&streamed), run);
        let streamed = streamed.text().await.expect("body");
        assert!(streamed.contains("the one answer"), "{streamed}");
        assert!(
            streamed.contains("\"finish_reason\":\"stop\""),
            "{streamed}"
        );
        assert_eq!(
            app.llm.request_count(),
            1,
            "one model call for three requests"
        );
        let mut ws = connect(&app, "alice").await;
        let history = ws
            .call_ok(
                "chat.history",
                json!({ "sessionKey": "agent:default:http:alice" }),
            )
            .await;
        assert_eq!(
            history["messages"].as_array().map(Vec::len),
            Some(2),
            "{history}"
        );
        // A malformed key is refused before anything runs.
        let refused = post(false, &"k".repeat(300)).await.expect("POST");
        assert_eq!(refused.status(), 400);
    }
);

app_test!(
    a_retried_chat_send_returns_the_first_run,
    default_app,
    |app: TestApp| async move {
        app.llm.push(Reply::text("answered once"));
        let mut ws = connect(&app, "alice").await;
        let params = json!({ "message": "once", "sessionKey": "agent:default:ws:direct:idem",
            "idempotencyKey": "send-1" });
        let first = ws.call_ok("chat.send", params.clone()).await;
        let again = ws.call_ok("chat.send", params.clone()).await;
        assert_eq!(first["runId"], again["runId"]);
        assert_eq!(again["content"], "answered once");
        // From another connection of the same user too.
        let mut other = connect(&app, "alice").await;
        let third = other.call_ok("chat.send", params).await;
        assert_eq!(third["runId"], first["runId"]);
        assert_eq!(app.llm.request_count(), 1);
        // Bob's identical key is his own request.
        app.llm.push(Reply::text("bob's answer"));
        let mut bob = connect(&app, "bob").await;
        let bobs = bob
            .call_ok(
                "chat.send",
                json!({ "message": "once", "idempotencyKey": "send-1" }),
            )
            .await;
        assert_ne!(bobs["runId"], first["runId"]);
        assert_eq!(bobs["content"], "bob's answer");
    }
);

app_test!(
    another_users_session_is_refused_on_every_entry_point,
    default_app,
    |app: TestApp| async move {
        let (_, alice_key) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "alice", "scopes": ["operator.read", "operator.write"], "owner_id": "alice" }),
            )
            .await;
        let (_, bob_key) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "bob", "scopes": ["operator.read", "operator.write"], "owner_id": "bob" }),
            )
            .await;
        let (_, viewer_key) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "vera", "scopes": ["operator.read"], "owner_id": "vera" }),
            )
            .await;
        let session = "agent:default:ws:direct:alice-private";
        app.llm.push(Reply::text("for alice"));
        let mut alice = WsClient::open(&app.ws_url()).await;
        alice
            .call_ok("connect", json!({ "token": alice_key, "user_id": "alice" }))
            .await;
        alice
            .call_ok(
                "chat.send",
                json!({ "message": "private", "sessionKey": session }),
            )
            .await;
        for (name, token) in [("bob", &bob_key), ("vera", &viewer_key)] {
            let mut ws = WsClient::open(&app.ws_url()).await;
            ws.call_ok("connect", json!({ "token": token, "user_id": name }))
                .await;
            for (method, params) in [
                (
                    "chat.send",
                    json!({ "message": "let me in", "sessionKey": session }),
                ),
                ("chat.history", json!({ "sessionKey": session })),
                ("chat.abort", json!({ "sessionKey": session })),
                (
                    "chat.inject",
                    json!({ "sessionKey": session, "message": "x" }),
                ),
                ("chat.session.status", json!({ "sessionKey": session })),
                ("sessions.preview", json!({ "key": session })),
                ("sessions.patch", json!({ "key": session, "label": "mine" })),
                ("sessions.reset", json!({ "key": session })),
                ("sessions.delete", json!({ "key": session })),
            ] {
                let refused = ws.call(method, params).await;
                assert_eq!(
                    refused["error"]["code"], "UNAUTHORIZED",
                    "{name} {method}: {refused}"
                );
            }
            let status = app
                .client
                .post(app.url("/v1/chat/completions"))
                .bearer_auth(token)
                .header("X-GoClaw-Session-Key", session)
                .json(&completion(name, "let me in", false))
                .send()
                .await
                .expect("POST")
                .status();
            assert_eq!(status, 403, "{name} over HTTP");
        }
        // Nothing reached alice's session, and she still has it.
        let history = alice
            .call_ok("chat.history", json!({ "sessionKey": session }))
            .await;
        assert_eq!(
            history["messages"].as_array().map(Vec::len),
            Some(2),
            "{history}"
        );
        assert_eq!(app.llm.request_count(), 1);
        // The owner (an admin) may use it.
        app.llm.push(Reply::text("admin here"));
        let mut owner = WsClient::open(&app.ws_url()).await;
        owner
            .call_ok("connect", json!({ "token": TOKEN, "user_id": "system" }))
            .await;
        owner
            .call_ok(
                "chat.send",
                json!({ "message": "checking", "sessionKey": session }),
            )
            .await;
    }
);

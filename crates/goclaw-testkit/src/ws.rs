//! A WebSocket protocol v3 client for tests: connect, call methods, and collect events.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for any one frame.
const FRAME_DEADLINE: Duration = Duration::from_secs(30);

/// A connected test client.
pub struct WsClient {
    socket: Socket,
    next_id: u64,
    /// Event frames received while waiting for responses, oldest first.
    pub events: Vec<Value>,
    /// Responses received while waiting for something else, by id.
    responses: Vec<Value>,
}

impl WsClient {
    /// Opens `/ws` at `url` (`ws://127.0.0.1:PORT/ws`) without sending `connect`.
    pub async fn open(url: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("websocket connect to {url}: {e}"));
        Self {
            socket,
            next_id: 0,
            events: Vec::new(),
            responses: Vec::new(),
        }
    }

    /// Sends a raw text frame.
    pub async fn send_raw(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("websocket send");
    }

    /// Sends a request and returns its id without waiting.
    pub async fn request(&mut self, method: &str, params: Value) -> String {
        self.next_id += 1;
        let id = format!("t{}", self.next_id);
        let frame = json!({ "type": "req", "id": id, "method": method, "params": params });
        self.send_raw(&frame.to_string()).await;
        id
    }

    /// Sends a request and waits for its response frame (`{type:"res", ok, payload|error}`).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params).await;
        self.response(&id).await
    }

    /// Like [`WsClient::call`], asserting success and returning the payload.
    pub async fn call_ok(&mut self, method: &str, params: Value) -> Value {
        let res = self.call(method, params).await;
        assert_eq!(res["ok"], true, "{method} failed: {res}");
        res["payload"].clone()
    }

    /// Waits for the response to request `id`, collecting events meanwhile.
    pub async fn response(&mut self, id: &str) -> Value {
        if let Some(pos) = self.responses.iter().position(|r| r["id"] == id) {
            return self.responses.remove(pos);
        }
        loop {
            let frame = self
                .next_frame()
                .await
                .unwrap_or_else(|| panic!("connection closed waiting for {id}"));
            match frame["type"].as_str() {
                Some("res") if frame["id"] == id => return frame,
                Some("res") => self.responses.push(frame),
                _ => self.events.push(frame),
            }
        }
    }

    /// The next frame, or `None` when the connection closed.
    pub async fn next_frame(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(FRAME_DEADLINE, self.socket.next())
                .await
                .expect("a frame within the deadline")?;
            match message {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(text.as_str()).expect("frames are JSON"));
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Waits until an `agent` event of inner type `kind` arrives (or was already collected)
    /// and returns it.
    pub async fn wait_agent_event(&mut self, kind: &str) -> Value {
        loop {
            if let Some(event) = self
                .events
                .iter()
                .find(|e| e["event"] == "agent" && e["payload"]["type"] == kind)
            {
                return event.clone();
            }
            let frame = self
                .next_frame()
                .await
                .unwrap_or_else(|| panic!("closed waiting for {kind}"));
            match frame["type"].as_str() {
                Some("res") => self.responses.push(frame),
                _ => self.events.push(frame),
            }
        }
    }

    /// Reads one more frame into `events` (or the pending responses).
    pub async fn pump(&mut self) {
        let frame = self.next_frame().await.expect("connection open");
        match frame["type"].as_str() {
            Some("res") => self.responses.push(frame),
            _ => self.events.push(frame),
        }
    }

    /// Inner types of the collected `agent` events, in order.
    pub fn agent_event_types(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "agent")
            .filter_map(|e| e["payload"]["type"].as_str().map(str::to_owned))
            .collect()
    }
}

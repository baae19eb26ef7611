//! A connection flood against the real `goclaw` process: thousands of WebSockets are opened
//! and closed; the connections beyond the per-address cap are refused with a single
//! `security.connection_limit` line, `/health` answers throughout, and the process's resident
//! memory returns to within twice its idle size once the sockets are gone.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use support::{Goclaw, home};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// WebSockets the flood holds open at once (the per-address cap).
const FLOOD: usize = 3000;
/// Connections attempted beyond the cap.
const BEYOND: usize = 100;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_returns_near_idle_after_a_flood_and_refusals_are_logged_once() {
    let home = home();
    std::fs::write(
        home.path().join("config.json"),
        format!("{{ gateway: {{ max_connections: 10000, max_connections_per_ip: {FLOOD} }} }}"),
    )
    .expect("write config.json");
    let server = Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .start()
        .await
        .unwrap_or_else(|f| panic!("gateway did not start: {f:?}"));
    let addr = server.addr;
    let pid = server.pid();

    // Idle: after start-up and one request of each kind.
    assert_eq!(health(addr).await, Some(200));
    drop(websocket(addr).await);
    let idle = rss_kib(pid);

    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        flood.push(websocket(addr).await);
    }
    for _ in 0..BEYOND {
        assert!(
            refused(addr).await,
            "a connection beyond the cap was refused"
        );
    }
    let peak = rss_kib(pid);
    // The gateway still serves everyone else, and the established sockets.
    assert_eq!(health_from("127.0.0.2", addr).await, Some(200));
    for socket in flood.iter_mut().step_by(500) {
        call_health(socket).await;
    }

    for mut socket in flood {
        let _ = socket.close(None).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut every = tokio::time::interval(Duration::from_millis(100));
    let after = loop {
        every.tick().await;
        let now = rss_kib(pid);
        if health(addr).await == Some(200) && now <= 2 * idle {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "RSS {now} KiB did not return to within 2x idle ({idle} KiB); peak {peak} KiB"
        );
    };
    eprintln!("RSS idle {idle} KiB, with {FLOOD} websockets {peak} KiB, after {after} KiB");

    let (_, stdout, _) = server.terminate().await;
    let refusals: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("security.connection_limit"))
        .collect();
    assert_eq!(refusals.len(), 1, "one line per burst: {refusals:#?}");
    assert!(
        refusals[0].contains("max_connections_per_ip"),
        "{}",
        refusals[0]
    );
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/<pid>/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// A WebSocket that is connected (`connect` answered).
async fn websocket(addr: SocketAddr) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("websocket upgrade");
    let connect = r#"{"type":"req","id":"c","method":"connect","params":{"user_id":"flood"}}"#;
    socket
        .send(Message::Text(connect.into()))
        .await
        .expect("send connect");
    answer(&mut socket, "c").await;
    socket
}

async fn call_health(socket: &mut Socket) {
    let request = r#"{"type":"req","id":"h","method":"health","params":{}}"#;
    socket
        .send(Message::Text(request.into()))
        .await
        .expect("send health");
    answer(socket, "h").await;
}

async fn answer(socket: &mut Socket, id: &str) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an answer within the deadline")
            .expect("socket open")
            .expect("websocket frame");
        if let Message::Text(text) = message {
            let frame: serde_json::Value = serde_json::from_str(text.as_str()).expect("JSON");
            if frame["id"] == id {
                assert_eq!(frame["ok"], true, "{frame}");
                return;
            }
        }
    }
}

/// `GET /health` on a new connection: its status, or `None` when refused or closed.
async fn health(addr: SocketAddr) -> Option<u16> {
    health_from("127.0.0.1", addr).await
}

/// `GET /health` on a new connection from loopback address `from`.
async fn health_from(from: &str, addr: SocketAddr) -> Option<u16> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(format!("{from}:0").parse().ok()?).ok()?;
    let mut stream = socket.connect(addr).await.ok()?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("/health answers in time")
        .ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1)?.parse().ok()
}

/// Whether a new connection is refused: answered 503 or closed at once.
async fn refused(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return true;
    };
    let mut answer = Vec::new();
    match tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await {
        Err(_) => false,
        Ok(Err(_)) => true,
        Ok(Ok(_)) => answer.is_empty() || answer.starts_with(b"HTTP/1.1 503"),
    }
}

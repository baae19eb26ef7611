//! Connection caps and deadlines over real loopback sockets: a flood beyond the global and
//! per-address caps is refused while established connections and `/health` keep working; a
//! request head sent byte by byte is cut off by the header deadline; an idle keep-alive
//! connection is closed by the idle deadline; a WebSocket that does not `connect` in time is
//! closed however many other frames it sends.
//!
//! Loopback is not exempt from the caps, and every address of 127.0.0.0/8 is a different
//! client, so one test process can play several.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use goclaw_testkit::{StoreBackend, TestApp, spawn_app_with_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// How long a test waits for something that should happen at once.
const PROMPTLY: Duration = Duration::from_secs(5);

async fn app(config: &str) -> TestApp {
    spawn_app_with_config(StoreBackend::Sqlite, config, &[])
        .await
        .expect("SQLite is always available")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_beyond_the_caps_is_refused_and_established_connections_keep_working() {
    let app = app(
        "{ gateway: { max_connections: 200, max_connections_per_ip: 50, \
         header_read_timeout_ms: 30000, idle_timeout_ms: 60000 } }",
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..50 {
        held.push(kept_alive("127.0.0.1", app.addr).await);
    }
    // The per-address cap: more from 127.0.0.1 are refused at once...
    for _ in 0..20 {
        assert_refused(connect_from("127.0.0.1", app.addr).await).await;
    }
    // ...while another client is served, and so are the established connections.
    assert_eq!(fresh_health("127.0.0.9", app.addr).await, Some(200));
    for stream in held.iter_mut() {
        assert_eq!(health_on(stream).await, Some(200));
    }

    // The global cap: three more clients fill it up to 200.
    for from in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        for _ in 0..50 {
            held.push(kept_alive(from, app.addr).await);
        }
    }
    for from in ["127.0.0.5", "127.0.0.6", "127.0.0.7"] {
        assert_refused(connect_from(from, app.addr).await).await;
    }
    for stream in held.iter_mut() {
        assert_eq!(health_on(stream).await, Some(200), "established connection");
    }

    // Once they close, new connections are admitted again.
    drop(held);
    poll_until("the gateway admits new connections", || async {
        fresh_health("127.0.0.5", app.addr).await == Some(200)
            && fresh_health("127.0.0.1", app.addr).await == Some(200)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_sent_byte_by_byte_is_cut_off_by_the_header_deadline() {
    let app = app("{ gateway: { header_read_timeout_ms: 1000, idle_timeout_ms: 60000 } }").await;
    let mut slow = connect_from("127.0.0.1", app.addr).await;
    slow.write_all(b"GET /health HTTP/1.1\r\nhost: gateway\r\n")
        .await
        .expect("start of the head");
    let started = Instant::now();
    let mut drip = tokio::time::interval(Duration::from_millis(100));
    let mut buf = [0u8; 256];
    let closed_after = loop {
        tokio::select! {
            _ = drip.tick() => {
                // One byte of an endless header line; a write error means the gateway closed.
                if slow.write_all(b"x").await.is_err() {
                    break started.elapsed();
                }
            }
            read = slow.read(&mut buf) => {
                if matches!(read, Ok(0) | Err(_)) {
                    break started.elapsed();
                }
            }
        }
        assert!(
            started.elapsed() < PROMPTLY,
            "a slow request head kept its connection open"
        );
    };
    assert!(closed_after < PROMPTLY, "closed after {closed_after:?}");
    // Meanwhile a normal request on the same address works.
    assert_eq!(fresh_health("127.0.0.1", app.addr).await, Some(200));

    // A connection that sends nothing at all is closed by the same deadline.
    let mut silent = connect_from("127.0.0.1", app.addr).await;
    let started = Instant::now();
    assert!(closed_within(&mut silent, PROMPTLY).await, "silent socket");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_by_the_idle_deadline() {
    let app = app("{ gateway: { header_read_timeout_ms: 500, idle_timeout_ms: 2500 } }").await;
    let mut idle = kept_alive("127.0.0.1", app.addr).await;
    let started = Instant::now();
    assert!(closed_within(&mut idle, Duration::from_secs(10)).await);
    let waited = started.elapsed();
    // The idle deadline, not the (shorter) header deadline, governs between requests.
    assert!(
        waited >= Duration::from_millis(2000),
        "closed after {waited:?}, before the idle deadline"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_does_not_connect_in_time_is_closed() {
    let app = app("{ gateway: { ws_connect_timeout_ms: 1000 } }").await;
    let mut connected = app.ws_connect("alice").await;

    // One that sends nothing.
    let (mut silent, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .expect("websocket upgrade");
    assert_eq!(
        close_reason(&mut silent, |_| None).await,
        "connect deadline exceeded"
    );

    // One that keeps sending junk and pings, which would extend a read deadline.
    let (mut junk, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .expect("websocket upgrade");
    let reason = close_reason(&mut junk, |tick| {
        Some(if tick % 2 == 0 {
            Message::Text("{\"type\":\"req\",\"id\":\"1\",\"method\":\"health\"}".into())
        } else {
            Message::Ping(Default::default())
        })
    })
    .await;
    assert_eq!(reason, "connect deadline exceeded");

    // A socket that connected in time stays open past the deadline.
    connected.call_ok("health", serde_json::json!({})).await;
}

/// Sends what `next` gives every 100 ms until the gateway closes the socket; returns the close
/// reason.
async fn close_reason(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next: impl Fn(u32) -> Option<Message>,
) -> String {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut ticks = 0;
    loop {
        assert!(started.elapsed() < PROMPTLY, "the socket is still open");
        tokio::select! {
            _ = tick.tick() => {
                ticks += 1;
                if let Some(message) = next(ticks) {
                    let _ = socket.send(message).await;
                }
            }
            message = socket.next() => match message {
                Some(Ok(Message::Close(Some(frame)))) => return frame.reason.to_string(),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    panic!("closed without a reason")
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// A TCP connection to `addr` from loopback address `from`.
async fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("loopback address"))
        .expect("bind a loopback address");
    socket.connect(addr).await.expect("connect")
}

/// A connection from `from` that served one request and is kept alive.
async fn kept_alive(from: &str, addr: SocketAddr) -> TcpStream {
    let mut stream = connect_from(from, addr).await;
    assert_eq!(
        health_on(&mut stream).await,
        Some(200),
        "admitted from {from}"
    );
    stream
}

/// `GET /health` on a new connection from `from`.
async fn fresh_health(from: &str, addr: SocketAddr) -> Option<u16> {
    let mut stream = connect_from(from, addr).await;
    health_on(&mut stream).await
}

/// `GET /health` on an open connection: the status, or `None` when the gateway closed it.
async fn health_on(stream: &mut TcpStream) -> Option<u16> {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .ok()?;
    let mut response = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let read = tokio::time::timeout(PROMPTLY, stream.read(&mut buf))
            .await
            .expect("an answer within the deadline");
        match read {
            Ok(0) | Err(_) => return None,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && body.len() >= content_length(head)
        {
            return head.split(' ').nth(1)?.parse().ok();
        }
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// Asserts that the gateway refused the connection: a 503 (or nothing) and then closed.
async fn assert_refused(mut stream: TcpStream) {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PROMPTLY, stream.read_to_end(&mut answer))
        .await
        .expect("a refused connection is closed at once");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        read.is_err() || text.is_empty() || text.starts_with("HTTP/1.1 503"),
        "refused with {text:?}"
    );
}

/// Whether the gateway closes `stream` within `deadline` (reading whatever it sends first).
async fn closed_within(stream: &mut TcpStream, deadline: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let until = Instant::now() + deadline;
    loop {
        match tokio::time::timeout_at(until, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Polls `check` until it holds, failing after a deadline.
async fn poll_until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut every = tokio::time::interval(Duration::from_millis(50));
    loop {
        every.tick().await;
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not within the deadline");
    }
}

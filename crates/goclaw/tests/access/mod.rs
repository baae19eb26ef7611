//! The principals of the access matrix (a WebSocket and an HTTP credential each), the two runs
//! that give alice and bob data of their own (each with an exec approval), and the checks that
//! each one's sessions, history and traces stay theirs.

use std::time::{Duration, Instant};

use goclaw_testkit::{Reply, TestApp, WsClient};
use serde_json::{Value, json};

pub const TOKEN: &str = "access-matrix-token-5d20c7e1";

/// How long a connection may wait for an event it is due (pings do not count).
const EVENT_DEADLINE: Duration = Duration::from_secs(15);
/// How long the recorder may take to store a finished run's trace.
const TRACE_DEADLINE: Duration = Duration::from_secs(20);

/// The callers, each connected over WebSocket, and their HTTP bearers.
pub struct Principals {
    pub owner: WsClient,
    pub admin: WsClient,
    pub alice: WsClient,
    pub bob: WsClient,
    pub vera: WsClient,
    pub approver: WsClient,
    pub unbound: WsClient,
    bearers: Vec<(&'static str, String)>,
}

impl Principals {
    /// Creates the keys as the owner and connects everyone, checking the role each gets.
    pub async fn create(app: &TestApp) -> Self {
        let admin = key(app, &["operator.admin"], Some("ada")).await;
        let alice = key(app, &["operator.read", "operator.write"], Some("alice")).await;
        let bob = key(app, &["operator.read", "operator.write"], Some("bob")).await;
        let vera = key(app, &["operator.read"], Some("vera")).await;
        let approver = key(app, &["operator.approvals"], Some("bob")).await;
        let unbound = key(app, &["operator.read", "operator.write"], None).await;
        let bearers = vec![
            ("owner", TOKEN.to_owned()),
            ("admin", admin),
            ("alice", alice),
            ("bob", bob),
            ("vera", vera),
            ("approver", approver),
            ("unbound", unbound),
        ];
        let connect = |name: &'static str, user: &'static str, role: &'static str| {
            let token = bearer(&bearers, name);
            async move {
                let mut ws = WsClient::open(&app.ws_url()).await;
                let hello = ws
                    .call_ok("connect", json!({ "token": token, "user_id": user }))
                    .await;
                assert_eq!(hello["role"], role, "{name}: {hello}");
                ws
            }
        };
        Self {
            owner: connect("owner", "system", "owner").await,
            admin: connect("admin", "", "admin").await,
            alice: connect("alice", "", "operator").await,
            bob: connect("bob", "", "operator").await,
            vera: connect("vera", "", "viewer").await,
            approver: connect("approver", "", "operator").await,
            unbound: connect("unbound", "", "operator").await,
            bearers,
        }
    }

    /// Every WebSocket principal by name.
    pub fn sockets(&mut self) -> [(&'static str, &mut WsClient); 7] {
        [
            ("owner", &mut self.owner),
            ("admin", &mut self.admin),
            ("alice", &mut self.alice),
            ("bob", &mut self.bob),
            ("vera", &mut self.vera),
            ("approver", &mut self.approver),
            ("unbound", &mut self.unbound),
        ]
    }

    /// `method path` as `name` (`anon`: no credentials); a JSON `{}` body for POST and PUT.
    pub async fn http(&self, app: &TestApp, method: &str, path: &str, name: &str) -> (u16, Value) {
        let method = match method {
            "ANY" => "GET",
            other => other,
        };
        let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = app.client.request(verb, app.url(path));
        if name != "anon" {
            request = request.bearer_auth(bearer(&self.bearers, name));
        }
        if matches!(method, "POST" | "PUT") {
            request = request.json(&json!({}));
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Reads every connection up to the `shutdown` event (or its close) and returns what each
    /// was sent, by name.
    pub async fn drain_until_shutdown(mut self) -> Vec<(String, Vec<Value>)> {
        let mut received = Vec::new();
        for (name, ws) in self.sockets() {
            let deadline = Instant::now() + EVENT_DEADLINE;
            while !ws.events.iter().any(|e| e["event"] == "shutdown") {
                let left = deadline.saturating_duration_since(Instant::now());
                let next = tokio::time::timeout(left, ws.next_frame()).await;
                let Some(frame) = next.unwrap_or_else(|_| panic!("{name}: no shutdown event"))
                else {
                    break;
                };
                if frame["type"] == "event" {
                    ws.events.push(frame);
                }
            }
            received.push((name.to_owned(), std::mem::take(&mut ws.events)));
        }
        received
    }
}

fn bearer(bearers: &[(&'static str, String)], name: &str) -> String {
    bearers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b.clone())
        .unwrap_or_else(|| panic!("no credential for {name}"))
}

/// Creates a key as the owner and returns it.
async fn key(app: &TestApp, scopes: &[&str], owner: Option<&str>) -> String {
    let mut body = json!({ "name": "matrix key", "scopes": scopes });
    if let Some(owner) = owner {
        body["owner_id"] = json!(owner);
    }
    app.create_api_key(TOKEN, body).await.1
}

/// Whether a response is the access guard's refusal (role or scope).
pub fn ws_refused(response: &Value) -> bool {
    response["ok"] == false
        && response["error"]["code"] == "UNAUTHORIZED"
        && response["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("permission denied") && m.contains("requires"))
}

/// Whether an HTTP answer is the route guard's refusal: no credentials, or not allowed.
pub fn http_refused(status: u16, body: &Value) -> bool {
    status == 401 || (status == 403 && body.to_string().contains("permission denied"))
}

/// A request path for a route pattern.
pub fn concrete(pattern: &str) -> String {
    pattern
        .replace("{id}", "00000000-0000-7000-8000-000000000000")
        .replace("{docID}", "00000000-0000-7000-8000-000000000001")
        .replace("{callId}", "00000000-0000-7000-8000-000000000002")
        .replace("{teamId}", "00000000-0000-7000-8000-000000000003")
        .replace("{attachmentId}", "00000000-0000-7000-8000-000000000004")
        .replace("{*path}", "index.html")
        .replace("{key}", "embedding.model")
}

/// Waits until `ws` is sent an approval request it was not sent before; returns its id.
pub async fn wait_request(ws: &mut WsClient) -> String {
    wait_new_request(ws, &[]).await
}

async fn wait_new_request(ws: &mut WsClient, known: &[&str]) -> String {
    let deadline = Instant::now() + EVENT_DEADLINE;
    loop {
        let found = ws.events.iter().find_map(|e| {
            let id = e["payload"]["id"].as_str()?;
            (e["event"] == "exec.approval.requested" && !known.contains(&id)).then_some(id)
        });
        if let Some(id) = found {
            return id.to_owned();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let pumped = tokio::time::timeout(left, ws.pump()).await;
        pumped.unwrap_or_else(|_| panic!("no approval request within {EVENT_DEADLINE:?}"));
    }
}

/// What the two runs left: each user's session and exec approval.
pub struct Runs {
    pub alice_session: String,
    pub bob_session: String,
    pub alice_approval: String,
    pub bob_approval: String,
}

impl Runs {
    /// Alice's run asks to exec and the owner approves; then bob's asks and bob's approvals key
    /// approves it.
    pub async fn play(app: &TestApp, who: &mut Principals) -> Self {
        app.llm.push(Reply::tool_call(
            "a1",
            "exec",
            json!({"command": "echo alice"}),
        ));
        app.llm.push(Reply::text("alice done"));
        let asked = who
            .alice
            .request("chat.send", json!({"message": "alice asks"}))
            .await;
        let alice_approval = wait_request(&mut who.admin).await;
        who.owner
            .call_ok("exec.approval.approve", json!({ "id": alice_approval }))
            .await;
        let done = who.alice.response(&asked).await;
        assert_eq!(done["payload"]["content"], "alice done", "{done}");
        let alice_session = session_of(&done);

        app.llm.push(Reply::tool_call(
            "b1",
            "exec",
            json!({"command": "echo bob"}),
        ));
        app.llm.push(Reply::text("bob done"));
        let asked = who
            .bob
            .request("chat.send", json!({"message": "bob asks"}))
            .await;
        let bob_approval = wait_new_request(&mut who.approver, &[&alice_approval]).await;
        let listed = who.approver.call_ok("exec.approval.list", json!({})).await;
        let ids: Vec<&str> = listed["pending"]
            .as_array()
            .map(|p| p.iter().filter_map(|r| r["id"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(ids, [bob_approval.as_str()], "{listed}");
        who.approver
            .call_ok("exec.approval.approve", json!({ "id": bob_approval }))
            .await;
        let done = who.bob.response(&asked).await;
        assert_eq!(done["payload"]["content"], "bob done", "{done}");
        let bob_session = session_of(&done);
        Self {
            alice_session,
            bob_session,
            alice_approval,
            bob_approval,
        }
    }

    /// Whether `frame` is the event `name` of bob's run.
    pub fn of_bob(&self, name: &str, frame: &Value) -> bool {
        frame["event"] == name && self.belongs(frame, "bob", &self.bob_approval)
    }

    /// Whether `frame` is an event of alice's run.
    pub fn of_alice(&self, frame: &Value) -> bool {
        frame["event"] != "shutdown" && self.belongs(frame, "alice", &self.alice_approval)
    }

    pub fn is_alices_approval(&self, frame: &Value) -> bool {
        frame["event"] != "agent"
            && frame["event"] != "shutdown"
            && self.belongs(frame, "alice", &self.alice_approval)
    }

    fn belongs(&self, frame: &Value, user: &str, approval: &str) -> bool {
        match frame["event"].as_str() {
            Some("agent") => frame["payload"]["userId"] == user,
            Some("exec.approval.requested" | "exec.approval.resolved") => {
                frame["payload"]["id"] == approval
            }
            Some("shutdown") => true,
            _ => false,
        }
    }
}

fn session_of(done: &Value) -> String {
    let key = done["payload"]["sessionKey"].as_str();
    key.expect("the reply names its session").to_owned()
}

/// Alice and bob list and read only their own sessions; vera none of theirs; admins all.
pub async fn sessions_stay_with_their_user(who: &mut Principals, runs: &Runs) {
    let keys = |listed: &Value| -> Vec<String> {
        let sessions = listed["sessions"].as_array().cloned().unwrap_or_default();
        sessions
            .iter()
            .filter_map(|s| s["key"].as_str().map(str::to_owned))
            .collect()
    };
    let listed = who.alice.call_ok("sessions.list", json!({})).await;
    assert_eq!(keys(&listed), [runs.alice_session.as_str()], "{listed}");
    let listed = who.bob.call_ok("sessions.list", json!({})).await;
    assert_eq!(keys(&listed), [runs.bob_session.as_str()], "{listed}");
    let listed = who.vera.call_ok("sessions.list", json!({})).await;
    assert_eq!(keys(&listed), Vec::<String>::new(), "{listed}");
    let listed = keys(&who.admin.call_ok("sessions.list", json!({})).await);
    assert!(listed.contains(&runs.alice_session) && listed.contains(&runs.bob_session));

    let own = who
        .alice
        .call_ok("chat.history", json!({ "sessionKey": runs.alice_session }))
        .await;
    assert!(own.to_string().contains("alice asks"), "{own}");
    let theirs = [
        (&mut who.alice, &runs.bob_session),
        (&mut who.bob, &runs.alice_session),
        (&mut who.vera, &runs.bob_session),
    ];
    for (ws, session) in theirs {
        for (method, params) in [
            ("chat.history", json!({ "sessionKey": session })),
            ("sessions.preview", json!({ "key": session })),
        ] {
            let refused = ws.call(method, params).await;
            assert_eq!(refused["ok"], false, "{method} of {session}: {refused}");
            assert!(!refused.to_string().contains(" asks"), "{refused}");
        }
    }
}

/// Each user lists and reads only their own traces; admins the whole tenant.
pub async fn traces_stay_with_their_user(app: &TestApp, who: &Principals, runs: &Runs) {
    let started = Instant::now();
    let (alice_trace, bob_trace) = loop {
        let (_, body) = who.http(app, "GET", "/v1/traces", "owner").await;
        let finished = |user: &str| {
            body["traces"].as_array().and_then(|traces| {
                traces
                    .iter()
                    .find(|t| t["user_id"] == user && t["status"] == "completed")
                    .and_then(|t| t["id"].as_str().map(str::to_owned))
            })
        };
        if let (Some(a), Some(b)) = (finished("alice"), finished("bob")) {
            break (a, b);
        }
        assert!(
            started.elapsed() < TRACE_DEADLINE,
            "no finished traces: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let users = |body: &Value| -> Vec<String> {
        let traces = body["traces"].as_array().cloned().unwrap_or_default();
        let mut users: Vec<String> = traces
            .iter()
            .filter_map(|t| t["user_id"].as_str().map(str::to_owned))
            .collect();
        users.sort();
        users.dedup();
        users
    };
    let bob_session = format!("/v1/traces?session_key={}", runs.bob_session);
    // One line per case: caller, path, expected users of the listed traces.
    let lists: &[(&str, &str, &[&str])] = &[
        ("alice", "/v1/traces", &["alice"]),
        ("alice", "/v1/traces?user_id=bob", &[]),
        ("alice", &bob_session, &[]),
        ("bob", "/v1/traces", &["bob"]),
        ("vera", "/v1/traces", &[]),
        ("vera", "/v1/traces?user_id=alice", &[]),
        ("admin", "/v1/traces?user_id=bob", &["bob"]),
        ("owner", &bob_session, &["bob"]),
    ];
    for (name, path, expected) in lists {
        let (status, body) = who.http(app, "GET", path, name).await;
        assert_eq!(status, 200, "{name} {path}: {body}");
        assert_eq!(users(&body), *expected, "{name} {path}: {body}");
    }
    let (_, body) = who.http(app, "GET", "/v1/traces", "admin").await;
    assert_eq!(users(&body), ["alice", "bob"], "{body}");
    let (_, body) = who.http(app, "GET", "/v1/traces", "unbound").await;
    assert!(
        !users(&body).iter().any(|u| u == "alice" || u == "bob"),
        "{body}"
    );
    let (status, _) = who.http(app, "GET", "/v1/traces", "approver").await;
    assert_eq!(status, 403, "an approvals key reads no traces");

    // One line per case: caller, trace, expected status.
    let gets: &[(&str, &str, u16)] = &[
        ("alice", &alice_trace, 200),
        ("alice", &bob_trace, 404),
        ("bob", &alice_trace, 404),
        ("bob", &bob_trace, 200),
        ("vera", &bob_trace, 404),
        ("unbound", &alice_trace, 404),
        ("admin", &bob_trace, 200),
        ("owner", &alice_trace, 200),
    ];
    for (name, id, expected) in gets {
        let (status, body) = who
            .http(app, "GET", &format!("/v1/traces/{id}"), name)
            .await;
        assert_eq!(status, *expected, "{name} reads trace {id}: {body}");
        let shows_spans = body["spans"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(shows_spans, *expected == 200, "{name} {id}: {body}");
    }
}

//! Several users on one gateway, each with an API key bound to them, on both backends: their
//! runs' `exec` and file tools never reach the host outside the sandbox (the real native
//! sandbox), admins' still do, nobody squats a session another user will be routed to, and a
//! key without an owner is an identity of its own. The gateway's own secrets are gone from its
//! process environment once it has read them.

mod support;

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use serde_json::{Value, json};
use support::{Goclaw, home};

const TOKEN: &str = "multi-user-token-3c9e51d0a7";
/// The goclaw executable, which native sandboxes run as their init.
const GOCLAW: &str = env!("CARGO_BIN_EXE_goclaw");
/// What a user's call is refused with when no sandbox can run it.
const NEEDS_SANDBOX: &str = "exec and file tools run on the host only for the owner and admins";

/// Whether bubblewrap is installed; under `CI=true` its absence fails the test.
fn bwrap_available() -> bool {
    let found = std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "bubblewrap is required under CI=true: run scripts/sandbox.sh"
        );
        eprintln!("skipping: bubblewrap is not installed (scripts/sandbox.sh installs it)");
    }
    found
}

async fn app_with(backend: StoreBackend, config: &str) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        config,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_SANDBOX_INIT", GOCLAW),
        ],
    )
    .await
}

/// The default configuration, with the native backend named so the test never depends on a
/// Docker daemon of the machine, and no chat rate limit (the tests send more than its burst).
async fn app(backend: StoreBackend) -> Option<TestApp> {
    app_with(
        backend,
        r#"{ gateway: { rate_limit_rpm: 0 }, agents: { defaults: { sandbox: { backend: "native" } } } }"#,
    )
    .await
}

/// Creates a key as the owner; `owner` binds it to a user.
async fn key(app: &TestApp, scopes: &[&str], owner: Option<&str>) -> (String, String) {
    let mut body = json!({ "name": "user key", "scopes": scopes });
    if let Some(owner) = owner {
        body["owner_id"] = json!(owner);
    }
    app.create_api_key(TOKEN, body).await
}

async fn connect(app: &TestApp, token: &str, user_id: &str) -> (WsClient, Value) {
    let mut ws = WsClient::open(&app.ws_url()).await;
    let connected = ws
        .call_ok("connect", json!({ "token": token, "user_id": user_id }))
        .await;
    (ws, connected)
}

/// One turn on `ws` in which the model calls `exec` with `command`; returns the tool result
/// as the model saw it.
async fn exec_turn(app: &TestApp, ws: &mut WsClient, command: &str) -> String {
    let before = app.llm.requests().len();
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        json!({ "command": command }),
    ));
    app.llm.push(Reply::text("done"));
    let payload = ws
        .call_ok(
            "chat.send",
            json!({ "agentId": "default", "message": "go" }),
        )
        .await;
    assert_eq!(payload["content"], "done", "{payload}");
    let requests = app.llm.requests();
    assert_eq!(requests.len(), before + 2);
    requests[before + 1].body.to_string()
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("reading the host name")
        .trim()
        .to_owned()
}

/// A shell line that reports what of the host it can see: the host name, the gateway's own
/// process, the data directory (with the SQLite file) and another user's workspace.
fn probe(app: &TestApp) -> String {
    let data = app.data_dir.path().display();
    let gateway = std::process::id();
    format!(
        "echo host=$(hostname); \
         test -e /proc/{gateway}/status && echo gateway=visible || echo gateway=hidden; \
         test -e {data}/workspace && echo data=visible || echo data=hidden; \
         test -e {data}/workspace/default/bob/secret.txt && echo bob=visible || echo bob=hidden"
    )
}

app_test!(
    users_exec_runs_in_the_sandbox_and_admins_on_the_host,
    app,
    |app: TestApp| async move {
        if !bwrap_available() {
            return;
        }
        let bob_dir = app.data_dir.path().join("workspace/default/bob");
        std::fs::create_dir_all(&bob_dir).expect("bob's workspace");
        std::fs::write(bob_dir.join("secret.txt"), "bob's notes").expect("bob's file");

        let (_, alice_key) = key(&app, &["operator.read", "operator.write"], Some("alice")).await;
        let (mut alice, _) = connect(&app, &alice_key, "alice").await;
        let seen = exec_turn(&app, &mut alice, &probe(&app)).await;
        for expected in [
            "host=sandbox",
            "gateway=hidden",
            "data=hidden",
            "bob=hidden",
        ] {
            assert!(seen.contains(expected), "{expected} missing: {seen}");
        }

        // The owner (gateway token) keeps the host, as the sandbox mode `off` says.
        let (mut owner, connected) = connect(&app, TOKEN, "system").await;
        assert_eq!(connected["role"], "owner");
        let seen = exec_turn(&app, &mut owner, &probe(&app)).await;
        let host = format!("host={}\\n", host_name());
        assert!(
            seen.contains(&host) && seen.contains("gateway=visible"),
            "{seen}"
        );
    }
);

/// No backend can run: `sandbox.backend` is `none`.
async fn app_without_sandbox(backend: StoreBackend) -> Option<TestApp> {
    app_with(
        backend,
        r#"{ agents: { defaults: { sandbox: { backend: "none" } } } }"#,
    )
    .await
}

app_test!(
    without_a_sandbox_users_tools_are_refused_never_run_on_the_host,
    app_without_sandbox,
    |app: TestApp| async move {
        let marker = app.data_dir.path().join("workspace/default/alice/ran.txt");
        let (_, alice_key) = key(&app, &["operator.read", "operator.write"], Some("alice")).await;
        let (mut alice, _) = connect(&app, &alice_key, "alice").await;
        let command = format!("mkdir -p $(dirname {0}) && touch {0}", marker.display());
        let seen = exec_turn(&app, &mut alice, &command).await;
        assert!(seen.contains(NEEDS_SANDBOX), "{seen}");
        assert!(!marker.exists(), "the refused command ran on the host");

        let before = app.llm.requests().len();
        app.llm.push(Reply::tool_call(
            "c2",
            "write_file",
            json!({ "path": "x.txt", "content": "x" }),
        ));
        app.llm.push(Reply::text("done"));
        alice
            .call_ok(
                "chat.send",
                json!({ "agentId": "default", "message": "go" }),
            )
            .await;
        let seen = app.llm.requests()[before + 1].body.to_string();
        assert!(seen.contains(NEEDS_SANDBOX), "{seen}");

        // An admin key's runs still use the host.
        let (_, admin_key) = key(&app, &["operator.admin"], Some("ada")).await;
        let (mut admin, _) = connect(&app, &admin_key, "ada").await;
        let seen = exec_turn(&app, &mut admin, "echo admin-ran-here").await;
        assert!(seen.contains("admin-ran-here"), "{seen}");
    }
);

/// The operator opted in to host tools for every user.
async fn app_with_host_for_users(backend: StoreBackend) -> Option<TestApp> {
    app_with(
        backend,
        r#"{ tools: { host_exec_for_users: true }, agents: { defaults: { sandbox: { backend: "none" } } } }"#,
    )
    .await
}

app_test!(
    host_tools_for_users_are_an_explicit_opt_in,
    app_with_host_for_users,
    |app: TestApp| async move {
        let (_, alice_key) = key(&app, &["operator.read", "operator.write"], Some("alice")).await;
        let (mut alice, _) = connect(&app, &alice_key, "alice").await;
        let seen = exec_turn(&app, &mut alice, "echo host=$(hostname)").await;
        assert!(seen.contains(&format!("host={}", host_name())), "{seen}");
    }
);

/// POSTs a chat completion as `bearer`, optionally into `session`.
async fn http_chat(app: &TestApp, bearer: &str, user: &str, session: Option<&str>) -> u16 {
    app.llm.push(Reply::text("hello"));
    let mut request = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(bearer)
        .json(&json!({
            "model": "goclaw:default",
            "user": user,
            "messages": [{ "role": "user", "content": "hi" }],
        }));
    if let Some(session) = session {
        request = request.header("X-GoClaw-Session-Key", session);
    }
    request.send().await.expect("POST").status().as_u16()
}

app_test!(
    nobody_squats_a_session_another_user_will_be_routed_to,
    app,
    |app: TestApp| async move {
        let (_, bob_key) = key(&app, &["operator.read", "operator.write"], Some("bob")).await;
        let (_, frank_key) = key(&app, &["operator.read", "operator.write"], Some("frank")).await;
        let (mut bob, _) = connect(&app, &bob_key, "bob").await;

        // Keys in frank's namespace, or a channel's, cannot be created by bob.
        for squat in [
            "agent:default:http:frank",
            "agent:default:telegram:direct:4242",
            "agent:default:subagent:helper",
        ] {
            let refused = bob
                .call(
                    "chat.send",
                    json!({ "sessionKey": squat, "message": "mine now" }),
                )
                .await;
            assert_eq!(
                refused["error"]["code"], "UNAUTHORIZED",
                "{squat}: {refused}"
            );
            assert_eq!(
                refused["error"]["message"],
                "permission denied: not your session"
            );
            // Over HTTP too: the header names the session.
            assert_eq!(http_chat(&app, &bob_key, "bob", Some(squat)).await, 403);
        }

        // Frank's own derived session is his, and bob cannot read or write it.
        assert_eq!(http_chat(&app, &frank_key, "frank", None).await, 200);
        let history = bob
            .call(
                "chat.history",
                json!({ "sessionKey": "agent:default:http:frank" }),
            )
            .await;
        assert_eq!(history["error"]["code"], "UNAUTHORIZED", "{history}");
        assert_eq!(
            http_chat(&app, &bob_key, "bob", Some("agent:default:http:frank")).await,
            403
        );
        let (mut frank, _) = connect(&app, &frank_key, "frank").await;
        let own = frank
            .call_ok(
                "chat.history",
                json!({ "sessionKey": "agent:default:http:frank" }),
            )
            .await;
        assert_eq!(own["messages"].as_array().map(Vec::len), Some(2), "{own}");

        // Bob's own keys work, and an admin may use anyone's session.
        app.llm.push(Reply::text("ok"));
        bob.call_ok(
            "chat.send",
            json!({ "sessionKey": "agent:default:http:bob", "message": "hi" }),
        )
        .await;
        app.llm.push(Reply::text("ok"));
        let (mut owner, _) = connect(&app, TOKEN, "system").await;
        owner
            .call_ok(
                "chat.send",
                json!({ "sessionKey": "agent:default:http:frank", "message": "admin here" }),
            )
            .await;
    }
);

app_test!(
    a_key_without_an_owner_is_its_own_identity,
    app,
    |app: TestApp| async move {
        let (_, alice_key) = key(&app, &["operator.read", "operator.write"], Some("alice")).await;
        let (mut alice, _) = connect(&app, &alice_key, "alice").await;
        app.llm.push(Reply::text("hello alice"));
        let sent = alice
            .call_ok("chat.send", json!({ "message": "my secret plans" }))
            .await;
        let session = sent["sessionKey"].as_str().expect("session key").to_owned();

        // An unbound key asking to be alice stays itself.
        let (unbound_id, unbound_key) = key(&app, &["operator.read", "operator.write"], None).await;
        let (mut unbound, connected) = connect(&app, &unbound_key, "alice").await;
        assert_eq!(connected["user_id"], format!("apikey-{unbound_id}"));
        let history = unbound
            .call("chat.history", json!({ "sessionKey": session }))
            .await;
        assert_eq!(history["error"]["code"], "UNAUTHORIZED", "{history}");
        let listed = unbound.call_ok("sessions.list", json!({})).await;
        assert_eq!(listed["sessions"], json!([]), "{listed}");

        // A key bound to bob asking to be alice stays bob.
        let (_, bob_key) = key(&app, &["operator.read", "operator.write"], Some("bob")).await;
        let (_, connected) = connect(&app, &bob_key, "alice").await;
        assert_eq!(connected["user_id"], "bob");

        // Only an admin key may act for another user.
        let (_, admin_key) = key(&app, &["operator.admin"], Some("ada")).await;
        let (mut admin, connected) = connect(&app, &admin_key, "alice").await;
        assert_eq!(connected["user_id"], "alice");
        let history = admin
            .call_ok("chat.history", json!({ "sessionKey": session }))
            .await;
        assert!(history.to_string().contains("my secret plans"), "{history}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_secrets_leave_its_process_environment() {
    const ENCRYPTION_KEY: &str = "4b1d2c3e4f5a69788796a5b4c3d2e1f04b1d2c3e4f5a69788796a5b4c3d2e1f0";
    const PROVIDER_KEY: &str = "sk-environ-test-5e6f7a8b9c0d";
    let home = home();
    let server = Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
        .env("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY)
        .env("GOCLAW_OPENAI_API_KEY", PROVIDER_KEY)
        .env("GOCLAW_MARKER", "still-here")
        .args(&["serve"])
        .start()
        .await
        .expect("gateway starts");
    let environ = std::fs::read(format!("/proc/{}/environ", server.pid()))
        .expect("reading the gateway's environ");
    let environ = String::from_utf8_lossy(&environ);
    for secret in [TOKEN, ENCRYPTION_KEY, PROVIDER_KEY, "GOCLAW_GATEWAY_TOKEN"] {
        assert!(
            !environ.contains(secret),
            "{secret} is in /proc/<pid>/environ"
        );
    }
    assert!(environ.contains("GOCLAW_MARKER=still-here"), "{environ}");

    // The values were read before they were removed: the token still opens the API.
    let response = reqwest::Client::new()
        .get(server.url("/v1/agents"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET /v1/agents");
    assert_eq!(response.status(), 200);
    server.terminate().await;
}

//! Hooks end to end over real WebSocket and HTTP, on both engines: a `pre_tool_use` command
//! hook blocks a tool (the model reads the hook's reason, the file is never written, the block
//! is in `hooks.history`); an `http` hook on a loopback fake receives GoClaw's event body, and
//! one that answers too late blocks the prompt as its `on_timeout` says; `hooks.test` answers
//! GoClaw's result shape; `hooks.list` keeps its pinned shape; private addresses are refused
//! when not allowed; and what every caller may see and do: the owner, an admin and two writers
//! and a viewer of the master tenant, and an admin of another tenant, whose hooks never fire
//! for the master tenant's runs. Header values are stored sealed (never in clear, and refused
//! without an encryption key) and still sent; `subagent_start` may refuse a spawn, and
//! `subagent_stop` hears of its end, with the nesting depth counted; a hook that blocks five
//! times in a minute is switched off.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use goclaw_core::{ApiKeyScope, MASTER_TENANT_ID, SecretRef};
use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;

use support::callers::{Admin, Callers};
use support::http::call;

const TOKEN: &str = "hooks-token-8c41d2";
const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const PRIVATE: &str = "{ gateway: { rate_limit_rpm: 0 }, hooks: { allow_private_urls: true } }";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    let env = [
        ("GOCLAW_GATEWAY_TOKEN", TOKEN),
        ("GOCLAW_ENCRYPTION_KEY", KEY),
    ];
    spawn_app_with_config(backend, PRIVATE, &env).await
}

async fn strict_app(backend: StoreBackend) -> Option<TestApp> {
    let env = [
        ("GOCLAW_GATEWAY_TOKEN", TOKEN),
        ("GOCLAW_ENCRYPTION_KEY", KEY),
    ];
    spawn_app_with_config(backend, "{ gateway: { rate_limit_rpm: 0 } }", &env).await
}

async fn keyless_app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(backend, PRIVATE, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

/// A WebSocket connected with `token` (the gateway token or an API key).
async fn ws(app: &TestApp, token: &str) -> WsClient {
    let mut client = WsClient::open(&app.ws_url()).await;
    client
        .call_ok("connect", json!({ "token": token, "user_id": "system" }))
        .await;
    client
}

/// A loopback HTTP endpoint: `/allow` answers allow, `/block` blocks with a reason, `/slow`
/// answers after 3 s. Every request body, and every `Authorization` header, is kept.
struct FakeHookServer {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    authorizations: Arc<Mutex<Vec<String>>>,
}

impl FakeHookServer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake hook server");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let authorizations = Arc::new(Mutex::new(Vec::new()));
        let (kept, seen) = (bodies.clone(), authorizations.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (kept, seen) = (kept.clone(), seen.clone());
                tokio::spawn(async move {
                    let mut raw = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, body) = loop {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        raw.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&raw).to_string();
                        let Some((head, body)) = text.split_once("\r\n\r\n") else {
                            continue;
                        };
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break (head.to_owned(), body.to_owned());
                        }
                    };
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let authorization = head.lines().find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("authorization")
                            .then(|| value.trim().to_owned())
                    });
                    if let Some(value) = authorization {
                        seen.lock().unwrap_or_else(|e| e.into_inner()).push(value);
                    }
                    if let Ok(value) = serde_json::from_str::<Value>(&body) {
                        kept.lock().unwrap_or_else(|e| e.into_inner()).push(value);
                    }
                    let answer = match path.as_str() {
                        "/block" => r#"{"decision":"block","reason":"carol says no"}"#,
                        "/slow" => {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            r#"{"decision":"allow"}"#
                        }
                        _ => r#"{"decision":"allow"}"#,
                    };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        FakeHookServer {
            url,
            bodies,
            authorizations,
        }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn authorizations(&self) -> Vec<String> {
        self.authorizations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The bodies of `event` received within 30 s once there are `count` of them.
    async fn wait_for(&self, event: &str, count: usize) -> Vec<Value> {
        for _ in 0..1200 {
            let seen: Vec<Value> = self
                .bodies()
                .into_iter()
                .filter(|b| b["HookEvent"] == json!(event))
                .collect();
            if seen.len() >= count {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "timed out waiting for {count} {event} events: {:?}",
            self.bodies()
        );
    }
}

async fn chat(app: &TestApp, bearer: &str, message: &str) -> (u16, Value) {
    let body =
        json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": message }] });
    call(
        app,
        bearer,
        None,
        Method::POST,
        "/v1/chat/completions",
        Some(body),
    )
    .await
}

fn http_hook(event: &str, url: &str) -> Value {
    json!({
        "event": event, "handler_type": "http", "scope": "tenant", "name": "watcher",
        "config": { "url": url, "headers": { "Authorization": "Bearer hook-secret-77" } },
        "enabled": true,
    })
}

/// Every file under `dir` named `name`.
fn found(dir: &std::path::Path, name: &str) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let path = entry.path();
            path.file_name().is_some_and(|n| n == name) || (path.is_dir() && found(&path, name))
        })
}

app_test!(
    a_command_hook_blocks_a_tool_and_is_recorded,
    app,
    |app: TestApp| async move {
        let mut owner = ws(&app, TOKEN).await;
        let created = owner
            .call_ok(
                "hooks.create",
                json!({
                    "event": "pre_tool_use", "handler_type": "command", "scope": "tenant",
                    "name": "freeze", "matcher": "^write_file$", "enabled": true,
                    "config": { "command": "cat > /dev/null; echo 'writes are frozen today' >&2; exit 2" },
                }),
            )
            .await;
        let hook_id = created["hookId"].as_str().expect("hookId").to_owned();

        app.llm.push(Reply::tool_call(
            "w1",
            "write_file",
            json!({ "path": "frozen-7f3a.txt", "content": "should never exist" }),
        ));
        app.llm.push(Reply::text("The write was refused."));
        let (status, answer) = chat(&app, TOKEN, "Write the file").await;
        assert_eq!(status, 200, "{answer}");
        let requests = app.llm.requests();
        let seen = requests[1].body.to_string();
        assert!(
            seen.contains("writes are frozen today"),
            "the model reads the reason: {seen}"
        );
        assert!(
            !found(app.data_dir.path(), "frozen-7f3a.txt"),
            "the tool never ran"
        );

        let history = owner
            .call_ok("hooks.history", json!({ "hookId": hook_id }))
            .await;
        let executions = history["executions"].as_array().expect("executions");
        assert_eq!(executions.len(), 1, "{history}");
        let execution = &executions[0];
        assert_eq!(
            (
                &execution["decision"],
                &execution["event"],
                &execution["hook_id"]
            ),
            (&json!("block"), &json!("pre_tool_use"), &json!(hook_id))
        );
        assert_eq!(execution["input_hash"].as_str().map(str::len), Some(64));
        assert_eq!(history["nextCursor"], json!(""));

        // The pinned shape of `hooks.list`: GoClaw's HookConfig, `omitempty` fields left out.
        let list = owner
            .call_ok("hooks.list", json!({ "event": "pre_tool_use" }))
            .await;
        let mut hook = list["hooks"][0].clone();
        for volatile in ["id", "tenant_id", "created_at", "updated_at", "created_by"] {
            assert!(hook.get(volatile).is_some(), "{volatile} in {hook}");
            hook.as_object_mut().expect("object").remove(volatile);
        }
        assert_eq!(
            hook,
            json!({
                "event": "pre_tool_use", "handler_type": "command", "scope": "tenant",
                "name": "freeze", "matcher": "^write_file$", "enabled": true,
                "config": { "command": "cat > /dev/null; echo 'writes are frozen today' >&2; exit 2" },
                "timeout_ms": 5000, "on_timeout": "block", "priority": 0, "version": 1,
                "source": "ui", "metadata": {},
            })
        );
        let other = owner
            .call_ok("hooks.list", json!({ "event": "stop" }))
            .await;
        assert_eq!(other, json!({ "hooks": [] }));
    }
);

app_test!(
    an_http_hook_gets_the_event_and_a_timeout_blocks,
    app,
    |app: TestApp| async move {
        let fake = FakeHookServer::start().await;
        let mut owner = ws(&app, TOKEN).await;
        owner
            .call_ok(
                "hooks.create",
                http_hook("user_prompt_submit", &format!("{}/allow", fake.url)),
            )
            .await;
        app.llm.push(Reply::text("Hello back."));
        let (status, answer) = chat(&app, TOKEN, "hello hooks 41").await;
        assert_eq!(status, 200, "{answer}");
        let bodies = fake.bodies();
        assert_eq!(bodies.len(), 1, "{bodies:?}");
        let event = &bodies[0];
        assert_eq!(
            (&event["HookEvent"], &event["RawInput"], &event["Depth"]),
            (
                &json!("user_prompt_submit"),
                &json!("hello hooks 41"),
                &json!(0)
            )
        );
        for key in [
            "EventID",
            "SessionID",
            "TenantID",
            "AgentID",
            "ToolName",
            "ToolInput",
        ] {
            assert!(event.get(key).is_some(), "{key} in {event}");
        }

        let mut slow = http_hook("user_prompt_submit", &format!("{}/slow", fake.url));
        slow["timeout_ms"] = json!(300);
        let slow_id = owner.call_ok("hooks.create", slow).await["hookId"].clone();
        let asked = app.llm.requests().len();
        let (status, _) = chat(&app, TOKEN, "this one waits").await;
        assert_eq!(status, 502, "on_timeout block ends the run");
        assert_eq!(app.llm.requests().len(), asked, "the model was never asked");
        let history = owner
            .call_ok("hooks.history", json!({ "hookId": slow_id }))
            .await;
        assert_eq!(
            history["executions"][0]["decision"],
            json!("timeout"),
            "{history}"
        );

        owner
            .call_ok("hooks.update", json!({ "hookId": slow_id, "updates": { "on_timeout": "allow", "id": "forged", "source": "builtin" } }))
            .await;
        app.llm.push(Reply::text("Went through."));
        let (status, answer) = chat(&app, TOKEN, "this one goes on").await;
        assert_eq!(status, 200, "on_timeout allow lets the run go on: {answer}");
        let list = owner.call_ok("hooks.list", json!({})).await;
        let updated = list["hooks"]
            .as_array()
            .expect("hooks")
            .iter()
            .find(|h| h["id"] == slow_id)
            .cloned()
            .expect("the slow hook");
        assert_eq!(
            (
                &updated["on_timeout"],
                &updated["source"],
                &updated["version"]
            ),
            (&json!("allow"), &json!("ui"), &json!(2))
        );
        assert_eq!(updated["config"]["headers"]["Authorization"], json!("***"));
    }
);

app_test!(
    hooks_test_answers_goclaws_result_shape,
    app,
    |app: TestApp| async move {
        let fake = FakeHookServer::start().await;
        let mut owner = ws(&app, TOKEN).await;
        let command = json!({
            "event": "pre_tool_use", "handler_type": "command", "scope": "tenant",
            "config": { "command": "cat > /dev/null; echo '{\"continue\":false,\"reason\":\"nope\"}'" },
        });
        let result = owner
            .call_ok(
                "hooks.test",
                json!({ "config": command, "sampleEvent": { "toolName": "exec" } }),
            )
            .await;
        let result = &result["result"];
        assert_eq!(
            (&result["decision"], &result["reason"]),
            (&json!("block"), &json!("nope"))
        );
        assert!(
            result["durationMs"].is_i64() && result["stdout"].is_string(),
            "{result}"
        );

        let http = owner
            .call_ok(
                "hooks.test",
                json!({ "config": http_hook("stop", &format!("{}/block", fake.url)) }),
            )
            .await;
        assert_eq!(
            (
                &http["result"]["decision"],
                &http["result"]["statusCode"],
                &http["result"]["reason"]
            ),
            (&json!("block"), &json!(200), &json!("carol says no"))
        );
        assert_eq!(fake.bodies()[0]["HookEvent"], json!("stop"));
        assert_eq!(
            owner.call_ok("hooks.history", json!({})).await["executions"],
            json!([]),
            "tests are not recorded"
        );

        for handler in ["prompt", "script"] {
            let refused = owner
                .call("hooks.create", json!({ "event": "stop", "handler_type": handler, "scope": "tenant", "config": {} }))
                .await;
            let message = refused["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("not supported"), "{refused}");
        }
        let too_long = owner
            .call("hooks.create", json!({ "event": "stop", "handler_type": "http", "scope": "tenant", "timeout_ms": 10001, "config": { "url": fake.url } }))
            .await;
        assert_eq!(too_long["ok"], json!(false), "{too_long}");
    }
);

app_test!(
    private_addresses_are_refused_unless_allowed,
    strict_app,
    |app: TestApp| async move {
        let mut owner = ws(&app, TOKEN).await;
        for url in [
            "http://127.0.0.1:9/hook",
            "http://169.254.169.254/latest",
            "http://localhost/x",
        ] {
            let refused = owner.call("hooks.create", http_hook("stop", url)).await;
            let message = refused["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("refused"), "{url}: {refused}");
            assert!(!message.contains("hook-secret-77"), "no secret in errors");
        }
        assert_eq!(
            owner.call_ok("hooks.list", json!({})).await,
            json!({ "hooks": [] })
        );
    }
);

fn refused(reply: &Value) -> bool {
    reply["ok"] == json!(false)
}

app_test!(
    roles_and_tenants_see_and_do_what_they_may,
    app,
    |app: TestApp| async move {
        let fake = FakeHookServer::start().await;
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let mut admin = ws(&app, &callers.bearer("admin")).await;
        let mut alice = ws(&app, &callers.bearer("alice")).await;
        let mut vera = ws(&app, &callers.bearer("vera")).await;
        let carol_tenant = app
            .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
            .await;
        let mut carol = ws(&app, &carol_tenant.key).await;

        let hook = http_hook("stop", &format!("{}/allow", fake.url));
        let id = admin.call_ok("hooks.create", hook.clone()).await["hookId"].clone();
        let command = json!({ "event": "stop", "handler_type": "command", "scope": "tenant", "config": { "command": "true" } });
        assert!(
            refused(&admin.call("hooks.create", command.clone()).await),
            "commands are the owner's"
        );
        assert!(refused(
            &admin.call("hooks.test", json!({ "config": command })).await
        ));
        let global = json!({ "event": "stop", "handler_type": "http", "scope": "global", "config": { "url": fake.url } });
        assert!(
            !refused(&admin.call("hooks.create", global.clone()).await),
            "the master tenant's admin may"
        );

        for reader in [&mut alice, &mut vera] {
            let list = reader
                .call_ok("hooks.list", json!({ "scope": "tenant" }))
                .await;
            assert_eq!(list["hooks"][0]["id"], id);
            reader.call_ok("hooks.history", json!({})).await;
            for (method, params) in [
                ("hooks.create", hook.clone()),
                (
                    "hooks.update",
                    json!({ "hookId": id, "updates": { "name": "mine" } }),
                ),
                ("hooks.toggle", json!({ "hookId": id, "enabled": false })),
                ("hooks.delete", json!({ "hookId": id })),
            ] {
                assert!(
                    refused(&reader.call(method, params).await),
                    "{method} is for admins"
                );
            }
        }
        let tested = alice
            .call_ok("hooks.test", json!({ "config": hook.clone() }))
            .await;
        assert_eq!(
            tested["result"]["decision"],
            json!("allow"),
            "operators test hooks"
        );
        assert!(
            refused(
                &vera
                    .call("hooks.test", json!({ "config": hook.clone() }))
                    .await
            ),
            "viewers do not"
        );

        // Another tenant sees none of it, touches none of it, and its hooks stay its own.
        assert_eq!(
            carol.call_ok("hooks.list", json!({})).await,
            json!({ "hooks": [] })
        );
        for (method, params) in [
            (
                "hooks.update",
                json!({ "hookId": id, "updates": { "name": "mine" } }),
            ),
            ("hooks.toggle", json!({ "hookId": id, "enabled": false })),
            ("hooks.delete", json!({ "hookId": id })),
        ] {
            let reply = carol.call(method, params).await;
            assert_eq!(
                reply["error"]["code"],
                json!("NOT_FOUND"),
                "{method}: {reply}"
            );
        }
        assert!(
            refused(&carol.call("hooks.create", global).await),
            "global hooks are the master tenant's"
        );
        carol
            .call_ok(
                "hooks.create",
                http_hook("user_prompt_submit", &format!("{}/block", fake.url)),
            )
            .await;
        app.llm.push(Reply::text("Still here."));
        let (status, answer) = chat(&app, &callers.bearer("alice"), "anyone blocking me?").await;
        assert_eq!(
            status, 200,
            "carol's hook never fires for the master tenant: {answer}"
        );
        assert!(
            fake.bodies()
                .iter()
                .all(|b| b["HookEvent"] != json!("user_prompt_submit"))
        );
        let history = carol.call_ok("hooks.history", json!({})).await;
        assert_eq!(history["executions"], json!([]));

        admin
            .call_ok("hooks.toggle", json!({ "hookId": id, "enabled": false }))
            .await;
        let disabled = admin
            .call_ok("hooks.list", json!({ "enabled": false }))
            .await;
        assert_eq!(disabled["hooks"][0]["id"], id);
        assert_eq!(
            admin.call_ok("hooks.delete", json!({ "hookId": id })).await,
            json!({ "hookId": id })
        );
    }
);

app_test!(
    header_values_are_stored_sealed_and_still_sent,
    app,
    |app: TestApp| async move {
        let fake = FakeHookServer::start().await;
        let mut owner = ws(&app, TOKEN).await;
        let hook = http_hook("user_prompt_submit", &format!("{}/allow", fake.url));
        let id = owner.call_ok("hooks.create", hook).await["hookId"].clone();
        let uuid = id.as_str().and_then(|s| s.parse().ok()).expect("a hook id");

        // The row, read back through the store: the value is nowhere in clear.
        let store = app.db.store();
        let stored = store
            .hooks()
            .get(MASTER_TENANT_ID, uuid)
            .await
            .expect("the row");
        let row = format!("{} {}", stored.config, stored.secrets);
        assert!(!row.contains("hook-secret-77"), "{row}");
        assert!(stored.secrets.starts_with("aes-gcm:"), "{row}");
        assert_eq!(stored.config["headers"], json!({ "Authorization": "***" }));
        let sealed = store.secrets().list_encrypted().await.expect("ciphertexts");
        assert!(
            sealed
                .iter()
                .any(|v| v.secret == SecretRef::HookSecrets { id: uuid }),
            "key rotation sees it: {sealed:?}"
        );

        app.llm.push(Reply::text("Hello back."));
        assert_eq!(chat(&app, TOKEN, "hello sealed hooks").await.0, 200);
        assert_eq!(
            fake.authorizations(),
            vec!["Bearer hook-secret-77".to_owned()]
        );

        // "***" sent back keeps the value; answers keep masking it.
        let url = format!("{}/allow", fake.url);
        let updates = json!({ "name": "renamed", "config": { "url": url, "headers": { "Authorization": "***" } } });
        owner
            .call_ok("hooks.update", json!({ "hookId": id, "updates": updates }))
            .await;
        app.llm.push(Reply::text("Again."));
        assert_eq!(chat(&app, TOKEN, "hello again").await.0, 200);
        assert_eq!(fake.authorizations()[1], "Bearer hook-secret-77");
        let listed = owner.call_ok("hooks.list", json!({})).await.to_string();
        assert!(
            !listed.contains("hook-secret-77") && listed.contains("***"),
            "{listed}"
        );
    }
);

app_test!(
    without_a_key_header_values_are_refused,
    keyless_app,
    |app: TestApp| async move {
        let fake = FakeHookServer::start().await;
        let mut owner = ws(&app, TOKEN).await;
        let refused = owner
            .call("hooks.create", http_hook("stop", &fake.url))
            .await;
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("GOCLAW_ENCRYPTION_KEY"), "{refused}");
        assert!(!refused.to_string().contains("hook-secret-77"), "{refused}");
        assert_eq!(refused["error"]["code"], json!("INVALID_REQUEST"));
        let bare = json!({ "event": "stop", "handler_type": "http", "scope": "tenant", "config": { "url": fake.url } });
        owner.call_ok("hooks.create", bare).await;
    }
);

app_test!(
    subagent_hooks_refuse_a_spawn_and_hear_the_end,
    app,
    |app: TestApp| async move {
        let fake = FakeHookServer::start().await;
        let mut owner = ws(&app, TOKEN).await;
        let block = http_hook("subagent_start", &format!("{}/block", fake.url));
        let block_id = owner.call_ok("hooks.create", block).await["hookId"].clone();

        app.llm.push(Reply::tool_call(
            "s1",
            "spawn",
            json!({ "task": "Count the widgets", "label": "alpha" }),
        ));
        app.llm.push(Reply::text("The helper was refused."));
        let (status, answer) = chat(&app, TOKEN, "get a helper").await;
        assert_eq!(status, 200, "{answer}");
        let seen = app.llm.requests()[1].body.to_string();
        assert!(
            seen.contains("Hook blocked this subagent: carol says no"),
            "the model reads the reason: {seen}"
        );
        let start = &fake.wait_for("subagent_start", 1).await[0];
        assert_eq!(start["Depth"], json!(0), "{start}");
        assert!(start["SessionID"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(
            !app.llm
                .requests()
                .iter()
                .any(|r| r.body.to_string().contains("labelled alpha,"))
        );

        owner
            .call_ok(
                "hooks.toggle",
                json!({ "hookId": block_id, "enabled": false }),
            )
            .await;
        for event in ["subagent_start", "subagent_stop", "user_prompt_submit"] {
            let hook = http_hook(event, &format!("{}/allow", fake.url));
            owner.call_ok("hooks.create", hook).await;
        }
        app.llm
            .route("labelled beta,", Reply::text("BETA-RESULT: 7 gadgets"));
        app.llm.push(Reply::tool_call(
            "s2",
            "spawn",
            json!({ "task": "Count the gadgets", "label": "beta" }),
        ));
        app.llm.push(Reply::text("A helper is on it."));
        app.llm.set_default(Reply::text("7 gadgets"));
        let (status, answer) = chat(&app, TOKEN, "get another helper").await;
        assert_eq!(status, 200, "{answer}");
        let stop = &fake.wait_for("subagent_stop", 1).await[0];
        assert_eq!(
            stop["Depth"],
            json!(0),
            "told at the spawning run's depth: {stop}"
        );
        let starts = fake.wait_for("subagent_start", 2).await;
        assert_eq!(stop["SessionID"], starts[1]["SessionID"]);
        assert_eq!(stop["AgentID"], starts[1]["AgentID"]);
        let prompts = fake.wait_for("user_prompt_submit", 2).await;
        let depths: Vec<&Value> = prompts.iter().map(|p| &p["Depth"]).collect();
        assert!(
            depths.contains(&&json!(0)) && depths.contains(&&json!(1)),
            "{depths:?}"
        );
    }
);

app_test!(
    a_hook_that_keeps_blocking_is_switched_off,
    app,
    |app: TestApp| async move {
        let mut owner = ws(&app, TOKEN).await;
        owner
            .call_ok(
                "hooks.create",
                json!({
                    "event": "pre_tool_use", "handler_type": "command", "scope": "tenant",
                    "name": "stubborn", "matcher": "^datetime$", "enabled": true,
                    "config": { "command": "cat > /dev/null; echo 'not now' >&2; exit 2" },
                }),
            )
            .await;
        for n in 0..6 {
            app.llm
                .push(Reply::tool_call(format!("d{n}"), "datetime", json!({})));
        }
        app.llm.push(Reply::text("done"));
        let (status, answer) = chat(&app, TOKEN, "What time is it?").await;
        assert_eq!(status, 200, "{answer}");
        let requests = app.llm.requests();
        let result = |n: usize| {
            let body = &requests[n].body["messages"];
            let last = body.as_array().and_then(|m| m.last()).cloned();
            last.map(|m| m.to_string()).unwrap_or_default()
        };
        for n in 1..=5 {
            assert!(
                result(n).contains("not now"),
                "call {n} is blocked: {}",
                result(n)
            );
        }
        assert!(
            !result(6).contains("not now") && result(6).contains("UTC"),
            "the sixth call runs: {}",
            result(6)
        );
        let list = owner
            .call_ok("hooks.list", json!({ "event": "pre_tool_use" }))
            .await;
        assert_eq!(list["hooks"][0]["enabled"], false, "{list}");
    }
);

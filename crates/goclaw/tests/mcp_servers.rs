//! MCP servers registered through `/v1/mcp/servers`, end to end over real HTTP on both engines,
//! with the test server `fake-mcp`: a stdio server registered by an admin is offered only to the
//! agents it is granted to, its tool is called in a turn and found by the run's `mcp_tool_search`;
//! a streamable-HTTP server's API key is stored encrypted, answered as `"***"`, kept by an update
//! sending `"***"` back and replaced by a real one (the next run connects with it); the connection
//! test and the tool listing; a legacy-SSE server registered with its key is tested and called; a
//! viewer and the writers read but never change servers, another tenant never sees them, users keep
//! their own credentials and only admins touch others'; every body of
//! `corpus/mcp_server_attacks.txt` is refused and stores nothing; the real executable at debug
//! level logs none of a registered server's secrets.

mod support;

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{
    FakeMcpHttp, FakeMcpSse, Reply, StoreBackend, TestApp, app_test, fake_mcp_binary,
};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};

const TOKEN: &str = "mcp-servers-token-4b7e21";
const ENCRYPTION_KEY: &str = "8899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677";
const ENV_SECRET: &str = "env-secret-value-7c31";
const API_KEY: &str = "mcp-api-key-0042";

/// The app with `tools_keys` in `tools`, the gateway token and an encryption key.
async fn app_with(backend: StoreBackend, tools_keys: &str) -> Option<TestApp> {
    let config = format!("{{ gateway: {{ rate_limit_rpm: 0 }}, tools: {{ {tools_keys} }} }}");
    goclaw_testkit::spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ],
    )
    .await
}

/// `fake-mcp` may be run by API-registered servers.
async fn stdio_app(backend: StoreBackend) -> Option<TestApp> {
    app_with(backend, "mcp_allowed_commands: ['fake-mcp'],").await
}

/// Loopback servers may be registered.
async fn private_app(backend: StoreBackend) -> Option<TestApp> {
    app_with(backend, "mcp_allow_private_urls: true,").await
}

/// The default policy.
async fn strict_app(backend: StoreBackend) -> Option<TestApp> {
    app_with(backend, "").await
}

/// The tool names a recorded model request offers (Anthropic or OpenAI wire).
fn offered(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().or(t["function"]["name"].as_str()))
        .map(str::to_owned)
        .collect()
}

/// Every text of the tool results a recorded model request carries.
fn tool_results(body: &Value) -> String {
    let mut texts = Vec::new();
    for message in body["messages"].as_array().into_iter().flatten() {
        if message["role"] == "tool" {
            texts.push(message["content"].to_string());
        }
        for part in message["content"].as_array().into_iter().flatten() {
            if part["type"] == "tool_result" {
                texts.push(part["content"].to_string());
            }
        }
    }
    texts.join("\n")
}

/// Sends `message` to `agent` as `who` over `/v1/chat/completions`; the answer's text.
async fn chat(app: &TestApp, callers: &Callers, who: &str, agent: &str, message: &str) -> String {
    let body = json!({
        "model": format!("goclaw:{agent}"),
        "messages": [{ "role": "user", "content": message }],
    });
    let (status, answer) = callers
        .call(app, who, Method::POST, "/v1/chat/completions", Some(body))
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Registers `body` as the admin; the stored server.
async fn register(app: &TestApp, callers: &Callers, body: Value) -> Value {
    let (status, server) = callers
        .call(app, "admin", Method::POST, "/v1/mcp/servers", Some(body))
        .await;
    assert_eq!(status, 201, "{server}");
    server
}

async fn grant(app: &TestApp, callers: &Callers, id: &str, agent: &str) {
    let path = format!("/v1/mcp/servers/{id}/grants/agent");
    let (status, granted) = callers
        .call(
            app,
            "admin",
            Method::POST,
            &path,
            Some(json!({ "agent_id": agent })),
        )
        .await;
    assert_eq!((status, granted), (201, json!({ "status": "granted" })));
}

/// The stdio `fake-mcp` registered as `fake`, granted to `default`; its id.
async fn fake_server(app: &TestApp, callers: &Callers) -> String {
    let command = fake_mcp_binary().display().to_string();
    let server = register(
        app,
        callers,
        json!({
            "name": "fake",
            "display_name": "Fake tools",
            "transport": "stdio",
            "command": command,
            "env": { "FAKE_TOKEN": ENV_SECRET },
        }),
    )
    .await;
    assert_eq!(server["name"], "fake");
    assert_eq!(server["transport"], "stdio");
    assert_eq!(server["command"], json!(command));
    assert_eq!(server["args"], json!([]));
    assert_eq!(server["enabled"], true);
    assert_eq!(server["timeout_sec"], 60);
    assert_eq!(server["env"], json!({ "FAKE_TOKEN": "***" }));
    assert_eq!(server["created_by"], "ada");
    assert!(server.get("api_key").is_none(), "{server}");
    let id = server["id"].as_str().expect("id").to_owned();
    grant(app, callers, &id, "default").await;
    id
}

app_test!(
    a_registered_server_serves_only_the_agents_it_is_granted_to,
    stdio_app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let id = fake_server(&app, &callers).await;
        let (status, helper) = callers
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/agents",
                Some(json!({ "name": "Helper" })),
            )
            .await;
        assert_eq!(status, 201, "{helper}");

        app.llm.push(Reply::tool_call(
            "call_e",
            "mcp_fake__echo",
            json!({ "text": "hello through the API server" }),
        ));
        app.llm.push(Reply::text("It said hello."));
        assert_eq!(
            chat(&app, &callers, "alice", "default", "ask it").await,
            "It said hello."
        );
        let requests = app.llm.requests();
        assert!(offered(&requests[0].body).contains(&"mcp_fake__echo".to_owned()));
        let result = tool_results(&requests[1].body);
        assert!(result.contains("hello through the API server"), "{result}");

        // `helper` holds no grant: the tool is neither offered nor run.
        app.llm.push(Reply::tool_call(
            "call_h",
            "mcp_fake__echo",
            json!({ "text": "should not run" }),
        ));
        app.llm.push(Reply::text("no such tool"));
        chat(&app, &callers, "alice", "helper", "ask it").await;
        let requests = app.llm.requests();
        let helper_offer = offered(&requests[2].body);
        assert!(
            !helper_offer.iter().any(|t| t.starts_with("mcp_fake__")),
            "{helper_offer:?}"
        );
        let refused = tool_results(&requests[3].body);
        assert!(refused.contains("Unknown tool"), "{refused}");

        // The run's `mcp_tool_search` (and its alias) finds the granted server's tools; an
        // agent without a grant has no search to call.
        app.llm.push(Reply::tool_call(
            "call_s",
            "ToolSearch",
            json!({ "query": "echo text" }),
        ));
        app.llm.push(Reply::text("found it"));
        chat(&app, &callers, "alice", "default", "find a tool").await;
        let requests = app.llm.requests();
        assert!(offered(&requests[4].body).contains(&"mcp_tool_search".to_owned()));
        let found = tool_results(&requests[5].body);
        assert!(found.contains("mcp_fake__echo"), "{found}");
        app.llm.push(Reply::tool_call(
            "call_t",
            "mcp_tool_search",
            json!({ "query": "echo" }),
        ));
        app.llm.push(Reply::text("nothing"));
        chat(&app, &callers, "alice", "helper", "find a tool").await;
        let requests = app.llm.requests();
        assert!(!offered(&requests[6].body).contains(&"mcp_tool_search".to_owned()));
        let refused = tool_results(&requests[7].body);
        assert!(refused.contains("Unknown tool"), "{refused}");

        let (status, grants) = callers
            .call(
                &app,
                "vera",
                Method::GET,
                &format!("/v1/mcp/servers/{id}/grants"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            grants["grants"].as_array().map(Vec::len),
            Some(1),
            "{grants}"
        );
        assert_eq!(grants["grants"][0]["granted_by"], "ada");
        let (_, listed) = callers
            .call(&app, "vera", Method::GET, "/v1/mcp/servers", None)
            .await;
        assert_eq!(listed["servers"][0]["agent_count"], 1, "{listed}");
        let (status, by_agent) = callers
            .call(
                &app,
                "vera",
                Method::GET,
                "/v1/mcp/grants/agent/default",
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(by_agent["grants"][0]["server_id"], json!(id));

        // Revoked, it is gone from the next run.
        let path = format!("/v1/mcp/servers/{id}/grants/agent/default");
        let (status, revoked) = callers
            .call(&app, "admin", Method::DELETE, &path, None)
            .await;
        assert_eq!((status, revoked), (200, json!({ "status": "revoked" })));
        app.llm.push(Reply::text("plain"));
        chat(&app, &callers, "alice", "default", "again").await;
        let last = app.llm.requests().pop().expect("a request");
        assert!(!offered(&last.body).contains(&"mcp_fake__echo".to_owned()));
    }
);

/// Every HTTP answer body of a test, to scan for secrets.
struct Answers(Vec<String>);

impl Answers {
    async fn call(
        &mut self,
        app: &TestApp,
        callers: &Callers,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, answer) = callers.call(app, "admin", method, path, body).await;
        self.0.push(answer.to_string());
        (status, answer)
    }
}

app_test!(
    an_api_key_is_stored_sealed_answered_masked_and_kept_or_replaced,
    private_app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let mcp = FakeMcpHttp::start(Some(&format!("Authorization=Bearer {API_KEY}"))).await;
        let mut answers = Answers(Vec::new());
        let body = json!({
            "name": "web",
            "transport": "streamable-http",
            "url": mcp.url,
            "api_key": API_KEY,
            "tool_prefix": "mcp_remote",
        });
        let (status, server) = answers
            .call(&app, &callers, Method::POST, "/v1/mcp/servers", Some(body))
            .await;
        assert_eq!(status, 201, "{server}");
        assert_eq!(server["api_key"], "***");
        let id = server["id"].as_str().expect("id").to_owned();
        grant(&app, &callers, &id, "default").await;
        let (_, fetched) = answers
            .call(
                &app,
                &callers,
                Method::GET,
                &format!("/v1/mcp/servers/{id}"),
                None,
            )
            .await;
        assert_eq!(fetched["api_key"], "***");

        let add = |n: i64| Reply::tool_call("call_a", "mcp_remote__add", json!({ "a": n, "b": 2 }));
        app.llm.push(add(40));
        app.llm.push(Reply::text("42"));
        chat(&app, &callers, "alice", "default", "add").await;
        let result = tool_results(&app.llm.requests()[1].body);
        assert!(result.contains("42"), "{result}");

        // `"***"` keeps the stored key: the reopened connection still gets in.
        let path = format!("/v1/mcp/servers/{id}");
        let keep = json!({ "api_key": "***", "display_name": "Remote" });
        let (status, updated) = answers
            .call(&app, &callers, Method::PUT, &path, Some(keep))
            .await;
        assert_eq!((status, updated), (200, json!({ "status": "updated" })));
        app.llm.push(add(98));
        app.llm.push(Reply::text("100"));
        chat(&app, &callers, "alice", "default", "add again").await;
        let result = tool_results(&app.llm.requests()[3].body);
        assert!(result.contains("100"), "{result}");

        // A wrong key replaces it: the server refuses the next run's connection.
        let wrong = json!({ "api_key": "not-the-key" });
        assert_eq!(
            answers
                .call(&app, &callers, Method::PUT, &path, Some(wrong))
                .await
                .0,
            200
        );
        app.llm.push(Reply::text("nothing to call"));
        chat(&app, &callers, "alice", "default", "add once more").await;
        let last = app.llm.requests().pop().expect("a request");
        assert!(
            !offered(&last.body)
                .iter()
                .any(|t| t.starts_with("mcp_remote__")),
            "a server that refuses the key offers nothing"
        );

        let tools_path = format!("/v1/mcp/servers/{id}/tools");
        let (status, tools) = answers
            .call(&app, &callers, Method::GET, &tools_path, None)
            .await;
        assert_eq!((status, tools), (200, json!({ "tools": [] })));
        let right = json!({ "api_key": API_KEY });
        answers
            .call(&app, &callers, Method::PUT, &path, Some(right))
            .await;
        let (_, tools) = answers
            .call(&app, &callers, Method::GET, &tools_path, None)
            .await;
        let names: Vec<&str> = tools["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(names.contains(&"add") && names.contains(&"echo"), "{tools}");

        let probe =
            |key: &str| json!({ "transport": "streamable-http", "url": mcp.url, "api_key": key });
        let (status, tested) = answers
            .call(
                &app,
                &callers,
                Method::POST,
                "/v1/mcp/servers/test",
                Some(probe(API_KEY)),
            )
            .await;
        assert_eq!(
            (status, &tested["success"]),
            (200, &json!(true)),
            "{tested}"
        );
        assert!(tested["tool_count"].as_u64().unwrap_or(0) >= 2, "{tested}");
        let (_, failed) = answers
            .call(
                &app,
                &callers,
                Method::POST,
                "/v1/mcp/servers/test",
                Some(probe("nope")),
            )
            .await;
        assert_eq!(failed["success"], false, "{failed}");
        assert!(failed["error"].as_str().is_some_and(|e| !e.is_empty()));

        let reconnect = format!("/v1/mcp/servers/{id}/reconnect");
        let (status, done) = answers
            .call(&app, &callers, Method::POST, &reconnect, None)
            .await;
        assert_eq!((status, done), (200, json!({ "status": "reconnected" })));
        let (status, deleted) = answers
            .call(&app, &callers, Method::DELETE, &path, None)
            .await;
        assert_eq!((status, deleted), (200, json!({ "status": "deleted" })));
        assert_eq!(
            answers
                .call(&app, &callers, Method::GET, &path, None)
                .await
                .0,
            404
        );

        for answer in &answers.0 {
            assert!(!answer.contains(API_KEY), "the key leaked: {answer}");
        }
        let stored = app
            .db
            .store()
            .mcp_servers()
            .list(goclaw_core::MASTER_TENANT_ID)
            .await;
        assert!(stored.expect("list").is_empty());
    }
);

app_test!(
    a_registered_sse_server_is_tested_and_called_with_its_key,
    private_app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let sse = FakeMcpSse::start(Some(&format!("Authorization=Bearer {API_KEY}"))).await;
        let settings = |key: &str| json!({ "name": "legacy", "transport": "sse", "url": sse.url, "api_key": key });
        let (status, tested) = callers
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/mcp/servers/test",
                Some(settings(API_KEY)),
            )
            .await;
        assert_eq!(
            (status, &tested["success"]),
            (200, &json!(true)),
            "{tested}"
        );
        let server = register(&app, &callers, settings(API_KEY)).await;
        assert_eq!(
            (&server["transport"], &server["api_key"]),
            (&json!("sse"), &json!("***"))
        );
        let id = server["id"].as_str().expect("id").to_owned();
        grant(&app, &callers, &id, "default").await;
        app.llm.push(Reply::tool_call(
            "call_s",
            "mcp_legacy__echo",
            json!({ "text": "over the event stream" }),
        ));
        app.llm.push(Reply::text("heard it"));
        assert_eq!(
            chat(&app, &callers, "alice", "default", "use it").await,
            "heard it"
        );
        let result = tool_results(&app.llm.requests()[1].body);
        assert!(result.contains("over the event stream"), "{result}");
    }
);

app_test!(
    viewers_and_writers_read_tenants_stay_apart_users_keep_their_own_credentials,
    stdio_app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let id = fake_server(&app, &callers).await;
        let one = format!("/v1/mcp/servers/{id}");
        for who in ["vera", "alice"] {
            let (status, list) = callers
                .call(&app, who, Method::GET, "/v1/mcp/servers", None)
                .await;
            assert_eq!(status, 200, "{who}");
            assert_eq!(list["servers"][0]["env"], json!({ "FAKE_TOKEN": "***" }));
            assert!(!list.to_string().contains(ENV_SECRET));
            assert_eq!(
                callers.call(&app, who, Method::GET, &one, None).await.0,
                200
            );
            let writes = [
                (
                    Method::POST,
                    "/v1/mcp/servers".to_owned(),
                    Some(json!({ "name": "x", "transport": "stdio", "command": "node" })),
                ),
                (
                    Method::PUT,
                    one.clone(),
                    Some(json!({ "display_name": "mine" })),
                ),
                (Method::DELETE, one.clone(), None),
                (Method::POST, format!("{one}/reconnect"), None),
                (
                    Method::POST,
                    format!("{one}/grants/agent"),
                    Some(json!({ "agent_id": "default" })),
                ),
                (Method::DELETE, format!("{one}/grants/agent/default"), None),
                (
                    Method::POST,
                    format!("{one}/grants/user"),
                    Some(json!({ "user_id": who })),
                ),
                (
                    Method::POST,
                    "/v1/mcp/servers/test".to_owned(),
                    Some(json!({ "transport": "stdio", "command": "node" })),
                ),
            ];
            for (method, path, body) in writes {
                let (status, answer) = callers.call(&app, who, method.clone(), &path, body).await;
                assert_eq!(status, 403, "{who} {method} {path}: {answer}");
            }
        }

        let carol = app
            .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
            .await
            .key;
        let as_carol = |method: Method, path: String, body: Option<Value>| {
            let app = &app;
            let carol = carol.clone();
            async move { support::http::call(app, &carol, None, method, &path, body).await }
        };
        let (status, list) = as_carol(Method::GET, "/v1/mcp/servers".into(), None).await;
        assert_eq!((status, list), (200, json!({ "servers": [] })));
        for (method, path, body) in [
            (Method::GET, one.clone(), None),
            (
                Method::PUT,
                one.clone(),
                Some(json!({ "display_name": "theirs" })),
            ),
            (Method::DELETE, one.clone(), None),
            (Method::GET, format!("{one}/grants"), None),
            (
                Method::POST,
                format!("{one}/grants/agent"),
                Some(json!({ "agent_id": "helper" })),
            ),
            (Method::GET, format!("{one}/user-credentials"), None),
        ] {
            let (status, answer) = as_carol(method.clone(), path.clone(), body).await;
            assert_eq!(status, 404, "{method} {path}: {answer}");
        }
        let theirs = json!({ "name": "fake", "transport": "stdio", "command": "npx" });
        let (status, created) =
            as_carol(Method::POST, "/v1/mcp/servers".into(), Some(theirs)).await;
        assert_eq!(status, 201, "names are per tenant: {created}");
        let (_, ours) = callers
            .call(&app, "vera", Method::GET, "/v1/mcp/servers", None)
            .await;
        assert_eq!(ours["servers"].as_array().map(Vec::len), Some(1));

        // Users' own credentials: set and read back as flags only; others' need an admin.
        let creds = format!("{one}/user-credentials");
        let own = json!({ "api_key": "alice-own-key-93", "headers": { "X-User": "alice" } });
        let (status, set) = callers
            .call(&app, "alice", Method::PUT, &creds, Some(own))
            .await;
        assert_eq!((status, set), (200, json!({ "status": "updated" })));
        let (status, read) = callers.call(&app, "alice", Method::GET, &creds, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            read,
            json!({ "has_credentials": true, "has_api_key": true, "has_headers": true, "has_env": false })
        );
        let of_alice = format!("{creds}?user_id=alice");
        assert_eq!(
            callers
                .call(&app, "bob", Method::GET, &of_alice, None)
                .await
                .0,
            403
        );
        assert_eq!(
            callers
                .call(&app, "bob", Method::DELETE, &of_alice, None)
                .await
                .0,
            403
        );
        let (_, bobs) = callers.call(&app, "bob", Method::GET, &creds, None).await;
        assert_eq!(bobs, json!({ "has_credentials": false }));
        let vera_set = Some(json!({ "api_key": "vera-key" }));
        assert_eq!(
            callers
                .call(&app, "vera", Method::PUT, &creds, vera_set)
                .await
                .0,
            403
        );
        let (status, seen) = callers
            .call(&app, "admin", Method::GET, &of_alice, None)
            .await;
        assert_eq!((status, &seen["has_credentials"]), (200, &json!(true)));
        let (status, gone) = callers
            .call(&app, "alice", Method::DELETE, &creds, None)
            .await;
        assert_eq!((status, gone), (200, json!({ "status": "deleted" })));
        let (_, read) = callers
            .call(&app, "admin", Method::GET, &of_alice, None)
            .await;
        assert_eq!(read, json!({ "has_credentials": false }));
    }
);

app_test!(
    every_corpus_body_is_refused_and_stores_nothing,
    strict_app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        let corpus = include_str!("corpus/mcp_server_attacks.txt");
        let mut cases = 0;
        for line in corpus
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let body: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let (status, answer) = callers
                .call(
                    &app,
                    "admin",
                    Method::POST,
                    "/v1/mcp/servers",
                    Some(body.clone()),
                )
                .await;
            assert_eq!(status, 400, "{line} was not refused: {answer}");
            let error = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(!error.is_empty(), "{answer}");
            cases += 1;
            if error.starts_with("name ") {
                // The connection test needs no name; the rest of such a body is fine.
                continue;
            }
            let (status, _) = callers
                .call(
                    &app,
                    "admin",
                    Method::POST,
                    "/v1/mcp/servers/test",
                    Some(body),
                )
                .await;
            assert_eq!(status, 400, "the test refuses {line} too");
        }
        assert!(cases >= 30, "{cases} cases");
        let (_, list) = callers
            .call(&app, "admin", Method::GET, "/v1/mcp/servers", None)
            .await;
        assert_eq!(list, json!({ "servers": [] }));
    }
);

/// The real executable at debug level: a server registered through the API with an API key
/// and a secret variable, called (and crashed) in a turn, and refused with a wrong key; none
/// of its secrets reaches the logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_servers_secrets_stay_out_of_logs() {
    const KEY_SECRET: &str = "mcp-api-key-secret-3141";
    const ENV_VALUE: &str = "mcp-env-value-secret-2718";
    let http = FakeMcpHttp::start(Some(&format!("Authorization=Bearer {KEY_SECRET}"))).await;
    let home = support::home();
    let config = "{ tools: { mcp_allowed_commands: ['fake-mcp'], mcp_allow_private_urls: true } }";
    std::fs::write(home.path().join("config.json"), config).expect("write config");
    let llm = goclaw_testkit::FakeLlm::start().await;
    let server = support::Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_LOG_LEVEL", "debug")
        .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
        .env("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY)
        .env("GOCLAW_ANTHROPIC_API_KEY", "test-key")
        .env("GOCLAW_ANTHROPIC_BASE_URL", llm.base_url())
        .start()
        .await
        .expect("gateway starts");
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(server.url(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    let mut answers = Vec::new();
    for body in [
        json!({ "name": "local", "transport": "stdio", "command": fake_mcp_binary(),
                "env": { "FAKE_MCP_SECRET": ENV_VALUE } }),
        json!({ "name": "web", "transport": "streamable-http", "url": http.url,
                "api_key": KEY_SECRET }),
    ] {
        let response = post("/v1/mcp/servers", body).await.expect("register");
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.expect("JSON");
        let id = created["id"].as_str().expect("id").to_owned();
        let granted = post(
            &format!("/v1/mcp/servers/{id}/grants/agent"),
            json!({ "agent_id": "default" }),
        )
        .await
        .expect("grant");
        assert_eq!(granted.status(), 201);
        answers.push((id, created.to_string()));
    }
    for (id, tool, arguments) in [
        ("c1", "mcp_local__env", json!({ "name": "FAKE_MCP_SECRET" })),
        ("c2", "mcp_local__crash", json!({})),
        ("c3", "mcp_web__echo", json!({ "text": "over http" })),
    ] {
        llm.push(Reply::tool_call(id, tool, arguments));
    }
    llm.push(Reply::text("checked"));
    let chat = json!({ "model": "goclaw:default",
                       "messages": [{ "role": "user", "content": "use the servers" }] });
    let response = post("/v1/chat/completions", chat.clone())
        .await
        .expect("chat");
    assert_eq!(response.status(), 200);
    let results: Vec<String> = llm.requests().iter().map(|r| r.body.to_string()).collect();
    assert!(
        results[1].contains("FAKE_MCP_SECRET="),
        "the variable reached the server"
    );
    assert!(results[3].contains("over http"), "{}", results[3]);

    // A wrong key: the next run cannot connect, and says nothing secret about it.
    let web = &answers[1].0;
    let update = client
        .put(server.url(&format!("/v1/mcp/servers/{web}")))
        .bearer_auth(TOKEN)
        .json(&json!({ "api_key": "wrong-key-but-also-secret-1618" }))
        .send()
        .await
        .expect("update");
    assert_eq!(update.status(), 200);
    llm.push(Reply::text("again"));
    assert_eq!(
        post("/v1/chat/completions", chat)
            .await
            .expect("chat")
            .status(),
        200
    );

    let (code, stdout, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
    let logs = format!("{stdout}\n{stderr}");
    assert!(
        logs.contains("mcp.server.unavailable"),
        "the refusal is logged"
    );
    for secret in [KEY_SECRET, ENV_VALUE, "wrong-key-but-also-secret-1618"] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
        for (_, answer) in &answers {
            assert!(!answer.contains(secret), "{secret} answered: {answer}");
        }
    }
}

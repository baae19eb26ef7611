//! The configuration over the WebSocket API on both engines: the owner (`system` with the
//! gateway token) reads it with every secret as `"***"`, applies and patches it, and never sees a
//! secret — not in any answer, not in the log; `"***"` sent back keeps the stored secret, a
//! secret from the environment never reaches the file, a stale `baseHash` and invalid input
//! are refused with nothing written, `restart` is false for a live key and true for a start-up
//! key, `gateway.owner_ids` applies at once, each change is logged as `config.applied` with the
//! changed key paths, and the settings GoClaw mirrors in `system_configs` are written for the
//! master tenant. An admin key, the gateway token as another user, alice, bob (read and
//! write keys), vera (a read key) and an admin of another tenant are all refused.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "config-api-token-5c1d9e77a2";
/// A provider key written in the config file.
const FILE_SECRET: &str = "gsk-file-secret-7f3a9b2c1d8e";
/// A provider key from the environment.
const ENV_SECRET: &str = "sk-ant-env-secret-4e8d2a1b6c";
const CONFIG: &str = "{ gateway: { rate_limit_rpm: 0 }, providers: { groq: { api_key: 'gsk-file-secret-7f3a9b2c1d8e' } } }";

/// Everything the test binary logged, at debug level.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buffer) = self.0.lock() {
            buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged() -> String {
    let logs = logs();
    let buffer = logs.lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8_lossy(&buffer).into_owned()
}

async fn app(backend: StoreBackend) -> Option<TestApp> {
    logs();
    let env = [
        ("GOCLAW_GATEWAY_TOKEN", TOKEN),
        ("GOCLAW_ANTHROPIC_API_KEY", ENV_SECRET),
    ];
    spawn_app_with_config(backend, CONFIG, &env).await
}

async fn connect(app: &TestApp, token: &str, user_id: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": token, "user_id": user_id }))
        .await;
    ws
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in [TOKEN, FILE_SECRET, ENV_SECRET] {
        assert!(!text.contains(secret), "{what} holds a secret: {text}");
    }
}

fn config_file(app: &TestApp) -> String {
    std::fs::read_to_string(app.data_dir.path().join("config.json")).unwrap_or_default()
}

/// Calls `method` and asserts it was refused with `code`; returns the message.
async fn refused(ws: &mut WsClient, method: &str, params: Value, code: &str) -> String {
    let res = ws.call(method, params).await;
    assert_eq!(res["ok"], false, "{method} succeeded: {res}");
    assert_eq!(res["error"]["code"], code, "{method}: {res}");
    res["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

app_test!(
    owner_round_trip_keeps_secrets,
    app,
    |app: TestApp| async move {
        let mut owner = connect(&app, TOKEN, "system").await;
        let got = owner.call_ok("config.get", json!({})).await;
        assert_goclaw_shape("ws_config.get", &got);
        assert_no_secret(&got.to_string(), "config.get");
        let config = &got["config"];
        assert_eq!(config["gateway"]["token"], "***");
        assert_eq!(config["providers"]["groq"]["api_key"], "***");
        assert_eq!(config["providers"]["anthropic"]["api_key"], "***");
        let hash = got["hash"].as_str().expect("a hash").to_owned();
        assert_eq!(hash.len(), 16, "{hash}");

        // The whole config sent back with one start-up key changed: saved, restart needed.
        let mut edited = config.clone();
        edited["gateway"]["max_message_chars"] = json!(12345);
        let params = json!({ "raw": edited.to_string(), "baseHash": hash });
        let applied = owner.call_ok("config.apply", params).await;
        assert_goclaw_shape("ws_config.apply", &applied);
        assert_no_secret(&applied.to_string(), "config.apply");
        assert_eq!(applied["restart"], true, "{applied}");
        assert_eq!(applied["config"]["gateway"]["max_message_chars"], 12345);
        assert_eq!(applied["config"]["providers"]["groq"]["api_key"], "***");
        let file = config_file(&app);
        assert!(
            file.contains(FILE_SECRET),
            "the file secret was kept: {file}"
        );
        assert!(
            !file.contains(ENV_SECRET) && !file.contains(TOKEN),
            "{file}"
        );
        assert!(file.contains("12345"), "{file}");
        let new_hash = applied["hash"].as_str().expect("a hash").to_owned();
        // The written file loads as it is, without the environment's secrets.
        let path = app.data_dir.path().join("config.json");
        let env = goclaw_config::Environment::from_pairs([("HOME", "/nonexistent")]);
        let reloaded = goclaw_config::load(Some(&path), &env).expect("the written file loads");
        assert_eq!(reloaded.config.gateway.max_message_chars, 12345);
        assert!(reloaded.config.gateway.token.is_none());
        let groq = reloaded.config.providers.groq.api_key.as_ref();
        assert_eq!(groq.map(|k| k.expose()), Some(FILE_SECRET));
        // GoClaw's system_configs mirror of the changed settings, for the master tenant.
        let (status, configs) = support::http::call(
            &app,
            TOKEN,
            Some("system"),
            reqwest::Method::GET,
            "/v1/system-configs",
            None,
        )
        .await;
        assert_eq!(status, 200, "{configs}");
        assert_eq!(configs["gateway.max_message_chars"], "12345", "{configs}");
        assert_no_secret(&configs.to_string(), "/v1/system-configs");
        assert_ne!(new_hash, hash);

        // The old hash is stale now: refused, nothing written.
        let stale = json!({ "raw": "{ gateway: { max_message_chars: 7 } }", "baseHash": hash });
        let message = refused(&mut owner, "config.patch", stale, "INVALID_REQUEST").await;
        assert!(message.contains("hash"), "{message}");
        assert_eq!(config_file(&app), file);

        // A live key: applied at once, no restart; the new owner is an owner on its next connect.
        let patch = "{ gateway: { owner_ids: ['system', 'olive'] } }";
        let params = json!({ "raw": patch, "baseHash": new_hash });
        let patched = owner.call_ok("config.patch", params).await;
        assert_goclaw_shape("ws_config.patch", &patched);
        assert_eq!(patched["restart"], false, "{patched}");
        assert_eq!(patched["config"]["gateway"]["max_message_chars"], 12345);
        let mut olive = connect(&app, TOKEN, "olive").await;
        olive.call_ok("config.get", json!({})).await;

        let schema = owner.call_ok("config.schema", json!({})).await;
        assert_goclaw_shape("ws_config.schema", &schema);
        let defaults = owner.call_ok("config.defaults", json!({})).await;
        assert_goclaw_shape("ws_config.defaults", &defaults);

        let logs = logged();
        assert_no_secret(&logs, "the log");
        let audit = logs
            .lines()
            .find(|l| l.contains("config.applied") && l.contains("gateway.max_message_chars"))
            .unwrap_or_else(|| panic!("no config.applied line for the change:\n{logs}"));
        assert!(audit.contains("restart=true"), "{audit}");
        assert!(
            logs.lines()
                .any(|l| l.contains("config.applied") && l.contains("gateway.owner_ids")),
            "no config.applied line for the owner change"
        );
    }
);

app_test!(
    invalid_input_writes_nothing,
    app,
    |app: TestApp| async move {
        let mut owner = connect(&app, TOKEN, "system").await;
        let before = owner.call_ok("config.get", json!({})).await;
        let file = config_file(&app);
        for (method, raw, expected) in [
            ("config.patch", "{ gateway: ", "syntax error"),
            (
                "config.patch",
                "{ gateway: { bogus_key: 1 } }",
                "gateway.bogus_key",
            ),
            (
                "config.patch",
                "{ gateway: { port: 'abc' } }",
                "gateway.port",
            ),
            ("config.apply", "[1, 2]", "object"),
            ("config.apply", "", "required"),
            (
                "config.patch",
                "{ database: { postgres_dsn: 'postgres://u:p@h/db' } }",
                "GOCLAW_POSTGRES_DSN",
            ),
        ] {
            let params = json!({ "raw": raw, "baseHash": before["hash"] });
            let message = refused(&mut owner, method, params, "INVALID_REQUEST").await;
            assert!(message.contains(expected), "{method} {raw}: {message}");
            assert_eq!(config_file(&app), file, "{method} {raw} wrote the file");
        }
        let after = owner.call_ok("config.get", json!({})).await;
        assert_eq!(after["hash"], before["hash"]);
    }
);

app_test!(
    only_the_owner_may_read_or_change_it,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let file = config_file(&app);
        let mut clients = vec![("gateway token as ops", connect(&app, TOKEN, "ops").await)];
        for who in ["admin", "alice", "bob", "vera"] {
            clients.push((who, connect(&app, &callers.bearer(who), who).await));
        }
        for (who, ws) in &mut clients {
            for method in [
                "config.get",
                "config.schema",
                "config.apply",
                "config.patch",
            ] {
                let params = json!({ "raw": "{ gateway: { max_message_chars: 9 } }" });
                let res = ws.call(method, params).await;
                assert_eq!(
                    res["error"]["code"], "UNAUTHORIZED",
                    "{who} {method}: {res}"
                );
                assert_no_secret(&res.to_string(), method);
            }
        }
        assert_eq!(config_file(&app), file, "a refused caller changed the file");
        // `config.defaults` is for admins of the master tenant.
        let (_, admin) = &mut clients[1];
        admin.call_ok("config.defaults", json!({})).await;
        let (_, alice) = &mut clients[2];
        refused(alice, "config.defaults", json!({}), "UNAUTHORIZED").await;
        // An admin of another tenant is refused even `config.defaults`: it is the master
        // tenant's.
        let other = app
            .other_tenant("acme", "helper", "root", &[ApiKeyScope::Admin])
            .await;
        let mut foreign = connect(&app, &other.key, "root").await;
        let message = refused(&mut foreign, "config.defaults", json!({}), "UNAUTHORIZED").await;
        assert!(message.contains("master tenant"), "{message}");
        refused(&mut foreign, "config.get", json!({}), "UNAUTHORIZED").await;
    }
);

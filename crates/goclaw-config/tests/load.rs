//! Loading `config.json`: JSON5 syntax, defaults without a file, files on
//! disk, environment precedence and the provider/model fill rule.
#![forbid(unsafe_code)]

mod common;

use std::path::Path;

use common::{check, env, loaded, value_at};
use goclaw_config::{StorageBackend, load};
use serde_json::{Value, json};

#[test]
#[rustfmt::skip]
fn json5_syntax_is_accepted() {
    check("// comment\n{ gateway: { port: 1234 } }", &[], "/gateway/port", json!(1234));
    check("{ /* block */ \"gateway\": { \"port\": 1, }, }", &[], "/gateway/port", json!(1));
    check("{ gateway: { host: '0.0.0.0' } }", &[], "/gateway/host", json!("0.0.0.0"));
    check("{ gateway: { owner_ids: ['a', 'b',], } }", &[], "/gateway/owner_ids", json!(["a", "b"]));
    check("{ channels: { telegram: { allow_from: [12345, 'x'] } } }", &[], "/channels/telegram/allow_from", json!(["12345", "x"]));
    check("", &[], "/gateway/port", json!(18790));
}

#[test]
#[rustfmt::skip]
fn defaults_apply_without_a_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let missing = dir.path().join("nope.json");
    let missing_str = missing.to_string_lossy().into_owned();
    let loaded = load(None, &env(&[("GOCLAW_CONFIG", &missing_str)])).unwrap_or_else(|e| panic!("defaults: {e}"));
    assert!(!loaded.file_found);
    assert_eq!(loaded.path, missing);
    assert!(loaded.warnings.is_empty());
    let cases = [
        ("/data_dir", json!("/home/tester/.goclaw/data")),
        ("/gateway/host", json!("127.0.0.1")),
        ("/gateway/port", json!(18790)),
        ("/gateway/token", Value::Null),
        ("/gateway/max_message_chars", json!(32000)),
        ("/gateway/rate_limit_rpm", json!(20)),
        ("/gateway/injection_action", json!("warn")),
        ("/gateway/inbound_debounce_ms", json!(1000)),
        ("/gateway/tool_status", json!(true)),
        ("/gateway/task_recovery_interval_sec", json!(300)),
        ("/agents/defaults/workspace", json!("/home/tester/.goclaw/workspace")),
        ("/agents/defaults/restrict_to_workspace", json!(true)),
        ("/agents/defaults/provider", json!("anthropic")),
        ("/agents/defaults/model", json!("claude-sonnet-4-5-20250929")),
        ("/agents/defaults/max_tokens", json!(8192)),
        ("/agents/defaults/temperature", json!(0.7)),
        ("/agents/defaults/max_tool_iterations", json!(30)),
        ("/agents/defaults/context_window", json!(200000)),
        ("/agents/defaults/max_tool_calls", json!(25)),
        ("/agents/defaults/subagents/maxConcurrent", json!(20)),
        ("/agents/defaults/subagents/maxSpawnDepth", json!(1)),
        ("/agents/defaults/subagents/maxChildrenPerAgent", json!(30)),
        ("/agents/defaults/compaction/reserveTokensFloor", json!(20000)),
        ("/agents/defaults/compaction/maxHistoryShare", json!(0.85)),
        ("/agents/defaults/bootstrapMaxChars", json!(20000)),
        ("/agents/defaults/bootstrapTotalMaxChars", json!(24000)),
        ("/agents/defaults/sandbox/mode", json!("off")),
        ("/agents/defaults/sandbox/backend", json!("auto")),
        ("/agents/defaults/sandbox/image", json!("goclaw-sandbox:bookworm-slim")),
        ("/agents/defaults/sandbox/workspace_access", json!("rw")),
        ("/agents/defaults/sandbox/scope", json!("session")),
        ("/agents/defaults/sandbox/memory_mb", json!(512)),
        ("/agents/defaults/sandbox/cpus", json!(1.0)),
        ("/agents/defaults/sandbox/timeout_sec", json!(300)),
        ("/agents/defaults/sandbox/network_enabled", json!(false)),
        ("/agents/defaults/sandbox/read_only_root", json!(true)),
        ("/agents/defaults/sandbox/max_output_bytes", json!(1_048_576)),
        ("/agents/defaults/sandbox/idle_hours", json!(24)),
        ("/agents/defaults/sandbox/max_age_days", json!(7)),
        ("/agents/defaults/sandbox/prune_interval_min", json!(5)),
        ("/tools/execApproval/security", json!("full")),
        ("/tools/execApproval/ask", json!("off")),
        ("/tools/web_fetch/policy", json!("allow_all")),
        ("/tools/rate_limit_per_hour", json!(150)),
        ("/tools/scrub_credentials", json!(true)),
        ("/channels/discord/dm_policy", json!("open")),
        ("/channels/telegram/dm_policy", json!("pairing")),
        ("/channels/whatsapp/require_mention", json!(false)),
        ("/channels/whatsapp/history_limit", json!(200)),
        ("/sessions/main_key", json!("main")),
        ("/cron/max_retries", json!(3)),
        ("/cron/retry_base_delay", json!("2s")),
        ("/cron/retry_max_delay", json!("30s")),
        ("/cron/job_timeout", json!("10m")),
        ("/telemetry/enabled", json!(false)),
        ("/telemetry/protocol", json!("grpc")),
        ("/telemetry/service_name", json!("goclaw-gateway")),
    ];
    for (pointer, expected) in cases {
        assert_eq!(value_at(&loaded, pointer), expected, "default of {pointer}");
    }
    let runtime = &loaded.runtime;
    assert_eq!(runtime.database.backend, StorageBackend::Sqlite);
    assert_eq!(runtime.database.sqlite_path, Path::new("/home/tester/.goclaw/data/goclaw.db"));
    assert_eq!((runtime.database.pg_max_open_conns, runtime.database.pg_max_idle_conns), (25, 10));
    let lanes = runtime.lanes;
    assert_eq!((lanes.main, lanes.subagent, lanes.delegate, lanes.cron), (30, 50, 100, 30));
    assert!(!runtime.auto_upgrade && !runtime.allow_insecure_no_auth);
}

#[test]
fn a_file_on_disk_is_read_and_an_explicit_missing_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("config.json");
    std::fs::write(&path, "{ gateway: { port: 4242 } } // JSON5")
        .unwrap_or_else(|e| panic!("write: {e}"));
    let loaded = load(Some(&path), &env(&[])).unwrap_or_else(|e| panic!("load: {e}"));
    assert!(loaded.file_found);
    assert_eq!(loaded.config.gateway.port, 4242);

    let path_str = path.to_string_lossy().into_owned();
    let via_env =
        load(None, &env(&[("GOCLAW_CONFIG", &path_str)])).unwrap_or_else(|e| panic!("load: {e}"));
    assert_eq!(via_env.config.gateway.port, 4242);

    let missing = dir.path().join("missing.json");
    let err = load(Some(&missing), &env(&[])).err().map(|e| e.to_string());
    assert_eq!(
        err,
        Some(format!("{}: config file not found", missing.display()))
    );
}

#[test]
#[rustfmt::skip]
fn environment_wins_over_the_file() {
    let file = "{ gateway: { host: '10.0.0.1', port: 1000, owner_ids: ['f'] }, agents: { defaults: { sandbox: { mode: 'all', memory_mb: 256 } } } }";
    check(file, &[("GOCLAW_PORT", "2000")], "/gateway/port", json!(2000));
    check(file, &[("GOCLAW_PORT", "")], "/gateway/port", json!(1000));
    check(file, &[("GOCLAW_HOST", "0.0.0.0")], "/gateway/host", json!("0.0.0.0"));
    check(file, &[], "/gateway/host", json!("10.0.0.1"));
    check(file, &[("GOCLAW_GATEWAY_TOKEN", "env-token")], "/gateway/token", json!("env-token"));
    check(file, &[("GOCLAW_OWNER_IDS", "a, b,,c")], "/gateway/owner_ids", json!(["a", "b", "c"]));
    check(file, &[("GOCLAW_ALLOWED_ORIGINS", "https://x.example")], "/gateway/allowed_origins", json!(["https://x.example"]));
    check(file, &[("GATEWAY_ID", "gw-2")], "/gateway/gateway_id", json!("gw-2"));
    check(file, &[("GATEWAY_ID", "gw-2"), ("GOCLAW_GATEWAY_ID", "gw-1")], "/gateway/gateway_id", json!("gw-1"));
    check(file, &[("GOCLAW_SANDBOX_MODE", "non-main")], "/agents/defaults/sandbox/mode", json!("non-main"));
    check(file, &[("GOCLAW_SANDBOX_MEMORY_MB", "1024")], "/agents/defaults/sandbox/memory_mb", json!(1024));
    check(file, &[], "/agents/defaults/sandbox/memory_mb", json!(256));
    check(file, &[("GOCLAW_SANDBOX_CPUS", "2.5")], "/agents/defaults/sandbox/cpus", json!(2.5));
    check(file, &[("GOCLAW_SANDBOX_NETWORK", "yes")], "/agents/defaults/sandbox/network_enabled", json!(true));
    check(file, &[("GOCLAW_SANDBOX_BACKEND", "native")], "/agents/defaults/sandbox/backend", json!("native"));
    check(file, &[("GOCLAW_SANDBOX_WORKSPACE_ACCESS", "ro")], "/agents/defaults/sandbox/workspace_access", json!("ro"));
    check(file, &[("GOCLAW_SANDBOX_TIMEOUT_SEC", "60")], "/agents/defaults/sandbox/timeout_sec", json!(60));
    check(file, &[("GOCLAW_DATA_DIR", "~/d")], "/data_dir", json!("/home/tester/d"));
    check(file, &[("GOCLAW_WORKSPACE", "/srv/ws")], "/agents/defaults/workspace", json!("/srv/ws"));
    check(file, &[("GOCLAW_TELEMETRY_ENABLED", "on")], "/telemetry/enabled", json!(true));
    check(file, &[("GOCLAW_TELEMETRY_PROTOCOL", "http")], "/telemetry/protocol", json!("http"));
    check(file, &[("GOCLAW_TELEMETRY_ENDPOINT", "otel:4317")], "/telemetry/endpoint", json!("otel:4317"));
    check("{}", &[("GOCLAW_ANTHROPIC_API_KEY", "sk-ant")], "/providers/anthropic/api_key", json!("sk-ant"));
    check("{}", &[("GOCLAW_ZAI_CODING_API_KEY", "zc")], "/providers/zai_coding/api_key", json!("zc"));
    check("{}", &[("GOCLAW_OLLAMA_HOST", "http://o:11434")], "/providers/ollama/host", json!("http://o:11434"));
    check("{}", &[("GOCLAW_OPENAI_BASE_URL", "http://proxy")], "/providers/openai/api_base", json!("http://proxy"));
    check("{}", &[("GOCLAW_BROWSER_REMOTE_URL", "ws://chrome:9222")], "/tools/browser/remote_url", json!("ws://chrome:9222"));
}

#[test]
#[rustfmt::skip]
fn channel_tokens_from_the_environment_enable_channels() {
    check("{}", &[], "/channels/telegram/enabled", json!(false));
    check("{}", &[("GOCLAW_TELEGRAM_TOKEN", "123:abc")], "/channels/telegram/enabled", json!(true));
    check("{}", &[("GOCLAW_TELEGRAM_TOKEN", "123:abc")], "/channels/telegram/token", json!("123:abc"));
    check("{}", &[("GOCLAW_DISCORD_TOKEN", "d")], "/channels/discord/enabled", json!(true));
    check("{}", &[("GOCLAW_ZALO_TOKEN", "z")], "/channels/zalo/enabled", json!(true));
    check("{}", &[("GOCLAW_SLACK_BOT_TOKEN", "xoxb-1")], "/channels/slack/enabled", json!(true));
    check("{}", &[("GOCLAW_LARK_APP_ID", "id")], "/channels/feishu/enabled", json!(false));
    check("{}", &[("GOCLAW_LARK_APP_ID", "id"), ("GOCLAW_LARK_APP_SECRET", "s")], "/channels/feishu/enabled", json!(true));
    check("{ channels: { telegram: { token: 't', enabled: false } } }", &[], "/channels/telegram/enabled", json!(false));
}

#[test]
#[rustfmt::skip]
fn provider_and_model_only_fill_empty_values() {
    let set = "{ agents: { defaults: { provider: 'openai', model: 'gpt-4o' } } }";
    let blank = "{ agents: { defaults: { provider: '', model: '' } } }";
    let vars = [("GOCLAW_PROVIDER", "groq"), ("GOCLAW_MODEL", "llama-3")];
    check(set, &vars, "/agents/defaults/provider", json!("openai"));
    check(set, &vars, "/agents/defaults/model", json!("gpt-4o"));
    check("{}", &vars, "/agents/defaults/provider", json!("groq"));
    check("{}", &vars, "/agents/defaults/model", json!("llama-3"));
    check(blank, &vars, "/agents/defaults/provider", json!("groq"));
    check(blank, &[], "/agents/defaults/provider", json!("anthropic"));
    check(blank, &[], "/agents/defaults/model", json!("claude-sonnet-4-5-20250929"));
}

#[test]
#[rustfmt::skip]
fn exec_approval_accepts_both_spellings() {
    check("{ tools: { execApproval: { security: 'allowlist' } } }", &[], "/tools/execApproval/security", json!("allowlist"));
    check("{ tools: { exec_approval: { security: 'deny', ask: 'on-miss' } } }", &[], "/tools/execApproval/ask", json!("on-miss"));
    assert!(loaded("{ tools: { exec_approval: { security: 'deny' } } }", &[]).warnings.is_empty());
}

#[test]
fn port_zero_is_allowed_and_agent_workspaces_expand_home() {
    check("{ gateway: { port: 0 } }", &[], "/gateway/port", json!(0));
    let text = "{ agents: { list: { bob: { workspace: '~/bob' } } } }";
    check(
        text,
        &[],
        "/agents/list/bob/workspace",
        json!("/home/tester/bob"),
    );
}

//! What loading refuses or reports: unknown keys (warnings with exact
//! paths), bad values and ranges (errors with exact paths), secrets written
//! into the file, and unusable environment values.
#![forbid(unsafe_code)]

mod common;

use common::{check_error, check_warnings};

#[test]
#[rustfmt::skip]
fn unknown_keys_warn_with_their_exact_path() {
    check_warnings("{ gateway: { rate_limt_rpm: 5 } }", &["gateway.rate_limt_rpm"]);
    check_warnings("{ agents: { defaults: { sandbox: { memroy_mb: 5 } } } }", &["agents.defaults.sandbox.memroy_mb"]);
    check_warnings("{ agents: { list: { bob: { modle: 'x' } } } }", &["agents.list.bob.modle"]);
    check_warnings("{ bindings: [{ agentId: 'a', match: { chanel: 'x' } }] }", &["bindings.0.match.chanel"]);
    check_warnings("{ mcp: { servers: {} } }", &["mcp"]);
    check_warnings("{ gateway: { token: 'tok-in-file' } }", &["gateway.token"]);
    check_warnings("{ database: { backend: 'sqlite', sqlite_path: '/x.db' } }", &["database.backend", "database.sqlite_path"]);
    check_warnings("{ database: { postgres_dsn: '' } }", &["database.postgres_dsn"]);
    check_warnings("{ tools: { mcp_servers: { gh: { command: 'gh', env: { ANY: 'thing' } } } } }", &[]);
}

#[test]
#[rustfmt::skip]
fn bad_values_are_errors_with_their_exact_path() {
    check_error("{ gateway: { port: 'abc' } }", &[], "config.json: gateway.port: invalid type: string \"abc\", expected u16");
    check_error("{ gateway: { port: 70000 } }", &[], "config.json: gateway.port: invalid value: integer `70000`, expected u16");
    check_error("{ gateway: { rate_limit_rpm: -1 } }", &[], "config.json: gateway.rate_limit_rpm: invalid value: integer `-1`, expected u32");
    check_error("{ gateway: { injection_action: 'shout' } }", &[], "config.json: gateway.injection_action: unknown variant `shout`, expected one of `log`, `warn`, `block`, `off`");
    check_error("{ agents: { defaults: { sandbox: { mode: 'sometimes' } } } }", &[], "config.json: agents.defaults.sandbox.mode: unknown variant `sometimes`, expected one of `off`, `non-main`, `all`");
    check_error("{ tools: { execApproval: { ask: 'sometimes' } } }", &[], "config.json: tools.execApproval.ask: unknown variant `sometimes`, expected one of `off`, `on-miss`, `always`");
    check_error("{ bindings: [{ agentId: 5 }] }", &[], "config.json: bindings[0].agentId: invalid type: integer `5`, expected a string");
    check_error("{ agents: { defaults: { subagents: { maxSpawnDepth: 6 } } } }", &[], "config.json: agents.defaults.subagents.maxSpawnDepth: must be between 1 and 5, got 6");
    check_error("{ agents: { defaults: { subagents: { maxChildrenPerAgent: 0 } } } }", &[], "config.json: agents.defaults.subagents.maxChildrenPerAgent: must be between 1 and 50, got 0");
    check_error("{ agents: { defaults: { temperature: 2.5 } } }", &[], "config.json: agents.defaults.temperature: must be between 0 and 2, got 2.5");
    check_error("{ agents: { list: { bob: { temperature: -1 } } } }", &[], "config.json: agents.list.bob.temperature: must be between 0 and 2, got -1");
    check_error("{ agents: { defaults: { sandbox: { cpus: 0 } } } }", &[], "config.json: agents.defaults.sandbox.cpus: must be greater than 0, got 0");
    check_error("{ agents: { defaults: { sandbox: { memory_mb: 0 } } } }", &[], "config.json: agents.defaults.sandbox.memory_mb: must be greater than 0, got 0");
    check_error("{ agents: { list: { bob: { sandbox: { memory_mb: 0 } } } } }", &[], "config.json: agents.list.bob.sandbox.memory_mb: must be greater than 0, got 0");
    check_error("{ skills: { max_upload_size_mb: 501 } }", &[], "config.json: skills.max_upload_size_mb: must be between 1 and 500, got 501");
    check_error("{ tools: { mcp_servers: { gh: { timeout_sec: 0, command: 'x' } } } }", &[], "config.json: tools.mcp_servers.gh.timeout_sec: must be greater than 0, got 0");
    check_error("{ tools: { mcp_servers: { gh: { } } } }", &[], "config.json: tools.mcp_servers.gh.command: the stdio transport needs a command to start");
    check_error("{ tools: { mcp_servers: { gh: { transport: 'streamable-http' } } } }", &[], "config.json: tools.mcp_servers.gh.url: must be an http:// or https:// URL");
    check_error("{ tools: { mcp_servers: { gh: { transport: 'sse', url: 'ftp://h/?token=abc' } } } }", &[], "config.json: tools.mcp_servers.gh.url: must be an http:// or https:// URL");
    check_error("{ tools: { mcp_servers: { gh: { transport: 'streamable-http', url: 'https:///mcp' } } } }", &[], "config.json: tools.mcp_servers.gh.url: must be an http:// or https:// URL");
    check_error("{ tools: { mcp_servers: { gh: { command: 'x', tool_prefix: 'my tools' } } } }", &[], "config.json: tools.mcp_servers.gh.tool_prefix: \"my tools\" may hold only letters, digits, `_` and `-`");
    check_error("{ tools: { mcp_servers: { gh: { transport: 'websocket' } } } }", &[], "config.json: tools.mcp_servers.gh.transport: unknown variant `websocket`, expected one of `stdio`, `sse`, `streamable-http`");
    check_error("[1, 2]", &[], "config.json: (root): expected an object, found an array");
    check_error("{\n  gateway: { port: 1 }\n  tools: {}\n}", &[], "config.json: syntax error at line 2, column 20: expected boolean, null, or string");
}

#[test]
#[rustfmt::skip]
fn secrets_in_the_file_are_refused() {
    let hint = "must not be stored in the config file; set";
    check_error("{ database: { postgres_dsn: 'postgres://u:p@h/db' } }", &[], &format!("config.json: database.postgres_dsn {hint} GOCLAW_POSTGRES_DSN in the environment instead"));
    check_error("{ database: { dsn: 'postgres://u:p@h/db' } }", &[], &format!("config.json: database.dsn {hint} GOCLAW_POSTGRES_DSN in the environment instead"));
    check_error("{ database: { redis_dsn: 'redis://r' } }", &[], &format!("config.json: database.redis_dsn {hint} GOCLAW_REDIS_DSN in the environment instead"));
    check_error("{ encryption_key: 'k' }", &[], &format!("config.json: encryption_key {hint} GOCLAW_ENCRYPTION_KEY in the environment instead"));
    check_error("{ gateway: { encryptionKey: 'k' } }", &[], &format!("config.json: gateway.encryptionKey {hint} GOCLAW_ENCRYPTION_KEY in the environment instead"));
    check_error("{ GOCLAW_POSTGRES_DSN: 'postgres://x' }", &[], &format!("config.json: GOCLAW_POSTGRES_DSN {hint} GOCLAW_POSTGRES_DSN in the environment instead"));
    check_error("{ tools: { mcp_servers: { x: { env: { GOCLAW_ENCRYPTION_KEY: 'k' } } } } }", &[], &format!("config.json: tools.mcp_servers.x.env.GOCLAW_ENCRYPTION_KEY {hint} GOCLAW_ENCRYPTION_KEY in the environment instead"));
    check_error("{ tailscale: { auth_key: 'tskey' } }", &[], &format!("config.json: tailscale.auth_key {hint} GOCLAW_TSNET_AUTH_KEY in the environment instead"));
}

#[test]
#[rustfmt::skip]
fn bad_environment_values_name_the_variable() {
    let cases: &[(&str, &str, &str)] = &[
        ("GOCLAW_PORT", "abc", "expected a port number (0-65535), got \"abc\""),
        ("GOCLAW_SANDBOX_MODE", "sometimes", "unknown variant `sometimes`, expected one of `off`, `non-main`, `all`"),
        ("GOCLAW_SANDBOX_BACKEND", "vm", "unknown variant `vm`, expected one of `auto`, `docker`, `native`, `none`"),
        ("GOCLAW_SANDBOX_SCOPE", "global", "unknown variant `global`, expected one of `session`, `agent`, `shared`"),
        ("GOCLAW_SANDBOX_MEMORY_MB", "lots", "expected a positive integer, got \"lots\""),
        ("GOCLAW_SANDBOX_CPUS", "0", "expected a positive number of CPUs, got \"0\""),
        ("GOCLAW_SANDBOX_NETWORK", "maybe", "expected a boolean (1/true/yes/on or 0/false/no/off), got \"maybe\""),
        ("GOCLAW_TELEMETRY_ENABLED", "sure", "expected a boolean (1/true/yes/on or 0/false/no/off), got \"sure\""),
        ("GOCLAW_TELEMETRY_PROTOCOL", "udp", "unknown variant `udp`, expected `grpc` or `http`"),
        ("GOCLAW_LANE_MAIN", "0", "expected a positive integer, got \"0\""),
        ("GOCLAW_LANE_CRON", "-3", "expected a positive integer, got \"-3\""),
        ("GOCLAW_LANE_TEAM", "x", "expected a positive integer, got \"x\""),
        ("GOCLAW_PG_MAX_IDLE_CONNS", "many", "expected a positive integer, got \"many\""),
        ("GOCLAW_LOG_LEVEL", "verbose", "expected one of debug, info, warn, error, got \"verbose\""),
        ("GOCLAW_LOG_FORMAT", "xml", "unknown variant `xml`, expected `json` or `text`"),
        ("GOCLAW_STORAGE_BACKEND", "mysql", "unknown variant `mysql`, expected `sqlite` or `postgres`"),
        ("GOCLAW_ALLOW_INSECURE_NO_AUTH", "please", "expected a boolean (1/true/yes/on or 0/false/no/off), got \"please\""),
    ];
    for (var, value, message) in cases {
        check_error("{}", &[(var, value)], &format!("environment variable {var}: {message}"));
    }
    check_error("{}", &[("GOCLAW_STORAGE_BACKEND", "postgres")], "environment variable GOCLAW_POSTGRES_DSN must be set: GOCLAW_STORAGE_BACKEND=postgres needs a PostgreSQL DSN");
}

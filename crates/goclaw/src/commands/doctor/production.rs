//! `goclaw doctor --production`: the GoClaw Production Checklist, item by item. Every item a
//! program can check is checked against the effective configuration (defaults, file,
//! environment) and the live database; the rest are listed as MANUAL with what to verify by
//! hand. Each finding names the checklist item it covers and, unless it passes, the fix.
//!
//! Judgement calls, so operators know why:
//! - SQLite is a WARN, not a FAIL: it is a supported single-node deployment, but the checklist
//!   (backups, pooling, several replicas) is written for PostgreSQL.
//! - `tools.exec_approval.security` `deny`/`allowlist` are WARN: both are stricter than `full`;
//!   what weakens the shell guard is a disabled `tools.shellDenyGroups` entry, which FAILs.
//! - `gateway.rate_limit_rpm = 0` FAILs (the gateway is open to floods);
//!   `tools.rate_limit_per_hour = 0` only WARNs (tool loops are bounded by the run limits).

use goclaw_config::{
    Environment, ExecSecurity, InjectionAction, LogFormat, SandboxMode, StorageBackend,
};
use goclaw_core::StoreBackend;
use goclaw_store::SchemaState;

use super::probe::{self, DatabaseProbe, FileSecrets};
use super::{Check, ConfigState, Section, Status};

const RUNBOOK: &str = "docs/runbook.md";

/// Headroom on top of the pool for migrations, backups, psql sessions and the reserved
/// superuser slots.
const MIN_HEADROOM: u32 = 10;

/// Placeholder and dictionary values that must never be a gateway token.
const WEAK_TOKENS: [&str; 12] = [
    "changeme",
    "change-me",
    "password",
    "secret",
    "token",
    "goclaw",
    "admin",
    "test",
    "example",
    "your-token",
    "your_token",
    "default",
];

pub async fn audit(state: &ConfigState, env: &Environment) -> Vec<Section> {
    let loaded = &state.loaded;
    let db = probe::database(loaded).await;
    let file = probe::file_secrets(loaded, state.error.as_ref(), env);
    let mut sections = vec![
        database(state, &db, &file),
        secrets(state, &db, &file).await,
        network(state),
        rate_limits(state),
        sandbox(state),
        security(state),
        monitoring(state),
        operations(state),
        tuning(state),
    ];
    if let Some(error) = &state.error {
        // The rest was checked against the defaults: say so first.
        sections.insert(
            0,
            Section::new(
                "Config file",
                vec![
                    Check::fail("config", "config.json", error.to_string())
                        .item("the configuration loads (goclaw refuses to start otherwise)")
                        .fix("correct the file; the items below were checked with the defaults"),
                ],
            ),
        );
    }
    if let Some(opened) = &db.opened {
        opened.close().await;
    }
    sections
}

fn database(state: &ConfigState, db: &DatabaseProbe, file: &FileSecrets) -> Section {
    const S: &str = "database";
    let runtime = &state.loaded.runtime;
    let mut checks = Vec::new();

    let engine = "PostgreSQL 15+ is running with the pgvector extension installed";
    checks.push(match (db.backend, &db.error, &db.info) {
        (StorageBackend::Sqlite, _, _) => Check::warn(
            S,
            "database engine",
            "SQLite: fine for a single small gateway, but the checklist is written for \
             PostgreSQL (pooling, server-side backups, several replicas)",
        )
        .fix("set GOCLAW_POSTGRES_DSN to a PostgreSQL 15+ server with pgvector, then `goclaw upgrade`"),
        (StorageBackend::Postgres, Some(error), _) => Check::fail(S, "database engine", error.clone())
            .fix("check GOCLAW_POSTGRES_DSN and the server (PostgreSQL 15+ with pgvector)"),
        (StorageBackend::Postgres, None, Some(info)) => match &info.vector_version {
            Some(vector) => Check::ok(
                S,
                "database engine",
                format!("PostgreSQL {}, pgvector {vector}", info.version),
            ),
            None => Check::fail(
                S,
                "database engine",
                format!("PostgreSQL {}, pgvector extension not created", info.version),
            )
            .fix("run `goclaw upgrade` (it creates the vector extension)"),
        },
        (StorageBackend::Postgres, None, None) => {
            Check::fail(S, "database engine", "server version unknown")
                .fix("check the connection to the server")
        }
    }
    .item(engine));

    let dsn_item = "GOCLAW_POSTGRES_DSN is set via environment — never in config.json";
    let in_file = file
        .refused
        .as_ref()
        .filter(|(_, var)| *var == "GOCLAW_POSTGRES_DSN" || *var == "GOCLAW_REDIS_DSN");
    checks.push(
        if let Some((path, var)) = in_file {
            Check::fail(S, "GOCLAW_POSTGRES_DSN", format!("config.json holds a DSN at {path}"))
                .fix(format!("remove {path} from config.json and set {var} in the environment"))
        } else if !file.database_keys.is_empty() {
            Check::fail(
                S,
                "GOCLAW_POSTGRES_DSN",
                format!("config.json has database keys ({}), which are ignored", file.database_keys.join(", ")),
            )
            .fix("remove the database section from config.json; configure it with GOCLAW_* variables")
        } else if runtime.database.postgres_dsn.is_some() {
            Check::ok(S, "GOCLAW_POSTGRES_DSN", "set in the environment, not in config.json")
        } else {
            Check::warn(S, "GOCLAW_POSTGRES_DSN", "not set (SQLite in use)")
                .fix("set GOCLAW_POSTGRES_DSN in the environment")
        }
        .item(dsn_item),
    );

    checks.push(pool(runtime, db));

    let schema_item = "Schema is up to date: ./goclaw upgrade --status shows UP TO DATE \
                       (includes every migration of the running version)";
    checks.push(
        match &db.status {
            Some(status) => {
                let label = super::super::upgrade::state_label(status);
                match status.state {
                    SchemaState::UpToDate => Check::ok(S, "schema", label),
                    SchemaState::BinaryTooOld => {
                        Check::fail(S, "schema", label).fix("upgrade the goclaw binary")
                    }
                    _ => Check::fail(S, "schema", label)
                        .fix("back up the database, then run `goclaw upgrade`"),
                }
            }
            None if db.not_created => Check::fail(S, "schema", "the database does not exist yet")
                .fix("run `goclaw onboard` or `goclaw upgrade`"),
            None => Check::fail(S, "schema", "unknown: the database could not be read")
                .fix("fix the connection, then run `goclaw upgrade --status`"),
        }
        .item(schema_item),
    );

    checks.extend(super::vault::checks(db));
    checks.push(
        Check::warn(S, "backups", "cannot be verified from here")
        .item("Automated backups are configured (daily minimum, test restore quarterly)")
        .fix(format!(
            "schedule daily backups and a quarterly test restore; `goclaw backup` from cron; see {RUNBOOK} (Backups)"
        )),
    );
    Section::new("1. Database", checks)
}

fn pool(runtime: &goclaw_config::RuntimeSettings, db: &DatabaseProbe) -> Check {
    const S: &str = "database";
    let item = "Connection pool uses 25 max open / 10 max idle — PostgreSQL max_connections \
                accommodates this plus other clients";
    let open = runtime.database.pg_max_open_conns;
    let idle = runtime.database.pg_max_idle_conns;
    let pool = format!("pool {open} open / {idle} idle");
    let backend = db.opened.as_ref().map(|o| o.backend());
    let Some(max) = db
        .max_connections
        .filter(|_| backend == Some(StoreBackend::Postgres))
    else {
        return Check::new(
            S,
            "connection pool",
            Status::Manual,
            format!("{pool}; server max_connections unknown (not PostgreSQL, or not reachable)"),
        )
        .item(item)
        .fix("check `SHOW max_connections` on the server against the pool of every replica");
    };
    let detail = format!("{pool}; server max_connections = {max}");
    let needed = open + MIN_HEADROOM;
    if max < needed {
        return Check::fail(S, "connection pool", detail).item(item).fix(format!(
            "raise max_connections to at least {needed} (pool {open} + {MIN_HEADROOM} headroom) \
             per replica, or lower GOCLAW_PG_MAX_OPEN_CONNS"
        ));
    }
    if max < 2 * open + MIN_HEADROOM {
        return Check::warn(
            S,
            "connection pool",
            format!("{detail}: little room for a second replica or other clients"),
        )
        .item(item)
        .fix(format!(
            "raise max_connections above {} if other clients or replicas share the server",
            2 * open + MIN_HEADROOM
        ));
    }
    Check::ok(S, "connection pool", detail).item(item)
}

async fn secrets(state: &ConfigState, db: &DatabaseProbe, file: &FileSecrets) -> Section {
    const S: &str = "secrets";
    let loaded = &state.loaded;
    let mut checks = Vec::new();

    let key_item = "GOCLAW_ENCRYPTION_KEY is set to a random 32-byte hex string — back this up";
    let generate = "generate one with `openssl rand -hex 32` (or run `goclaw onboard` / \
                    prepare-env.sh) and back it up in a secrets manager";
    let key = loaded
        .runtime
        .encryption_key
        .as_ref()
        .filter(|k| !k.is_empty());
    checks.push(
        match key {
            None => Check::fail(S, "GOCLAW_ENCRYPTION_KEY", "not set")
                .fix(format!("set GOCLAW_ENCRYPTION_KEY: {generate}")),
            Some(key) => match goclaw_crypto::EncryptionKey::parse(key.expose()) {
                Err(error) => Check::fail(
                    S,
                    "GOCLAW_ENCRYPTION_KEY",
                    format!("not a valid key: {error}"),
                )
                .fix(generate),
                Ok(_) if low_entropy(key.expose()) => Check::fail(
                    S,
                    "GOCLAW_ENCRYPTION_KEY",
                    "parses, but is not random (too few distinct characters)",
                )
                .fix(generate),
                Ok(_) => match &db.opened {
                    Some(opened) => match crate::secrets::check_encryption_key(
                        opened.store().as_ref(),
                        Some(key),
                    )
                    .await
                    {
                        Ok(_) => Check::ok(
                            S,
                            "GOCLAW_ENCRYPTION_KEY",
                            "set, 32 bytes, opens the stored secrets",
                        ),
                        Err(error) => {
                            Check::fail(S, "GOCLAW_ENCRYPTION_KEY", crate::one_line(&error)).fix(
                                "restore the key the database was encrypted with from your backup",
                            )
                        }
                    },
                    None => Check::ok(S, "GOCLAW_ENCRYPTION_KEY", "set, 32 bytes"),
                },
            },
        }
        .item(key_item),
    );

    let token_item = "GOCLAW_GATEWAY_TOKEN is set to a strong random value";
    let token = loaded
        .config
        .gateway
        .token
        .as_ref()
        .map(|t| t.expose())
        .filter(|t| !t.is_empty());
    let token_fix = "set GOCLAW_GATEWAY_TOKEN to `openssl rand -hex 32` (or run `goclaw onboard`)";
    checks.push(
        match token {
            None => Check::fail(S, "GOCLAW_GATEWAY_TOKEN", "not set").fix(token_fix),
            Some(t) if t.chars().count() < 32 => Check::fail(
                S,
                "GOCLAW_GATEWAY_TOKEN",
                format!("only {} characters (at least 32 needed)", t.chars().count()),
            )
            .fix(token_fix),
            Some(t) if weak_token(t) => Check::fail(
                S,
                "GOCLAW_GATEWAY_TOKEN",
                "a placeholder or dictionary value, or not random",
            )
            .fix(token_fix),
            Some(_) => Check::ok(
                S,
                "GOCLAW_GATEWAY_TOKEN",
                format!("set, {} characters", token.map_or(0, str::len)),
            ),
        }
        .item(token_item),
    );

    let file_item = "Neither secret appears in config.json; provider API keys are set via \
                     environment or the dashboard";
    let mut in_file = file.paths.clone();
    if let Some((path, _)) = &file.refused {
        in_file.push(path.clone());
    }
    checks.push(
        if in_file.is_empty() {
            Check::ok(S, "config.json secrets", "no secrets in config.json")
        } else {
            Check::fail(S, "config.json secrets", format!("secret values in config.json at {}", in_file.join(", ")))
                .fix("move each value to its GOCLAW_* environment variable (see docs/config.md) and remove it from the file")
        }
        .item(file_item),
    );
    checks.push(
        Check::new(
            S,
            "git history and logs",
            Status::Manual,
            "not checkable from here",
        )
        .item("Neither secret appears in git history or logs")
        .fix("`git log -p | grep` for the token and key; logs should show them masked (***)"),
    );
    Section::new("2. Secrets and encryption", checks)
}

/// Fewer than 8 distinct characters in a 32+ character value: `0000…`, `abab…`.
fn low_entropy(value: &str) -> bool {
    let mut distinct: Vec<char> = value.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() < 8
}

/// Not random, or built around a placeholder word (`changeme-changeme-…`, `your-token-here…`).
fn weak_token(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    low_entropy(token) || WEAK_TOKENS.iter().any(|word| lower.contains(word))
}

fn network(state: &ConfigState) -> Section {
    const S: &str = "network";
    let loaded = &state.loaded;
    let gateway = &loaded.config.gateway;
    let token_set = gateway.token.as_ref().is_some_and(|t| !t.is_empty());
    let loopback = is_loopback(&gateway.host);
    let mut checks = vec![
        Check::new(
            S,
            "TLS termination",
            Status::Manual,
            "GoClaw does not terminate TLS",
        )
        .item("TLS termination is in place (nginx, Caddy, Cloudflare, or load balancer)")
        .fix("put a TLS-terminating proxy in front of the gateway"),
    ];
    let bind_item = "Gateway is not exposed directly on a public port without TLS (and never \
                     without a token)";
    let host = &gateway.host;
    checks.push(
        if loopback {
            Check::ok(S, "gateway.host", format!("{host} (loopback only)"))
        } else if !token_set {
            Check::fail(
                S,
                "gateway.host",
                format!("{host} is not loopback and no gateway token is set"),
            )
            .fix("set GOCLAW_GATEWAY_TOKEN, or bind gateway.host to 127.0.0.1 behind a proxy")
        } else if loaded.runtime.allow_insecure_no_auth {
            Check::warn(
                S,
                "gateway.host",
                format!("{host} with GOCLAW_ALLOW_INSECURE_NO_AUTH set"),
            )
            .fix("unset GOCLAW_ALLOW_INSECURE_NO_AUTH")
        } else {
            Check::new(
                S,
                "gateway.host",
                Status::Manual,
                format!("{host} with a token: reachable from the network"),
            )
            .fix("make sure only the TLS proxy can reach this port")
        }
        .item(bind_item),
    );
    checks.push(
        if gateway.allowed_origins.is_empty() {
            Check::warn(S, "gateway.allowed_origins", "empty: every WebSocket origin is allowed")
                .fix("set gateway.allowed_origins to your dashboard origins, e.g. [\"https://your-dashboard.example.com\"]")
        } else {
            Check::ok(S, "gateway.allowed_origins", gateway.allowed_origins.join(", "))
        }
        .item("gateway.allowed_origins is set to your actual client origins"),
    );
    Section::new("3. Network and TLS", checks)
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn rate_limits(state: &ConfigState) -> Section {
    const S: &str = "rate limits";
    let config = &state.loaded.config;
    let rpm = config.gateway.rate_limit_rpm;
    let per_hour = config.tools.rate_limit_per_hour;
    let checks = vec![
        if rpm == 0 {
            Check::fail(S, "gateway.rate_limit_rpm", "0: rate limiting is disabled")
                .fix("set gateway.rate_limit_rpm (default 20 requests/minute per user)")
        } else {
            Check::ok(
                S,
                "gateway.rate_limit_rpm",
                format!("{rpm} requests/minute per user"),
            )
        }
        .item("gateway.rate_limit_rpm is set (default 20, 0 = disabled)"),
        if per_hour == 0 {
            Check::warn(
                S,
                "tools.rate_limit_per_hour",
                "0: tool executions are unlimited",
            )
            .fix("set tools.rate_limit_per_hour (default 150 per session)")
        } else {
            Check::ok(
                S,
                "tools.rate_limit_per_hour",
                format!("{per_hour} tool executions/hour per session"),
            )
        }
        .item("tools.rate_limit_per_hour is set (default 150, 0 = disabled)"),
    ];
    Section::new("4. Rate limiting", checks)
}

fn sandbox(state: &ConfigState) -> Section {
    const S: &str = "sandbox";
    let config = &state.loaded.config;
    let sandbox = &config.agents.defaults.sandbox;
    let mode = super::sandbox::mode_name(sandbox.mode);
    let mut checks = vec![
        if sandbox.mode == SandboxMode::Off {
            Check::warn(
                S,
                "sandbox.mode",
                "off: the owner's and admins' shell commands run on the host",
            )
                .fix("set agents.defaults.sandbox.mode to \"non-main\" or \"all\" if agents execute code")
        } else {
            Check::ok(S, "sandbox.mode", mode)
        }
        .item("sandbox.mode is set: off, non-main or all"),
    ];
    checks.push(
        if config.tools.host_exec_for_users {
            Check::fail(
                S,
                "tools.host_exec_for_users",
                "true: every user's exec and file tools run on the host as the gateway's user",
            )
            .fix("set tools.host_exec_for_users to false (default) so users' tools run in the sandbox")
        } else {
            Check::ok(
                S,
                "tools.host_exec_for_users",
                "false: only the owner's and admins' tools may run on the host",
            )
        }
        .item("sandbox.mode is set: off, non-main or all"),
    );
    let mut networked: Vec<String> = Vec::new();
    if sandbox.network_enabled {
        networked.push("agents.defaults.sandbox".to_owned());
    }
    for (id, spec) in &config.agents.list {
        if spec.sandbox.as_ref().is_some_and(|s| s.network_enabled) {
            networked.push(format!("agents.list.{id}.sandbox"));
        }
    }
    checks.push(
        if networked.is_empty() {
            Check::ok(S, "sandbox.network_enabled", "false")
        } else {
            Check::warn(
                S,
                "sandbox.network_enabled",
                format!("true in {}", networked.join(", ")),
            )
            .fix(
                "set sandbox.network_enabled to false unless agents explicitly need network access",
            )
        }
        .item("sandbox.network_enabled is false unless agents explicitly need network access"),
    );
    checks.push(
        if sandbox.read_only_root {
            Check::ok(S, "sandbox.read_only_root", "true")
        } else {
            Check::warn(
                S,
                "sandbox.read_only_root",
                "false: the container root filesystem is writable",
            )
            .fix("set agents.defaults.sandbox.read_only_root to true")
        }
        .item("sandbox.read_only_root is true (default)"),
    );
    let timeout = sandbox.timeout_sec;
    checks.push(
        if timeout > 1800 {
            Check::warn(S, "sandbox.timeout_sec", format!("{timeout}s"))
                .fix("lower agents.defaults.sandbox.timeout_sec (default 300)")
        } else {
            Check::ok(S, "sandbox.timeout_sec", format!("{timeout}s"))
        }
        .item("sandbox.timeout_sec is set to a reasonable limit (default 300s)"),
    );
    checks.push(
        Check::ok(
            S,
            "sandbox resources",
            format!(
                "memory_mb {}, cpus {}, idle_hours {}, max_age_days {}",
                sandbox.memory_mb, sandbox.cpus, sandbox.idle_hours, sandbox.max_age_days
            ),
        )
        .item("sandbox.memory_mb, cpus, idle_hours and max_age_days are tuned for your workload"),
    );
    Section::new("5. Sandbox", checks)
}

fn security(state: &ConfigState) -> Section {
    const S: &str = "security";
    let config = &state.loaded.config;
    let mut checks = Vec::new();
    let action = config.gateway.injection_action;
    checks.push(
        match action {
            InjectionAction::Off => {
                Check::fail(S, "gateway.injection_action", "off: input is not scanned")
                    .fix("set gateway.injection_action to \"warn\" (default) or \"block\"")
            }
            InjectionAction::Log => Check::warn(
                S,
                "gateway.injection_action",
                "log: detections are only logged at info level",
            )
            .fix("set gateway.injection_action to \"warn\" (default) or \"block\""),
            InjectionAction::Warn => Check::ok(S, "gateway.injection_action", "warn"),
            InjectionAction::Block => Check::ok(S, "gateway.injection_action", "block"),
        }
        .item("gateway.injection_action is \"warn\" or \"block\" — never \"off\""),
    );
    let exec = &config.tools.exec_approval;
    let exec_item =
        "tools.exec_approval.security is \"full\" (default) — blocks dangerous shell patterns";
    checks.push(
        match exec.security {
            ExecSecurity::Full => Check::ok(S, "tools.exec_approval.security", "full"),
            ExecSecurity::Deny => Check::warn(S, "tools.exec_approval.security", "deny: agents cannot run any shell command (stricter than the checklist)")
                .fix("set tools.exec_approval.security to \"full\" unless shell access is meant to be off"),
            ExecSecurity::Allowlist => Check::warn(S, "tools.exec_approval.security", format!("allowlist ({} globs): only listed commands run", exec.allowlist.len()))
                .fix("set tools.exec_approval.security to \"full\", or keep the allowlist narrow (no `*`)"),
        }
        .item(exec_item),
    );
    let disabled: Vec<&str> = config
        .tools
        .shell_deny_groups
        .iter()
        .filter(|(_, deny)| !**deny)
        .map(|(group, _)| group.as_str())
        .collect();
    checks.push(
        if disabled.is_empty() {
            Check::ok(
                S,
                "tools.shellDenyGroups",
                "every dangerous-command group is denied",
            )
        } else {
            Check::fail(
                S,
                "tools.shellDenyGroups",
                format!("dangerous-command groups allowed: {}", disabled.join(", ")),
            )
            .fix("remove the `false` entries from tools.shellDenyGroups")
        }
        .item(exec_item),
    );
    checks.push(
        if config.agents.defaults.restrict_to_workspace {
            Check::ok(S, "agents.defaults.restrict_to_workspace", "true")
        } else {
            Check::fail(
                S,
                "agents.defaults.restrict_to_workspace",
                "false: file tools can reach outside the workspace",
            )
            .fix("set agents.defaults.restrict_to_workspace to true")
        }
        .item("agents.defaults.restrict_to_workspace is true (default)"),
    );
    checks.push(
        Check::new(
            S,
            "tools.web_fetch",
            Status::Manual,
            "domain allow/deny lists need a human review",
        )
        .item("Review tools.web_fetch domain allow/deny lists if agents browse the web")
        .fix("check tools.web_fetch in `goclaw config show`"),
    );
    Section::new("6. Security", checks)
}

fn monitoring(state: &ConfigState) -> Section {
    const S: &str = "monitoring";
    let loaded = &state.loaded;
    let manual = |name: &str, item: &'static str, fix: &str| {
        Check::new(S, name, Status::Manual, "not checkable from here")
            .item(item)
            .fix(fix)
    };
    let checks = vec![
        if loaded.runtime.log_format == LogFormat::Json {
            Check::ok(S, "log format", "json (structured)")
        } else {
            Check::warn(S, "log format", "text")
                .fix("unset GOCLAW_LOG_FORMAT (or set it to json) so collectors can parse the logs")
        }
        .item("Log output is collected — GoClaw uses structured JSON logging"),
        manual(
            "security alerts",
            "Alert on repeated security.* log entries",
            "alert on log lines whose message starts with `security.`",
        ),
        manual(
            "tracing alerts",
            "Alert on `tracing: span buffer full`",
            "alert on that log message",
        ),
        manual(
            "uptime",
            "Uptime monitoring is configured (ping /health)",
            "monitor GET /health",
        ),
        if loaded.config.telemetry.enabled {
            Check::ok(S, "telemetry", "OpenTelemetry export enabled")
        } else {
            Check::new(
                S,
                "telemetry",
                Status::Manual,
                "OpenTelemetry export is off",
            )
            .fix("consider telemetry.enabled with an OTLP endpoint")
        }
        .item("Consider enabling OTel export for trace-level visibility"),
    ];
    Section::new("7. Monitoring and alerting", checks)
}

fn operations(state: &ConfigState) -> Section {
    const S: &str = "operations";
    let runtime = &state.loaded.runtime;
    let checks = vec![
        Check::new(S, "log rotation", Status::Manual, "not checkable from here")
            .item("Log rotation is configured if writing to files")
            .fix("use logrotate or your container runtime's log driver"),
        if runtime.auto_upgrade {
            Check::warn(S, "GOCLAW_AUTO_UPGRADE", "true: schema migrations run at start-up")
                .fix("keep it only if you accept automatic migrations; otherwise unset it and run `goclaw upgrade` explicitly")
        } else {
            Check::ok(S, "GOCLAW_AUTO_UPGRADE", "not set: upgrades are explicit (`goclaw upgrade`)")
        }
        .item("GOCLAW_AUTO_UPGRADE=true is set only if you accept automatic schema migrations"),
        Check::new(S, "runbook", Status::Manual, format!("see {RUNBOOK}"))
            .item("A runbook exists for restart, rollback, DB restore and encryption key rotation")
            .fix(format!("adapt {RUNBOOK} to your deployment")),
        Check::new(S, "API keys", Status::Manual, "scoped keys cannot be audited offline")
            .item("Create scoped API keys instead of sharing the gateway token; rotate them")
            .fix("`goclaw keys list`, `goclaw keys create --name … --scopes operator.read`"),
    ];
    Section::new("8–9. Operations and API keys", checks)
}

fn tuning(state: &ConfigState) -> Section {
    const S: &str = "tuning";
    let loaded = &state.loaded;
    let lanes = loaded.runtime.lanes;
    let gateway = &loaded.config.gateway;
    let mut checks = vec![
        Check::ok(S, "GOCLAW_LANE_MAIN", lanes.main.to_string())
            .item("GOCLAW_LANE_* are tuned to your server resources"),
        Check::ok(S, "GOCLAW_LANE_SUBAGENT", lanes.subagent.to_string())
            .item("GOCLAW_LANE_* are tuned to your server resources"),
        Check::ok(S, "GOCLAW_LANE_CRON", lanes.cron.to_string())
            .item("GOCLAW_LANE_* are tuned to your server resources"),
        Check::ok(S, "GOCLAW_LANE_DELEGATE", lanes.delegate.to_string())
            .item("GOCLAW_LANE_* are tuned to your server resources"),
    ];
    let owners = &gateway.owner_ids;
    checks.push(
        if owners.iter().any(|o| o.trim() == "*") {
            Check::fail(
                S,
                "gateway.owner_ids",
                "contains \"*\": everyone is an owner",
            )
            .fix("list only trusted admin user IDs in gateway.owner_ids")
        } else if owners.len() > 5 {
            Check::warn(
                S,
                "gateway.owner_ids",
                format!("{} owners: {}", owners.len(), owners.join(", ")),
            )
            .fix("keep gateway.owner_ids minimal")
        } else {
            let shown = if owners.is_empty() {
                "(none)".to_owned()
            } else {
                owners.join(", ")
            };
            Check::new(S, "gateway.owner_ids", Status::Manual, shown)
                .fix("confirm every listed ID is a trusted admin")
        }
        .item("gateway.owner_ids contains only trusted admin user IDs"),
    );
    let chars = gateway.max_message_chars;
    checks.push(
        if chars == 0 || chars > 128_000 {
            Check::warn(S, "gateway.max_message_chars", chars.to_string())
                .fix("set gateway.max_message_chars to what your users need (default 32000)")
        } else {
            Check::ok(S, "gateway.max_message_chars", chars.to_string())
        }
        .item("gateway.max_message_chars is appropriate for your use case"),
    );
    Section::new("10–11. Concurrency and gateway tuning", checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_tokens_are_recognized() {
        for (token, weak) in [
            ("changeme-changeme-changeme-changeme", true),
            ("your-token-here-your-token-here-000", true),
            ("00000000000000000000000000000000", true),
            ("abababababababababababababababab", true),
            (
                "e383564f51753b2cb98e890a3809f7c42f463126507291cd217ee3564f3e2e6e",
                false,
            ),
        ] {
            assert_eq!(weak_token(token), weak, "weak_token({token:?})");
        }
    }

    #[test]
    fn loopback_hosts() {
        for (host, loopback) in [
            ("127.0.0.1", true),
            ("localhost", true),
            ("::1", true),
            ("[::1]", true),
            ("0.0.0.0", false),
            ("192.168.1.10", false),
        ] {
            assert_eq!(is_loopback(host), loopback, "is_loopback({host:?})");
        }
    }
}

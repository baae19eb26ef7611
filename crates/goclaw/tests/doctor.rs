//! `goclaw doctor`, run as the real executable: the sandbox section names the backend in use
//! and why, and fails when sandboxed agents could not run; `--json` says the same as the text;
//! `--production` passes an onboarded PostgreSQL deployment with the recommended settings and
//! fails, item by item with the fix, on a deliberately bad config.json; the vault items are
//! checked against the live schema on both engines.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use goclaw_store::StoreOptions;
use goclaw_testkit::{StoreBackend, TestDatabase};
use support::{Finished, Goclaw, home};

fn bwrap_available() -> bool {
    std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn no_backend_for_sandboxed_agents_is_a_failure() {
    let home = home();
    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_MODE", "all")
        .env("GOCLAW_SANDBOX_BACKEND", "none")
        .args(&["doctor"])
        .run()
        .await;
    assert!(!done.success, "{done:?}");
    assert!(done.stdout.contains("mode:     all"), "{}", done.stdout);
    assert!(done.stdout.contains("backend:  none"), "{}", done.stdout);
    assert!(
        done.stdout.contains("sandbox.backend is \"none\""),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("problem:"), "{}", done.stdout);
}

#[tokio::test]
async fn unreachable_docker_is_reported_with_the_reason() {
    let home = home();
    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_BACKEND", "docker")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(&["doctor"])
        .run()
        .await;
    // Nothing is sandboxed (mode off), so this is only information.
    assert!(done.success, "{done:?}");
    assert!(done.stdout.contains("backend:  none"), "{}", done.stdout);
    assert!(
        done.stdout.contains("Docker is not usable"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("sandbox.mode is off"),
        "{}",
        done.stdout
    );
    // Without a backend, users' tools have nowhere to run: said, not hidden.
    assert!(
        done.stdout
            .contains("other users' exec and file tools are refused (no sandbox backend)"),
        "{}",
        done.stdout
    );
}

#[tokio::test]
async fn native_backend_is_chosen_without_docker() {
    if !bwrap_available() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "bubblewrap is required under CI=true: run scripts/sandbox.sh"
        );
        eprintln!("skipping: bubblewrap is not installed");
        return;
    }
    let home = home();
    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_MODE", "non-main")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(&["doctor"])
        .run()
        .await;
    assert!(done.success, "{done:?}");
    assert!(done.stdout.contains("backend:  native"), "{}", done.stdout);
    assert!(
        done.stdout.contains("Docker is not usable"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("enforces: "), "{}", done.stdout);
}

#[tokio::test]
async fn docker_is_preferred_when_its_api_answers() {
    let Ok(docker_host) = std::env::var("GOCLAW_TEST_DOCKER_HOST") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "GOCLAW_TEST_DOCKER_HOST is required under CI=true: run scripts/sandbox.sh"
        );
        eprintln!("skipping: GOCLAW_TEST_DOCKER_HOST is not set");
        return;
    };
    let image = std::env::var("GOCLAW_TEST_SANDBOX_IMAGE")
        .expect("scripts/sandbox.sh sets GOCLAW_TEST_SANDBOX_IMAGE with GOCLAW_TEST_DOCKER_HOST");
    let home = home();
    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_MODE", "all")
        .env("GOCLAW_SANDBOX_IMAGE", "goclaw-sandbox:no-such-image")
        .env("DOCKER_HOST", &docker_host)
        .args(&["doctor"])
        .run()
        .await;
    assert!(
        done.stdout
            .contains("image goclaw-sandbox:no-such-image is not present"),
        "{}",
        done.stdout
    );
    assert!(!done.stdout.contains("backend:  docker"), "{}", done.stdout);

    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_MODE", "all")
        .env("GOCLAW_SANDBOX_IMAGE", &image)
        .env("DOCKER_HOST", &docker_host)
        .args(&["doctor"])
        .run()
        .await;
    assert!(done.success, "{done:?}");
    assert!(done.stdout.contains("backend:  docker"), "{}", done.stdout);
    assert!(
        done.stdout.contains("\"auto\" and the Docker API answers"),
        "{}",
        done.stdout
    );
}

/// `status name: detail` lines of the text output, as `--json` reports them.
fn check_json_matches_text(json: &serde_json::Value, text: &str, production: bool) {
    for check in json["checks"].as_array().expect("checks array") {
        let status = check["status"].as_str().expect("status");
        let label = match (status, production) {
            ("ok", false) => "ok".to_owned(),
            ("pass", true) => "PASS".to_owned(),
            ("fail", _) => "FAIL".to_owned(),
            ("warn", false) => "warn".to_owned(),
            ("unused", false) => "unused".to_owned(),
            (other, true) => other.to_ascii_uppercase(),
            (other, false) => panic!("unexpected doctor status {other}"),
        };
        if check["section"] == "sandbox" && !production {
            continue; // printed as `label: value` lines
        }
        // Two runs are two processes: the plain doctor's details (pid, created directories)
        // may differ, its verdicts may not.
        let name = check["name"].as_str().expect("name");
        let line = if production {
            format!(
                "{label:<6} {name}: {}",
                check["detail"].as_str().expect("detail")
            )
        } else {
            format!("{label:<6} {name}: ")
        };
        assert!(text.contains(&line), "missing {line:?} in:\n{text}");
    }
}

#[tokio::test]
async fn json_output_parses_and_matches_the_text() {
    let home = home();
    let run = |json: bool| {
        let mut args = vec!["doctor"];
        if json {
            args.push("--json");
        }
        Goclaw::new(home.path())
            .env("GOCLAW_SANDBOX_BACKEND", "none")
            .env("GOCLAW_SANDBOX_MODE", "all")
            .args(&args)
            .run()
    };
    let text = run(false).await;
    let json = run(true).await;
    assert_eq!(text.code, Some(1), "{text:?}");
    assert_eq!(json.code, Some(1), "{json:?}");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(report["ok"], false);
    let sandbox = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["section"] == "sandbox")
        .expect("a sandbox check");
    assert_eq!(sandbox["status"], "fail");
    assert!(
        sandbox["fix"]
            .as_str()
            .is_some_and(|f| f.contains("bubblewrap"))
    );
    check_json_matches_text(&report, &text.stdout, false);
    for section in [
        "runtime",
        "config",
        "database",
        "providers",
        "channels",
        "tools",
        "workspace",
    ] {
        assert!(
            report["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .any(|c| c["section"] == section),
            "no {section} check: {report:#}"
        );
    }
}

#[tokio::test]
async fn broken_config_fails_the_validation_check_with_the_error() {
    let home = home();
    std::fs::write(
        home.path().join("config.json"),
        "{ gateway: { port: \"x\" } }",
    )
    .expect("write");
    let done = Goclaw::new(home.path()).args(&["doctor"]).run().await;
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        done.stdout.contains("FAIL   validation:"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("gateway.port"), "{}", done.stdout);
    assert!(
        done.stdout.contains("Runtime"),
        "the rest is still checked: {}",
        done.stdout
    );
}

async fn onboarded_postgres(home: &Path) -> Option<(TestDatabase, BTreeMap<String, String>)> {
    let db = TestDatabase::new(StoreBackend::Postgres).await?;
    let StoreOptions::Postgres(pg) = db.options() else {
        panic!("a PostgreSQL test database");
    };
    let dsn = pg.expose_dsn().to_owned();
    let done = Goclaw::new(home)
        .args(&["onboard", "--non-interactive", "--postgres-dsn", &dsn])
        .run()
        .await;
    assert!(done.success, "{done:?}");
    let vars = std::fs::read_to_string(home.join(".env.local"))
        .expect("env file")
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.starts_with('#'))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect();
    Some((db, vars))
}

async fn production(
    home: &Path,
    vars: &BTreeMap<String, String>,
    extra: &[(&str, &str)],
    json: bool,
) -> Finished {
    let mut goclaw = vars.iter().fold(Goclaw::new(home), |g, (k, v)| g.env(k, v));
    for (k, v) in extra {
        goclaw = goclaw.env(k, v);
    }
    let args: &[&str] = if json {
        &["doctor", "--production", "--json"]
    } else {
        &["doctor", "--production"]
    };
    goclaw.args(args).run().await
}

/// The line of item `name` with its verdict, then its fix.
fn assert_item(out: &str, verdict: &str, name: &str, fix: &str) {
    let start = format!("{verdict:<6} {name}: ");
    let at = out
        .find(&start)
        .unwrap_or_else(|| panic!("no {start:?} line in:\n{out}"));
    let block: String = out[at..]
        .lines()
        .take_while(|l| !l.is_empty())
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with("         "))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert!(
        block.contains("checklist: "),
        "{name}: no checklist item in:\n{block}"
    );
    if verdict != "PASS" {
        assert!(
            block.contains(&format!("fix: {fix}")),
            "{name}: no fix {fix:?} in:\n{block}"
        );
    }
}

const RECOMMENDED: &str = r#"{
  // What the production checklist recommends.
  gateway: {
    host: "127.0.0.1",
    allowed_origins: ["https://dashboard.example.com"],
    rate_limit_rpm: 20,
    injection_action: "warn",
  },
  tools: { rate_limit_per_hour: 150, execApproval: { security: "full" } },
  agents: {
    defaults: {
      restrict_to_workspace: true,
      sandbox: { mode: "non-main", network_enabled: false, read_only_root: true, timeout_sec: 120 },
    },
  },
}"#;

const BAD: &str = r#"{
  gateway: {
    host: "0.0.0.0",
    rate_limit_rpm: 0,
    injection_action: "off",
    owner_ids: ["*"],
  },
  tools: {
    rate_limit_per_hour: 0,
    execApproval: { security: "allowlist", allowlist: ["*"] },
    shellDenyGroups: { destructive_ops: false },
    host_exec_for_users: true,
  },
  providers: { openai: { api_key: "sk-openai-in-the-file-0123456789" } },
  agents: {
    defaults: {
      restrict_to_workspace: false,
      sandbox: { mode: "all", network_enabled: true, read_only_root: false, timeout_sec: 7200 },
    },
  },
}"#;

#[tokio::test]
async fn production_audit_passes_the_recommended_setup() {
    let home = home();
    let Some((_db, vars)) = onboarded_postgres(home.path()).await else {
        return;
    };
    std::fs::write(home.path().join("config.json"), RECOMMENDED).expect("config.json");
    let done = production(home.path(), &vars, &[], false).await;
    assert!(done.success, "{done:?}");
    let out = &done.stdout;
    assert!(!out.contains("  FAIL "), "{out}");
    for name in [
        "database engine",
        "GOCLAW_POSTGRES_DSN",
        "connection pool",
        "schema",
        "GOCLAW_ENCRYPTION_KEY",
        "GOCLAW_GATEWAY_TOKEN",
        "config.json secrets",
        "gateway.host",
        "gateway.allowed_origins",
        "gateway.rate_limit_rpm",
        "tools.rate_limit_per_hour",
        "sandbox.mode",
        "tools.host_exec_for_users",
        "sandbox.network_enabled",
        "sandbox.read_only_root",
        "gateway.injection_action",
        "tools.exec_approval.security",
        "agents.defaults.restrict_to_workspace",
        "log format",
        "GOCLAW_AUTO_UPGRADE",
        "GOCLAW_LANE_MAIN",
        "GOCLAW_LANE_CRON",
        "GOCLAW_LANE_SUBAGENT",
        "GOCLAW_LANE_DELEGATE",
    ] {
        assert_item(out, "PASS", name, "");
    }
    assert_item(
        out,
        "MANUAL",
        "TLS termination",
        "put a TLS-terminating proxy",
    );
    assert_item(out, "WARN", "backups", "schedule daily backups");
    assert!(out.contains("docs/runbook.md"), "{out}");
    assert!(out.contains("0 FAIL"), "{out}");

    let json = production(home.path(), &vars, &[], true).await;
    assert!(json.success, "{json:?}");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(report["ok"], true);
    check_json_matches_text(&report, out, true);
}

#[tokio::test]
async fn production_audit_fails_a_bad_config_item_by_item() {
    let home = home();
    let Some((_db, mut vars)) = onboarded_postgres(home.path()).await else {
        return;
    };
    vars.remove("GOCLAW_GATEWAY_TOKEN");
    std::fs::write(home.path().join("config.json"), BAD).expect("config.json");
    let extra = [
        ("GOCLAW_AUTO_UPGRADE", "true"),
        ("GOCLAW_LOG_FORMAT", "text"),
    ];
    let done = production(home.path(), &vars, &extra, false).await;
    assert_eq!(done.code, Some(1), "{done:?}");
    let out = &done.stdout;
    for (verdict, name, fix) in [
        (
            "FAIL",
            "gateway.injection_action",
            "set gateway.injection_action to \"warn\" (default) or \"block\"",
        ),
        (
            "FAIL",
            "agents.defaults.restrict_to_workspace",
            "set agents.defaults.restrict_to_workspace to true",
        ),
        (
            "FAIL",
            "gateway.rate_limit_rpm",
            "set gateway.rate_limit_rpm (default 20",
        ),
        (
            "FAIL",
            "gateway.host",
            "set GOCLAW_GATEWAY_TOKEN, or bind gateway.host to 127.0.0.1",
        ),
        (
            "FAIL",
            "GOCLAW_GATEWAY_TOKEN",
            "set GOCLAW_GATEWAY_TOKEN to `openssl rand -hex 32`",
        ),
        (
            "FAIL",
            "tools.shellDenyGroups",
            "remove the `false` entries from tools.shellDenyGroups",
        ),
        (
            "FAIL",
            "tools.host_exec_for_users",
            "set tools.host_exec_for_users to false (default)",
        ),
        (
            "FAIL",
            "config.json secrets",
            "move each value to its GOCLAW_* environment variable",
        ),
        (
            "FAIL",
            "gateway.owner_ids",
            "list only trusted admin user IDs",
        ),
        (
            "WARN",
            "tools.exec_approval.security",
            "set tools.exec_approval.security to \"full\"",
        ),
        (
            "WARN",
            "tools.rate_limit_per_hour",
            "set tools.rate_limit_per_hour (default 150",
        ),
        (
            "WARN",
            "sandbox.network_enabled",
            "set sandbox.network_enabled to false",
        ),
        (
            "WARN",
            "sandbox.read_only_root",
            "set agents.defaults.sandbox.read_only_root to true",
        ),
        (
            "WARN",
            "sandbox.timeout_sec",
            "lower agents.defaults.sandbox.timeout_sec",
        ),
        (
            "WARN",
            "gateway.allowed_origins",
            "set gateway.allowed_origins",
        ),
        (
            "WARN",
            "GOCLAW_AUTO_UPGRADE",
            "keep it only if you accept automatic migrations",
        ),
        ("WARN", "log format", "unset GOCLAW_LOG_FORMAT"),
    ] {
        assert_item(out, verdict, name, fix);
    }
    assert!(out.contains("providers.openai.api_key"), "{out}");
    assert!(
        !out.contains("sk-openai-in-the-file"),
        "secret printed: {out}"
    );
    assert!(out.contains("Not ready for production"), "{out}");

    let json = production(home.path(), &vars, &extra, true).await;
    assert_eq!(json.code, Some(1));
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(report["ok"], false);
    check_json_matches_text(&report, out, true);
}

#[tokio::test]
async fn production_audit_fails_a_dsn_in_config_json_and_missing_secrets() {
    let home = home();
    std::fs::write(
        home.path().join("config.json"),
        r#"{ database: { dsn: "postgres://goclaw:pw@db/goclaw" } }"#,
    )
    .expect("config.json");
    let done = Goclaw::new(home.path())
        .args(&["doctor", "--production"])
        .run()
        .await;
    assert_eq!(done.code, Some(1), "{done:?}");
    let out = &done.stdout;
    assert_item(
        out,
        "FAIL",
        "GOCLAW_POSTGRES_DSN",
        "remove database.dsn from config.json and set GOCLAW_POSTGRES_DSN",
    );
    assert_item(
        out,
        "FAIL",
        "GOCLAW_ENCRYPTION_KEY",
        "set GOCLAW_ENCRYPTION_KEY",
    );
    assert_item(out, "WARN", "database engine", "set GOCLAW_POSTGRES_DSN");
    assert!(!out.contains(":pw@"), "DSN printed: {out}");
}

/// Channel credentials for features this version does not have, and lane sizes (every lane
/// is in use).
const UNUSED_SETTINGS: [(&str, &str); 4] = [
    ("GOCLAW_ZALO_TOKEN", "zalo-token-abcdefghijkl"),
    ("GOCLAW_WHATSAPP_BRIDGE_URL", "ws://127.0.0.1:3001"),
    ("GOCLAW_LANE_SUBAGENT", "7"),
    ("GOCLAW_LANE_DELEGATE", "8"),
];

#[tokio::test]
async fn settings_of_features_this_version_lacks_are_reported_unused_never_ok() {
    let home = home();
    let goclaw = UNUSED_SETTINGS
        .iter()
        .fold(Goclaw::new(home.path()), |g, (k, v)| g.env(k, v))
        .env("GOCLAW_SANDBOX_MODE", "off");
    let done = goclaw.args(&["doctor", "--json"]).run().await;
    let report: serde_json::Value = serde_json::from_str(&done.stdout).expect("one JSON document");
    let checks = report["checks"].as_array().expect("checks");
    let channels: Vec<&serde_json::Value> = checks
        .iter()
        .filter(|c| c["section"] == "channels")
        .collect();
    let names: Vec<&str> = channels.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["zalo", "whatsapp"], "{report:#}");
    for check in &channels {
        assert_eq!(check["status"], "unused", "{check:#}");
        let detail = check["detail"].as_str().expect("detail");
        assert!(
            detail.ends_with("configured, not used by this version"),
            "{check:#}"
        );
    }
    // Masked as ever.
    let zalo = channels.iter().find(|c| c["name"] == "zalo").expect("zalo");
    assert!(
        !zalo.to_string().contains("zalo-token-abcdefghijkl"),
        "{zalo}"
    );
    let text = UNUSED_SETTINGS
        .iter()
        .fold(Goclaw::new(home.path()), |g, (k, v)| g.env(k, v))
        .env("GOCLAW_SANDBOX_MODE", "off")
        .args(&["doctor"])
        .run()
        .await;
    assert!(
        text.stdout.contains("  unused zalo: enabled, token zalo"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("2 not used by this version"),
        "{}",
        text.stdout
    );
    check_json_matches_text(&report, &text.stdout, false);

    // The production audit: every lane is in use and passes with its size.
    let done = UNUSED_SETTINGS
        .iter()
        .fold(Goclaw::new(home.path()), |g, (k, v)| g.env(k, v))
        .args(&["doctor", "--production", "--json"])
        .run()
        .await;
    let report: serde_json::Value = serde_json::from_str(&done.stdout).expect("one JSON document");
    let checks = report["checks"].as_array().expect("checks");
    let lane = |name: &str| {
        checks
            .iter()
            .find(|c| c["name"].as_str().is_some_and(|n| n.contains(name)))
            .unwrap_or_else(|| panic!("no {name} check: {report:#}"))
            .clone()
    };
    assert_eq!(lane("GOCLAW_LANE_MAIN")["status"], "pass");
    assert_eq!(lane("GOCLAW_LANE_CRON")["status"], "pass");
    let subagent = lane("GOCLAW_LANE_SUBAGENT");
    assert_eq!(subagent["status"], "pass", "{subagent:#}");
    assert_eq!(subagent["detail"], "7");
    let delegate = lane("GOCLAW_LANE_DELEGATE");
    assert_eq!(delegate["status"], "pass", "{delegate:#}");
    assert_eq!(delegate["detail"], "8");
    for check in checks {
        let name = check["name"].as_str().unwrap_or_default();
        if ["telegram", "slack"].iter().any(|word| name.contains(word)) {
            assert_ne!(check["status"], "pass", "{check:#}");
        }
    }
}

/// The status and detail `doctor --production --json` gives the check `name`.
async fn verdict(goclaw: Goclaw, name: &str) -> (String, String) {
    let done = goclaw
        .args(&["doctor", "--production", "--json"])
        .run()
        .await;
    let report: serde_json::Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {done:?}"));
    let check = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"));
    let text = |field: &str| check[field].as_str().expect(field).to_owned();
    (text("status"), text("detail"))
}

/// The checklist's vault items are checked against the live schema on each engine: they pass
/// on an upgraded database, and fail when the table is dropped behind the recorded version or
/// the vault migration is reverted.
async fn vault_items(backend: StoreBackend) {
    let home = home();
    let Some(db) = TestDatabase::new(backend).await else {
        return;
    };
    let goclaw = || {
        let goclaw = Goclaw::new(home.path());
        match db.options() {
            StoreOptions::Sqlite(sqlite) => goclaw
                .env("GOCLAW_STORAGE_BACKEND", "sqlite")
                .env("GOCLAW_SQLITE_PATH", &sqlite.path),
            StoreOptions::Postgres(pg) => goclaw
                .env("GOCLAW_STORAGE_BACKEND", "postgres")
                .env("GOCLAW_POSTGRES_DSN", pg.expose_dsn()),
        }
    };
    let done = goclaw().args(&["upgrade"]).run().await;
    assert!(done.success, "{done:?}");
    assert_eq!(verdict(goclaw(), "vault tables").await.0, "pass");
    let (status, detail) = verdict(goclaw(), "vault migration").await;
    assert_eq!(status, "pass", "{detail}");

    db.execute("DROP TABLE vault_links").await;
    let (status, detail) = verdict(goclaw(), "vault tables").await;
    assert_eq!(
        (status.as_str(), detail.as_str()),
        ("fail", "missing: vault_links")
    );
    let (status, detail) = verdict(goclaw(), "schema").await;
    assert_eq!(
        status, "pass",
        "the recorded version says nothing of it: {detail}"
    );

    let done = goclaw().args(&["migrate", "force", "9"]).run().await;
    assert!(done.success, "{done:?}");
    let (status, detail) = verdict(goclaw(), "vault migration").await;
    assert_eq!(status, "fail", "{detail}");
    assert!(
        detail.contains("migration 11 (vault) is not applied"),
        "{detail}"
    );
}

#[tokio::test]
async fn vault_items_are_checked_against_the_schema_on_sqlite() {
    vault_items(StoreBackend::Sqlite).await;
}

#[tokio::test]
async fn vault_items_are_checked_against_the_schema_on_postgres() {
    vault_items(StoreBackend::Postgres).await;
}

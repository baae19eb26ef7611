//! First-time setup, with the real executable: `goclaw onboard --non-interactive` on a fresh
//! PostgreSQL database and on SQLite (env file 0600 with both secrets, no secrets in
//! config.json, migrated and seeded, idempotent), and `prepare-env.sh` for Docker users.
//!
//! The interactive path runs in a pseudo-terminal made by util-linux `script`, answering every
//! question with its default; its questions are also tested with scripted answers behind the
//! `Prompter` trait (`src/commands/onboard/prompt.rs`). Without a terminal it says so instead of
//! hanging.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use goclaw_store::StoreOptions;
use goclaw_testkit::{StoreBackend, TestDatabase};
use support::{Goclaw, home};

const PROVIDER_KEY: &str = "sk-ant-onboard-test-key-0123456789";

async fn fresh_postgres() -> Option<(TestDatabase, String)> {
    let db = TestDatabase::new(StoreBackend::Postgres).await?;
    let StoreOptions::Postgres(pg) = db.options() else {
        panic!("a PostgreSQL test database");
    };
    let dsn = pg.expose_dsn().to_owned();
    Some((db, dsn))
}

fn env_file(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .expect("env file exists")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').expect("KEY=value line");
            (k.to_owned(), v.trim_matches('\'').to_owned())
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("file exists")
        .permissions()
        .mode()
        & 0o777
}

fn is_hex64(value: &str) -> bool {
    value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit())
}

/// `goclaw` with the variables of the env file, as `set -a; . ./.env.local; set +a` would do.
fn with_env(home: &Path, vars: &BTreeMap<String, String>) -> Goclaw {
    vars.iter().fold(Goclaw::new(home), |g, (k, v)| g.env(k, v))
}

#[tokio::test]
async fn onboard_on_fresh_postgres_then_doctor_is_clean() {
    let Some((_db, dsn)) = fresh_postgres().await else {
        return;
    };
    let home = home();
    let done = Goclaw::new(home.path())
        .args(&[
            "onboard",
            "--non-interactive",
            "--postgres-dsn",
            &dsn,
            "--provider",
            "anthropic",
            "--api-key",
            PROVIDER_KEY,
        ])
        .run()
        .await;
    assert!(done.success, "{done:?}");

    let path = home.path().join(".env.local");
    assert_eq!(mode(&path), 0o600);
    let vars = env_file(&path);
    let key = vars
        .get("GOCLAW_ENCRYPTION_KEY")
        .expect("encryption key written");
    let token = vars
        .get("GOCLAW_GATEWAY_TOKEN")
        .expect("gateway token written");
    assert!(is_hex64(key) && is_hex64(token), "{vars:?}");
    assert_eq!(vars.get("GOCLAW_POSTGRES_DSN"), Some(&dsn));
    assert_eq!(
        vars.get("GOCLAW_ANTHROPIC_API_KEY").map(String::as_str),
        Some(PROVIDER_KEY)
    );
    // The generated secrets are printed once, with the warning; the given key never.
    assert_eq!(
        done.stdout.matches(key.as_str()).count(),
        1,
        "{}",
        done.stdout
    );
    assert_eq!(
        done.stdout.matches(token.as_str()).count(),
        1,
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("back up GOCLAW_ENCRYPTION_KEY"),
        "{}",
        done.stdout
    );
    assert!(!done.stdout.contains(PROVIDER_KEY), "{}", done.stdout);
    assert!(
        done.stdout.contains("set -a; . ./.env.local; set +a"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("default agent created"),
        "{}",
        done.stdout
    );

    let config = std::fs::read_to_string(home.path().join("config.json")).expect("config.json");
    for secret in [key.as_str(), token.as_str(), PROVIDER_KEY, dsn.as_str()] {
        assert!(!config.contains(secret), "secret in config.json: {config}");
    }
    assert!(config.contains("127.0.0.1"), "{config}");

    let status = with_env(home.path(), &vars)
        .args(&["upgrade", "--status"])
        .run()
        .await;
    assert!(status.success, "{status:?}");
    assert!(status.stdout.contains("UP TO DATE"), "{}", status.stdout);

    let doctor = with_env(home.path(), &vars)
        .args(&["doctor", "--json"])
        .run()
        .await;
    assert!(doctor.success, "{doctor:?}");
    let report: serde_json::Value =
        serde_json::from_str(&doctor.stdout).expect("one JSON document");
    assert_eq!(report["ok"], true, "{report:#}");
    let status_of = |section: &str, name: &str| -> String {
        report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["section"] == section && c["name"] == name)
            .and_then(|c| c["status"].as_str())
            .unwrap_or_else(|| panic!("no check {section}/{name}: {report:#}"))
            .to_owned()
    };
    for (section, name) in [
        ("config", "validation"),
        ("database", "connection"),
        ("database", "pgvector"),
        ("database", "schema"),
        ("providers", "anthropic"),
        ("workspace", "data_dir"),
    ] {
        assert_eq!(
            status_of(section, name),
            "ok",
            "{section}/{name}: {report:#}"
        );
    }
    assert!(
        !doctor.stdout.contains(PROVIDER_KEY),
        "provider key unmasked"
    );
    assert!(doctor.stdout.contains("sk-a****6789"), "{}", doctor.stdout);

    // Text output: the same verdicts, and the seeded agent lets the gateway start.
    let text = with_env(home.path(), &vars).args(&["doctor"]).run().await;
    assert!(text.success, "{text:?}");
    assert!(
        text.stdout.contains("ok     schema: UP TO DATE"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("FAIL"), "{}", text.stdout);
}

#[tokio::test]
async fn rerunning_onboard_keeps_values_and_never_duplicates() {
    let home = home();
    let first = Goclaw::new(home.path())
        .args(&["onboard", "--non-interactive"])
        .run()
        .await;
    assert!(first.success, "{first:?}");
    assert!(first.stdout.contains("SQLite"), "{}", first.stdout);
    assert!(support::default_db(home.path()).exists());
    let path = home.path().join(".env.local");
    let before = std::fs::read_to_string(&path).expect("env file");
    let vars = env_file(&path);
    assert!(is_hex64(&vars["GOCLAW_ENCRYPTION_KEY"]), "{vars:?}");

    // Again, with the env file loaded as the instructions say.
    let second = with_env(home.path(), &vars)
        .args(&[
            "onboard",
            "--non-interactive",
            "--provider",
            "openai",
            "--api-key",
            "sk-openai-0123456789",
        ])
        .run()
        .await;
    assert!(second.success, "{second:?}");
    assert!(
        !second.stdout.contains("Generated secrets"),
        "{}",
        second.stdout
    );
    assert!(
        second.stdout.contains("default agent already present"),
        "{}",
        second.stdout
    );
    let after = std::fs::read_to_string(&path).expect("env file");
    assert!(
        after.starts_with(&before),
        "existing lines kept:\n{before}\n---\n{after}"
    );
    assert_eq!(
        after.matches("GOCLAW_ENCRYPTION_KEY=").count(),
        1,
        "{after}"
    );
    assert_eq!(after.matches("GOCLAW_GATEWAY_TOKEN=").count(), 1, "{after}");
    assert!(
        after.contains("GOCLAW_OPENAI_API_KEY=sk-openai-0123456789"),
        "{after}"
    );
    assert_eq!(mode(&path), 0o600);

    // A third run without the env loaded still finds the secrets in the file.
    let third = Goclaw::new(home.path())
        .args(&["onboard", "--non-interactive"])
        .run()
        .await;
    assert!(third.success, "{third:?}");
    assert!(
        !third.stdout.contains("Generated secrets"),
        "{}",
        third.stdout
    );
    assert_eq!(std::fs::read_to_string(&path).expect("env file"), after);
}

#[tokio::test]
async fn interactive_onboard_without_a_terminal_says_what_to_do() {
    let home = home();
    let done = Goclaw::new(home.path())
        .args(&["onboard"])
        .run_with_stdin("\n\n\n")
        .await;
    assert!(!done.success, "{done:?}");
    assert!(done.stderr.contains("--non-interactive"), "{}", done.stderr);
    assert!(!home.path().join(".env.local").exists());
}

#[tokio::test]
async fn onboard_refuses_an_unknown_provider() {
    let home = home();
    let done = Goclaw::new(home.path())
        .args(&[
            "onboard",
            "--non-interactive",
            "--provider",
            "nope",
            "--api-key",
            "x",
        ])
        .run()
        .await;
    assert!(!done.success, "{done:?}");
    assert!(done.stderr.contains("unknown provider"), "{}", done.stderr);
}

fn prepare_env_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prepare-env.sh")
}

fn run_prepare_env(dir: &Path, path_var: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("/bin/sh")
        .arg(prepare_env_script())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path_var)
        .output()
        .expect("prepare-env.sh runs")
}

#[test]
fn prepare_env_creates_two_secrets_once() {
    let dir = home();
    let path_var = std::env::var("PATH").unwrap_or_default();
    let out = run_prepare_env(dir.path(), &path_var, &[]);
    assert!(out.status.success(), "{out:?}");
    let path = dir.path().join(".env");
    assert_eq!(mode(&path), 0o600);
    let vars = env_file(&path);
    // The two secrets, and the password docker-compose.yml gives its PostgreSQL.
    assert_eq!(vars.len(), 3, "{vars:?}");
    assert!(is_hex64(&vars["GOCLAW_ENCRYPTION_KEY"]), "{vars:?}");
    assert!(is_hex64(&vars["GOCLAW_GATEWAY_TOKEN"]), "{vars:?}");
    assert!(is_hex64(&vars["POSTGRES_PASSWORD"]), "{vars:?}");
    assert_ne!(vars["GOCLAW_ENCRYPTION_KEY"], vars["GOCLAW_GATEWAY_TOKEN"]);

    let before = std::fs::read_to_string(&path).expect(".env");
    let again = run_prepare_env(dir.path(), &path_var, &[]);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(std::fs::read_to_string(&path).expect(".env"), before);
}

#[test]
fn prepare_env_falls_back_to_urandom_and_keeps_other_lines() {
    let dir = home();
    // A PATH with the few tools the script needs, and no openssl.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin dir");
    for tool in ["od", "tr", "grep", "chmod", "tail"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} is installed"));
        std::os::unix::fs::symlink(found, bin.join(tool)).expect("symlink");
    }
    let file = dir.path().join("docker.env");
    std::fs::write(&file, "GOCLAW_GATEWAY_TOKEN=kept-token\nOTHER=1").expect("write");
    let out = run_prepare_env(dir.path(), &bin.to_string_lossy(), &["docker.env"]);
    assert!(out.status.success(), "{out:?}");
    let vars = env_file(&file);
    assert_eq!(vars["GOCLAW_GATEWAY_TOKEN"], "kept-token");
    assert_eq!(vars["OTHER"], "1");
    assert!(is_hex64(&vars["GOCLAW_ENCRYPTION_KEY"]), "{vars:?}");
    assert_eq!(mode(&file), 0o600);
}

#[tokio::test]
async fn interactive_onboard_in_a_terminal_takes_the_defaults() {
    let home = home();
    let command = format!("{} onboard", env!("CARGO_BIN_EXE_goclaw"));
    let mut child = tokio::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env("GOCLAW_CONFIG", home.path().join("config.json"))
        .current_dir(home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("util-linux script runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("piped stdin");
        // Enter for every question: SQLite, no provider, loopback.
        stdin.write_all(b"\n\n\n\n\n\n\n").await.expect("answering");
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("onboard finishes within 60 s")
        .expect("waiting for onboard");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{shown}");
    assert!(
        shown.contains("Generated secrets (shown only this once)"),
        "{shown}"
    );
    let env = env_file(&home.path().join(".env.local"));
    for name in ["GOCLAW_ENCRYPTION_KEY", "GOCLAW_GATEWAY_TOKEN"] {
        let value = env
            .get(name)
            .unwrap_or_else(|| panic!("{name} in .env.local"));
        assert_eq!(value.len(), 64, "{name}");
        assert!(value.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
    }
    assert!(
        home.path().join(".goclaw/data/goclaw.db").exists(),
        "SQLite database created"
    );
    let config = std::fs::read_to_string(home.path().join("config.json")).unwrap_or_default();
    for value in env.values() {
        assert!(
            !config.contains(value.as_str()),
            "a secret reached config.json"
        );
    }
}

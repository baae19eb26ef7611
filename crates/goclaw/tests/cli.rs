//! The `goclaw` executable: exit codes, one-line errors, configuration commands, the bind rule,
//! log masking and the embedded SQLite default.

mod support;

use support::{Goclaw, default_db, get, home};

#[tokio::test]
async fn version_prints_version_and_protocol() {
    let home = home();
    let out = Goclaw::new(home.path()).args(&["version"]).run().await;
    assert!(out.success, "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        format!("goclaw {} (protocol 3)", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn bad_config_value_fails_with_one_line_naming_the_key() {
    let home = home();
    std::fs::write(
        home.path().join("config.json"),
        "{ gateway: { port: 'not-a-port' } }",
    )
    .expect("write config");
    let out = Goclaw::new(home.path())
        .args(&["config", "validate"])
        .run()
        .await;
    assert!(!out.success, "{out:?}");
    assert_eq!(
        out.stderr.trim().lines().count(),
        1,
        "one line: {}",
        out.stderr
    );
    assert!(out.stderr.contains("gateway.port"), "{}", out.stderr);
}

#[tokio::test]
async fn dsn_in_config_file_is_refused() {
    let home = home();
    std::fs::write(
        home.path().join("config.json"),
        r#"{ "database": { "postgres_dsn": "postgres://u:p@h/db" } }"#,
    )
    .expect("write config");
    let out = Goclaw::new(home.path()).args(&["serve"]).run().await;
    assert!(!out.success, "{out:?}");
    assert!(out.stderr.contains("GOCLAW_POSTGRES_DSN"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("u:p@h"),
        "the DSN itself is not echoed: {}",
        out.stderr
    );
}

#[tokio::test]
async fn config_validate_warns_about_unknown_keys() {
    let home = home();
    std::fs::write(
        home.path().join("config.json"),
        "{ gateway: { rate_limt_rpm: 10 } }",
    )
    .expect("write config");
    let out = Goclaw::new(home.path())
        .args(&["config", "validate"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stderr.contains("gateway.rate_limt_rpm"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn config_show_masks_secrets() {
    let home = home();
    let token = "tok-0123456789abcdef";
    let key = "sk-ant-api03-secretsecretsecret";
    let out = Goclaw::new(home.path())
        .env("GOCLAW_GATEWAY_TOKEN", token)
        .env("GOCLAW_ANTHROPIC_API_KEY", key)
        .args(&["config", "show"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert!(!out.stdout.contains(token), "token shown: {}", out.stdout);
    assert!(!out.stdout.contains(key), "key shown: {}", out.stdout);
    assert!(out.stdout.contains("tok-****cdef"), "{}", out.stdout);
    let shown: serde_json::Value =
        serde_json::from_str(&out.stdout).expect("config show prints JSON");
    assert_eq!(shown["gateway"]["port"], 18790);
}

#[tokio::test]
async fn config_path_follows_flag_and_env() {
    let home = home();
    let out = Goclaw::new(home.path())
        .args(&["config", "path"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        home.path().join("config.json").display().to_string()
    );

    let other = home.path().join("other.json");
    std::fs::write(&other, "{}").expect("write config");
    let out = Goclaw::new(home.path())
        .args(&[
            "--config",
            other.to_str().expect("utf-8 path"),
            "config",
            "path",
        ])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert_eq!(out.stdout.trim(), other.display().to_string());
}

#[tokio::test]
async fn missing_explicit_config_is_an_error() {
    let home = home();
    let out = Goclaw::new(home.path())
        .args(&["--config", "/nonexistent/goclaw.json", "config", "validate"])
        .run()
        .await;
    assert!(!out.success, "{out:?}");
    assert!(
        out.stderr.contains("/nonexistent/goclaw.json"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn non_loopback_bind_without_token_is_refused() {
    let home = home();
    let out = Goclaw::new(home.path())
        .env("GOCLAW_HOST", "0.0.0.0")
        .env("GOCLAW_PORT", "0")
        .args(&["serve"])
        .run()
        .await;
    assert!(!out.success, "{out:?}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("GOCLAW_GATEWAY_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(
        !default_db(home.path()).exists(),
        "refused before the database was created"
    );
}

#[tokio::test]
async fn non_loopback_bind_with_explicit_opt_out_starts() {
    let home = home();
    let server = Goclaw::new(home.path())
        .env("GOCLAW_HOST", "0.0.0.0")
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_ALLOW_INSECURE_NO_AUTH", "true")
        .start()
        .await
        .expect("gateway starts");
    let port = server.addr.port();
    let (status, _) = get(&format!("http://127.0.0.1:{port}/health")).await;
    assert_eq!(status, 200);
    let (code, _, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn bare_goclaw_serves_on_embedded_sqlite_and_stops_on_sigterm() {
    let home = home();
    let server = Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .start()
        .await
        .expect("gateway starts");
    assert!(server.addr.ip().is_loopback(), "default bind is loopback");
    let (status, body) = get(&server.url("/health")).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"protocol":3,"status":"ok"}"#)
    );
    let (status, _) = get(&server.url("/ready")).await;
    assert_eq!(status, 200);
    assert!(
        default_db(home.path()).exists(),
        "SQLite at ~/.goclaw/data/goclaw.db"
    );
    let (code, stdout, _) = server.terminate().await;
    assert_eq!(code, Some(0), "{stdout}");
    for line in stdout.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(value.get("level").is_some(), "{line}");
    }
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let home = home();
    let token = "gw-5e3c2a1b0f9e8d7c";
    let anthropic = "sk-ant-api03-zyxwvutsrqponm";
    let encryption = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let server = Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_GATEWAY_TOKEN", token)
        .env("GOCLAW_ANTHROPIC_API_KEY", anthropic)
        .env("GOCLAW_ENCRYPTION_KEY", encryption)
        .args(&["-v", "serve"])
        .start()
        .await
        .expect("gateway starts");
    // Secrets put where a debug request log records them.
    for secret in [token, anthropic, encryption] {
        let (status, _) = get(&server.url(&format!("/health?token={secret}"))).await;
        assert_eq!(status, 200);
    }
    let (code, stdout, stderr) = server.terminate().await;
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("/health?token=***"),
        "request log present and masked: {stdout}"
    );
    for secret in [token, anthropic, encryption] {
        assert!(
            !stdout.contains(secret),
            "secret leaked to stdout: {stdout}"
        );
        assert!(
            !stderr.contains(secret),
            "secret leaked to stderr: {stderr}"
        );
    }
}

#[tokio::test]
async fn sqlite_is_backed_up_then_upgraded_at_start() {
    let home = home();
    let db_path = default_db(home.path());
    // An older schema: everything applied, then the last two migrations reverted.
    let out = Goclaw::new(home.path()).args(&["upgrade"]).run().await;
    assert!(out.success, "{out:?}");
    let out = Goclaw::new(home.path())
        .args(&["migrate", "down", "-n", "2"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    let out = Goclaw::new(home.path())
        .args(&["upgrade", "--status"])
        .run()
        .await;
    let versions: Vec<i64> = goclaw_store::migrations(goclaw_core::StoreBackend::Sqlite)
        .iter()
        .map(|m| m.version)
        .collect();
    let (from, required) = (versions[versions.len() - 3], versions[versions.len() - 1]);
    let expected = format!("UPGRADE NEEDED ({from} -> {required})");
    assert!(out.stdout.contains(&expected), "{}", out.stdout);

    let server = Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .start()
        .await
        .expect("gateway starts and upgrades");
    let (code, _, _) = server.terminate().await;
    assert_eq!(code, Some(0));

    let out = Goclaw::new(home.path())
        .args(&["upgrade", "--status"])
        .run()
        .await;
    assert!(out.stdout.contains("UP TO DATE"), "{}", out.stdout);
    let data_dir = db_path.parent().expect("data dir");
    let backups: Vec<_> = std::fs::read_dir(data_dir)
        .expect("list data dir")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("goclaw.db.backup-")
        })
        .collect();
    assert_eq!(backups.len(), 1, "one backup written before upgrading");
}

#[tokio::test]
async fn migrate_version_and_force() {
    let home = home();
    let out = Goclaw::new(home.path())
        .args(&["migrate", "version"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert_eq!(out.stdout.trim(), "version: none, dirty: false");
    let out = Goclaw::new(home.path())
        .args(&["migrate", "up"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout.contains("applied 0001 tenants_agents"),
        "{}",
        out.stdout
    );
    let out = Goclaw::new(home.path())
        .args(&["migrate", "version"])
        .run()
        .await;
    assert!(
        out.stdout.trim().ends_with("dirty: false"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("none"), "{}", out.stdout);
    let out = Goclaw::new(home.path())
        .args(&["migrate", "down", "-n", "0"])
        .run()
        .await;
    assert!(!out.success, "-n 0 is rejected: {out:?}");
}

#[tokio::test]
async fn unknown_command_fails() {
    let home = home();
    let out = Goclaw::new(home.path()).args(&["frobnicate"]).run().await;
    assert!(!out.success);
    assert_eq!(out.code, Some(2));
}

#[tokio::test]
async fn agent_chat_prints_a_streamed_answer() {
    let home = home();
    let (llm, server) = start_with_fake_llm(home.path()).await;
    llm.push(goclaw_testkit::Reply::text_in_chunks(
        "Hello from the fake model",
        3,
    ));
    let out = Goclaw::new(home.path())
        .args(&["agent", "chat", "-m", "hello", "--server", &server.url("")])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert_eq!(out.stdout.trim(), "Hello from the fake model");
    assert_eq!(llm.request_count(), 1);
    let (code, _, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn interactive_agent_chat_keeps_one_session() {
    let home = home();
    let (llm, server) = start_with_fake_llm(home.path()).await;
    llm.push(goclaw_testkit::Reply::text("first reply"));
    llm.push(goclaw_testkit::Reply::text("second reply"));
    let out = Goclaw::new(home.path())
        .env("GOCLAW_SERVER", server.url(""))
        .args(&["agent", "chat"])
        .run_with_stdin("hello\nand again\n/quit\n")
        .await;
    assert!(out.success, "{out:?}");
    assert!(out.stdout.contains("first reply"), "{}", out.stdout);
    assert!(out.stdout.contains("second reply"), "{}", out.stdout);
    // The second turn continued the first session: the model saw the first exchange.
    let requests = llm.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].body.to_string().contains("first reply"));
    let (code, _, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}

/// A fake LLM and a gateway whose `anthropic` provider points at it.
async fn start_with_fake_llm(home: &std::path::Path) -> (goclaw_testkit::FakeLlm, support::Server) {
    let llm = goclaw_testkit::FakeLlm::start().await;
    let server = Goclaw::new(home)
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_ANTHROPIC_API_KEY", "test-key")
        .env("GOCLAW_ANTHROPIC_BASE_URL", llm.base_url())
        .start()
        .await
        .expect("gateway starts");
    (llm, server)
}

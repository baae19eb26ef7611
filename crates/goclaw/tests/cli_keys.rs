//! `goclaw keys create|list|revoke` against a running gateway process, and the `security.*`
//! warning a wrong key leaves in its log (which never contains the key).

mod support;

use support::{Goclaw, home};

const TOKEN: &str = "cli-keys-token-3b9d0e7a";

async fn status_with(url: &str, bearer: &str) -> u16 {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .status()
        .as_u16()
}

#[tokio::test]
async fn keys_are_created_listed_and_revoked_through_the_cli() {
    let home = home();
    let server = Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
        .start()
        .await
        .expect("gateway starts");
    let base = server.url("");
    let cli = |args: &[&str]| {
        Goclaw::new(home.path())
            .env("GOCLAW_SERVER", &base)
            .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
            .args(args)
    };

    let out = cli(&[
        "keys",
        "create",
        "--name",
        "monitoring-readonly",
        "--scopes",
        "operator.read",
        "--expires-in",
        "30d",
    ])
    .run()
    .await;
    assert!(out.success, "{out:?}");
    let field = |name: &str| {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} in {}", out.stdout))
    };
    let (id, key, prefix) = (field("id"), field("key"), field("prefix"));
    assert!(key.starts_with("goclaw_") && key.len() == 39, "{key}");
    assert_eq!(prefix, key[7..15]);
    assert_eq!(field("scopes"), "operator.read");
    assert_ne!(field("expires"), "never");

    let agents = server.url("/v1/agents");
    assert_eq!(status_with(&agents, &key).await, 200);

    let out = cli(&["keys", "list"]).run().await;
    assert!(out.success, "{out:?}");
    assert!(out.stdout.contains("monitoring-readonly"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&prefix) && out.stdout.contains(&id),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains(&key[7..]),
        "list shows no key: {}",
        out.stdout
    );
    let out = cli(&["keys", "list", "--json"]).run().await;
    assert!(out.success, "{out:?}");
    let listed: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON list");
    assert_eq!(listed[0]["name"], "monitoring-readonly");

    let out = cli(&["keys", "revoke", &id]).run().await;
    assert!(out.success, "{out:?}");
    assert_eq!(status_with(&agents, &key).await, 401);
    let out = cli(&["keys", "list"]).run().await;
    assert!(out.stdout.contains("revoked"), "{}", out.stdout);

    // A read-only key cannot manage keys; the CLI says why and fails.
    let (_, reader) = {
        let out = cli(&["keys", "create", "--name", "r", "--scopes", "operator.read"])
            .run()
            .await;
        assert!(out.success, "{out:?}");
        let key = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("key:"))
            .map(|v| v.trim().to_owned())
            .expect("key line");
        (out, key)
    };
    let out = Goclaw::new(home.path())
        .env("GOCLAW_SERVER", &base)
        .args(&["keys", "list", "--token", &reader])
        .run()
        .await;
    assert!(!out.success, "{out:?}");
    assert!(out.stderr.contains("403"), "{}", out.stderr);
    let out = cli(&[
        "keys",
        "create",
        "--name",
        "x",
        "--scopes",
        "operator.read",
        "--expires-in",
        "soon",
    ])
    .run()
    .await;
    assert!(
        !out.success && out.stderr.contains("invalid duration"),
        "{out:?}"
    );

    let wrong = format!("goclaw_{}", "f".repeat(32));
    assert_eq!(status_with(&agents, &wrong).await, 401);
    let (code, stdout, _) = server.terminate().await;
    assert_eq!(code, Some(0));
    let warning = stdout
        .lines()
        .find(|l| l.contains("security.api_key_rejected") && l.contains("\"reason\":\"unknown\""))
        .unwrap_or_else(|| panic!("no security warning in:\n{stdout}"));
    assert!(warning.contains("\"remote\""), "{warning}");
    assert!(!stdout.contains(&wrong[7..]), "the wrong key is not logged");
    assert!(!stdout.contains(&key[7..]), "no key is logged");
}

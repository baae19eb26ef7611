//! `goclaw doctor`'s Memory section, against a running gateway's database: it says when memory
//! has no embedding provider (full text only), names the provider, model, endpoint and why it
//! was chosen once the system config `embedding.provider` is set through the API, and warns
//! about a named provider that cannot be used. `goclaw memory search|reindex` reach the same
//! gateway.

mod support;

use support::{Goclaw, home};

fn line<'a>(out: &'a str, start: &str) -> &'a str {
    out.lines()
        .map(str::trim)
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{out}"))
}

async fn put(url: &str, body: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .put(url)
        .json(&body)
        .send()
        .await
        .expect("PUT")
        .status()
        .as_u16()
}

#[tokio::test]
async fn doctor_reports_the_embedding_provider_memory_uses() {
    let home = home();
    let gateway = |goclaw: Goclaw| {
        goclaw
            .env("GOCLAW_OPENAI_API_KEY", "sk-doctor-test-key")
            .env("GOCLAW_PORT", "0")
    };
    let server = gateway(Goclaw::new(home.path()))
        .start()
        .await
        .expect("gateway starts");
    let doctor = || async {
        gateway(Goclaw::new(home.path()))
            .args(&["doctor"])
            .run()
            .await
    };

    let before = doctor().await;
    assert_eq!(
        line(&before.stdout, "warn   embedding:"),
        "warn   embedding: no embedding provider: memory is searched by full text only",
        "{}",
        before.stdout
    );

    let setting = server.url("/v1/system-configs/embedding.provider");
    assert_eq!(
        put(&setting, serde_json::json!({ "value": "openai" })).await,
        200
    );
    let after = doctor().await;
    assert_eq!(
        line(&after.stdout, "ok     embedding:"),
        "ok     embedding: openai text-embedding-3-small at https://api.openai.com/v1 \
         (from system config embedding.provider)",
        "{}",
        after.stdout
    );
    assert!(
        !after.stdout.contains("sk-doctor-test-key")
            && !after.stderr.contains("sk-doctor-test-key"),
        "the key never shows"
    );

    assert_eq!(
        put(&setting, serde_json::json!({ "value": "nowhere" })).await,
        200
    );
    let unknown = doctor().await;
    assert_eq!(
        line(&unknown.stdout, "warn   embedding provider nowhere:"),
        "warn   embedding provider nowhere: not usable: no stored or configured provider has this name",
        "{}",
        unknown.stdout
    );

    // The memory commands go through the same gateway.
    let base = server.url("");
    let cli = |args: &[&str]| {
        let mut all = vec!["--server", base.as_str()];
        all.extend_from_slice(args);
        Goclaw::new(home.path()).args(&all)
    };
    let found = cli(&["memory", "search", "tea"]).run().await;
    assert!(found.success, "{found:?}");
    assert_eq!(found.stdout.trim(), "Nothing found.");
    let reindexed = cli(&["memory", "reindex"]).run().await;
    assert!(reindexed.success, "{reindexed:?}");
    assert_eq!(reindexed.stdout.trim(), "re-indexed 0 of 0 documents");

    let (code, _, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}

//! Swagger UI at `/docs/` renders in a real browser (headless Chromium) from assets the gateway
//! serves itself: host resolution outside loopback is turned off, every request the page makes
//! is read back from Chromium's network log, and the rendered page still shows the API.

use std::path::Path;
use std::time::Duration;

use goclaw_testkit::{StoreBackend, spawn_app};
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";

/// How long Chromium may take to load and dump the page.
const BROWSER_DEADLINE: Duration = Duration::from_secs(90);

/// Whether Chromium is installed; under `CI=true` it must be.
fn chromium_available() -> bool {
    let ok = Path::new(CHROMIUM).exists();
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{CHROMIUM} is required when CI=true (scripts/test installs Debian's chromium)"
        );
        eprintln!("skipped: the Swagger UI test needs {CHROMIUM} (apt-get install chromium)");
    }
    ok
}

/// The URL of every request the page at `page_site` (`http://127.0.0.1`) made, from Chromium's
/// network log: the `URL_REQUEST_START_JOB` events whose network isolation key is the page's
/// site. Chromium's own background requests (component updates, network time) carry another
/// key and are left out; the host resolver rules stop them anyway.
fn page_requests(net_log: &Value, page_site: &str) -> Vec<String> {
    let Some(start_job) = net_log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64()
    else {
        return Vec::new();
    };
    let events = net_log["events"].as_array().map_or(&[][..], Vec::as_slice);
    let mut urls: Vec<String> = events
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|key| key.starts_with(page_site))
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

/// The host of `url` (`127.0.0.1` of `http://127.0.0.1:4000/docs/`).
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_renders_the_api_from_local_assets() {
    if !chromium_available() {
        return;
    }
    let app = spawn_app(StoreBackend::Sqlite)
        .await
        .expect("SQLite is always available");
    let profile = tempfile::tempdir().expect("a Chromium profile directory");
    let net_log = profile.path().join("net-log.json");
    let browser = tokio::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            // Chromium asks Google about the forms of a page it shows; not the page's doing.
            "--disable-features=AutofillServerCommunication",
            // Any host but loopback fails to resolve: what renders came from the gateway.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(app.url("/docs/"))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(BROWSER_DEADLINE, browser)
        .await
        .expect("Chromium finishes in time")
        .expect("Chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "Chromium failed: {stderr}");

    for expected in [
        "GoClaw gateway API",
        "/v1/chat/completions",
        "/v1/agents/{id}",
        "/v1/api-keys",
        "opblock",
    ] {
        assert!(
            dom.contains(expected),
            "the rendered page lacks {expected:?}:\n{dom}\n{stderr}"
        );
    }

    let log = std::fs::read_to_string(&net_log).expect("Chromium wrote its network log");
    let log: Value = serde_json::from_str(&log).expect("the network log is JSON");
    let urls = page_requests(&log, "http://127.0.0.1");
    assert!(
        urls.iter().any(|u| u.ends_with("/v1/openapi.json")),
        "the page loaded the document: {urls:?}"
    );
    let elsewhere: Vec<_> = urls.iter().filter(|u| host(u) != "127.0.0.1").collect();
    assert!(
        elsewhere.is_empty(),
        "the page requested something beyond the gateway: {elsewhere:?}"
    );
}

#[test]
fn hosts_are_read_from_urls() {
    assert_eq!(host("http://127.0.0.1:4000/docs/"), "127.0.0.1");
    assert_eq!(host("https://unpkg.com/swagger-ui.css"), "unpkg.com");
    assert_eq!(host("http://example.org?x=1"), "example.org");
}

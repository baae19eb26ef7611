//! `/metrics` over real HTTP: the exposition parses with a strict OpenMetrics text parser
//! (every sample under a family with HELP and TYPE, names and suffixes matching the type),
//! counters move with a chat turn that calls a tool, a connected WebSocket client shows in the
//! gauge, rate-limit refusals and HTTP requests are counted; the route is refused without
//! credentials when a gateway token is set, served with the token or an `operator.read` key,
//! and served without authentication on the `GOCLAW_METRICS_ADDR` listener only.

use std::collections::BTreeMap;
use std::time::Duration;

use goclaw_testkit::{Reply, StoreBackend, TestApp, spawn_app_with, spawn_app_with_config};
use serde_json::{Value, json};

const TOKEN: &str = "metrics-test-token-5c1e9b27";

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses an OpenMetrics text exposition strictly; panics naming the first bad line.
fn parse(text: &str) -> Vec<Sample> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.last().copied(),
        Some("# EOF"),
        "exposition must end with # EOF"
    );
    let mut helped = BTreeMap::<String, ()>::new();
    let mut family: Option<(String, String)> = None;
    let mut samples = Vec::new();
    for (n, line) in lines[..lines.len() - 1].iter().enumerate() {
        let at = || format!("line {}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or_else(|| panic!("{}", at()));
            assert!(valid_name(name) && !help.is_empty(), "{}", at());
            helped.insert(name.to_owned(), ());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("{}", at()));
            assert!(valid_name(name), "{}", at());
            assert!(helped.contains_key(name), "TYPE before HELP, {}", at());
            let known = [
                "counter",
                "gauge",
                "histogram",
                "unknown",
                "info",
                "stateset",
            ];
            assert!(known.contains(&kind), "unknown type, {}", at());
            family = Some((name.to_owned(), kind.to_owned()));
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment, {}", at());
        let (name, labels, value) = sample(line).unwrap_or_else(|| panic!("bad sample, {}", at()));
        let (fam, kind) = family
            .as_ref()
            .unwrap_or_else(|| panic!("sample without TYPE, {}", at()));
        let suffix = name.strip_prefix(fam.as_str()).unwrap_or_else(|| {
            panic!("sample outside its family {fam}, {}", at());
        });
        let allowed: &[&str] = match kind.as_str() {
            "counter" => &["_total", "_created"],
            "histogram" => &["_bucket", "_sum", "_count", "_created"],
            _ => &[""],
        };
        assert!(
            allowed.contains(&suffix),
            "suffix {suffix:?} for a {kind}, {}",
            at()
        );
        if suffix == "_bucket" {
            assert!(labels.contains_key("le"), "bucket without le, {}", at());
        }
        assert!(name.starts_with("goclaw_"), "unprefixed metric, {}", at());
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{k="v",...} value` or `name value`.
fn sample(line: &str) -> Option<(String, BTreeMap<String, String>, f64)> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    if !valid_name(name) {
        return None;
    }
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(after) = rest.strip_prefix("{}") {
        rest = after;
    } else if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices();
        let mut key = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '=' => {
                    if !valid_name(&key) || chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                '\\' => value.push('\\'),
                                '"' => value.push('"'),
                                'n' => value.push('\n'),
                                _ => return None,
                            },
                            c => value.push(c),
                        }
                    }
                    if labels.insert(std::mem::take(&mut key), value).is_some() {
                        return None;
                    }
                    match chars.next()? {
                        (_, ',') => {}
                        (i, '}') => {
                            rest = &body[i + 1..];
                            break;
                        }
                        _ => return None,
                    }
                }
                c => key.push(c),
            }
        }
        if rest.starts_with('{') {
            return None;
        }
    }
    let value = rest.strip_prefix(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    Some((name.to_owned(), labels, value))
}

/// The sum of the samples called `name` carrying every label in `labels`.
fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    parse(&response.text().await.expect("metrics body"))
}

/// Scrapes until `ready` holds (some counters are fed from the event stream, asynchronously).
async fn scrape_until(app: &TestApp, ready: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
    for _ in 0..100 {
        let samples = scrape(app).await;
        if ready(&samples) {
            return samples;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("metrics never reached the expected state");
}

#[test]
fn the_parser_is_strict() {
    let good = "# HELP goclaw_x_total X.\n# TYPE goclaw_x counter\n";
    let ok = "# HELP goclaw_x X.\n# TYPE goclaw_x counter\ngoclaw_x_total{a=\"b\\\"c\",d=\"e\"} 2\n# EOF\n";
    let samples = parse(ok);
    assert_eq!(samples[0].labels.get("a").map(String::as_str), Some("b\"c"));
    assert_eq!(samples[0].value, 2.0);
    for bad in [
        "goclaw_y_total 1",
        "goclaw_x_total 1 2 3",
        "goclaw_x_total{a=b} 1",
        "goclaw_x_total{a=\"b\"}1",
        "goclaw_x_total{a=\"b\" 1",
        "goclaw_x_total one",
        "goclaw_x 1",
    ] {
        let text = format!("# HELP goclaw_x X.\n# TYPE goclaw_x counter\n{bad}\n# EOF\n");
        assert!(
            std::panic::catch_unwind(|| parse(&text)).is_err(),
            "accepted {bad:?}"
        );
    }
    let text = format!("{good}# EOF");
    assert!(
        std::panic::catch_unwind(|| parse(&text)).is_err(),
        "HELP of another name"
    );
    assert!(sample("goclaw_x{} 1").is_some());
    assert!(sample("goclaw_x{a=\"b\",} 1").is_none(), "trailing comma");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_with_a_tool_turn() {
    let app = spawn_app_with_config(StoreBackend::Sqlite, "{}", &[])
        .await
        .expect("SQLite is always available");
    let before = scrape(&app).await;
    assert_eq!(sum(&before, "goclaw_ws_clients", &[]), 0.0);

    app.llm.push(
        Reply::tool_call("c1", "exec", json!({"command": "echo hi"}))
            .usage(100, 20)
            .cache_tokens(7, 3),
    );
    app.llm.push(Reply::text("done").usage(130, 5));
    let mut ws = app.ws_connect("alice").await;
    let payload = ws.call_ok("chat.send", json!({"message": "say hi"})).await;
    assert_eq!(payload["content"], "done");

    let tool_ok = [("tool", "exec"), ("status", "ok")];
    let after = scrape_until(&app, |s| sum(s, "goclaw_tool_calls_total", &tool_ok) >= 1.0).await;
    assert_eq!(sum(&after, "goclaw_tool_calls_total", &tool_ok), 1.0);
    assert_eq!(
        sum(&after, "goclaw_runs_started_total", &[("lane", "main")]),
        1.0
    );
    let completed = [("lane", "main"), ("status", "completed")];
    assert_eq!(sum(&after, "goclaw_runs_completed_total", &completed), 1.0);
    assert_eq!(sum(&after, "goclaw_agent_turns_total", &[]), 2.0);
    let tokens = |kind: &str| sum(&after, "goclaw_llm_tokens_total", &[("type", kind)]);
    assert_eq!(tokens("input"), 230.0);
    assert_eq!(tokens("output"), 25.0);
    assert_eq!(tokens("cache_write"), 7.0);
    assert_eq!(tokens("cache_read"), 3.0);
    let anthropic = [("provider", "anthropic")];
    assert_eq!(
        sum(
            &after,
            "goclaw_provider_request_duration_seconds_count",
            &anthropic
        ),
        2.0
    );
    assert_eq!(
        sum(
            &after,
            "goclaw_lane_wait_seconds_count",
            &[("lane", "main")]
        ),
        1.0
    );
    assert_eq!(
        sum(&after, "goclaw_lane_queue_depth", &[("lane", "main")]),
        0.0
    );
    assert_eq!(sum(&after, "goclaw_ws_clients", &[]), 1.0);

    // HTTP requests by route template: the first scrape is counted by now.
    let scrapes = [("route", "/metrics"), ("method", "GET"), ("status", "200")];
    let counted = sum(&after, "goclaw_http_requests_total", &scrapes);
    assert!(counted >= 1.0, "{counted}");
    assert_eq!(app.get("/v1/agents/default").await.status(), 200);
    assert_eq!(app.get("/no/such/path").await.status(), 404);
    let later = scrape(&app).await;
    assert!(sum(&later, "goclaw_http_requests_total", &scrapes) > counted);
    let by_template = [("route", "/v1/agents/{id}"), ("status", "200")];
    assert_eq!(sum(&later, "goclaw_http_requests_total", &by_template), 1.0);
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert_eq!(sum(&later, "goclaw_http_requests_total", &unmatched), 1.0);
    assert!(
        later
            .iter()
            .all(|s| s.labels.get("route").map(String::as_str) != Some("/v1/agents/default")),
        "raw paths must not become labels"
    );

    drop(ws);
    scrape_until(&app, |s| sum(s, "goclaw_ws_clients", &[]) == 0.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_messages_are_counted() {
    let config = "{ gateway: { rate_limit_rpm: 1, inbound_debounce_ms: 0 } }";
    let app = spawn_app_with_config(StoreBackend::Sqlite, config, &[])
        .await
        .expect("SQLite is always available");
    let mut ws = app.ws_connect("alice").await;
    let mut refused = 0;
    for i in 0..7 {
        let res = ws
            .call("chat.send", json!({ "message": format!("m{i}") }))
            .await;
        if res["error"]["code"] == "RESOURCE_EXHAUSTED" {
            refused += 1;
        }
    }
    assert!(refused >= 1, "the burst of five was exceeded");
    let samples = scrape(&app).await;
    let hits = [("surface", "chat.send")];
    assert_eq!(
        sum(&samples, "goclaw_rate_limit_hits_total", &hits),
        f64::from(refused)
    );
}

/// A free loopback port (bound then released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a probe port");
    listener.local_addr().expect("probe address").port()
}

async fn get_with(app: &TestApp, bearer: Option<&str>) -> u16 {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    request
        .send()
        .await
        .expect("GET /metrics")
        .status()
        .as_u16()
}

async fn key_with(app: &TestApp, scopes: &[&str]) -> String {
    let response = app
        .client
        .post(app.url("/v1/api-keys"))
        .bearer_auth(TOKEN)
        .json(&json!({ "name": "metrics", "scopes": scopes }))
        .send()
        .await
        .expect("POST /v1/api-keys");
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("created key");
    created["key"].as_str().expect("key").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_credentials_except_on_the_metrics_listener() {
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let app = spawn_app_with(
        StoreBackend::Sqlite,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_METRICS_ADDR", &metrics_addr),
        ],
    )
    .await
    .expect("SQLite is always available");

    assert_eq!(get_with(&app, None).await, 401);
    assert_eq!(get_with(&app, Some("wrong-token")).await, 401);
    assert_eq!(get_with(&app, Some(TOKEN)).await, 200);
    let reader = key_with(&app, &["operator.read"]).await;
    assert_eq!(get_with(&app, Some(&reader)).await, 200);
    let approver = key_with(&app, &["operator.approvals"]).await;
    assert_eq!(get_with(&app, Some(&approver)).await, 403);

    let open = app
        .client
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .expect("GET /metrics on the metrics listener");
    assert_eq!(open.status(), 200);
    let samples = parse(&open.text().await.expect("body"));
    let refused = [("route", "/metrics"), ("status", "401")];
    assert_eq!(sum(&samples, "goclaw_http_requests_total", &refused), 2.0);
    let other = app
        .client
        .get(format!("http://{metrics_addr}/v1/agents"))
        .send()
        .await
        .expect("GET /v1/agents on the metrics listener");
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves nothing else"
    );
}

//! Usage and cost on both engines: a run's model calls are priced by `telemetry.model_pricing`
//! into its trace; `/v1/usage/summary`, `/v1/usage/timeseries`, `/v1/usage/breakdown`,
//! `usage.get`, `usage.summary`
//! and `quota.usage` add up stored runs in GoClaw's shapes — the whole tenant for an admin,
//! only their own for alice, bob (read+write keys bound to them) and vera (a read-only key) —
//! and `gateway.quota` refuses the turn past a limit with GoClaw's notice: 429 over HTTP,
//! `RESOURCE_EXHAUSTED` on WebSocket, the notice itself on Telegram.

mod support;

use std::time::Duration;

use goclaw_testkit::spawn_app_with_config;
use goclaw_testkit::{FakeTelegram, Reply, StoreBackend, TestApp, WsClient, app_test};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "usage-test-token-3b8e41";
const MODEL: &str = "claude-sonnet-4-5-20250929";
/// Prices per million tokens: input 3, output 15, cache reads 0.3, cache writes 3.75.
const PRICING: &str = "{ input_per_million: 3, output_per_million: 15, \
     cache_read_per_million: 0.3, cache_create_per_million: 3.75 }";
const WAIT: Duration = Duration::from_secs(30);

async fn priced_app(backend: StoreBackend) -> Option<TestApp> {
    let config = format!(
        "{{ gateway: {{ rate_limit_rpm: 0 }}, \
           agents: {{ defaults: {{ provider: 'anthropic', model: '{MODEL}' }} }}, \
           telemetry: {{ model_pricing: {{ 'anthropic/{MODEL}': {PRICING} }} }} }}"
    );
    spawn_app_with_config(backend, &config, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

async fn quota_app(backend: StoreBackend) -> Option<TestApp> {
    let config = "{ gateway: { rate_limit_rpm: 0, quota: { enabled: true, \
         default: { hour: 2 }, groups: { bob: { hour: 1 } } } } }";
    spawn_app_with_config(backend, config, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

impl Callers {
    /// One chat completion as `who`: the status and the answer.
    async fn chat(&self, app: &TestApp, who: &str) -> (u16, Value) {
        let body = json!({
            "model": "goclaw:default",
            "messages": [{ "role": "user", "content": "how much does this cost?" }],
        });
        let path = "/v1/chat/completions";
        self.call(app, who, Method::POST, path, Some(body)).await
    }

    /// `GET path` as `who`, asserting 200.
    async fn read(&self, app: &TestApp, who: &str, path: &str) -> Value {
        let (status, body) = self.call(app, who, Method::GET, path, None).await;
        assert_eq!(status, 200, "{who} GET {path}: {body}");
        body
    }

    /// A WebSocket connected with `who`'s key.
    async fn ws(&self, app: &TestApp, who: &str) -> WsClient {
        let mut ws = WsClient::open(&app.ws_url()).await;
        ws.call_ok("connect", json!({ "token": self.bearer(who) }))
            .await;
        ws
    }
}

/// Waits until the admin sees `count` finished traces, and returns them.
async fn finished_traces(app: &TestApp, callers: &Callers, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let body = callers
            .read(app, "admin", "/v1/traces?status=completed")
            .await;
        let traces = body["traces"].as_array().cloned().unwrap_or_default();
        if traces.len() >= count {
            return traces;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} finished traces: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number"));
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: {actual} != {expected}"
    );
}

app_test!(
    a_run_costs_what_its_tokens_cost,
    priced_app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        app.llm.push(
            Reply::text("priced")
                .usage(1000, 500)
                .cache_tokens(2000, 4000),
        );
        let (status, body) = callers.chat(&app, "alice").await;
        assert_eq!(status, 200, "{body}");
        let traces = finished_traces(&app, &callers, 1).await;
        // 1000 × 3 + 500 × 15 + 4000 × 0.3 + 2000 × 3.75, per million.
        let cost = 0.003 + 0.0075 + 0.0012 + 0.0075;
        assert_close(&traces[0]["total_cost"], cost, "the trace's cost");
        let id = traces[0]["id"].as_str().expect("id");
        let detail = callers
            .read(&app, "admin", &format!("/v1/traces/{id}"))
            .await;
        assert_close(
            &detail["spans"][0]["metadata"]["cost"],
            cost,
            "the span's cost",
        );
        assert_eq!(detail["spans"][0]["model"], MODEL, "{detail}");
    }
);

app_test!(
    usage_adds_up_each_callers_own_runs,
    priced_app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        app.llm.push(Reply::text("a").usage(1000, 500));
        assert_eq!(callers.chat(&app, "alice").await.0, 200);
        for _ in 0..2 {
            app.llm.push(Reply::text("b").usage(100, 50));
            assert_eq!(callers.chat(&app, "bob").await.0, 200);
        }
        finished_traces(&app, &callers, 3).await;

        // (requests, input, output, cost, unique users) each caller is shown for the last 24 h.
        let bobs_cost = 2.0 * (0.0003 + 0.00075);
        let expected = [
            ("admin", 3, 1200, 600, 0.0105 + bobs_cost, 2),
            ("alice", 1, 1000, 500, 0.0105, 1),
            ("bob", 2, 200, 100, bobs_cost, 1),
            ("vera", 0, 0, 0, 0.0, 0),
        ];
        for (who, requests, input, output, cost, users) in expected {
            let body = callers
                .read(&app, who, "/v1/usage/summary?period=24h")
                .await;
            assert_goclaw_shape("http_get_v1_usage_summary", &body);
            let current = &body["current"];
            assert_eq!(current["requests"], requests, "{who}: {body}");
            assert_eq!(current["input_tokens"], input, "{who}: {body}");
            assert_eq!(current["output_tokens"], output, "{who}: {body}");
            assert_eq!(current["unique_users"], users, "{who}: {body}");
            assert_eq!(current["errors"], 0, "{who}: {body}");
            assert_eq!(current["llm_calls"], requests, "{who}: {body}");
            assert_close(&current["cost"], cost, who);
            assert_eq!(body["previous"]["requests"], 0, "{who}: {body}");

            let now = chrono::Utc::now();
            let range = format!(
                "from={}&to={}",
                (now - chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M:%SZ"),
                (now + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
            );
            for group in ["hour", "day"] {
                let path = format!("/v1/usage/timeseries?{range}&group_by={group}");
                let series = callers.read(&app, who, &path).await;
                if requests > 0 {
                    assert_goclaw_shape("http_get_v1_usage_timeseries", &series);
                }
                let points = series["points"].as_array().expect("points");
                let sum =
                    |field: &str| points.iter().filter_map(|p| p[field].as_i64()).sum::<i64>();
                assert_eq!(sum("request_count"), requests, "{who} {group}: {series}");
                assert_eq!(sum("input_tokens"), input, "{who} {group}: {series}");
                for point in points {
                    let time = point["bucket_time"].as_str().expect("bucket_time");
                    assert!(time.contains("T"), "{time}");
                }
            }

            // Per provider, model, channel and agent.
            let default_agent =
                callers.read(&app, "admin", "/v1/agents/default").await["id"].clone();
            for (group, key) in [
                ("provider", json!("anthropic")),
                ("model", json!(MODEL)),
                ("channel", json!("http")),
                ("agent", default_agent),
            ] {
                let path = format!("/v1/usage/breakdown?{range}&group_by={group}");
                let body = callers.read(&app, who, &path).await;
                let rows = body["rows"].as_array().expect("rows");
                if requests == 0 {
                    assert!(rows.is_empty(), "{who} {group}: {body}");
                    continue;
                }
                assert_goclaw_shape("http_get_v1_usage_breakdown", &body);
                assert_eq!(rows.len(), 1, "{who} {group}: {body}");
                assert_eq!(rows[0]["key"], key, "{who} {group}: {body}");
                assert_eq!(rows[0]["request_count"], requests, "{who} {group}: {body}");
                assert_eq!(rows[0]["input_tokens"], input, "{who} {group}: {body}");
                assert_eq!(rows[0]["llm_call_count"], requests, "{who} {group}: {body}");
                assert_close(&rows[0]["total_cost"], cost, &format!("{who} {group}"));
            }

            // The WebSocket tallies, from the sessions.
            let mut ws = callers.ws(&app, who).await;
            let tallies = ws.call_ok("usage.summary", json!({})).await;
            if requests > 0 {
                assert_goclaw_shape("ws_usage.summary", &tallies);
            }
            let sessions = if requests > 0 { 1 } else { 0 };
            let agents = tallies["byAgent"].as_object().map_or(0, |m| m.len());
            assert!(
                tallies["totalRecords"].as_i64() >= Some(sessions),
                "{who}: {tallies}"
            );
            if who != "admin" {
                assert_eq!(agents, sessions as usize, "{who}: {tallies}");
                let input_total = tallies["byAgent"]["default"]["inputTokens"].as_i64();
                assert_eq!(input_total.unwrap_or(0), input, "{who}: {tallies}");
            }
            let records = ws.call_ok("usage.get", json!({ "limit": 10 })).await;
            if requests > 0 {
                assert_goclaw_shape("ws_usage.get", &records);
            }
            assert_eq!(records["limit"], 10, "{records}");
            for record in records["records"].as_array().expect("records") {
                assert_eq!(record["agentId"], "default", "{record}");
                assert!(record["timestamp"].is_i64(), "{record}");
            }
            let quota = ws.call_ok("quota.usage", json!({})).await;
            assert_eq!(quota["enabled"], false, "{quota}");
            assert_eq!(
                quota["requestsToday"].as_i64().map(|n| n >= requests),
                Some(true)
            );
            if who != "admin" {
                assert_eq!(quota["requestsToday"], requests, "{who}: {quota}");
                assert_eq!(quota["inputTokensToday"], input, "{who}: {quota}");
            }
            assert_eq!(quota["entries"], json!([]), "{quota}");
        }

        // Inputs the routes refuse, with the API's error body.
        for path in [
            "/v1/usage/timeseries",
            "/v1/usage/timeseries?from=yesterday&to=2026-01-01T00:00:00Z",
            "/v1/usage/timeseries?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&group_by=week",
            "/v1/usage/breakdown",
            "/v1/usage/breakdown?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&group_by=user",
        ] {
            let (status, body) = callers.call(&app, "alice", Method::GET, path, None).await;
            assert_eq!(status, 400, "{path}: {body}");
            assert_eq!(body["error"]["code"], "INVALID_REQUEST", "{path}: {body}");
        }
    }
);

app_test!(
    a_quota_refuses_the_turn_past_its_limit,
    quota_app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        app.llm.set_default(Reply::text("within quota"));
        for _ in 0..2 {
            let (status, body) = callers.chat(&app, "alice").await;
            assert_eq!(status, 200, "{body}");
        }
        let answered = app.llm.request_count();
        let notice = "⚠️ Hourly request limit reached (2/2). Please try again later.";
        let (status, body) = callers.chat(&app, "alice").await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["error"]["message"], notice, "{body}");
        let mut ws = callers.ws(&app, "alice").await;
        let refused = ws
            .call("chat.send", json!({ "message": "one more?" }))
            .await;
        assert_eq!(refused["ok"], false, "{refused}");
        assert_eq!(refused["error"]["code"], "RESOURCE_EXHAUSTED", "{refused}");
        assert_eq!(refused["error"]["message"], notice, "{refused}");
        assert_eq!(
            app.llm.request_count(),
            answered,
            "a refused turn reached the model"
        );

        // The most specific limit wins: bob's own entry allows one an hour.
        assert_eq!(callers.chat(&app, "bob").await.0, 200);
        let (status, body) = callers.chat(&app, "bob").await;
        assert_eq!(status, 429, "{body}");
        let bobs = "⚠️ Hourly request limit reached (1/1). Please try again later.";
        assert_eq!(body["error"]["message"], bobs, "{body}");

        // What each caller is shown of the counts, once the traces are stored.
        finished_traces(&app, &callers, 3).await;
        let mut admin = WsClient::open(&app.ws_url()).await;
        admin.call_ok("connect", json!({ "token": TOKEN })).await;
        let quota = admin.call_ok("quota.usage", json!({})).await;
        assert_goclaw_shape("ws_quota.usage", &quota);
        assert_eq!(quota["enabled"], true, "{quota}");
        assert_eq!(quota["requestsToday"], 3, "{quota}");
        assert_eq!(quota["uniqueUsersToday"], 2, "{quota}");
        let entry = |quota: &Value, user: &str| {
            quota["entries"]
                .as_array()
                .and_then(|e| e.iter().find(|e| e["userId"] == user).cloned())
        };
        let alice = entry(&quota, "alice").expect("alice's entry");
        assert_eq!(alice["hour"], json!({ "used": 2, "limit": 2 }), "{quota}");
        assert_eq!(alice["week"], json!({ "used": 2, "limit": 0 }), "{quota}");
        let bob = entry(&quota, "bob").expect("bob's entry");
        assert_eq!(bob["hour"], json!({ "used": 1, "limit": 1 }), "{quota}");
        let own = ws.call_ok("quota.usage", json!({})).await;
        let users: Vec<&Value> = own["entries"].as_array().expect("entries").iter().collect();
        assert_eq!(users.len(), 1, "alice sees only her own entry: {own}");
        assert_eq!(users[0]["userId"], "alice", "{own}");
        let mut vera = callers.ws(&app, "vera").await;
        let hers = vera.call_ok("quota.usage", json!({})).await;
        assert_eq!(hers["entries"], json!([]), "{hers}");
        assert_eq!(hers["requestsToday"], 0, "{hers}");
    }
);

const BOT_TOKEN: &str = "123456:usage-telegram-token-51de";

/// On a channel the sender is answered with the notice itself, as GoClaw does.
async fn telegram_senders_are_told(backend: StoreBackend) {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1, dm_policy: 'open' }} }}, \
           gateway: {{ quota: {{ enabled: true, channels: {{ telegram: {{ day: 1 }} }} }} }} }}",
        telegram.api_server()
    );
    let env = [
        ("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN),
        ("GOCLAW_GATEWAY_TOKEN", TOKEN),
    ];
    let Some(app) = spawn_app_with_config(backend, &config, &env).await else {
        return;
    };
    app.llm.set_default(Reply::text("first answer"));
    telegram.direct_message(4711, "hello");
    telegram
        .wait_for_sent(WAIT, |s| s.iter().any(|m| m.text.contains("first answer")))
        .await
        .expect("the first answer");
    let answered = app.llm.request_count();
    telegram.direct_message(4711, "and again");
    let notice = "⚠️ Daily request limit reached (1/1). Please try again later.";
    let sent = telegram
        .wait_for_sent(WAIT, |s| s.iter().any(|m| m.text == notice))
        .await;
    assert!(sent.is_ok(), "{:?}", telegram.sent_to(4711));
    assert_eq!(
        app.llm.request_count(),
        answered,
        "the refused message reached the model"
    );
}

goclaw_testkit::backend_tests!(telegram_senders_are_told);

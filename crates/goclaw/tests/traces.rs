//! Run tracing end to end: a real chat turn over WebSocket (a tool call, then the answer) leaves
//! a trace with one LLM span per model call and a tool span, visible through `/v1/traces` and
//! `goclaw traces list`; with `telemetry.enabled` the same spans reach a loopback OTLP/HTTP
//! receiver; a trace left `running` is closed by a restart.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use goclaw_core::{MASTER_TENANT_ID, TRACE_RUNNING, Trace};
use goclaw_testkit::{Reply, StoreBackend, TestApp, spawn_app_with_config};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span as OtlpSpan;
use prost::Message;
use serde_json::{Value, json};
use support::{Goclaw, home};

/// Runs the turn: the model calls `datetime`, then answers.
async fn traced_turn(app: &TestApp) {
    app.llm
        .push(Reply::tool_call("call-1", "datetime", json!({})));
    app.llm.push(Reply::text("it is now"));
    let mut ws = app.ws_connect("alice").await;
    let payload = ws
        .call_ok("chat.send", json!({"message": "what time is it?"}))
        .await;
    assert_eq!(payload["content"], "it is now");
}

/// Polls `GET /v1/traces` until a finished trace shows up (the recorder flushes every second).
async fn finished_trace(app: &TestApp) -> Value {
    for _ in 0..100 {
        let body: Value = app.get("/v1/traces").await.json().await.expect("json");
        if let Some(trace) = body["traces"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["status"] != TRACE_RUNNING))
        {
            return trace.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no finished trace within 10 s");
}

async fn turn_is_traced(backend: StoreBackend) {
    let Some(app) = spawn_app_with_config(backend, "{}", &[]).await else {
        return;
    };
    traced_turn(&app).await;
    let trace = finished_trace(&app).await;
    assert_eq!(trace["status"], "completed", "{trace}");
    assert_eq!(trace["agent_key"], "default");
    assert_eq!(trace["llm_call_count"], 2);
    assert_eq!(trace["tool_call_count"], 1);
    assert!(trace["session_key"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(trace["duration_ms"].is_i64());

    let id = trace["id"].as_str().expect("id");
    let detail: Value = app
        .get(&format!("/v1/traces/{id}"))
        .await
        .json()
        .await
        .expect("json");
    let spans = detail["spans"].as_array().expect("spans");
    let kinds: Vec<&str> = spans
        .iter()
        .filter_map(|s| s["span_type"].as_str())
        .collect();
    assert_eq!(kinds, ["llm_call", "tool_call", "llm_call"], "{detail}");
    assert_eq!(spans[0]["provider"], "anthropic", "{detail}");
    assert!(spans[0]["model"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(spans[1]["tool_name"], "datetime");
    assert_eq!(spans[1]["tool_call_id"], "call-1");
    assert_eq!(spans[1]["status"], "completed");

    let filtered: Value = app
        .get("/v1/traces?agent_id=default&status=completed&limit=1")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(filtered["traces"][0]["id"], id);
    // The stored spelling filters the same.
    let filtered: Value = app
        .get("/v1/traces?status=ok&limit=1")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(filtered["traces"][0]["id"], id);
    let missing = app.get(&format!("/v1/traces/{}", uuid_like())).await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("json");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    // A NUL byte cannot reach the database (PostgreSQL refuses it in text).
    let nul = app.get("/v1/traces?session_key=a%00b").await;
    assert_eq!(nul.status(), 400);
}

fn uuid_like() -> &'static str {
    "0190f5c2-0000-7000-8000-000000000000"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_traced_on_sqlite() {
    turn_is_traced(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_traced_on_postgres() {
    turn_is_traced(StoreBackend::Postgres).await;
}

async fn restart_closes_running(backend: StoreBackend) {
    let Some(mut app) = spawn_app_with_config(backend, "{}", &[]).await else {
        return;
    };
    let stale = Trace::start(
        uuid::Uuid::now_v7(),
        MASTER_TENANT_ID,
        "invoke_agent default",
    );
    app.db
        .store()
        .traces()
        .write_batch(std::slice::from_ref(&stale), &[])
        .await
        .expect("write");
    app.restart().await;
    let body: Value = app
        .get(&format!("/v1/traces/{}", stale.id))
        .await
        .json()
        .await
        .expect("json");
    let trace = &body["trace"];
    assert_eq!(trace["status"], "error", "{body}");
    assert!(
        trace["error"]
            .as_str()
            .is_some_and(|e| e.contains("interrupted"))
    );
    assert!(trace["end_time"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_closes_running_traces_on_sqlite() {
    restart_closes_running(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_closes_running_traces_on_postgres() {
    restart_closes_running(StoreBackend::Postgres).await;
}

type Received = Arc<Mutex<Vec<OtlpSpan>>>;

async fn collect(State(received): State<Received>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf request");
    let mut spans = received.lock().expect("lock");
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            spans.extend(scope.spans);
        }
    }
    Vec::new()
}

fn attribute(span: &OtlpSpan, key: &str) -> Option<AnyValue> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.clone())
        .and_then(|v| v.value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_exported_over_otlp_http() {
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = axum::Router::new()
        .route("/v1/traces", axum::routing::post(collect))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let config = format!(
        r#"{{ telemetry: {{ enabled: true, protocol: "http", endpoint: "http://{addr}" }} }}"#
    );
    let app = spawn_app_with_config(StoreBackend::Sqlite, &config, &[])
        .await
        .expect("SQLite is always available");
    traced_turn(&app).await;
    let mut names = Vec::new();
    for _ in 0..100 {
        names = received
            .lock()
            .expect("lock")
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>();
        if names.iter().any(|n| n.starts_with("invoke_agent")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let spans = received.lock().expect("lock").clone();
    assert!(
        names.contains(&"invoke_agent default".to_owned()),
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| n.starts_with("chat ")).count(),
        2,
        "{names:?}"
    );
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool datetime")
        .expect("a tool span");
    assert_eq!(
        attribute(tool, "gen_ai.tool.name"),
        Some(AnyValue::StringValue("datetime".to_owned()))
    );
    let llm = spans
        .iter()
        .find(|s| s.name.starts_with("chat "))
        .expect("llm span");
    assert_eq!(
        attribute(llm, "gen_ai.provider.name"),
        Some(AnyValue::StringValue("anthropic".to_owned()))
    );
    assert!(matches!(
        attribute(llm, "gen_ai.usage.input_tokens"),
        Some(AnyValue::IntValue(_))
    ));
    let root = spans
        .iter()
        .find(|s| s.name == "invoke_agent default")
        .expect("root span");
    assert_eq!(tool.trace_id, root.trace_id, "one OTLP trace per run");
    assert_eq!(
        tool.parent_span_id, root.span_id,
        "spans hang under the run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_traces_of_a_running_gateway() {
    let app = spawn_app_with_config(StoreBackend::Sqlite, "{}", &[])
        .await
        .expect("SQLite is always available");
    traced_turn(&app).await;
    let trace = finished_trace(&app).await;
    let id = trace["id"].as_str().expect("id").to_owned();
    let home = home();
    let out = Goclaw::new(home.path())
        .env("GOCLAW_SERVER", app.url(""))
        .args(&["traces", "list"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert!(out.stdout.contains(&id), "{}", out.stdout);
    assert!(out.stdout.contains("default"), "{}", out.stdout);
    let out = Goclaw::new(home.path())
        .env("GOCLAW_SERVER", app.url(""))
        .args(&["traces", "get", &id])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout.contains("execute_tool datetime"),
        "{}",
        out.stdout
    );
}

//! GoClaw's web dashboard against the real gateway, on both engines: every call of its login
//! flow, app shell, overview page, other always-loaded pages and chat page, as recorded in
//! `tests/fixtures/goclaw_dashboard_calls.json` (method or route, params, and the answer fields
//! the dashboard reads with their JSON types), is made as the owner (`system` with the gateway
//! token) and must answer — or answer `NOT_IMPLEMENTED` where the fixture says the feature is
//! not provided — with every field read present and of the right type. The chat call streams
//! `agent` events (`run.started`, `tool.call`, `tool.result`, `chunk`, `run.completed`) whose
//! fields are checked the same way. A change that breaks the dashboard breaks this test.

use std::time::Duration;

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use serde_json::{Map, Value, json};

const TOKEN: &str = "dashboard-token-8d2e4f6a1b";
const AGENT: &str = "default";
/// The whole walk through the dashboard must finish within this.
const WALK: Duration = Duration::from_secs(120);

async fn app(backend: StoreBackend) -> Option<TestApp> {
    let config = "{ gateway: { rate_limit_rpm: 0 } }";
    spawn_app_with_config(backend, config, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

fn calls() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/goclaw_dashboard_calls.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The placeholders of the fixture, replaced in params and expected values.
struct Walk {
    session: String,
    problems: Vec<String>,
}

impl Walk {
    fn fill(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(match s.as_str() {
                "$token" => TOKEN.to_owned(),
                "$wrong" => "not-the-token".to_owned(),
                "$agent" => AGENT.to_owned(),
                "$session" => self.session.clone(),
                other => other.to_owned(),
            }),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.fill(v)).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.fill(v))).collect())
            }
            other => other.clone(),
        }
    }

    /// Checks the fields of `answer` that `call` says the dashboard reads.
    fn check(&mut self, what: &str, call: &Value, answer: &Value) {
        let empty = Map::new();
        let reads = call["reads"].as_object().unwrap_or(&empty);
        for (path, ty) in reads {
            let ty = ty.as_str().unwrap_or("any");
            for found in values_at(answer, path) {
                if !type_matches(ty, found) {
                    self.problems
                        .push(format!("{what}: {path} should be {ty}, is {found:?}"));
                }
            }
        }
        for (path, expected) in call["equals"].as_object().unwrap_or(&empty) {
            let expected = self.fill(expected);
            for found in values_at(answer, path) {
                if found != Some(&expected) {
                    self.problems
                        .push(format!("{what}: {path} should be {expected}, is {found:?}"));
                }
            }
        }
        for (path, wanted) in call["some"].as_object().unwrap_or(&empty) {
            let wanted = self.fill(wanted);
            let items = answer
                .pointer(&format!("/{path}"))
                .and_then(Value::as_array);
            let hit = items.is_some_and(|items| {
                items.iter().any(|item| {
                    wanted
                        .as_object()
                        .is_some_and(|w| w.iter().all(|(k, v)| item.get(k) == Some(v)))
                })
            });
            if !hit {
                self.problems.push(format!(
                    "{what}: no element of {path} has {wanted}: {answer}"
                ));
            }
        }
    }

    async fn http(&mut self, app: &TestApp, call: &Value) {
        let route = call["http"].as_str().unwrap_or_default();
        let (method, path) = route.split_once(' ').unwrap_or(("GET", route));
        let bearer = self.fill(call.get("bearer").unwrap_or(&json!("$token")));
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let response = app
            .client
            .request(method, app.url(path))
            .bearer_auth(bearer.as_str().unwrap_or_default())
            .header("X-GoClaw-User-Id", "system")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{route}: {e}"));
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let allowed: Vec<u64> = match call["status"].as_array() {
            Some(list) => list.iter().filter_map(Value::as_u64).collect(),
            None => vec![200],
        };
        if !allowed.contains(&u64::from(status)) {
            self.problems.push(format!(
                "{route}: status {status}, expected {allowed:?}: {body}"
            ));
            return;
        }
        if status == 200 {
            self.check(route, call, &body);
        }
    }

    async fn ws(&mut self, ws: &mut WsClient, call: &Value) -> Option<Value> {
        let method = call["ws"].as_str().unwrap_or_default();
        let params = self.fill(call.get("params").unwrap_or(&json!({})));
        let response = ws.call(method, params).await;
        if call["not_implemented"] == true {
            if response["error"]["code"] != "NOT_IMPLEMENTED" {
                self.problems.push(format!(
                    "{method}: expected NOT_IMPLEMENTED, got {response}"
                ));
            }
            return None;
        }
        if response["ok"] != true {
            self.problems.push(format!("{method} failed: {response}"));
            return None;
        }
        let payload = response["payload"].clone();
        self.check(method, call, &payload);
        Some(payload)
    }
}

/// Every value at `path` (`a.b[].c`), `None` where one is missing.
fn values_at<'a>(root: &'a Value, path: &str) -> Vec<Option<&'a Value>> {
    let mut current = vec![Some(root)];
    for segment in path.split('.') {
        let (name, each) = match segment.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (segment, false),
        };
        let mut next = Vec::new();
        for value in current {
            let child = value.and_then(|v| v.get(name));
            match child {
                Some(Value::Array(items)) if each => next.extend(items.iter().map(Some)),
                other => next.push(other),
            }
        }
        current = next;
    }
    current
}

fn type_matches(ty: &str, value: Option<&Value>) -> bool {
    let (base, optional) = match ty.strip_suffix('?') {
        Some(base) => (base, true),
        None => (ty, false),
    };
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return optional || base == "any" && value.is_some();
    };
    match base {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

async fn walk(app: &TestApp) -> Vec<String> {
    let calls = calls();
    let mut walk = Walk {
        session: format!("agent:{AGENT}:ws:direct:{}", uuid::Uuid::new_v4()),
        problems: Vec::new(),
    };
    let mut ws = WsClient::open(&app.ws_url()).await;
    for call in calls["login"].as_array().into_iter().flatten() {
        if call.get("http").is_some() {
            walk.http(app, call).await;
        } else {
            walk.ws(&mut ws, call).await;
        }
    }
    for section in ["shell", "overview", "pages"] {
        for call in calls[section].as_array().into_iter().flatten() {
            if call.get("http").is_some() {
                walk.http(app, call).await;
            } else {
                walk.ws(&mut ws, call).await;
            }
        }
    }
    // The reply: one tool call, then streamed text.
    app.llm
        .push(Reply::tool_call("call_1", "datetime", json!({})));
    app.llm.push(Reply::text_in_chunks("It is noon.", 3));
    for call in calls["chat"].as_array().into_iter().flatten() {
        walk.ws(&mut ws, call).await;
        let empty = Map::new();
        for (kind, expected) in call["events"].as_object().unwrap_or(&empty) {
            let frame = ws.wait_agent_event(kind).await;
            walk.check(&format!("agent event {kind}"), expected, &frame["payload"]);
        }
    }
    walk.problems
}

app_test!(
    dashboard_calls_answer_as_it_reads_them,
    app,
    |app: TestApp| async move {
        let problems = tokio::time::timeout(WALK, walk(&app))
            .await
            .expect("the dashboard walk finishes in time");
        assert!(
            problems.is_empty(),
            "the dashboard would break:\n{}",
            problems.join("\n")
        );
    }
);

#[test]
fn fixture_covers_the_dashboards_unprovided_methods() {
    let calls = calls();
    let listed: Vec<&str> = ["login", "shell", "overview", "pages", "chat"]
        .iter()
        .flat_map(|s| calls[*s].as_array().into_iter().flatten())
        .filter_map(|c| c["ws"].as_str())
        .collect();
    for method in goclaw_gateway::scopes::METHOD_ACCESS
        .iter()
        .map(|(m, _)| *m)
        .filter(|m| {
            [
                "workstations.",
                "bitrix.",
                "config.permissions.",
                "zalo.",
                "whatsapp.",
            ]
            .iter()
            .any(|p| m.starts_with(p))
        })
    {
        assert!(listed.contains(&method), "{method} is not in the fixture");
    }
}

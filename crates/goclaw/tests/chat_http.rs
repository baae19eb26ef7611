//! The OpenAI-compatible HTTP API and agent routes, against the real application and a fake
//! LLM, on both storage backends — including the official `openai` Python SDK as a client.

use goclaw_testkit::{Reply, TestApp, app_test};
use serde_json::{Value, json};

app_test!(non_streamed_completion, |app: TestApp| async move {
    app.llm.push(Reply::text("Paris.").usage(9, 2));
    let response = app
        .client
        .post(app.url("/v1/chat/completions"))
        .json(&json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "Capital of France?" }], "user": "ivy" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "Paris.");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 9);
});

app_test!(
    streamed_completion_is_token_by_token_sse,
    |app: TestApp| async move {
        app.llm.push(Reply::text_in_chunks("one two three four", 4));
        let response = app
        .client
        .post(app.url("/v1/chat/completions"))
        .header("X-GoClaw-Session-Key", "agent:default:http:stream-test")
        .json(&json!({ "model": "goclaw:default", "stream": true, "messages": [{ "role": "user", "content": "count" }] }))
        .send()
        .await
        .expect("POST");
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/event-stream")
        );
        let text = response.text().await.expect("body");
        let data: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect();
        assert_eq!(data.last(), Some(&"[DONE]"), "{text}");
        let content: String = data
            .iter()
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| {
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(content, "one two three four");
        let content_chunks = data
            .iter()
            .filter(|d| d.contains("\"content\":\"") && !d.contains("\"content\":\"\""))
            .count();
        assert!(content_chunks >= 2, "streamed in pieces: {text}");
    }
);

app_test!(
    completion_errors_use_openai_shape,
    |app: TestApp| async move {
        let response = app
        .client
        .post(app.url("/v1/chat/completions"))
        .json(&json!({ "model": "goclaw:nobody", "messages": [{ "role": "user", "content": "hi" }] }))
        .send()
        .await
        .expect("POST");
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.expect("JSON");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("nobody"),
            "{body}"
        );
        assert!(body["error"]["type"].is_string());

        let response = app
            .client
            .post(app.url("/v1/chat/completions"))
            .json(&json!({ "model": "goclaw:default", "messages": [] }))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 400);
    }
);

app_test!(agents_crud_over_http, |app: TestApp| async move {
    let created = app
        .client
        .post(app.url("/v1/agents"))
        .json(&json!({ "name": "Code Reviewer", "model": "gpt-4o", "provider": "openai" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), 201);
    let agent: Value = created.json().await.expect("JSON");
    assert_eq!(agent["agent_key"], "code-reviewer");

    let updated = app
        .client
        .put(app.url("/v1/agents/code-reviewer"))
        .json(&json!({ "temperature": 0.2 }))
        .send()
        .await
        .expect("PUT");
    assert_eq!(updated.status(), 200);
    let agent: Value = updated.json().await.expect("JSON");
    assert_eq!(
        agent["other_config"]["temperature"]
            .as_f64()
            .map(|t| (t * 10.0).round()),
        Some(2.0)
    );

    let list: Value = app.get("/v1/agents").await.json().await.expect("JSON");
    let ids: Vec<&str> = list["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|a| a["agent_key"].as_str())
        .collect();
    assert_eq!(ids, ["code-reviewer", "default"]);

    let deleted = app
        .client
        .delete(app.url("/v1/agents/code-reviewer"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status(), 200);
    assert_eq!(app.get("/v1/agents/code-reviewer").await.status(), 404);
});

/// Whether the `openai` Python package can be imported; under `CI=true` it must be.
fn openai_sdk_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import openai"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "the openai Python SDK is required when CI=true (scripts/test installs it)"
        );
        eprintln!("skipped: openai SDK test needs `pip install openai`");
    }
    ok
}

app_test!(
    official_openai_sdk_streams_and_completes,
    |app: TestApp| async move {
        if !openai_sdk_available() {
            return;
        }
        app.llm
            .push(Reply::text_in_chunks("streamed via the sdk", 4));
        app.llm.push(Reply::text("whole answer"));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openai_sdk.py");
        let output = tokio::process::Command::new("python3")
            .args([script, &app.url("/v1")])
            .output()
            .await
            .expect("python3 runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "openai SDK script failed: {stderr}"
        );
        let result: Value = serde_json::from_slice(&output.stdout).expect("script prints JSON");
        assert_eq!(result["streamed"], "streamed via the sdk");
        assert!(
            result["stream_pieces"].as_u64().unwrap_or(0) >= 2,
            "{result}"
        );
        assert_eq!(result["completion"], "whole answer");
        assert_eq!(result["finish_reason"], "stop");
        assert_eq!(result["object"], "chat.completion");
    }
);

app_test!(
    agent_thinking_level_reaches_the_provider,
    |app: TestApp| async move {
        let updated = app
            .client
            .put(app.url("/v1/agents/default"))
            .json(&json!({ "other_config": { "thinking_level": "low" } }))
            .send()
            .await
            .expect("PUT");
        assert_eq!(updated.status(), 200);
        app.llm
            .push(Reply::text_with_thinking("let me think", "done"));
        let response = app
        .client
        .post(app.url("/v1/chat/completions"))
        .json(&json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "think" }], "user": "tess" }))
        .send()
        .await
        .expect("POST");
        assert_eq!(response.status(), 200);
        let request = app.llm.requests().pop().expect("one LLM call");
        assert_eq!(
            request.body["thinking"]["type"], "enabled",
            "{}",
            request.body
        );
        assert_eq!(request.body["thinking"]["budget_tokens"], 4096);
    }
);

// A `user` with control characters is refused, even when a header names the session and the
// user would not be used for it.
app_test!(
    a_user_with_control_characters_is_refused,
    |app: TestApp| async move {
        for headers in [
            &[][..],
            &[("X-GoClaw-Session-Key", "agent:default:http:ctl")][..],
        ] {
            let mut request = app.client.post(app.url("/v1/chat/completions"));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request
                .json(&json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "hi" }], "user": "iv\u{b}y" }))
                .send()
                .await
                .expect("POST");
            assert_eq!(response.status(), 400);
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(
                body["error"]["message"], "user must not contain control characters",
                "{body}"
            );
        }
        assert!(app.llm.requests().is_empty(), "no model call");
    }
);

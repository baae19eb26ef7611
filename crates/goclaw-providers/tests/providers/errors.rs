//! Failures as both clients see them over real HTTP: statuses with `Retry-After`, context
//! overflow, dropped streams, refused connections, timeouts — and the API key never appearing
//! in an error.

use std::time::Duration;

use goclaw_core::llm::{Provider, ProviderError};
use goclaw_fake_llm::{FakeLlm, Reply};
use goclaw_providers::{AnthropicProvider, HttpSettings, OpenAiCompatProvider};

use crate::support::{ANTHROPIC_KEY, OPENAI_KEY, Wire, chat, request};

/// A short, comparable description of an error.
fn describe(error: &ProviderError) -> String {
    let after = |d: &Option<Duration>| d.map_or(String::new(), |d| format!(", {}s", d.as_secs()));
    match error {
        ProviderError::RateLimited { retry_after, .. } => {
            format!("rate_limited{}", after(retry_after))
        }
        ProviderError::Server {
            status,
            retry_after,
            ..
        } => format!("server({status}{})", after(retry_after)),
        ProviderError::Timeout => "timeout".into(),
        ProviderError::Connection(_) => "connection".into(),
        ProviderError::ContextOverflow(_) => "context_overflow".into(),
        ProviderError::Auth(_) => "auth".into(),
        ProviderError::BadRequest { status, .. } => format!("bad_request({status})"),
        ProviderError::Protocol(_) => "protocol".into(),
        ProviderError::NotConfigured(_) => "not_configured".into(),
    }
}

async fn check(reply: Reply, expected: &str) {
    for wire in Wire::BOTH {
        let fake = FakeLlm::start().await;
        fake.push(reply.clone());
        let provider = wire.provider(&fake);
        let (result, _) = chat(provider.as_ref(), &request("model-x")).await;
        let error = result.expect_err("the call fails");
        assert_eq!(describe(&error), expected, "{wire:?}: {error}");
    }
}

#[tokio::test]
async fn http_failures_map_to_provider_errors() {
    check(Reply::rate_limited(2), "rate_limited, 2s").await;
    check(Reply::http_error(429, "{}"), "rate_limited").await;
    check(Reply::server_error(), "server(500)").await;
    check(
        Reply::http_error(503, "busy").retry_after("7"),
        "server(503, 7s)",
    )
    .await;
    check(Reply::overloaded(), "server(529)").await;
    check(
        Reply::http_error(401, r#"{"error":{"message":"invalid x-api-key"}}"#),
        "auth",
    )
    .await;
    check(Reply::http_error(403, "forbidden"), "auth").await;
    check(
        Reply::http_error(404, r#"{"error":{"message":"model not found"}}"#),
        "bad_request(404)",
    )
    .await;
    check(
        Reply::http_error(400, r#"{"error":{"message":"tools.0: bad schema"}}"#),
        "bad_request(400)",
    )
    .await;
    check(Reply::context_overflow(), "context_overflow").await;
    check(
        Reply::http_error(400, r#"{"error":{"message":"This model's maximum context length is 128000 tokens","code":"context_length_exceeded"}}"#),
        "context_overflow",
    )
    .await;
    check(Reply::http_error(413, r#"{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}"#), "context_overflow").await;
}

#[tokio::test]
async fn dropped_streams_are_connection_errors() {
    check(
        Reply::text("one two three four").disconnect_after(2),
        "connection",
    )
    .await;
    check(Reply::text("one two").disconnect_after(0), "connection").await;
    check(
        Reply::tool_call("c1", "t", serde_json::json!({"a": 1})).disconnect_after(1),
        "connection",
    )
    .await;
}

#[tokio::test]
async fn streams_cut_short_end_early() {
    for wire in Wire::BOTH {
        let fake = FakeLlm::start().await;
        fake.push(Reply::text("one two three").truncate_after(1));
        let (result, _) = chat(wire.provider(&fake).as_ref(), &request("m")).await;
        assert_eq!(
            result.expect_err("incomplete"),
            ProviderError::Connection("stream ended early".into()),
            "{wire:?}"
        );
    }
}

#[tokio::test]
async fn refused_connections_are_connection_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let base = format!("http://{}/v1", listener.local_addr().expect("address"));
    drop(listener);
    let providers: [Box<dyn Provider>; 2] = [
        Box::new(AnthropicProvider::new("k").with_base_url(&base)),
        Box::new(OpenAiCompatProvider::new("openai", &base, Some("k".into()))),
    ];
    for provider in providers {
        let (result, _) = chat(provider.as_ref(), &request("m")).await;
        assert!(
            matches!(result, Err(ProviderError::Connection(_))),
            "{result:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn slow_first_byte_and_stalled_streams_time_out() {
    let settings = HttpSettings {
        first_byte_timeout: Duration::from_secs(5),
        stream_idle_timeout: Duration::from_secs(5),
        ..HttpSettings::default()
    };
    let cases = [
        Reply::text("late").first_byte_delay(Duration::from_secs(60)),
        Reply::text("slow words").chunk_delay(Duration::from_secs(60)),
    ];
    for reply in cases {
        let fake = FakeLlm::start().await;
        fake.push(reply.clone());
        fake.push(reply);
        let anthropic = AnthropicProvider::new("k")
            .with_base_url(fake.base_url())
            .with_http_settings(settings.clone());
        let openai = OpenAiCompatProvider::new("openai", fake.base_url(), Some("k".into()))
            .with_http_settings(settings.clone());
        for provider in [&anthropic as &dyn Provider, &openai] {
            let (result, _) = chat(provider, &request("m")).await;
            assert_eq!(result.expect_err("times out"), ProviderError::Timeout);
        }
    }
}

#[tokio::test]
async fn api_keys_never_appear_in_errors() {
    let echo = |key: &str| {
        Reply::http_error(
            401,
            format!(r#"{{"error":{{"message":"Incorrect API key provided: {key}"}}}}"#),
        )
    };
    let fake = FakeLlm::start().await;
    fake.push(echo(ANTHROPIC_KEY));
    fake.push(echo(OPENAI_KEY));
    for wire in Wire::BOTH {
        let (result, _) = chat(wire.provider(&fake).as_ref(), &request("m")).await;
        let error = result.expect_err("rejected");
        let shown = format!("{error} {error:?}");
        assert!(matches!(error, ProviderError::Auth(_)), "{shown}");
        assert!(
            !shown.contains(ANTHROPIC_KEY) && !shown.contains(OPENAI_KEY),
            "{shown}"
        );
        assert!(shown.contains("***"), "{shown}");
    }
    let debug = format!("{:?}", AnthropicProvider::new(ANTHROPIC_KEY));
    assert!(!debug.contains(ANTHROPIC_KEY), "{debug}");
}

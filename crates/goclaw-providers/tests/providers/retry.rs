//! Retries and fallback over real HTTP, on tokio's paused clock: what is retried, how often,
//! after how long, and that nothing is repeated once output has been streamed.

use std::sync::Arc;
use std::time::Duration;

use goclaw_core::llm::{ChatResponse, ProviderError, StreamDelta};
use goclaw_fake_llm::{FakeLlm, Reply};
use goclaw_providers::{Candidate, RetryPolicy, chat_with_fallback, chat_with_retries};
use tokio::time::Instant;

use crate::support::{Wire, request, texts};

async fn with_retries(
    wire: Wire,
    fake: &FakeLlm,
) -> (Result<ChatResponse, ProviderError>, Vec<StreamDelta>) {
    let provider = wire.provider(fake);
    let mut deltas = Vec::new();
    let mut sink = |delta: StreamDelta| deltas.push(delta);
    let result = chat_with_retries(
        provider.as_ref(),
        &request("m"),
        &mut sink,
        &RetryPolicy::default(),
    )
    .await;
    (result, deltas)
}

async fn with_fallback(
    candidates: &[Candidate],
) -> (Result<ChatResponse, ProviderError>, Vec<StreamDelta>) {
    let policy = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    let mut deltas = Vec::new();
    let mut sink = |delta: StreamDelta| deltas.push(delta);
    let result =
        chat_with_fallback(candidates, &request("primary-model"), &mut sink, &policy).await;
    (result, deltas)
}

#[tokio::test(start_paused = true)]
async fn rate_limit_then_success_waits_for_retry_after() {
    for wire in Wire::BOTH {
        let fake = FakeLlm::start().await;
        fake.push(Reply::rate_limited(2));
        fake.push(Reply::text("finally"));
        // The clock is paused: this measures the virtual time the retry slept, not wall time.
        let started = Instant::now();
        let (result, deltas) = with_retries(wire, &fake).await;

        assert_eq!(
            result.expect("second attempt succeeds").text(),
            "finally",
            "{wire:?}"
        );
        assert_eq!(fake.request_count(), 2, "{wire:?}");
        assert!(started.elapsed() >= Duration::from_secs(2), "{wire:?}");
        assert_eq!(texts(&deltas), ["finally"]);
    }
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_return_the_last_error() {
    for wire in Wire::BOTH {
        let fake = FakeLlm::start().await;
        fake.push_all([
            Reply::server_error(),
            Reply::overloaded(),
            Reply::http_error(503, "busy"),
        ]);
        let (result, _) = with_retries(wire, &fake).await;

        assert!(
            matches!(result, Err(ProviderError::Server { status: 503, .. })),
            "{wire:?}: {result:?}"
        );
        assert_eq!(fake.request_count(), 3, "{wire:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_not_retried() {
    for reply in [
        Reply::http_error(400, "bad"),
        Reply::http_error(401, "no"),
        Reply::context_overflow(),
    ] {
        let fake = FakeLlm::start().await;
        fake.push(reply);
        let (result, _) = with_retries(Wire::Anthropic, &fake).await;
        assert!(result.is_err());
        assert_eq!(fake.request_count(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn no_retry_after_output_was_streamed() {
    for wire in Wire::BOTH {
        let fake = FakeLlm::start().await;
        fake.push(Reply::text("one two three four").disconnect_after(2));
        let (result, deltas) = with_retries(wire, &fake).await;

        assert!(
            matches!(result, Err(ProviderError::Connection(_))),
            "{wire:?}: {result:?}"
        );
        assert_eq!(fake.request_count(), 1, "{wire:?}");
        assert_eq!(texts(&deltas), ["one ", "two "], "{wire:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_drop_before_any_output_is_retried() {
    for wire in Wire::BOTH {
        let fake = FakeLlm::start().await;
        fake.push(Reply::text("lost").disconnect_after(0));
        fake.push(Reply::text("second try"));
        let (result, deltas) = with_retries(wire, &fake).await;

        assert_eq!(
            result.expect("retry succeeds").text(),
            "second try",
            "{wire:?}"
        );
        assert_eq!(fake.request_count(), 2, "{wire:?}");
        assert_eq!(texts(&deltas), ["second ", "try"], "{wire:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn falls_back_to_the_next_candidate_after_server_errors() {
    let primary = FakeLlm::start().await;
    primary.set_default(Reply::server_error());
    let secondary = FakeLlm::start().await;
    secondary.push(Reply::text("from the backup"));
    let candidates = [
        Candidate::new(Wire::Anthropic.provider(&primary), "primary-model"),
        Candidate::new(Wire::OpenAi.provider(&secondary), "backup-model"),
    ];
    let (result, deltas) = with_fallback(&candidates).await;

    let response = result.expect("the backup answers");
    assert_eq!(response.text(), "from the backup");
    assert_eq!(response.model, "backup-model");
    assert_eq!(primary.request_count(), 2, "the primary is retried first");
    assert_eq!(secondary.requests()[0].body["model"], "backup-model");
    assert_eq!(texts(&deltas), ["from ", "the ", "backup"]);
}

#[tokio::test(start_paused = true)]
async fn no_fallback_after_output_was_streamed() {
    let primary = FakeLlm::start().await;
    primary.push(Reply::text("partial answer here").disconnect_after(2));
    let secondary = FakeLlm::start().await;
    let candidates = [
        Candidate::new(Wire::OpenAi.provider(&primary), "primary-model"),
        Candidate::new(Wire::OpenAi.provider(&secondary), "backup-model"),
    ];
    let (result, deltas) = with_fallback(&candidates).await;

    assert!(
        matches!(result, Err(ProviderError::Connection(_))),
        "{result:?}"
    );
    assert_eq!(primary.request_count(), 1);
    assert_eq!(secondary.request_count(), 0);
    assert_eq!(texts(&deltas), ["partial ", "answer "]);
}

#[tokio::test(start_paused = true)]
async fn which_failures_move_on_to_the_next_candidate() {
    // (primary's reply, does the secondary get asked)
    let cases = [
        (Reply::http_error(401, "bad key"), true),
        (Reply::rate_limited(1), true),
        (Reply::http_error(400, "bad request"), false),
        (Reply::context_overflow(), false),
    ];
    for (reply, moves_on) in cases {
        let primary = FakeLlm::start().await;
        primary.set_default(reply);
        let secondary = FakeLlm::start().await;
        let candidates = [
            Candidate::new(Wire::Anthropic.provider(&primary), "a"),
            Candidate::new(Wire::Anthropic.provider(&secondary), "b"),
        ];
        let (result, _) = with_fallback(&candidates).await;
        assert_eq!(result.is_ok(), moves_on);
        assert_eq!(secondary.request_count(), usize::from(moves_on));
    }
}

#[tokio::test(start_paused = true)]
async fn all_candidates_failing_returns_the_last_error() {
    let first = FakeLlm::start().await;
    first.set_default(Reply::server_error());
    let second = FakeLlm::start().await;
    second.set_default(Reply::overloaded());
    let candidates = [
        Candidate::new(Wire::Anthropic.provider(&first), "a"),
        Candidate::new(Arc::clone(&Wire::Anthropic.provider(&second)), "b"),
    ];
    let (result, _) = with_fallback(&candidates).await;
    assert!(
        matches!(result, Err(ProviderError::Server { status: 529, .. })),
        "{result:?}"
    );
    assert_eq!((first.request_count(), second.request_count()), (2, 2));

    let (result, _) = with_fallback(&[]).await;
    assert!(
        matches!(result, Err(ProviderError::NotConfigured(_))),
        "{result:?}"
    );
}

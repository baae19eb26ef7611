//! The embedding client against the fake LLM's `/v1/embeddings` over real loopback HTTP:
//! batching and order, similarity of related texts, retries and what is not retried, the
//! dimension rule, and the API key kept out of every error.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_fake_llm::{EmbeddingReply, FakeLlm, embedding_vector};
use goclaw_memory::embed::{
    EMBEDDING_DIMENSIONS, EmbedError, EmbedRetryPolicy, Embedder, EmbeddingClient,
    EmbeddingSettings,
};

const KEY: &str = "sk-test-Zq9xKEYNEVERSHOWN";

/// Settings for the fake with quick retries, so failure tests take milliseconds.
fn settings(fake: &FakeLlm) -> EmbeddingSettings {
    EmbeddingSettings {
        retry: EmbedRetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            jitter: 0.0,
        },
        request_timeout: Duration::from_secs(5),
        ..EmbeddingSettings::new("fake", fake.base_url())
    }
}

fn client(settings: EmbeddingSettings) -> EmbeddingClient {
    EmbeddingClient::new(settings).expect("valid settings")
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn status_of(error: &EmbedError) -> Option<u16> {
    match error {
        EmbedError::Status { status, .. } => Some(*status),
        _ => None,
    }
}

#[tokio::test]
async fn order_is_kept_across_batches_even_when_answers_are_shuffled() {
    let fake = FakeLlm::start().await;
    fake.set_default_embedding(EmbeddingReply::reversed());
    let client = client(EmbeddingSettings {
        batch_size: 4,
        ..settings(&fake)
    });
    let inputs: Vec<String> = (0..10).map(|i| format!("memory note number {i}")).collect();

    let vectors = client.embed(&inputs).await.expect("embedded");

    assert_eq!(vectors.len(), inputs.len());
    for (text, vector) in inputs.iter().zip(&vectors) {
        assert_eq!(
            vector,
            &embedding_vector(text, EMBEDDING_DIMENSIONS),
            "{text}"
        );
    }
    assert_eq!(fake.embedding_request_count(), 3);
    assert_eq!(fake.embedding_input_count(), 10);
    let requests = fake.embedding_requests();
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| r.body["input"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [4, 4, 2]);
    for request in &requests {
        assert_eq!(request.path, "/v1/embeddings");
        assert_eq!(request.body["dimensions"], 1536);
        assert_eq!(request.body["model"], "text-embedding-3-small");
        assert_eq!(request.header("authorization"), None, "no key, no header");
    }
    assert!(fake.requests().is_empty(), "chat requests stay separate");
}

#[tokio::test]
async fn related_texts_are_closer_than_unrelated_ones() {
    let fake = FakeLlm::start().await;
    let client = client(settings(&fake));
    let inputs = texts(&[
        "The deploy to production failed because the database migration timed out",
        "Production deploy failed: database migration timeout",
        "Alice prefers green tea in the afternoon",
    ]);

    let vectors = client.embed(&inputs).await.expect("embedded");

    let related = cosine(&vectors[0], &vectors[1]);
    let unrelated = cosine(&vectors[0], &vectors[2]);
    assert!(
        related > unrelated + 0.2,
        "related {related} vs unrelated {unrelated}"
    );
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let fake = FakeLlm::start().await;
    fake.push_embeddings([
        EmbeddingReply::rate_limited(1),
        EmbeddingReply::server_error(),
    ]);
    let client = client(settings(&fake).with_api_key(KEY));

    let vectors = client
        .embed(&texts(&["remember this"]))
        .await
        .expect("third attempt succeeds");

    assert_eq!(vectors, [embedding_vector("remember this", 1536)]);
    assert_eq!(fake.embedding_request_count(), 3);
    for request in fake.embedding_requests() {
        let expected = format!("Bearer {KEY}");
        assert_eq!(request.header("authorization"), Some(expected.as_str()));
    }
}

#[tokio::test]
async fn timeouts_are_retried() {
    let fake = FakeLlm::start().await;
    fake.push_embedding(EmbeddingReply::vectors().first_byte_delay(Duration::from_secs(2)));
    let client = client(EmbeddingSettings {
        request_timeout: Duration::from_millis(200),
        ..settings(&fake)
    });

    let vectors = client
        .embed(&texts(&["slow"]))
        .await
        .expect("retry succeeds");

    assert_eq!(vectors.len(), 1);
    assert_eq!(fake.embedding_request_count(), 2);
}

#[tokio::test]
async fn retries_stop_after_the_last_attempt() {
    let fake = FakeLlm::start().await;
    fake.set_default_embedding(EmbeddingReply::server_error());
    let client = client(settings(&fake));

    let error = client.embed(&texts(&["x"])).await.expect_err("always 500");

    assert_eq!(status_of(&error), Some(500), "{error}");
    assert_eq!(fake.embedding_request_count(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let fake = FakeLlm::start().await;
    fake.push_embedding(EmbeddingReply::bad_request("input is too long"));
    let client = client(settings(&fake));

    let error = client.embed(&texts(&["x"])).await.expect_err("400");

    assert_eq!(status_of(&error), Some(400), "{error}");
    assert!(error.to_string().contains("input is too long"), "{error}");
    assert_eq!(fake.embedding_request_count(), 1);
}

#[tokio::test]
async fn a_vector_of_another_length_is_an_error() {
    let fake = FakeLlm::start().await;
    fake.push_embedding(EmbeddingReply::wrong_dimensions(768));
    let client = client(settings(&fake));

    let error = client.embed(&texts(&["x"])).await.expect_err("768 dims");

    assert_eq!(
        error,
        EmbedError::Dimensions {
            expected: 1536,
            actual: 768
        }
    );
    assert_eq!(fake.embedding_request_count(), 1, "not retried");
}

#[tokio::test]
async fn the_key_never_appears_in_errors() {
    let fake = FakeLlm::start().await;
    let echo = format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#);
    let quick = EmbeddingSettings {
        request_timeout: Duration::from_millis(200),
        ..settings(&fake).with_api_key(KEY)
    };
    let client = client(quick.clone());

    let mut errors = Vec::new();
    fake.push_embedding(EmbeddingReply::http_error(401, echo.clone()));
    errors.push(client.embed(&texts(&["a"])).await.expect_err("401"));
    fake.push_embeddings(vec![EmbeddingReply::http_error(503, echo); 3]);
    errors.push(client.embed(&texts(&["b"])).await.expect_err("503"));
    fake.push_embeddings(vec![
        EmbeddingReply::vectors()
            .first_byte_delay(Duration::from_secs(2));
        3
    ]);
    errors.push(client.embed(&texts(&["c"])).await.expect_err("timeout"));
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("bound")
    };
    let refused = self::client(EmbeddingSettings {
        base_url: format!("http://{closed}/v1"),
        ..quick
    });
    errors.push(refused.embed(&texts(&["d"])).await.expect_err("refused"));

    assert!(matches!(errors[0], EmbedError::Status { status: 401, .. }));
    assert!(matches!(errors[1], EmbedError::Status { status: 503, .. }));
    assert!(
        matches!(errors[2], EmbedError::Timeout(_)),
        "{:?}",
        errors[2]
    );
    assert!(
        matches!(errors[3], EmbedError::Transport(_)),
        "{:?}",
        errors[3]
    );
    assert!(
        errors[0]
            .to_string()
            .contains("Incorrect API key provided: ***")
    );
    for error in &errors {
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(KEY), "key leaked: {text}");
            assert!(
                !text.contains("KEYNEVERSHOWN"),
                "part of the key leaked: {text}"
            );
        }
    }
}

#[tokio::test]
async fn nothing_to_embed_sends_nothing() {
    let fake = FakeLlm::start().await;
    let client = client(settings(&fake));

    assert!(client.embed(&[]).await.expect("empty").is_empty());
    assert_eq!(fake.embedding_request_count(), 0);
}

/// An in-process embedder with the fake's vectors, as store and search tests use it.
struct InProcess;

#[async_trait]
impl Embedder for InProcess {
    fn provider(&self) -> &str {
        "in-process"
    }

    fn model(&self) -> &str {
        "hashed-words"
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|text| embedding_vector(text, EMBEDDING_DIMENSIONS))
            .collect())
    }
}

#[tokio::test]
async fn the_http_client_and_an_in_process_embedder_agree() {
    let fake = FakeLlm::start().await;
    let embedders: [Arc<dyn Embedder>; 2] =
        [Arc::new(client(settings(&fake))), Arc::new(InProcess)];
    let inputs = texts(&["weekly sync notes", "the cat sat"]);

    let mut results = Vec::new();
    for embedder in &embedders {
        results.push(embedder.embed(&inputs).await.expect("embedded"));
    }

    assert_eq!(results[0], results[1]);
    assert_eq!(embedders[0].model(), "text-embedding-3-small");
    assert_eq!(embedders[0].provider(), "fake");
}

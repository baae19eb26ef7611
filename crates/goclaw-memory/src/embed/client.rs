//! The HTTP embedding client for OpenAI-compatible endpoints: it cuts the input into batches,
//! sends each as one `POST {base}/embeddings` with an optional bearer key, repeats failed
//! batches by its [`EmbedRetryPolicy`], and returns the vectors in input order.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};

use super::error::{self, EmbedError};
use super::wire::{self, EmbeddingRequest};
use super::{DEFAULT_EMBEDDING_MODEL, EMBEDDING_DIMENSIONS, EmbedRetryPolicy, Embedder};

/// Where and how to embed.
#[derive(Debug, Clone)]
pub struct EmbeddingSettings {
    /// The provider's name, part of the embedding cache key (`openai`, `voyage`, `ollama`...).
    pub provider: String,
    /// The API base that `/embeddings` is appended to, e.g. `https://api.openai.com/v1`,
    /// `https://api.voyageai.com/v1`, `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer ...` when set; local servers such as Ollama need none.
    pub api_key: Option<SecretString>,
    /// The embedding model; [`DEFAULT_EMBEDDING_MODEL`] unless configured.
    pub model: String,
    /// Most texts sent in one request; longer inputs become several requests.
    pub batch_size: usize,
    /// Limit on one request, from connecting to the last byte of the answer.
    pub request_timeout: Duration,
    /// Limit on establishing the TCP and TLS connection.
    pub connect_timeout: Duration,
    /// How failed requests are repeated.
    pub retry: EmbedRetryPolicy,
}

impl EmbeddingSettings {
    /// Settings for `provider` at `base_url` with the default model, batch size, timeouts and
    /// retries, and no key.
    pub fn new(provider: impl Into<String>, base_url: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            base_url: base_url.into(),
            api_key: None,
            model: DEFAULT_EMBEDDING_MODEL.to_owned(),
            batch_size: 64,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: super::retry::default_policy(),
        }
    }

    /// The same settings with this bearer key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The same settings with this model.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }
}

/// An [`Embedder`] backed by an OpenAI-compatible HTTP endpoint.
#[derive(Debug, Clone)]
pub struct EmbeddingClient {
    settings: EmbeddingSettings,
    url: String,
    http: reqwest::Client,
}

impl EmbeddingClient {
    /// A client for `settings`; fails when the base URL is not http(s), the model is empty or
    /// the batch size is zero.
    pub fn new(settings: EmbeddingSettings) -> Result<Self, EmbedError> {
        let base = settings.base_url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(base)
            .map_err(|error| EmbedError::Settings(format!("base URL {base:?}: {error}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(EmbedError::Settings(format!(
                "base URL {base:?} is not http or https"
            )));
        }
        if settings.model.trim().is_empty() {
            return Err(EmbedError::Settings("the model is empty".into()));
        }
        if settings.batch_size == 0 {
            return Err(EmbedError::Settings("the batch size is zero".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|error| EmbedError::Settings(format!("http client: {error}")))?;
        Ok(Self {
            url: format!("{base}/embeddings"),
            settings,
            http,
        })
    }

    /// The settings the client was built with.
    pub fn settings(&self) -> &EmbeddingSettings {
        &self.settings
    }

    fn secret(&self) -> Option<&str> {
        self.settings
            .api_key
            .as_ref()
            .map(ExposeSecret::expose_secret)
    }

    /// One batch, repeated by the retry policy while the failure is retryable.
    async fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let attempts = self.settings.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let error = match self.send(batch).await {
                Ok(vectors) => return Ok(vectors),
                Err(error) => error,
            };
            if attempt >= attempts || !error.is_retryable() {
                return Err(error);
            }
            let wait = super::retry::delay_before_retry(&self.settings.retry, attempt, &error);
            tracing::warn!(
                provider = %self.settings.provider,
                model = %self.settings.model,
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "embedding request failed, retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One request for one batch.
    async fn send(&self, batch: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let body = EmbeddingRequest {
            model: &self.settings.model,
            input: batch,
            dimensions: EMBEDDING_DIMENSIONS,
        };
        let mut request = self
            .http
            .post(&self.url)
            .timeout(self.settings.request_timeout)
            .json(&body);
        if let Some(key) = self.secret() {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(error::parse_retry_after);
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(EmbedError::Status {
                status: status.as_u16(),
                message: error::status_message(&text, self.secret()),
                retry_after,
            });
        }
        wire::read_vectors(&bytes, batch.len())
    }

    fn transport(&self, error: &reqwest::Error) -> EmbedError {
        if error.is_timeout() {
            return EmbedError::Timeout(self.settings.request_timeout);
        }
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        EmbedError::Transport(error::scrub(&text, self.secret()))
    }
}

#[async_trait]
impl Embedder for EmbeddingClient {
    fn provider(&self) -> &str {
        &self.settings.provider
    }

    fn model(&self) -> &str {
        &self.settings.model
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.settings.batch_size) {
            vectors.extend(self.embed_batch(batch).await?);
        }
        Ok(vectors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(base_url: &str, expected: Result<&str, &str>) {
        let result = EmbeddingClient::new(EmbeddingSettings::new("openai", base_url));
        match (result, expected) {
            (Ok(client), Ok(url)) => assert_eq!(client.url, url, "{base_url}"),
            (Err(error), Err(needle)) => {
                assert!(error.to_string().contains(needle), "{base_url}: {error}");
            }
            (result, expected) => panic!("{base_url}: {result:?} but expected {expected:?}"),
        }
    }

    #[test]
    fn endpoint_urls() {
        check(
            "https://api.openai.com/v1",
            Ok("https://api.openai.com/v1/embeddings"),
        );
        check(
            "https://api.voyageai.com/v1/",
            Ok("https://api.voyageai.com/v1/embeddings"),
        );
        check(
            " http://127.0.0.1:11434/v1 ",
            Ok("http://127.0.0.1:11434/v1/embeddings"),
        );
        check("", Err("base URL"));
        check("ftp://example.com", Err("not http or https"));
    }

    #[test]
    fn settings_are_validated() {
        let zero_batch = EmbeddingSettings {
            batch_size: 0,
            ..EmbeddingSettings::new("openai", "https://api.openai.com/v1")
        };
        assert!(EmbeddingClient::new(zero_batch).is_err());
        let no_model =
            EmbeddingSettings::new("openai", "https://api.openai.com/v1").with_model(" ");
        assert!(EmbeddingClient::new(no_model).is_err());
    }

    #[test]
    fn settings_never_show_the_key() {
        let settings =
            EmbeddingSettings::new("openai", "https://api.openai.com/v1").with_api_key("sk-hidden");
        assert!(!format!("{settings:?}").contains("sk-hidden"));
    }
}

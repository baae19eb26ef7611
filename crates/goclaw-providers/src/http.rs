//! The HTTP transport shared by the wire clients: one `reqwest` client (rustls, connect timeout,
//! no overall timeout so long streams are never cut), the first-byte timeout around sending, and
//! the mapping of non-2xx answers to `ProviderError`.

use std::sync::OnceLock;
use std::time::Duration;

use goclaw_core::llm::ProviderError;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::errors;

/// Timeouts of the provider HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Limit on establishing the TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Limit between sending the request and receiving the response headers.
    pub first_byte_timeout: Duration,
    /// Limit between two pieces of a streamed body; a stream as a whole has no limit.
    pub stream_idle_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(180),
            stream_idle_timeout: Duration::from_secs(180),
        }
    }
}

impl HttpSettings {
    /// Builds a client with these settings. Falls back to reqwest's defaults (logged) in the
    /// unlikely case the TLS backend cannot be initialised with them.
    pub(crate) fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .unwrap_or_else(|error| {
                tracing::error!(error = %error, "provider http client: falling back to defaults");
                reqwest::Client::new()
            })
    }
}

/// A client and its timeouts; cheap to clone. The client is built on first use, so a provider
/// constructed and then given other settings builds only one.
#[derive(Clone)]
pub(crate) struct Transport {
    client: OnceLock<reqwest::Client>,
    settings: HttpSettings,
}

impl Transport {
    pub(crate) fn new(settings: HttpSettings) -> Self {
        Self {
            client: OnceLock::new(),
            settings,
        }
    }

    /// A transport whose client is built now, to be shared by clones (one connection pool for
    /// every provider of a registry).
    pub(crate) fn eager(settings: HttpSettings) -> Self {
        Self {
            client: OnceLock::from(settings.client()),
            settings,
        }
    }

    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| self.settings.client())
    }

    pub(crate) fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// POSTs `body` as JSON and returns the response when its status is 2xx; any other status
    /// becomes the matching `ProviderError`. `secret` is scrubbed from every error message.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        headers: HeaderMap,
        body: &impl Serialize,
        secret: Option<&SecretString>,
    ) -> Result<reqwest::Response, ProviderError> {
        let request = self
            .client()
            .post(url)
            .headers(headers)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .json(body);
        self.send(request, secret).await
    }

    /// GETs `url` and returns the whole body when the status is 2xx, else the matching
    /// `ProviderError` with `secret` scrubbed.
    pub(crate) async fn get_text(
        &self,
        url: &str,
        headers: HeaderMap,
        secret: Option<&SecretString>,
    ) -> Result<String, ProviderError> {
        let request = self.client().get(url).headers(headers);
        let response = self.send(request, secret).await?;
        self.read_text(response).await
    }

    /// Sends `request` within the first-byte timeout; a non-2xx answer becomes an error.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        secret: Option<&SecretString>,
    ) -> Result<reqwest::Response, ProviderError> {
        let response = tokio::time::timeout(self.settings.first_byte_timeout, request.send())
            .await
            .map_err(|_| ProviderError::Timeout)?
            .map_err(errors::transport_error)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| errors::parse_retry_after(value, std::time::SystemTime::now()));
        let text = self.read_text(response).await.unwrap_or_default();
        let text = match secret {
            Some(secret) => errors::scrub(&text, secret.expose_secret()),
            None => text,
        };
        Err(errors::status_error(status.as_u16(), retry_after, &text))
    }

    /// Reads a whole (non-streamed) body within the idle timeout.
    pub(crate) async fn read_text(
        &self,
        response: reqwest::Response,
    ) -> Result<String, ProviderError> {
        tokio::time::timeout(self.settings.stream_idle_timeout, response.text())
            .await
            .map_err(|_| ProviderError::Timeout)?
            .map_err(errors::transport_error)
    }
}

/// True when the response is a server-sent event stream rather than one JSON document.
pub(crate) fn is_event_stream(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"))
}

/// A header value that is never printed by `Debug` (API keys).
pub(crate) fn sensitive_header(value: &str) -> Result<HeaderValue, ProviderError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| ProviderError::Auth("the API key contains invalid characters".to_owned()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Joins a base URL and a path with exactly one slash between them.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

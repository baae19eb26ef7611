//! The HTTP API of a running gateway, as the client commands (`keys`, `traces`) reach it:
//! `--server`/`--token` (or their environment and config fallbacks), user `system`, a request
//! timeout, and one-line errors carrying the gateway's own message.

use std::time::Duration;

use anyhow::{Context, bail};
use goclaw_config::{Environment, LoadedConfig};
use serde_json::Value;

use super::agent::{server_url, token};
use crate::cli::Cli;

/// How long one request to the gateway may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A running gateway's HTTP API.
pub(super) struct GatewayClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl GatewayClient {
    /// The gateway named by the command line, environment or configuration.
    pub(super) fn new(cli: &Cli, env: &Environment, loaded: &LoadedConfig) -> anyhow::Result<Self> {
        Ok(Self {
            base: server_url(cli, env, loaded)
                .trim_end_matches('/')
                .to_owned(),
            token: token(cli, env, loaded),
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .context("cannot build the HTTP client")?,
        })
    }

    /// Sends a request as user `system` and returns the JSON body of a 2xx answer.
    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .query(query)
            .header("X-GoClaw-User-Id", "system");
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the gateway at {}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["error"]["message"]
                .as_str()
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("request failed"));
            bail!("{method} {path}: {} {message}", status.as_u16());
        }
        Ok(body)
    }

    /// `GET path?query`.
    pub(super) async fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, query, None).await
    }
}

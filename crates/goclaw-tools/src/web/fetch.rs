//! The `web_fetch` tool: fetches one http(s) URL for the model behind the SSRF guard and the
//! domain policy.
//!
//! Every hop (the URL and each of at most three redirects, followed by hand) is checked before
//! any connection is made: the scheme, the host name, the domain policy, and every address the
//! host resolves to. The request is then pinned to the checked address, so a second DNS answer
//! (rebinding) never decides where the connection goes. Bodies are read up to a byte cap within
//! a time cap, HTML becomes markdown, and the result is wrapped as untrusted content.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_config::WebFetchConfig;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde_json::{Value, json};
use url::{Host, Url};

use super::content::{html_to_markdown, truncate_chars, wrap_untrusted};
use super::domain::DomainPolicy;
use super::ssrf::{Resolver, SystemResolver, blocked_hostname, blocked_ip};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;
/// Default characters of content returned to the model.
pub const DEFAULT_MAX_CHARS: usize = 60_000;
/// Bytes of a response body read at most.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Time a whole fetch, redirects included, may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The `web_fetch` tool.
pub struct WebFetchTool {
    policy: DomainPolicy,
    resolver: Arc<dyn Resolver>,
    timeout: Duration,
    max_body_bytes: usize,
    /// Loopback fixtures a unit test may reach; absent from every non-test build.
    #[cfg(test)]
    pub(crate) test_reachable: Vec<SocketAddr>,
}

impl WebFetchTool {
    /// A fetcher with the domain policy of `config` and the system resolver.
    pub fn new(config: &WebFetchConfig) -> Self {
        Self {
            policy: DomainPolicy::from_config(config),
            resolver: Arc::new(SystemResolver),
            timeout: FETCH_TIMEOUT,
            max_body_bytes: MAX_BODY_BYTES,
            #[cfg(test)]
            test_reachable: Vec::new(),
        }
    }

    /// The same fetcher resolving host names through `resolver`; the resolved addresses are
    /// still checked.
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolver>) -> Self {
        self.resolver = resolver;
        self
    }

    /// The same fetcher with another time cap for a whole fetch.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same fetcher with another body size cap.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Fetches `url` and returns the content as the model sees it, or why it was refused.
    pub async fn fetch(&self, url: &str, max_chars: usize) -> Result<String, String> {
        match tokio::time::timeout(self.timeout, self.fetch_inner(url, max_chars)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "fetch timed out after {} s",
                self.timeout.as_secs_f32()
            )),
        }
    }

    async fn fetch_inner(&self, raw: &str, max_chars: usize) -> Result<String, String> {
        let mut url = Url::parse(raw.trim()).map_err(|e| format!("invalid URL: {e}"))?;
        for hop in 0..=MAX_REDIRECTS {
            let pin = self.check(&url).await.inspect_err(|reason| {
                let mut shown = url.clone();
                let _ = shown.set_password(None);
                let _ = shown.set_username("");
                tracing::warn!(url = %shown, hop, reason = %reason, "security.ssrf_blocked");
            })?;
            let response = self.send(&url, pin).await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| format!("redirect ({status}) without a Location"))?;
                if hop == MAX_REDIRECTS {
                    return Err(format!("too many redirects (more than {MAX_REDIRECTS})"));
                }
                url = url
                    .join(location)
                    .map_err(|e| format!("invalid redirect target: {e}"))?;
                continue;
            }
            return self.render(&url, response, max_chars).await;
        }
        Err(format!("too many redirects (more than {MAX_REDIRECTS})"))
    }

    /// Checks one hop; returns the address to pin a host name to (`None` for an IP literal).
    async fn check(&self, url: &Url) -> Result<Option<SocketAddr>, String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "scheme {:?} is not allowed (http, https only)",
                url.scheme()
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("URLs with credentials are not allowed".to_owned());
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| "URL has no port".to_owned())?;
        let host = url.host().ok_or_else(|| "URL has no host".to_owned())?;
        let host_str = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if let Some(reason) = self.policy.refuses(host_str.trim_matches(['[', ']'])) {
            return Err(format!("{host_str}: {reason}"));
        }
        let addrs = match host {
            Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
            Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
            Host::Domain(name) => {
                if let Some(reason) = blocked_hostname(&name.to_ascii_lowercase()) {
                    return Err(format!("{name}: blocked host ({reason})"));
                }
                let addrs = self.resolver.resolve(name, port).await?;
                if addrs.is_empty() {
                    return Err(format!("{name} resolves to no address"));
                }
                addrs
            }
        };
        for addr in &addrs {
            if self.reachable_in_tests(addr) {
                continue;
            }
            if let Some(reason) = blocked_ip(addr.ip()) {
                return Err(format!(
                    "{host_str} → {}: blocked address ({reason})",
                    addr.ip()
                ));
            }
        }
        Ok(match host {
            Host::Domain(_) => addrs.first().map(|a| SocketAddr::new(a.ip(), port)),
            _ => None,
        })
    }

    #[cfg(test)]
    fn reachable_in_tests(&self, addr: &SocketAddr) -> bool {
        self.test_reachable.contains(addr)
    }

    #[cfg(not(test))]
    fn reachable_in_tests(&self, _addr: &SocketAddr) -> bool {
        false
    }

    async fn send(&self, url: &Url, pin: Option<SocketAddr>) -> Result<reqwest::Response, String> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .user_agent(concat!("goclaw-web-fetch/", env!("CARGO_PKG_VERSION")));
        if let (Some(addr), Some(name)) = (pin, url.host_str()) {
            builder = builder.resolve(name, addr);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        client
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "text/html, text/markdown, text/plain, application/json;q=0.9, */*;q=0.5",
            )
            .send()
            .await
            .map_err(|e| format!("fetch failed: {e}"))
    }

    async fn render(
        &self,
        url: &Url,
        mut response: reqwest::Response,
        max_chars: usize,
    ) -> Result<String, String> {
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut body = Vec::new();
        let mut cut = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading the body failed: {e}"))?
        {
            let room = self.max_body_bytes.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                cut = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&body);
        let looks_html = content_type.contains("html")
            || (content_type.is_empty() && text.trim_start().starts_with('<'));
        let mut content = if looks_html {
            html_to_markdown(&text)
        } else {
            text.into_owned()
        };
        if cut {
            content.push_str(&format!(
                "\n\n[body truncated at {} bytes]",
                self.max_body_bytes
            ));
        }
        let content = truncate_chars(&content, max_chars);
        let header = format!("URL: {url}\nStatus: {}\n\n", status.as_u16());
        Ok(wrap_untrusted(url.as_str(), &format!("{header}{content}")))
    }
}

#[async_trait]
impl Tool for WebFetchTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "web_fetch".to_owned(),
            description: "Fetch a web page (http/https) and return its content as markdown. \
                          Private, loopback and metadata addresses are refused."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "url": {"type": "string", "description": "The http(s) URL to fetch."},
                    "maxChars": {"type": "integer", "minimum": 100,
                                 "description": "Characters of content to return (default 60000)."}
                },
                "required": ["url"]
            }),
        }
    }

    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let Some(url) = arguments.get("url").and_then(Value::as_str) else {
            return ToolOutput::error("missing required argument `url`");
        };
        let max_chars = arguments
            .get("maxChars")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_MAX_CHARS, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            })
            .max(100);
        match self.fetch(url, max_chars).await {
            Ok(content) => ToolOutput::ok(content),
            Err(reason) => ToolOutput::error(format!("web_fetch refused or failed: {reason}")),
        }
    }
}

//! The network half of `http` hooks: the SSRF check of a hook's URL (the rules of
//! `web_fetch`: http(s) only, no credentials, no private, loopback, link-local or metadata
//! address unless allowed) and one POST of an event to the address that passed, without
//! redirects, its answer read up to a cap. What the answer means is the hook dispatcher's.

use std::net::SocketAddr;

use url::{Host, Url};

use super::ssrf::{blocked_hostname, blocked_ip};

/// What one POST got back.
#[derive(Debug, Clone, PartialEq)]
pub struct HookResponse {
    pub status: u16,
    /// At most the cap asked for.
    pub body: Vec<u8>,
}

/// Why a POST got no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum HookPostError {
    /// The URL was refused; the reason.
    Refused(String),
    /// The connection or request failed (the URL is never part of the message).
    Failed,
}

/// Checks an `http` hook's URL now: its scheme, its credentials, and every address its host
/// resolves to. Returns the URL and the address to connect to, or why it is refused.
pub async fn check_hook_url(raw: &str, allow_private: bool) -> Result<(Url, SocketAddr), String> {
    let url = Url::parse(raw).map_err(|_| "not a valid URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs are allowed".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("URLs may not carry credentials (use config.headers)".to_owned());
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "the URL has no port".to_owned())?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Domain(name)) => {
            let name = name.to_ascii_lowercase();
            if !allow_private && let Some(reason) = blocked_hostname(&name) {
                return Err(format!("blocked host ({reason})"));
            }
            tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|_| "the host does not resolve".to_owned())?
                .collect()
        }
        None => return Err("the URL has no host".to_owned()),
    };
    let first = *addrs
        .first()
        .ok_or_else(|| "the host resolves to no address".to_owned())?;
    if !allow_private {
        for addr in &addrs {
            if let Some(reason) = blocked_ip(addr.ip()) {
                return Err(format!("blocked address ({reason})"));
            }
        }
    }
    Ok((url, first))
}

/// POSTs `body` (JSON) to `url` with `headers`, to the address the SSRF check passed.
pub async fn post_hook(
    url: &str,
    headers: &[(String, String)],
    body: String,
    allow_private: bool,
    max_bytes: usize,
) -> Result<HookResponse, HookPostError> {
    let (url, addr) = check_hook_url(url, allow_private)
        .await
        .map_err(HookPostError::Refused)?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addr)
        .build()
        .map_err(|_| HookPostError::Failed)?;
    let mut request = client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let mut response = request.send().await.map_err(|_| HookPostError::Failed)?;
    let status = response.status().as_u16();
    let mut kept = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = max_bytes.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room == 0 {
            break;
        }
    }
    Ok(HookResponse { status, body: kept })
}

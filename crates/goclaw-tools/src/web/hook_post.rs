//! The network half of `http` hooks: the SSRF check of a hook's URL (the rules of
//! `web_fetch`: http(s) only, no credentials, no private, loopback, link-local or metadata
//! address unless allowed) and one POST of an event to the address that passed, without
//! redirects, its answer read up to a cap. What the answer means is the hook dispatcher's.

use std::net::SocketAddr;

use url::Url;

use super::ssrf::check_outbound_url;

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

/// Checks an `http` hook's URL now ([`check_outbound_url`]): the URL and the address to
/// connect to, or why it is refused.
pub async fn check_hook_url(raw: &str, allow_private: bool) -> Result<(Url, SocketAddr), String> {
    check_outbound_url(raw, allow_private).await
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

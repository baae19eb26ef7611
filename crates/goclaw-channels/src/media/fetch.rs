//! Reading a file from a platform without trusting it: the declared size is checked before
//! anything is read, the body is counted as it arrives and abandoned as soon as it passes the
//! cap (so at most the cap is ever written), and only hosts on the channel's allowlist are
//! contacted — redirects included. Errors never carry a URL (Telegram's holds the token).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{Media, MediaError};

/// How long one download may take, body included.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);
/// Redirects a download follows (each to an allowed host) before giving up.
const MAX_REDIRECTS: usize = 5;

/// A body arriving in parts.
#[async_trait]
pub trait Chunks: Send {
    /// The size the sender announced (`Content-Length`), if it did.
    fn announced(&self) -> Option<u64>;
    /// The next part; `None` at the end.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, MediaError>;
}

#[async_trait]
impl Chunks for reqwest::Response {
    fn announced(&self) -> Option<u64> {
        self.content_length()
    }

    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, MediaError> {
        self.chunk()
            .await
            .map(|chunk| chunk.map(|bytes| bytes.to_vec()))
            .map_err(|error| MediaError::Unavailable(reason_of(error)))
    }
}

/// Copies `source` into `sink`, at most `limit` bytes: refused before reading when the
/// announced size is over it, and as soon as more than `limit` bytes arrived otherwise (the
/// part that passes the limit is not written). Returns the bytes written.
pub async fn copy_capped(
    source: &mut dyn Chunks,
    limit: u64,
    sink: &mut (dyn AsyncWrite + Unpin + Send),
) -> Result<u64, MediaError> {
    if let Some(size) = source.announced().filter(|size| *size > limit) {
        return Err(MediaError::TooLarge {
            size: Some(size),
            limit,
        });
    }
    let mut total = 0u64;
    while let Some(chunk) = source.next_chunk().await? {
        total = total.saturating_add(chunk.len() as u64);
        if total > limit {
            return Err(MediaError::TooLarge { size: None, limit });
        }
        sink.write_all(&chunk)
            .await
            .map_err(|e| MediaError::Unavailable(format!("writing the file failed: {e}")))?;
    }
    sink.flush()
        .await
        .map_err(|e| MediaError::Unavailable(format!("writing the file failed: {e}")))?;
    Ok(total)
}

/// Where a channel fetches files from: scheme, host and port, exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAllowlist {
    origins: Vec<(String, String, u16)>,
}

impl HostAllowlist {
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows `https://{host}` (port 443).
    pub fn https_host(mut self, host: &str) -> Self {
        self.origins
            .push(("https".to_owned(), host.to_ascii_lowercase(), 443));
        self
    }

    /// Allows the scheme, host and port of `base` (a configured API server); nothing when
    /// it is not a URL.
    pub fn origin_of(mut self, base: &str) -> Self {
        if let Some(origin) = Url::parse(base).ok().as_ref().and_then(origin) {
            self.origins.push(origin);
        }
        self
    }

    /// Whether `url` is on an allowed host.
    pub fn allows(&self, url: &Url) -> bool {
        origin(url).is_some_and(|o| self.origins.contains(&o))
    }

    /// Whether `url`, a URL from a payload, is on an allowed host.
    pub fn allows_str(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|url| self.allows(&url))
    }

    /// An HTTP client that follows a redirect only to an allowed host.
    pub fn client(&self) -> reqwest::Client {
        let allowed = self.clone();
        let policy = Policy::custom(move |attempt: Attempt<'_>| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if allowed.allows(attempt.url()) {
                attempt.follow()
            } else {
                attempt.error("redirected to a host files are not fetched from")
            }
        });
        reqwest::Client::builder()
            .redirect(policy)
            .connect_timeout(Duration::from_secs(15))
            .build()
            .or_else(|_| reqwest::Client::builder().redirect(Policy::none()).build())
            .unwrap_or_default()
    }
}

fn origin(url: &Url) -> Option<(String, String, u16)> {
    Some((
        url.scheme().to_owned(),
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default()?,
    ))
}

/// A failed request as a reason without its URL, with its causes.
pub fn reason_of(error: reqwest::Error) -> String {
    if error.is_timeout() {
        return "the download timed out".to_owned();
    }
    let error = error.without_url();
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    reason
}

/// A download's answer status as an error: 404 and 410 (gone), 401 and 403 (refused) for
/// good; the rest worth another try.
pub fn status_error(platform: &str, status: u16) -> MediaError {
    match status {
        401 | 403 | 404 | 410 => MediaError::Refused(format!("{platform} answered HTTP {status}")),
        _ => MediaError::Unavailable(format!("{platform} answered HTTP {status}")),
    }
}

/// A platform's file hosts and the client that fetches from them (redirects included, only to
/// those hosts).
#[derive(Clone, Debug)]
pub struct FileHosts {
    /// The platform, for messages and logs.
    platform: &'static str,
    hosts: HostAllowlist,
    client: reqwest::Client,
}

impl FileHosts {
    pub fn new(platform: &'static str, hosts: HostAllowlist) -> Self {
        Self {
            platform,
            client: hosts.client(),
            hosts,
        }
    }

    /// Whether `url` is on one of the hosts.
    pub fn allows_str(&self, url: &str) -> bool {
        self.hosts.allows_str(url)
    }

    /// The client bound to the hosts.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Downloads `media` into `sink` within `limit`: refused before anything is fetched when its
    /// declared size is over the limit or its URL is on none of the hosts.
    pub async fn fetch(
        &self,
        media: &Media,
        bearer: Option<&str>,
        limit: u64,
        sink: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<u64, MediaError> {
        if let Some(size) = media.size.filter(|size| *size > limit) {
            return Err(MediaError::TooLarge {
                size: Some(size),
                limit,
            });
        }
        if !self.hosts.allows_str(&media.reference) {
            tracing::warn!(
                channel = self.platform,
                "security.media_host: an attachment URL outside the platform's file hosts; not fetched"
            );
            return Err(MediaError::Refused(format!(
                "the file is not on a {} file host",
                self.platform
            )));
        }
        download(
            &self.client,
            self.platform,
            &media.reference,
            bearer,
            limit,
            sink,
        )
        .await
    }
}

/// GETs `url` (already checked against the allowlist) and copies its body into `sink` within
/// `limit`; `bearer` is sent as `Authorization: Bearer`.
pub async fn download(
    client: &reqwest::Client,
    platform: &str,
    url: &str,
    bearer: Option<&str>,
    limit: u64,
    sink: &mut (dyn AsyncWrite + Unpin + Send),
) -> Result<u64, MediaError> {
    let mut request = client.get(url).timeout(DOWNLOAD_TIMEOUT);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let mut response = request
        .send()
        .await
        .map_err(|error| MediaError::Unavailable(reason_of(error)))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(status_error(platform, status));
    }
    copy_capped(&mut response, limit, sink).await
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    struct Parts {
        announced: Option<u64>,
        parts: VecDeque<Vec<u8>>,
        read: usize,
    }

    #[async_trait]
    impl Chunks for Parts {
        fn announced(&self) -> Option<u64> {
            self.announced
        }
        async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, MediaError> {
            let part = self.parts.pop_front();
            self.read += part.as_ref().map_or(0, Vec::len);
            Ok(part)
        }
    }

    /// Copies parts of the given sizes with `announced` under `limit`: what was written, the
    /// bytes read from the source, and the outcome.
    async fn check(
        announced: Option<u64>,
        sizes: &[usize],
        limit: u64,
    ) -> (usize, usize, Result<u64, MediaError>) {
        let mut source = Parts {
            announced,
            parts: sizes.iter().map(|n| vec![7u8; *n]).collect(),
            read: 0,
        };
        let mut sink: Vec<u8> = Vec::new();
        let result = copy_capped(&mut source, limit, &mut sink).await;
        (sink.len(), source.read, result)
    }

    #[tokio::test]
    async fn the_cap_holds_whatever_the_sender_declares() {
        // Within the cap, declared or not.
        assert_eq!(check(Some(10), &[4, 6], 10).await, (10, 10, Ok(10)));
        assert_eq!(check(None, &[4, 6], 10).await, (10, 10, Ok(10)));
        assert_eq!(check(None, &[], 10).await, (0, 0, Ok(0)));
        // Declared over the cap: refused before anything is read.
        let too_large = MediaError::TooLarge {
            size: Some(11),
            limit: 10,
        };
        assert_eq!(check(Some(11), &[11], 10).await, (0, 0, Err(too_large)));
        // Undeclared or declared too small: reading stops at the part that passes the cap,
        // which is not written.
        let over = MediaError::TooLarge {
            size: None,
            limit: 10,
        };
        assert_eq!(
            check(None, &[6, 5, 100, 100], 10).await,
            (6, 11, Err(over.clone()))
        );
        assert_eq!(check(Some(3), &[8, 8, 8], 10).await, (8, 16, Err(over)));
    }

    /// A one-shot HTTP server answering every request with `answer` (and its port); counts
    /// the requests it got.
    async fn serve(answer: String) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        (port, hits)
    }

    #[tokio::test]
    async fn redirects_leave_the_allowed_hosts_never() {
        let (elsewhere, reached) =
            serve("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret".to_owned()).await;
        let redirect = format!(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{elsewhere}/internal\r\nContent-Length: 0\r\n\r\n"
        );
        let (port, _) = serve(redirect).await;
        let allowed = HostAllowlist::new().origin_of(&format!("http://127.0.0.1:{port}"));
        let url = format!("http://127.0.0.1:{port}/file/bot123:token-in-url/a.jpg");
        let mut sink: Vec<u8> = Vec::new();
        let refused = download(&allowed.client(), "telegram", &url, None, 100, &mut sink).await;
        let Err(MediaError::Unavailable(reason)) = refused else {
            panic!("followed: {refused:?}");
        };
        assert!(reason.contains("not fetched from"), "{reason}");
        assert!(!reason.contains("token-in-url"), "{reason}");
        assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert!(sink.is_empty());

        // The body is cut at the cap whatever Content-Length said.
        let (liar, _) = serve(format!(
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{}",
            "x".repeat(5000)
        ))
        .await;
        let allowed = HostAllowlist::new().origin_of(&format!("http://127.0.0.1:{liar}"));
        let url = format!("http://127.0.0.1:{liar}/big");
        let mut sink: Vec<u8> = Vec::new();
        let capped = download(&allowed.client(), "discord", &url, None, 100, &mut sink).await;
        assert_eq!(
            capped,
            Err(MediaError::TooLarge {
                size: None,
                limit: 100
            })
        );
        assert!(sink.len() <= 100);
    }

    #[test]
    fn only_allowed_hosts_are_fetched_from() {
        let discord = HostAllowlist::new()
            .https_host("cdn.discordapp.com")
            .https_host("media.discordapp.net")
            .origin_of("http://127.0.0.1:4000/api/v10");
        let slack = HostAllowlist::new()
            .https_host("files.slack.com")
            .origin_of("https://slack.com/api");
        let cases: &[(&HostAllowlist, &str, bool)] = &[
            (
                &discord,
                "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1",
                true,
            ),
            (
                &discord,
                "https://media.discordapp.net/attachments/1/2/a.png",
                true,
            ),
            (&discord, "https://CDN.DISCORDAPP.COM/a.png", true),
            (&discord, "http://127.0.0.1:4000/attachments/a.png", true),
            (&discord, "http://cdn.discordapp.com/a.png", false),
            (&discord, "https://cdn.discordapp.com:8443/a.png", false),
            (
                &discord,
                "https://cdn.discordapp.com.evil.example/a.png",
                false,
            ),
            (
                &discord,
                "https://evil.example/cdn.discordapp.com/a.png",
                false,
            ),
            (
                &discord,
                "https://user@169.254.169.254/latest/meta-data",
                false,
            ),
            (&discord, "http://127.0.0.1:4001/a.png", false),
            (&discord, "http://localhost:4000/a.png", false),
            (&discord, "file:///etc/passwd", false),
            (&discord, "not a url", false),
            (
                &slack,
                "https://files.slack.com/files-pri/T1-F1/a.txt",
                true,
            ),
            (&slack, "https://slack.com/api/files.info", true),
            (&slack, "https://files.slack.com.evil.example/a.txt", false),
            (&slack, "http://files.slack.com/a.txt", false),
            (&slack, "https://hooks.slack.com/a.txt", false),
            (&slack, "https://10.0.0.1/a.txt", false),
        ];
        for (allowlist, url, allowed) in cases {
            assert_eq!(allowlist.allows_str(url), *allowed, "{url}");
        }
        assert!(
            !HostAllowlist::new()
                .origin_of("::bad")
                .allows_str("http://a/")
        );
    }
}

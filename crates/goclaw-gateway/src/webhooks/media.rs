//! The file a `message` call names by `media_url`, fetched once before the post: only from a
//! public `https` address (checked like a callback URL, and connected to at the address that
//! was checked, so a second DNS answer cannot point elsewhere; redirects are not followed),
//! within [`MAX_MEDIA_BYTES`] and of a type a chat shows rather than runs. It waits in
//! `{media_dir}/{call}/` until the channel's outbox sent it; the directory goes once the post
//! is settled, and whatever a post left queued goes after [`KEEP_FOR`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::net;

/// Largest file a call may name (GoClaw's limit).
pub const MAX_MEDIA_BYTES: u64 = 25 * 1024 * 1024;
/// How long a fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a file queued for a channel is kept.
pub const KEEP_FOR: Duration = Duration::from_secs(7 * 24 * 3600);
/// Types a chat would run rather than show: refused.
const ACTIVE_TYPES: [&str; 6] = [
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/javascript",
    "text/javascript",
    "application/x-msdownload",
];

/// A fetched file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub path: PathBuf,
    pub file_name: String,
    pub mime_type: String,
}

/// Why a `media_url` was not fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRefusal {
    /// Not a URL the gateway fetches (400).
    Invalid(String),
    /// Over [`MAX_MEDIA_BYTES`] (413).
    TooLarge,
    /// A type a chat would run (415).
    Unsupported(String),
    /// The address did not give the file (400; the caller's URL is wrong or down).
    Unavailable(String),
}

/// Fetches `url` into `dir/{call}/`.
pub async fn fetch(
    url: &str,
    allow_private: bool,
    dir: &Path,
    call: Uuid,
) -> Result<Fetched, MediaRefusal> {
    let (parsed, addr) = net::check_callback(url, allow_private)
        .await
        .map_err(|reason| {
            MediaRefusal::Invalid(format!("media_url is invalid or blocked: {reason}"))
        })?;
    if parsed.scheme() != "https" && !allow_private {
        return Err(MediaRefusal::Invalid(
            "media_url must be an https URL".to_owned(),
        ));
    }
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(FETCH_TIMEOUT)
        .resolve(&host, addr)
        .build()
        .map_err(|error| MediaRefusal::Unavailable(format!("no HTTP client: {error}")))?;
    let response = client
        .get(parsed.clone())
        .send()
        .await
        .map_err(|error| MediaRefusal::Unavailable(describe(&error)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(MediaRefusal::Unavailable(format!(
            "media_url answered HTTP {}",
            status.as_u16()
        )));
    }
    if response
        .content_length()
        .is_some_and(|len| len > MAX_MEDIA_BYTES)
    {
        return Err(MediaRefusal::TooLarge);
    }
    let mime_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    if ACTIVE_TYPES.contains(&mime_type.as_str()) {
        return Err(MediaRefusal::Unsupported(mime_type));
    }
    let file_name = file_name_of(&parsed);
    let call_dir = dir.join(call.to_string());
    tokio::fs::create_dir_all(&call_dir)
        .await
        .map_err(|error| MediaRefusal::Unavailable(format!("storing the file: {error}")))?;
    let path = call_dir.join(&file_name);
    let written = write_capped(response, &path).await;
    if written.is_err() {
        discard(dir, call).await;
    }
    written?;
    Ok(Fetched {
        path,
        file_name,
        mime_type,
    })
}

/// Copies the body into `path` (through a temporary name), refusing it past the limit.
async fn write_capped(response: reqwest::Response, path: &Path) -> Result<(), MediaRefusal> {
    let partial = path.with_extension("part");
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(|error| MediaRefusal::Unavailable(format!("storing the file: {error}")))?;
    let mut written: u64 = 0;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| MediaRefusal::Unavailable(describe(&error)))?;
        written += chunk.len() as u64;
        if written > MAX_MEDIA_BYTES {
            return Err(MediaRefusal::TooLarge);
        }
        file.write_all(&chunk)
            .await
            .map_err(|error| MediaRefusal::Unavailable(format!("storing the file: {error}")))?;
    }
    file.flush()
        .await
        .map_err(|error| MediaRefusal::Unavailable(format!("storing the file: {error}")))?;
    drop(file);
    tokio::fs::rename(&partial, path)
        .await
        .map_err(|error| MediaRefusal::Unavailable(format!("storing the file: {error}")))
}

/// A transport error without the URL (a signed URL's query is a credential).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "fetching media_url timed out".to_owned()
    } else if error.is_connect() {
        "media_url could not be reached".to_owned()
    } else {
        "fetching media_url failed".to_owned()
    }
}

/// The last segment of the URL's path (as written, percent signs dropped) as a file name:
/// letters, digits, `.`, `-` and `_` only, at most 100 characters, never hidden or empty.
pub fn file_name_of(url: &url::Url) -> String {
    let last = url
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// Removes a call's files.
pub async fn discard(dir: &Path, call: Uuid) {
    let call_dir = dir.join(call.to_string());
    if let Err(error) = tokio::fs::remove_dir_all(&call_dir).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(error = %error, "removing a webhook call's file failed");
    }
}

/// Removes call directories older than [`KEEP_FOR`].
pub async fn prune(dir: &Path) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let stale = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > KEEP_FOR);
        let is_call = Uuid::parse_str(&entry.file_name().to_string_lossy()).is_ok();
        if stale
            && is_call
            && let Err(error) = tokio::fs::remove_dir_all(entry.path()).await
        {
            tracing::warn!(error = %error, "pruning webhook media failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_segments() {
        let name = |raw: &str| file_name_of(&url::Url::parse(raw).expect("url"));
        assert_eq!(name("https://cdn.example/a/photo.jpg?sig=x"), "photo.jpg");
        assert_eq!(
            name("https://cdn.example/a/..%2F..%2Fetc%2Fpasswd"),
            "2F..2Fetc2Fpasswd"
        );
        assert_eq!(name("https://cdn.example/"), "file");
        assert_eq!(name("https://cdn.example/.hidden"), "hidden");
        assert_eq!(name("https://cdn.example/a%20b.pdf"), "a20b.pdf");
        assert_eq!(
            name(&format!("https://cdn.example/{}", "a".repeat(300))).len(),
            100
        );
    }
}

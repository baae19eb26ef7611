//! Reaching the Docker daemon: which endpoint, connecting, negotiating the API version, pinging.
//!
//! The endpoint is `docker_host` from the settings, else `DOCKER_HOST`, else the default socket.
//! The version is negotiated (older daemons such as 20.10 speak API 1.41) and the daemon must
//! answer a ping within [`PING_TIMEOUT`]; any failure is [`SandboxError::Unavailable`].

use std::time::Duration;

use bollard::{API_DEFAULT_VERSION, Docker};
use goclaw_core::SandboxError;

/// The socket used when neither the settings nor `DOCKER_HOST` name one.
pub(crate) const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// How long the daemon has to answer the version negotiation and the ping.
pub(crate) const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// Time the daemon has to answer any request (not counting streamed exec output).
const REQUEST_TIMEOUT_SECS: u64 = 120;

/// The endpoint to use: the setting, else `DOCKER_HOST`, else the default socket.
pub(crate) fn endpoint(setting: Option<&str>) -> String {
    setting
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            std::env::var("DOCKER_HOST")
                .ok()
                .map(|host| host.trim().to_owned())
                .filter(|host| !host.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_HOST.to_owned())
}

/// The endpoint as it may appear in messages: without any `user:password@` part.
pub(crate) fn redacted(endpoint: &str) -> String {
    match endpoint.split_once("://") {
        Some((scheme, rest)) => {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{rest}")
        }
        None => endpoint
            .rsplit_once('@')
            .map_or(endpoint, |(_, h)| h)
            .to_owned(),
    }
}

/// Connects to `endpoint`, negotiates the API version and pings the daemon.
pub(crate) async fn connect(endpoint: &str) -> Result<Docker, SandboxError> {
    let shown = redacted(endpoint);
    let unavailable =
        |what: String| SandboxError::Unavailable(format!("Docker at {shown}: {what}"));
    let docker = if let Some(path) = endpoint.strip_prefix("unix://") {
        Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else if endpoint.starts_with("tcp://") || endpoint.starts_with("http://") {
        Docker::connect_with_http(endpoint, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else {
        return Err(unavailable(
            "unsupported endpoint (use unix:///path or tcp://host:port)".to_owned(),
        ));
    }
    .map_err(|error| unavailable(format!("cannot connect: {error}")))?;
    let docker = tokio::time::timeout(PING_TIMEOUT, docker.negotiate_version())
        .await
        .map_err(|_| unavailable("no answer to the version request within 3 s".to_owned()))?
        .map_err(|error| unavailable(format!("version negotiation failed: {error}")))?;
    tokio::time::timeout(PING_TIMEOUT, docker.ping())
        .await
        .map_err(|_| unavailable("no answer to ping within 3 s".to_owned()))?
        .map_err(|error| unavailable(format!("ping failed: {error}")))?;
    Ok(docker)
}

/// Checks that `image` is present on the daemon: images are never pulled, so a missing one
/// makes the backend unusable (and `auto` falls back to native).
pub(crate) async fn require_image(docker: &Docker, image: &str) -> Result<(), SandboxError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Err(SandboxError::Unavailable(format!(
            "image {image} is not present on the Docker daemon; build or load it \
             (sandbox images are never pulled)"
        ))),
        Err(error) => Err(SandboxError::Unavailable(format!(
            "cannot inspect image {image}: {error}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_wins_and_credentials_are_hidden() {
        assert_eq!(endpoint(Some("unix:///x.sock")), "unix:///x.sock");
        assert_eq!(redacted("tcp://u:secret@h:2375"), "tcp://h:2375");
        assert_eq!(redacted("unix:///run/d.sock"), "unix:///run/d.sock");
    }
}

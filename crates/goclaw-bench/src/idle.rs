//! Idle clients: many authenticated WebSocket connections that send nothing after `connect`,
//! to measure what an idle connection costs the gateway.

use std::time::Duration;

use anyhow::Result;
use futures_util::StreamExt;
use futures_util::stream;

use crate::load::WsSession;

/// Connections opened at once while building up the idle crowd.
const OPEN_PARALLELISM: usize = 128;

/// Raises this process's open-file limit to its hard limit (children inherit it) and returns
/// the new soft limit.
pub fn raise_fd_limit() -> Result<u64> {
    let (_, hard) = rlimit::Resource::NOFILE.get()?;
    rlimit::Resource::NOFILE.set(hard, hard)?;
    Ok(hard)
}

/// Opens up to `count` idle authenticated clients; stops early at the first refusal and says
/// why. The clients stay connected until the returned vector is dropped.
pub async fn connect_idle(addr: &str, count: usize) -> (Vec<WsSession>, Option<String>) {
    let mut clients = Vec::with_capacity(count);
    let mut refusal = None;
    let mut opening = stream::iter(0..count)
        .map(|i| async move {
            let user = format!("idle-{i}");
            tokio::time::timeout(Duration::from_secs(30), WsSession::open(addr, &user)).await
        })
        .buffer_unordered(OPEN_PARALLELISM);
    while let Some(result) = opening.next().await {
        match result {
            Ok(Ok(client)) => clients.push(client),
            Ok(Err(error)) => {
                refusal.get_or_insert_with(|| format!("{error:#}"));
            }
            Err(_) => {
                refusal.get_or_insert_with(|| "connect timed out".to_owned());
            }
        }
    }
    (clients, refusal)
}

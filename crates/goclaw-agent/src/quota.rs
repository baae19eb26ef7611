//! [`TurnQuota`]: the request quota a turn is checked against before anything of it is
//! stored (`gateway.quota`), and [`QuotaExceeded`], the refusal with the notice the sender is
//! shown. The runtime only asks; what counts and which limit applies is the implementation's.

use async_trait::async_trait;
use goclaw_core::Agent;

use crate::types::ChatInput;

/// The window whose limit a sender reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaWindow {
    Hour,
    Day,
    Week,
}

impl QuotaWindow {
    /// The name GoClaw logs (`hour`, `day`, `week`).
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaWindow::Hour => "hour",
            QuotaWindow::Day => "day",
            QuotaWindow::Week => "week",
        }
    }

    fn label(self) -> &'static str {
        match self {
            QuotaWindow::Hour => "Hourly",
            QuotaWindow::Day => "Daily",
            QuotaWindow::Week => "Weekly",
        }
    }
}

/// A sender has used `used` of the `limit` requests `window` allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} request limit reached ({used}/{limit}). Please try again later.", window.label())]
pub struct QuotaExceeded {
    pub window: QuotaWindow,
    pub used: i64,
    pub limit: i64,
}

impl QuotaExceeded {
    /// GoClaw's notice to the sender, as a channel shows it.
    pub fn notice(&self) -> String {
        format!("⚠️ {self}")
    }
}

/// Decides whether a turn is within its sender's request quota.
#[async_trait]
pub trait TurnQuota: Send + Sync {
    /// `Err` when `input`'s sender has reached a limit for turns of `agent`.
    async fn admit(&self, input: &ChatInput, agent: &Agent) -> Result<(), QuotaExceeded>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_read_as_goclaw_writes_them() {
        let exceeded = QuotaExceeded {
            window: QuotaWindow::Hour,
            used: 3,
            limit: 3,
        };
        assert_eq!(
            exceeded.notice(),
            "⚠️ Hourly request limit reached (3/3). Please try again later."
        );
        let weekly = QuotaExceeded {
            window: QuotaWindow::Week,
            used: 12,
            limit: 10,
        };
        assert_eq!(
            weekly.to_string(),
            "Weekly request limit reached (12/10). Please try again later."
        );
    }
}

//! The configuration as the API reads and changes it (`config.*` methods): the service the
//! application provides, which owns the effective configuration, its file and its hash. The
//! gateway knows only this interface; parsing, checking and writing live with the
//! configuration.

use async_trait::async_trait;
use serde_json::Value;

/// What `config.get` answers: the configuration with every secret as `"***"`, its hash and
/// the path of its file.
#[derive(Debug, Clone)]
pub struct ConfigView {
    pub config: Value,
    pub hash: String,
    pub path: String,
}

/// An accepted `config.apply` or `config.patch`.
#[derive(Debug, Clone)]
pub struct ConfigApplied {
    /// The configuration after the change.
    pub view: ConfigView,
    /// Whether some changed key takes effect only after a restart.
    pub restart: bool,
}

/// Why an edit was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigEditError {
    /// The caller's `baseHash` is not the current hash.
    #[error("config changed since it was read (hash mismatch); reload it and try again")]
    Stale,
    /// The text is not valid JSON5, names an unknown key or holds an invalid value.
    #[error("{0}")]
    Invalid(String),
    /// The file could not be written.
    #[error("cannot save the config: {0}")]
    Save(String),
}

/// Whether an edit replaces the configuration or is merged over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    Apply,
    Patch,
}

/// The configuration service behind `config.*`.
#[async_trait]
pub trait ConfigAdmin: Send + Sync {
    /// The current configuration, masked.
    fn view(&self) -> ConfigView;

    /// Changes the configuration from JSON5 `raw`, when `base_hash` (if any) is current;
    /// `actor` names the caller in the audit line.
    async fn edit(
        &self,
        kind: EditKind,
        raw: &str,
        base_hash: Option<&str>,
        actor: &str,
    ) -> Result<ConfigApplied, ConfigEditError>;

    /// The JSON schema of the configuration.
    fn schema(&self) -> Value;

    /// The defaults of the per-agent settings (`config.defaults`).
    fn defaults(&self) -> Value;
}

//! Channel instances stored in the database: a tenant's bot on a platform (`telegram`,
//! `discord`, `slack`, ...), the agent that answers it, its settings (`config`, the same keys
//! as the `channels.<type>` section) and its credentials — kept only as the secret box's
//! encryption of their JSON, which the gateway opens when it starts the instance. An instance
//! stored here wins over the configuration's channel of the same name.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// A channel instance as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelInstance {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// Unique in its tenant; the name sessions, pairings and queues know the channel by.
    pub name: String,
    pub display_name: String,
    /// The platform: `telegram`, `discord`, `slack`, ...
    pub channel_type: String,
    /// The agent that answers; `None` once that agent is deleted.
    pub agent_id: Option<AgentId>,
    /// The secret box's encryption of the credentials' JSON object; `None` without any.
    pub encrypted_credentials: Option<String>,
    /// The names of the credentials held (never their values), to show them masked.
    pub credential_keys: Vec<String>,
    /// Settings (a JSON object).
    pub config: Value,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What is needed to store a channel instance.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChannelInstance {
    pub tenant_id: TenantId,
    pub name: String,
    pub display_name: String,
    pub channel_type: String,
    pub agent_id: Option<AgentId>,
    pub encrypted_credentials: Option<String>,
    pub credential_keys: Vec<String>,
    pub config: Value,
    pub enabled: bool,
    pub created_by: String,
}

/// A change to a channel instance; `None` leaves a field as it is. The name and type never
/// change: sessions and queues know the channel by its name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelInstancePatch {
    pub display_name: Option<String>,
    pub agent_id: Option<AgentId>,
    /// Replaces the stored credentials (the gateway merges old and new before encrypting).
    pub credentials: Option<(Option<String>, Vec<String>)>,
    pub config: Option<Value>,
    pub enabled: Option<bool>,
}

impl ChannelInstancePatch {
    pub fn is_empty(&self) -> bool {
        *self == ChannelInstancePatch::default()
    }
}

/// Which instances to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelInstanceQuery {
    /// Only names or display names containing this (case-insensitive).
    pub search: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// The channel instances of every tenant.
#[async_trait]
pub trait ChannelInstanceStore: Send + Sync {
    /// Stores an instance; `Conflict` when its tenant already has one of that name.
    async fn create(&self, instance: NewChannelInstance) -> Result<ChannelInstance, StoreError>;

    /// An instance of `tenant`; `NotFound` for another tenant's.
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<ChannelInstance, StoreError>;

    /// A page of `tenant`'s instances ordered by name, and how many match in all.
    async fn list(
        &self,
        tenant: TenantId,
        query: &ChannelInstanceQuery,
    ) -> Result<(Vec<ChannelInstance>, u64), StoreError>;

    /// The enabled instances of every tenant, ordered by tenant and name (for starting them).
    async fn list_enabled(&self) -> Result<Vec<ChannelInstance>, StoreError>;

    /// Applies `patch` and returns the result.
    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: ChannelInstancePatch,
    ) -> Result<ChannelInstance, StoreError>;

    /// Deletes an instance; `NotFound` when `tenant` has no such instance.
    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError>;
}

/// The platforms a channel instance may be of (GoClaw's list).
pub const CHANNEL_TYPES: &[&str] = &[
    "telegram",
    "discord",
    "slack",
    "whatsapp",
    "zalo_oa",
    "zalo_personal",
    "feishu",
    "facebook",
    "pancake",
    "bitrix24",
    "dingtalk",
];

/// Whether `name` is one of the instances the configuration's channels became (`telegram`,
/// or `{type}/default`), which cannot be deleted.
pub fn is_default_instance(name: &str) -> bool {
    name.ends_with("/default")
        || matches!(
            name,
            "telegram" | "discord" | "feishu" | "zalo_oa" | "whatsapp"
        )
}

#[cfg(test)]
mod tests {
    use super::is_default_instance;

    #[test]
    fn default_instances_are_the_bare_types_and_slash_default() {
        for name in ["telegram", "discord", "slack/default", "whatsapp"] {
            assert!(is_default_instance(name), "{name}");
        }
        for name in ["support-bot", "slack", "telegram-2", "default"] {
            assert!(!is_default_instance(name), "{name}");
        }
    }
}

//! Schemas of the channel instance routes for the OpenAPI document (documentation only; the
//! handlers read and write `serde_json` values of exactly these shapes).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The platforms an instance may be of.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelType {
    Telegram,
    Discord,
    Slack,
    Whatsapp,
    ZaloOa,
    ZaloPersonal,
    Feishu,
    Facebook,
    Pancake,
    Bitrix24,
    Dingtalk,
}

/// `POST /v1/channels/instances`.
#[derive(Serialize, ToSchema)]
pub struct InstanceCreate {
    /// 1–64 of letters, digits and `._/-`, starting with a letter or digit; never changes.
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
    pub name: String,
    #[schema(max_length = 200)]
    pub display_name: Option<String>,
    pub channel_type: ChannelType,
    /// The agent that answers (UUID or key).
    #[schema(
        min_length = 1,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub agent_id: String,
    /// Secrets by name (`token`; Slack's `bot_token`, `app_token`), stored encrypted.
    pub credentials: Option<BTreeMap<String, String>>,
    /// Settings: the keys of the `channels.<type>` section (`dm_policy`, `allow_from`, ...).
    /// Credential keys given here are moved to the credentials.
    pub config: Option<BTreeMap<String, serde_json::Value>>,
    /// Start it (true when left out).
    pub enabled: Option<bool>,
}

/// `PUT /v1/channels/instances/{id}`: any of these; other fields are ignored.
#[derive(Serialize, ToSchema)]
pub struct InstanceUpdate {
    #[schema(max_length = 200)]
    pub display_name: Option<String>,
    /// UUID or key.
    pub agent_id: Option<String>,
    /// Merged into the stored credentials.
    pub credentials: Option<BTreeMap<String, String>>,
    /// Replaces the settings; `null` (like any `null` here) leaves them as they are.
    pub config: Option<BTreeMap<String, serde_json::Value>>,
    pub enabled: Option<bool>,
}

/// A channel instance; its credentials only as keys with `"***"`.
#[derive(Serialize, ToSchema)]
pub struct InstanceView {
    pub id: uuid::Uuid,
    pub name: String,
    pub display_name: String,
    pub channel_type: String,
    pub agent_id: Option<uuid::Uuid>,
    pub config: BTreeMap<String, serde_json::Value>,
    pub enabled: bool,
    /// One of the names the configuration's channels take (`telegram`, `{type}/default`);
    /// it cannot be deleted.
    pub is_default: bool,
    pub has_credentials: bool,
    pub credentials: BTreeMap<String, String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// In reads: `running`, `starting`, `failing`, `stopped` or `disabled`.
    pub status: Option<String>,
}

/// A page of instances.
#[derive(Serialize, ToSchema)]
pub struct InstancePage {
    pub instances: Vec<InstanceView>,
    /// Instances matching in all.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// `{"status": "updated"}` or `{"status": "deleted"}`.
#[derive(Serialize, ToSchema)]
pub struct StatusAnswer {
    pub status: String,
}

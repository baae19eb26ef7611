//! `pairing_requests` and `paired_devices`. Asking for a code runs in one writing transaction
//! with the tenant's row locked (PostgreSQL; SQLite's write lock covers it), so the count of
//! waiting codes and the sender's own code are read and acted on without a race. Expired rows
//! are left out of every read and deleted whenever a code is asked for.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::pairing::{
    DEFAULT_PAIRING_ACCOUNT, MAX_PENDING_PER_ACCOUNT, PAIRED_DEVICE_TTL, PAIRING_CODE_TTL,
    pairing_code,
};
use goclaw_core::{
    NewPairingRequest, PairedDevice, PairingAsked, PairingRequest, PairingStore, StoreError,
    TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use super::agents::lock_tenant;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Param, Record, Row, Statement};

const REQUEST_COLUMNS: &str =
    "tenant_id, code, sender_id, channel, chat_id, account_id, created_at, expires_at";
const DEVICE_COLUMNS: &str =
    "tenant_id, sender_id, channel, chat_id, paired_by, paired_at, expires_at";

/// Codes drawn before giving up on finding one no other request holds.
const CODE_DRAWS: usize = 8;

static PRUNE_REQUESTS: Statement =
    Statement::new("DELETE FROM pairing_requests WHERE tenant_id = ? AND expires_at <= ?");
static PRUNE_DEVICES: Statement =
    Statement::new("DELETE FROM paired_devices WHERE tenant_id = ? AND expires_at <= ?");
static PENDING_OF_SENDER: Statement = Statement::joined(&[
    "SELECT ",
    REQUEST_COLUMNS,
    " FROM pairing_requests WHERE tenant_id = ? AND sender_id = ? AND channel = ? \
     AND expires_at > ?",
]);
static PENDING_OF_ACCOUNT: Statement = Statement::new(
    "SELECT count(*) AS waiting FROM pairing_requests \
     WHERE tenant_id = ? AND account_id = ? AND expires_at > ?",
);
static CODE_TAKEN: Statement = Statement::new("SELECT 1 FROM pairing_requests WHERE code = ?");
static CREATE_REQUEST: Statement = Statement::joined(&[
    "INSERT INTO pairing_requests (id, tenant_id, code, sender_id, channel, chat_id, account_id, \
     created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
    REQUEST_COLUMNS,
]);
static TAKE_REQUEST: Statement = Statement::joined(&[
    "DELETE FROM pairing_requests WHERE tenant_id = ? AND code = ? AND expires_at > ? \
     RETURNING ",
    REQUEST_COLUMNS,
]);
static DENY: Statement = Statement::new(
    "DELETE FROM pairing_requests WHERE tenant_id = ? AND code = ? AND expires_at > ?",
);
static PAIR: Statement = Statement::joined(&[
    "INSERT INTO paired_devices (id, tenant_id, sender_id, channel, chat_id, paired_by, \
     paired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (tenant_id, sender_id, channel) DO UPDATE SET chat_id = excluded.chat_id, \
     paired_by = excluded.paired_by, paired_at = excluded.paired_at, \
     expires_at = excluded.expires_at RETURNING ",
    DEVICE_COLUMNS,
]);
static REVOKE: Statement = Statement::new(
    "DELETE FROM paired_devices WHERE tenant_id = ? AND sender_id = ? AND channel = ? \
     AND expires_at > ?",
);
static PAIRED: Statement = Statement::joined(&[
    "SELECT ",
    DEVICE_COLUMNS,
    " FROM paired_devices WHERE tenant_id = ? AND sender_id = ? AND channel = ? \
     AND expires_at > ?",
]);
static LIST_PENDING: Statement = Statement::joined(&[
    "SELECT ",
    REQUEST_COLUMNS,
    " FROM pairing_requests WHERE tenant_id = ? AND expires_at > ? ORDER BY created_at DESC, code",
]);
static LIST_PAIRED: Statement = Statement::joined(&[
    "SELECT ",
    DEVICE_COLUMNS,
    " FROM paired_devices WHERE tenant_id = ? AND expires_at > ? \
     ORDER BY paired_at DESC, sender_id, channel",
]);

impl Record for PairingRequest {
    const TABLE: &'static str = "pairing_requests";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(PairingRequest {
            tenant_id: row.id("tenant_id")?,
            code: row.text("code")?,
            sender_id: row.text("sender_id")?,
            channel: row.text("channel")?,
            chat_id: row.text("chat_id")?,
            account_id: row.text("account_id")?,
            created_at: row.time("created_at")?,
            expires_at: row.time("expires_at")?,
        })
    }
}

impl Record for PairedDevice {
    const TABLE: &'static str = "paired_devices";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(PairedDevice {
            tenant_id: row.id("tenant_id")?,
            sender_id: row.text("sender_id")?,
            channel: row.text("channel")?,
            chat_id: row.text("chat_id")?,
            paired_by: row.text("paired_by")?,
            paired_at: row.time("paired_at")?,
            expires_at: row.time("expires_at")?,
        })
    }
}

/// `at` plus `ttl` (saturating far in the future).
fn after(at: DateTime<Utc>, ttl: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|ttl| at.checked_add_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A new random code.
fn random_code() -> String {
    let bytes = Uuid::new_v4().into_bytes();
    pairing_code([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]])
}

/// The parameters that pick a sender's live row on a channel: tenant, sender, channel, now.
fn live<'a>(tenant: TenantId, sender: &'a str, channel: &'a str) -> [Param<'a>; 4] {
    [
        tenant.into(),
        sender.into(),
        channel.into(),
        Utc::now().into(),
    ]
}

impl SqlStore {
    /// The one row `statement` picks with `params`, as a `T`.
    async fn live_row<T: Record>(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
        entity: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.pool
            .fetch_optional(statement, params)
            .await
            .map_err(|e| store_error(e, entity))?
            .map(|row| row.decode())
            .transpose()
    }
}

#[async_trait]
impl PairingStore for SqlStore {
    async fn request(&self, request: NewPairingRequest) -> Result<PairingAsked, StoreError> {
        let now = Utc::now();
        let tenant = request.tenant_id;
        let account = if request.account_id.is_empty() {
            DEFAULT_PAIRING_ACCOUNT
        } else {
            request.account_id.as_str()
        };
        let mut tx = self
            .pool
            .begin_write()
            .await
            .map_err(|e| store_error(e, "pairing request"))?;
        lock_tenant(&mut tx, tenant).await?;
        tx.execute(&PRUNE_REQUESTS, &[tenant.into(), now.into()])
            .await
            .map_err(|e| store_error(e, "pairing request"))?;
        let params = live(tenant, &request.sender_id, &request.channel);
        if let Some(row) = tx
            .fetch_optional(&PENDING_OF_SENDER, &params)
            .await
            .map_err(|e| store_error(e, "pairing request"))?
        {
            let waiting = row.decode::<PairingRequest>()?;
            tx.commit()
                .await
                .map_err(|e| store_error(e, "pairing request"))?;
            return Ok(PairingAsked::Waiting(waiting));
        }
        let waiting = tx
            .fetch_one(
                &PENDING_OF_ACCOUNT,
                &[tenant.into(), account.into(), now.into()],
            )
            .await
            .map_err(|e| store_error(e, "pairing request"))?
            .read("pairing_requests")
            .int("waiting")?;
        if usize::try_from(waiting).unwrap_or(usize::MAX) >= MAX_PENDING_PER_ACCOUNT {
            tx.commit()
                .await
                .map_err(|e| store_error(e, "pairing request"))?;
            return Ok(PairingAsked::TooManyPending);
        }
        let mut code = random_code();
        let mut draws = 1;
        while tx
            .fetch_optional(&CODE_TAKEN, &[code.as_str().into()])
            .await
            .map_err(|e| store_error(e, "pairing request"))?
            .is_some()
        {
            if draws == CODE_DRAWS {
                return Err(StoreError::Conflict("pairing code".to_owned()));
            }
            code = random_code();
            draws += 1;
        }
        let params = [
            Uuid::now_v7().into(),
            tenant.into(),
            code.as_str().into(),
            request.sender_id.as_str().into(),
            request.channel.as_str().into(),
            request.chat_id.as_str().into(),
            account.into(),
            now.into(),
            after(now, PAIRING_CODE_TTL).into(),
        ];
        let created = tx
            .fetch_one(&CREATE_REQUEST, &params)
            .await
            .map_err(|e| store_error_with_parent(e, "pairing request", "tenant"))?
            .decode::<PairingRequest>()?;
        tx.commit()
            .await
            .map_err(|e| store_error(e, "pairing request"))?;
        Ok(PairingAsked::Created(created))
    }

    async fn approve(
        &self,
        tenant: TenantId,
        code: &str,
        approved_by: &str,
    ) -> Result<Option<PairedDevice>, StoreError> {
        let now = Utc::now();
        let mut tx = self
            .pool
            .begin_write()
            .await
            .map_err(|e| store_error(e, "pairing request"))?;
        let Some(row) = tx
            .fetch_optional(&TAKE_REQUEST, &[tenant.into(), code.into(), now.into()])
            .await
            .map_err(|e| store_error(e, "pairing request"))?
        else {
            return Ok(None);
        };
        let request = row.decode::<PairingRequest>()?;
        tx.execute(&PRUNE_DEVICES, &[tenant.into(), now.into()])
            .await
            .map_err(|e| store_error(e, "pairing request"))?;
        let params = [
            Uuid::now_v7().into(),
            tenant.into(),
            request.sender_id.as_str().into(),
            request.channel.as_str().into(),
            request.chat_id.as_str().into(),
            approved_by.into(),
            now.into(),
            after(now, PAIRED_DEVICE_TTL).into(),
        ];
        let device = tx
            .fetch_one(&PAIR, &params)
            .await
            .map_err(|e| store_error(e, "paired device"))?
            .decode::<PairedDevice>()?;
        tx.commit()
            .await
            .map_err(|e| store_error(e, "pairing request"))?;
        Ok(Some(device))
    }

    async fn deny(&self, tenant: TenantId, code: &str) -> Result<bool, StoreError> {
        let removed = self
            .pool
            .execute(&DENY, &[tenant.into(), code.into(), Utc::now().into()])
            .await
            .map_err(|e| store_error(e, "pairing request"))?;
        Ok(removed > 0)
    }

    async fn revoke(
        &self,
        tenant: TenantId,
        sender: &str,
        channel: &str,
    ) -> Result<bool, StoreError> {
        let params = live(tenant, sender, channel);
        let removed = self
            .pool
            .execute(&REVOKE, &params)
            .await
            .map_err(|e| store_error(e, "paired device"))?;
        Ok(removed > 0)
    }

    async fn paired(
        &self,
        tenant: TenantId,
        sender: &str,
        channel: &str,
    ) -> Result<Option<PairedDevice>, StoreError> {
        let params = live(tenant, sender, channel);
        self.live_row(&PAIRED, &params, "paired device").await
    }

    async fn pending_for(
        &self,
        tenant: TenantId,
        sender: &str,
        channel: &str,
    ) -> Result<Option<PairingRequest>, StoreError> {
        let params = live(tenant, sender, channel);
        self.live_row(&PENDING_OF_SENDER, &params, "pairing request")
            .await
    }

    async fn list_pending(&self, tenant: TenantId) -> Result<Vec<PairingRequest>, StoreError> {
        self.pool
            .fetch_all(&LIST_PENDING, &[tenant.into(), Utc::now().into()])
            .await
            .map_err(|e| store_error(e, "pairing request"))?
            .decode()
    }

    async fn list_paired(&self, tenant: TenantId) -> Result<Vec<PairedDevice>, StoreError> {
        self.pool
            .fetch_all(&LIST_PAIRED, &[tenant.into(), Utc::now().into()])
            .await
            .map_err(|e| store_error(e, "paired device"))?
            .decode()
    }
}

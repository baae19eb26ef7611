//! Turns on both engines: a user message and its turn stored together, idempotency keys unique
//! per tenant and user, runs and single messages ended together with their final message, the
//! turns a restart must look at, and turns going away with their session.

mod accept;
mod ending;

use std::time::Duration;

use goclaw_core::{
    NewMessage, NewTurn, Role, SessionId, SessionKey, Store, TenantId, Turn, TurnEnd, TurnStatus,
};
use goclaw_store::testing::TestDatabase;
use uuid::Uuid;

/// Longer than the millisecond resolution of SQLite's timestamps.
pub const TICK: Duration = Duration::from_millis(15);

pub const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";

pub fn acme() -> TenantId {
    ACME.parse().expect("tenant id")
}

/// A migrated database with a second tenant, `acme`, beside the master tenant.
pub async fn with_acme(db: TestDatabase) -> TestDatabase {
    db.migrated_with_tenant(ACME, "acme").await
}

pub async fn session(store: &dyn Store, tenant: TenantId, key: &str) -> SessionId {
    let key = SessionKey::parse(key).expect("valid session key");
    store
        .sessions()
        .get_or_create(tenant, &key, None, "alice", "ws")
        .await
        .expect("session")
        .id
}

pub fn new_turn(tenant: TenantId, run: Uuid, user: &str, key: Option<&str>) -> NewTurn {
    NewTurn {
        tenant_id: tenant,
        run_id: run,
        user_id: user.to_owned(),
        idempotency_key: key.map(str::to_owned),
    }
}

pub async fn accept(store: &dyn Store, session: SessionId, text: &str, turn: NewTurn) -> Turn {
    let (message, turn) = store
        .turns()
        .accept(session, NewMessage::text(Role::User, text), turn)
        .await
        .expect("accept");
    assert_eq!(
        (message.id.as_uuid(), message.seq),
        (turn.message_id, turn.seq)
    );
    turn
}

pub fn end(status: TurnStatus, error: Option<&str>, reply: Option<&str>) -> TurnEnd {
    TurnEnd {
        status,
        error: error.map(str::to_owned),
        message: reply.map(|text| NewMessage::text(Role::Assistant, text)),
    }
}

pub async fn transcript(store: &dyn Store, session: SessionId) -> Vec<(i64, String)> {
    store
        .messages()
        .list(session, 0, 1000)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| (m.seq, m.content))
        .collect()
}

/// `(seq, status, error)` of each turn of `run`.
pub async fn statuses(store: &dyn Store, run: Uuid) -> Vec<(i64, TurnStatus, Option<String>)> {
    store
        .turns()
        .of_run(run)
        .await
        .expect("of_run")
        .into_iter()
        .map(|t| (t.seq, t.status, t.error))
        .collect()
}

//! `ApprovalBroker`: exec commands that need a human wait here. A request is announced on a
//! broadcast channel the gateway forwards to operators (`exec.approval.requested`), resolved by
//! an operator (`allow-once`, `allow-always`, `deny`) or denied after a timeout, and announced
//! again (`exec.approval.resolved`). "Allow always" remembers the program per tenant and agent.
//!
//! With a store, requests and remembered programs are also kept in the database
//! (`exec_approvals`, `exec_allowlist`). After a restart [`ApprovalBroker::reload`] brings the
//! still-pending requests back: operators can list and resolve them (an "allow always" still
//! remembers the program), but the tool call that waited died with the old process, so nothing
//! runs — the model retries the command and then meets the remembered decision. They do not
//! time out, since no call waits on them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use goclaw_core::{NewExecApproval, SessionKey, Store, TenantId};
use thiserror::Error;
use tokio::sync::{broadcast, oneshot};

/// How long a request waits for an operator before it is denied.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(120);

/// A command waiting for an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub id: String,
    pub tenant_id: TenantId,
    pub agent_key: String,
    pub session_key: String,
    pub run_id: String,
    /// The user the run belongs to (after a restart, the user of the request's session);
    /// empty when unknown, and then only admins see the request.
    pub user_id: String,
    pub command: String,
    /// The programs the command runs; "allow always" remembers these.
    pub binaries: Vec<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// An operator's (or the timeout's) answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalDecision {
    AllowOnce,
    AllowAlways,
    Deny,
}

impl ApprovalDecision {
    /// The wire name: `allow-once`, `allow-always`, `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalDecision::AllowOnce => "allow-once",
            ApprovalDecision::AllowAlways => "allow-always",
            ApprovalDecision::Deny => "deny",
        }
    }

    pub fn allows(self) -> bool {
        self != ApprovalDecision::Deny
    }
}

/// What operators are told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalEvent {
    Requested(ApprovalRequest),
    Resolved {
        tenant_id: TenantId,
        /// The user the run belongs to, as on the request.
        user_id: String,
        id: String,
        decision: ApprovalDecision,
    },
}

/// Why a resolution failed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ApprovalError {
    #[error("no pending approval {0}")]
    NotFound(String),
}

/// Holds pending requests and remembered programs; cheap to clone.
#[derive(Clone)]
pub struct ApprovalBroker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ApprovalBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalBroker")
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

struct Inner {
    timeout: Duration,
    store: Option<Arc<dyn Store>>,
    events: broadcast::Sender<ApprovalEvent>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Pending requests with the call waiting on each (none for requests reloaded at start).
    pending: HashMap<String, (ApprovalRequest, Option<oneshot::Sender<ApprovalDecision>>)>,
    /// (tenant, agent, program) allowed always.
    allowed: HashSet<(TenantId, String, String)>,
}

impl ApprovalBroker {
    /// A broker denying unanswered requests after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self::build(timeout, None)
    }

    /// A broker that also keeps requests and remembered programs in `store`.
    pub fn with_store(timeout: Duration, store: Arc<dyn Store>) -> Self {
        Self::build(timeout, Some(store))
    }

    fn build(timeout: Duration, store: Option<Arc<dyn Store>>) -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                timeout,
                store,
                events,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Request and resolution events, for the gateway.
    pub fn subscribe(&self) -> broadcast::Receiver<ApprovalEvent> {
        self.inner.events.subscribe()
    }

    /// Brings back the requests a previous process left pending; returns how many.
    pub async fn reload(&self) -> usize {
        let Some(store) = &self.inner.store else {
            return 0;
        };
        let rows = match store.exec_approvals().list_pending().await {
            Ok(rows) => rows,
            Err(error) => {
                tracing::error!(%error, "cannot reload pending exec approvals");
                return 0;
            }
        };
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            users.push(session_user(store.as_ref(), row.tenant_id, &row.session_key).await);
        }
        let mut state = self.state();
        for (row, user_id) in rows.iter().zip(users) {
            let command = super::guard::normalize(&row.command);
            let binaries = super::parse::parse(&command)
                .map(|cmds| {
                    let mut out: Vec<String> = Vec::new();
                    for cmd in cmds {
                        let p = cmd.program().to_owned();
                        if !p.is_empty() && !out.contains(&p) {
                            out.push(p);
                        }
                    }
                    out
                })
                .unwrap_or_default();
            let request = ApprovalRequest {
                id: row.id.clone(),
                tenant_id: row.tenant_id,
                agent_key: row.agent_key.clone(),
                session_key: row.session_key.clone(),
                run_id: row.run_id.clone(),
                user_id,
                command: row.command.clone(),
                binaries,
                created_at_ms: row.created_at.timestamp_millis(),
            };
            state.pending.insert(row.id.clone(), (request, None));
        }
        rows.len()
    }

    /// Whether an operator allowed `binary` always for this agent.
    pub async fn is_allowed(&self, tenant: TenantId, agent: &str, binary: &str) -> bool {
        let key = (tenant, agent.to_owned(), binary.to_owned());
        if self.state().allowed.contains(&key) {
            return true;
        }
        let Some(store) = &self.inner.store else {
            return false;
        };
        match store
            .exec_approvals()
            .is_binary_allowed(tenant, agent, binary)
            .await
        {
            Ok(true) => {
                self.state().allowed.insert(key);
                true
            }
            Ok(false) => false,
            Err(error) => {
                tracing::error!(%error, "cannot read the exec allowlist");
                false
            }
        }
    }

    /// Announces `request` and waits for the decision (deny after the timeout).
    pub async fn request(&self, request: ApprovalRequest) -> ApprovalDecision {
        let (tx, rx) = oneshot::channel();
        let id = request.id.clone();
        let tenant = request.tenant_id;
        let user_id = request.user_id.clone();
        if let Some(store) = &self.inner.store {
            let stored = store.exec_approvals().create(NewExecApproval {
                id: id.clone(),
                tenant_id: tenant,
                agent_key: request.agent_key.clone(),
                session_key: request.session_key.clone(),
                run_id: request.run_id.clone(),
                command: request.command.clone(),
            });
            if let Err(error) = stored.await {
                tracing::error!(%error, "cannot store an exec approval request; denying");
                return ApprovalDecision::Deny;
            }
        }
        self.state()
            .pending
            .insert(id.clone(), (request.clone(), Some(tx)));
        tracing::info!(
            approval_id = %id,
            agent = %request.agent_key,
            session_key = %request.session_key,
            "security.exec_approval_requested"
        );
        let _ = self.inner.events.send(ApprovalEvent::Requested(request));
        match tokio::time::timeout(self.inner.timeout, rx).await {
            Ok(Ok(decision)) => decision,
            Ok(Err(_)) => ApprovalDecision::Deny,
            Err(_) => {
                let expired = self.state().pending.remove(&id).is_some();
                if expired {
                    tracing::warn!(approval_id = %id, "security.exec_approval_expired");
                    self.record(tenant, &id, "expired", ApprovalDecision::Deny, "timeout")
                        .await;
                    let _ = self.inner.events.send(ApprovalEvent::Resolved {
                        tenant_id: tenant,
                        user_id,
                        id,
                        decision: ApprovalDecision::Deny,
                    });
                }
                ApprovalDecision::Deny
            }
        }
    }

    /// The tenant's pending requests, oldest first.
    pub fn list(&self, tenant: TenantId) -> Vec<ApprovalRequest> {
        let mut out: Vec<ApprovalRequest> = self
            .state()
            .pending
            .values()
            .filter(|(r, _)| r.tenant_id == tenant)
            .map(|(r, _)| r.clone())
            .collect();
        out.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
        out
    }

    /// Resolves the tenant's pending request `id`.
    pub async fn resolve(
        &self,
        tenant: TenantId,
        id: &str,
        decision: ApprovalDecision,
        by: &str,
    ) -> Result<(), ApprovalError> {
        let (request, tx) = {
            let mut state = self.state();
            let belongs = state
                .pending
                .get(id)
                .is_some_and(|(r, _)| r.tenant_id == tenant);
            if !belongs {
                return Err(ApprovalError::NotFound(id.to_owned()));
            }
            let Some(entry) = state.pending.remove(id) else {
                return Err(ApprovalError::NotFound(id.to_owned()));
            };
            if decision == ApprovalDecision::AllowAlways {
                for binary in &entry.0.binaries {
                    state
                        .allowed
                        .insert((tenant, entry.0.agent_key.clone(), binary.clone()));
                }
            }
            entry
        };
        let status = if decision.allows() {
            "approved"
        } else {
            "denied"
        };
        self.record(tenant, id, status, decision, by).await;
        if decision == ApprovalDecision::AllowAlways
            && let Some(store) = &self.inner.store
        {
            for binary in &request.binaries {
                let approvals = store.exec_approvals();
                let stored = approvals.allow_binary(tenant, &request.agent_key, binary);
                if let Err(error) = stored.await {
                    tracing::error!(%error, "cannot store an exec allowlist entry");
                }
            }
        }
        tracing::info!(
            approval_id = %id,
            agent = %request.agent_key,
            decision = decision.as_str(),
            resolved_by = %by,
            "security.exec_approval_resolved"
        );
        if let Some(tx) = tx {
            let _ = tx.send(decision);
        }
        let _ = self.inner.events.send(ApprovalEvent::Resolved {
            tenant_id: tenant,
            user_id: request.user_id.clone(),
            id: id.to_owned(),
            decision,
        });
        Ok(())
    }

    /// Stores the outcome of a request, if there is a store.
    async fn record(
        &self,
        tenant: TenantId,
        id: &str,
        status: &str,
        decision: ApprovalDecision,
        by: &str,
    ) {
        let Some(store) = &self.inner.store else {
            return;
        };
        let stored = store
            .exec_approvals()
            .resolve(tenant, id, status, decision.as_str(), by);
        if let Err(error) = stored.await {
            tracing::error!(%error, approval_id = %id, "cannot store an exec approval decision");
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The user a stored request belongs to: the user of its session (requests are stored without
/// one); empty when the session is gone.
async fn session_user(store: &dyn Store, tenant: TenantId, session_key: &str) -> String {
    let Ok(key) = SessionKey::parse(session_key) else {
        return String::new();
    };
    match store.sessions().get(tenant, &key).await {
        Ok(session) => session.user_id,
        Err(error) => {
            tracing::warn!(%error, session_key, "exec approval reloaded without its user");
            String::new()
        }
    }
}

//! The callback worker of async `llm` calls. It claims queued calls (a claim makes a call
//! `running`, so two workers — two replicas — never take the same one), runs the agent, stores
//! the callback body on the call *before* delivering it, and POSTs it signed to the callback
//! URL. A failed delivery is retried with the stored body — the agent never runs twice for one
//! call — after 30 s, 2 min, 10 min, 1 h and 6 h (or the receiver's `Retry-After` on 429,
//! at most 6 h); after the sixth failure the call is `dead`. A 4xx other than 429 is final.
//!
//! A call left `running` by a stopped process — or whose run the shutdown cut short — is
//! queued again after [`STALE_AFTER`]. The
//! callback goes to the address the URL's SSRF check resolved to, without redirects.

use std::time::Duration;

use chrono::{DateTime, Utc};
use goclaw_core::{CallStatus, CallUpdate, StoreError, WebhookCall};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::llm::{LlmRequest, parse_input, run};
use super::{net, secret};
use crate::routes::AppState;

/// How long an async call's agent may run.
pub const ASYNC_RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a callback receiver may take to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// A call `running` this long was left by a process that stopped.
pub const STALE_AFTER: Duration = Duration::from_secs(180);
/// Waits before each retry of a failed delivery; one more failure after the last is final.
pub const RETRY_WAITS: [Duration; 5] = [
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(3600),
    Duration::from_secs(6 * 3600),
];
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);
/// How often the queue is looked at without being woken.
const POLL: Duration = Duration::from_secs(2);
/// Finished calls are kept this long.
const KEEP_CALLS: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// How a delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The receiver answered 2xx.
    Accepted,
    /// The receiver answered this status; `retry_after` from its header.
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// No answer (connection refused, timeout).
    Unreachable(String),
    /// The URL no longer passes the SSRF check.
    Blocked(String),
}

/// What becomes of a call after delivery number `attempt` (1-based) went as `delivery`.
pub fn after_delivery(delivery: &Delivery, attempt: i64, now: DateTime<Utc>) -> CallUpdate {
    let settle = |status: CallStatus, error: Option<String>| CallUpdate {
        status,
        response: None,
        last_error: error,
        next_attempt_at: None,
        attempted: true,
    };
    let retry = |error: String, wait: Option<Duration>| {
        let index = usize::try_from(attempt.max(1) - 1).unwrap_or(usize::MAX);
        match RETRY_WAITS.get(index) {
            Some(backoff) => {
                let wait = wait.map_or(*backoff, |w| w.min(MAX_RETRY_AFTER));
                CallUpdate {
                    status: CallStatus::Queued,
                    response: None,
                    last_error: Some(error),
                    next_attempt_at: Some(
                        now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX),
                    ),
                    attempted: true,
                }
            }
            None => settle(CallStatus::Dead, Some(error)),
        }
    };
    match delivery {
        Delivery::Accepted => settle(CallStatus::Done, None),
        Delivery::Status {
            code: 429,
            retry_after,
        } => retry("http 429".to_owned(), *retry_after),
        Delivery::Status { code, .. } if (400..500).contains(code) => {
            settle(CallStatus::Failed, Some(format!("http {code} (permanent)")))
        }
        Delivery::Status { code, .. } => retry(format!("http {code}"), None),
        Delivery::Unreachable(reason) => retry(reason.clone(), None),
        Delivery::Blocked(reason) => settle(
            CallStatus::Failed,
            Some(format!("callback URL blocked: {reason}")),
        ),
    }
}

/// Starts the worker; it stops when `stop` is cancelled (a call being worked on then stays
/// `running` and is queued again after [`STALE_AFTER`]).
pub fn spawn(state: AppState, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_sweep: Option<tokio::time::Instant> = None;
        loop {
            if last_sweep.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                sweep(&state).await;
                last_sweep = Some(tokio::time::Instant::now());
            }
            let free = state.webhooks.lane().available_permits().max(1);
            match state
                .store
                .webhooks()
                .claim_due(Utc::now(), u32::try_from(free).unwrap_or(1))
                .await
            {
                Ok(calls) => {
                    for call in calls {
                        tokio::spawn(process(state.clone(), call));
                    }
                }
                Err(error) => {
                    tracing::error!(error = %error, "webhook.worker: claiming calls failed")
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = state.webhooks.queued() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

async fn sweep(state: &AppState) {
    let store = state.store.webhooks();
    let stale = Utc::now() - chrono::TimeDelta::from_std(STALE_AFTER).unwrap_or_default();
    match store.requeue_stale(stale).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            calls = n,
            "webhook.worker: queued again calls a stopped process left"
        ),
        Err(error) => {
            tracing::error!(error = %error, "webhook.worker: requeueing stale calls failed")
        }
    }
    if let Err(error) = store.prune_calls(Utc::now() - KEEP_CALLS).await {
        tracing::error!(error = %error, "webhook.worker: pruning calls failed");
    }
}

/// Works on one claimed call.
async fn process(state: AppState, call: WebhookCall) {
    if let Err(error) = work(&state, &call).await {
        tracing::error!(call = %call.id, error = %error, "webhook.worker: recording a call failed");
    }
}

async fn work(state: &AppState, call: &WebhookCall) -> Result<(), StoreError> {
    let store = state.store.webhooks();
    let webhook = match store.get(None, call.webhook_id).await {
        Ok(webhook) => webhook,
        Err(StoreError::NotFound(_)) => {
            return store
                .update_call(call.id, final_update(CallStatus::Failed, "webhook deleted"))
                .await;
        }
        Err(error) => return Err(error),
    };
    let Some(url) = call.callback_url.clone() else {
        return store
            .update_call(call.id, final_update(CallStatus::Failed, "no callback URL"))
            .await;
    };
    let body = match &call.response {
        Some(body) => body.clone(),
        None => {
            let body = callback_body(state, &webhook, call).await;
            if state.shutdown.is_cancelled() && body["status"] != "done" {
                // The run ended with the gateway, not on its own: the call stays `running` and
                // is queued again after the restart, instead of being answered as failed.
                return Ok(());
            }
            // Stored before the first delivery: a retry sends the same answer.
            store
                .update_call(
                    call.id,
                    CallUpdate {
                        status: CallStatus::Running,
                        response: Some(body.clone()),
                        last_error: None,
                        next_attempt_at: None,
                        attempted: false,
                    },
                )
                .await?;
            body
        }
    };
    let key = state
        .secrets
        .as_ref()
        .and_then(|secrets| secrets.decrypt(&webhook.encrypted_secret).ok())
        .map(zeroize::Zeroizing::new);
    let delivery = deliver(
        &url,
        &body,
        key.as_deref().map(String::as_str),
        call,
        state.webhooks.private_callbacks(),
    )
    .await;
    let update = after_delivery(&delivery, call.attempts + 1, Utc::now());
    if let Delivery::Blocked(reason) = &delivery {
        tracing::warn!(call = %call.id, reason = %reason, "security.webhook.callback_ssrf_blocked");
    }
    tracing::info!(
        call = %call.id,
        attempt = call.attempts + 1,
        status = update.status.as_str(),
        "webhook.worker: callback delivered"
    );
    store.update_call(call.id, update).await
}

fn final_update(status: CallStatus, error: &str) -> CallUpdate {
    CallUpdate {
        status,
        response: None,
        last_error: Some(error.to_owned()),
        next_attempt_at: None,
        attempted: false,
    }
}

/// Runs the agent for `call` and builds the callback's body, `done` or `failed`.
async fn callback_body(
    state: &AppState,
    webhook: &goclaw_core::Webhook,
    call: &WebhookCall,
) -> Value {
    let meta = call
        .request_payload
        .get("meta")
        .cloned()
        .unwrap_or_default();
    let mut body = json!({
        "call_id": call.id,
        "delivery_id": call.delivery_id,
    });
    if let Some(agent) = call.agent_id {
        body["agent_id"] = json!(agent);
    }
    let outcome = match serde_json::from_value::<LlmRequest>(meta) {
        Ok(request) => match parse_input(&request.input) {
            Ok(input) => {
                if let Some(metadata) = &request.metadata {
                    body["metadata"] = metadata.clone();
                }
                tokio::time::timeout(ASYNC_RUN_TIMEOUT, run(state, webhook, &request, &input))
                    .await
                    .map_err(|_| "LLM processing timed out".to_owned())
                    .and_then(|ran| ran.map_err(|failure| failure.message))
            }
            Err(error) => Err(error),
        },
        Err(error) => Err(format!("the recorded request is unreadable: {error}")),
    };
    match outcome {
        Ok(ran) => {
            body["status"] = json!("done");
            body["output"] = json!(ran.output);
            body["usage"] = ran.usage;
        }
        Err(error) => {
            body["status"] = json!("failed");
            body["error"] = json!(error);
        }
    }
    body
}

/// POSTs `body` to `url`, signed with `key` when there is one.
async fn deliver(
    url: &str,
    body: &Value,
    key: Option<&str>,
    call: &WebhookCall,
    allow_private: bool,
) -> Delivery {
    let (url, addr) = match net::check_callback(url, allow_private).await {
        Ok(checked) => checked,
        Err(reason) => return Delivery::Blocked(reason),
    };
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(DELIVERY_TIMEOUT)
        .user_agent("goclaw-webhook/1");
    if let Some(host) = url.host_str() {
        builder = builder.resolve(host, addr);
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => return Delivery::Unreachable(format!("cannot build the client: {error}")),
    };
    let payload = body.to_string().into_bytes();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-webhook-delivery-id", call.delivery_id.to_string());
    if let Some(key) = key {
        request = request.header(
            "x-webhook-signature",
            secret::signature_header(key, Utc::now().timestamp(), &payload),
        );
    }
    match request.body(payload).send().await {
        Ok(response) if response.status().is_success() => Delivery::Accepted,
        Ok(response) => Delivery::Status {
            code: response.status().as_u16(),
            retry_after: retry_after(response.headers()),
        },
        Err(error) if error.is_timeout() => Delivery::Unreachable("timed out".to_owned()),
        Err(_) => Delivery::Unreachable("the receiver cannot be reached".to_owned()),
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    fn status(code: u16) -> Delivery {
        Delivery::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn accepted_is_done() {
        let update = after_delivery(&Delivery::Accepted, 1, at());
        assert_eq!(update.status, CallStatus::Done);
        assert!(update.attempted);
        assert_eq!(update.last_error, None);
    }

    #[test]
    fn failures_wait_30s_2m_10m_1h_6h_then_die() {
        let waits: Vec<i64> = (1..=5)
            .map(|attempt| {
                let update = after_delivery(&status(503), attempt, at());
                assert_eq!(update.status, CallStatus::Queued, "attempt {attempt}");
                (update.next_attempt_at.expect("retry time") - at()).num_seconds()
            })
            .collect();
        assert_eq!(waits, [30, 120, 600, 3600, 21600]);
        let last = after_delivery(&Delivery::Unreachable("refused".into()), 6, at());
        assert_eq!(last.status, CallStatus::Dead);
        assert_eq!(last.last_error.as_deref(), Some("refused"));
    }

    #[test]
    fn client_errors_are_final_but_429_waits_as_told() {
        for code in [400, 401, 404, 410] {
            let update = after_delivery(&status(code), 1, at());
            assert_eq!(update.status, CallStatus::Failed, "{code}");
        }
        let told = Delivery::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        let update = after_delivery(&told, 1, at());
        assert_eq!(update.status, CallStatus::Queued);
        assert_eq!(
            (update.next_attempt_at.expect("time") - at()).num_seconds(),
            7
        );
        let greedy = Delivery::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(999_999)),
        };
        let update = after_delivery(&greedy, 1, at());
        assert_eq!(
            (update.next_attempt_at.expect("time") - at()).num_seconds(),
            21600
        );
    }

    #[test]
    fn a_blocked_url_is_final() {
        let update = after_delivery(&Delivery::Blocked("loopback".into()), 1, at());
        assert_eq!(update.status, CallStatus::Failed);
    }
}

//! Inbound webhooks and their calls on both engines: creation inside a tenant and its live
//! agents, lookup by the hash of a live secret, patches and rotations of live webhooks only,
//! revocation, tenant isolation, one call per idempotency key, and the async queue: claims
//! that never hand out a call twice (also when two run at once), retries, stale claims
//! queued again and finished calls pruned.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use goclaw_core::{
    AgentKey, CallMode, CallStatus, CallUpdate, MASTER_TENANT_ID, NewAgent, NewWebhook,
    NewWebhookCall, Store, StoreError, TenantId, Webhook, WebhookCall, WebhookKind, WebhookPatch,
    WebhookSecret,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use serde_json::json;
use uuid::Uuid;

const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000b0";

/// A 64-character hex hash made of `c`.
fn hash(c: char) -> String {
    c.to_string().repeat(64)
}

fn new_webhook(tenant: TenantId, name: &str, secret_hash: &str) -> NewWebhook {
    NewWebhook {
        tenant_id: tenant,
        agent_id: None,
        name: name.to_owned(),
        kind: WebhookKind::Message,
        secret_prefix: format!("wh_{}", &secret_hash[..5]),
        secret_hash: secret_hash.to_owned(),
        encrypted_secret: format!("aes-gcm:{name}"),
        scopes: vec!["webhooks.message".to_owned()],
        channel_id: None,
        rate_limit_per_min: 60,
        ip_allowlist: Vec::new(),
        require_hmac: false,
        localhost_only: false,
        created_by: "admin".to_owned(),
    }
}

fn new_call(webhook: &Webhook, key: Option<&str>, mode: CallMode) -> NewWebhookCall {
    NewWebhookCall {
        tenant_id: webhook.tenant_id,
        webhook_id: webhook.id,
        agent_id: webhook.agent_id,
        idempotency_key: key.map(str::to_owned),
        mode,
        callback_url: (mode == CallMode::Async).then(|| "https://example.com/cb".to_owned()),
        status: match mode {
            CallMode::Sync => CallStatus::Running,
            CallMode::Async => CallStatus::Queued,
        },
        request_payload: json!({"body_hash": "ab", "meta": {"key": key}}),
    }
}

fn update(status: CallStatus) -> CallUpdate {
    CallUpdate {
        status,
        response: None,
        last_error: None,
        next_attempt_at: None,
        attempted: false,
    }
}

/// Creates agent `key` in the master tenant.
async fn agent(store: &dyn Store, key: &str) -> goclaw_core::Agent {
    let key = AgentKey::parse(key).expect("agent key");
    store
        .agents()
        .create(NewAgent::new(MASTER_TENANT_ID, key, "Agent"))
        .await
        .expect("agent")
}

/// Records `count` queued async calls of `webhook`, a few milliseconds apart (oldest first).
async fn queued(store: &dyn Store, webhook: &Webhook, count: usize) -> Vec<WebhookCall> {
    let mut calls = Vec::new();
    for _ in 0..count {
        let call = new_call(webhook, None, CallMode::Async);
        calls.push(store.webhooks().record_call(call).await.expect("queued"));
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    calls
}

fn ids(calls: &[WebhookCall]) -> Vec<Uuid> {
    calls.iter().map(|c| c.id).collect()
}

fn soon() -> DateTime<Utc> {
    Utc::now() + Duration::seconds(1)
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, entity: &str) {
    assert!(
        matches!(&result, Err(StoreError::NotFound(e)) if *e == entity),
        "expected {entity} not found: {result:?}"
    );
}

store_test!(
    webhooks_are_created_listed_and_found_by_secret,
    |store: Arc<dyn Store>| async move {
        let webhooks = store.webhooks();
        let alpha = agent(store.as_ref(), "alpha").await;
        let mut llm = new_webhook(MASTER_TENANT_ID, "CI ✨", &hash('a'));
        llm.agent_id = Some(alpha.id);
        llm.kind = WebhookKind::Llm;
        llm.scopes = vec!["webhooks.llm".to_owned(), "webhooks.read".to_owned()];
        llm.ip_allowlist = vec!["10.0.0.0/8".to_owned(), "::1".to_owned()];
        llm.rate_limit_per_min = 0;
        llm.require_hmac = true;
        llm.localhost_only = true;
        let channel = Uuid::now_v7();
        let mut message = new_webhook(MASTER_TENANT_ID, "alerts", &hash('b'));
        message.channel_id = Some(channel);

        let first = webhooks.create(llm.clone()).await.expect("llm");
        let second = webhooks.create(message).await.expect("message");
        assert_eq!(first.tenant_id, MASTER_TENANT_ID);
        assert_eq!(first.agent_id, Some(alpha.id));
        assert_eq!(
            (first.name.as_str(), first.kind),
            ("CI ✨", WebhookKind::Llm)
        );
        assert_eq!(first.secret_prefix, "wh_aaaaa");
        assert_eq!(first.secret_hash, hash('a'));
        assert_eq!(first.encrypted_secret, "aes-gcm:CI ✨");
        assert_eq!(first.scopes, llm.scopes);
        assert_eq!(first.ip_allowlist, llm.ip_allowlist);
        assert_eq!(first.rate_limit_per_min, 0);
        assert!(first.require_hmac && first.localhost_only && !first.revoked);
        assert_eq!(first.created_by, "admin");
        assert_eq!(first.created_at, first.updated_at);
        assert_eq!(first.last_used_at, None);
        assert_eq!((second.agent_id, second.channel_id), (None, Some(channel)));
        assert!(second.ip_allowlist.is_empty());

        for tenant in [Some(MASTER_TENANT_ID), None] {
            assert_eq!(webhooks.get(tenant, first.id).await.expect("get"), first);
        }
        assert_not_found(webhooks.get(None, Uuid::now_v7()).await, "webhook");
        let listed = webhooks.list(None, None).await.expect("list");
        assert_eq!(listed, [second.clone(), first.clone()], "newest first");
        let of_alpha = webhooks.list(None, Some(alpha.id)).await.expect("alpha's");
        assert_eq!(
            of_alpha.iter().map(|w| w.id).collect::<Vec<_>>(),
            [first.id]
        );

        let found = webhooks.by_secret_hash(&hash('a')).await.expect("by hash");
        assert_eq!(found, Some(first.clone()));
        assert_eq!(
            webhooks.by_secret_hash(&hash('f')).await.expect("none"),
            None
        );

        let at = Utc::now();
        webhooks.touch(first.id, at).await.expect("touch");
        let touched = webhooks.get(None, first.id).await.expect("touched");
        let used = touched.last_used_at.expect("last used");
        assert!(
            (used - at).abs() < Duration::milliseconds(1),
            "{used} vs {at}"
        );
    }
);

store_test!(
    creation_needs_the_tenant_its_live_agent_and_a_new_secret,
    |store: Arc<dyn Store>| async move {
        let webhooks = store.webhooks();
        let unknown = new_webhook(TenantId::generate(), "x", &hash('a'));
        assert_not_found(webhooks.create(unknown).await, "tenant");
        let mut ghost = new_webhook(MASTER_TENANT_ID, "x", &hash('a'));
        ghost.agent_id = Some(goclaw_core::AgentId::generate());
        assert_not_found(webhooks.create(ghost).await, "agent");
        let gone = agent(store.as_ref(), "gone").await;
        store
            .agents()
            .delete(MASTER_TENANT_ID, &gone.agent_key)
            .await
            .expect("delete");
        let mut orphan = new_webhook(MASTER_TENANT_ID, "x", &hash('a'));
        orphan.agent_id = Some(gone.id);
        assert_not_found(webhooks.create(orphan).await, "agent");

        let first = webhooks
            .create(new_webhook(MASTER_TENANT_ID, "one", &hash('a')))
            .await
            .expect("first");
        let again = webhooks
            .create(new_webhook(MASTER_TENANT_ID, "two", &hash('a')))
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        // A revoked webhook's hash is free again, and only the live one is found by it.
        webhooks.revoke(None, first.id).await.expect("revoke");
        assert_eq!(
            webhooks.by_secret_hash(&hash('a')).await.expect("none"),
            None
        );
        let second = webhooks
            .create(new_webhook(MASTER_TENANT_ID, "two", &hash('a')))
            .await
            .expect("second");
        let found = webhooks.by_secret_hash(&hash('a')).await.expect("found");
        assert_eq!(found.map(|w| w.id), Some(second.id));
    }
);

store_test!(
    patches_and_rotations_change_live_webhooks_only,
    |store: Arc<dyn Store>| async move {
        let webhooks = store.webhooks();
        let created = webhooks
            .create(new_webhook(MASTER_TENANT_ID, "hook", &hash('a')))
            .await
            .expect("create");
        let channel = Uuid::now_v7();
        let patch = WebhookPatch {
            name: Some("renamed".to_owned()),
            scopes: Some(Vec::new()),
            channel_id: Some(Some(channel)),
            ip_allowlist: Some(vec!["127.0.0.1".to_owned()]),
            require_hmac: Some(true),
            ..WebhookPatch::default()
        };
        let patched = webhooks
            .update(Some(MASTER_TENANT_ID), created.id, patch)
            .await
            .expect("update");
        let expected = Webhook {
            name: "renamed".to_owned(),
            scopes: Vec::new(),
            channel_id: Some(channel),
            ip_allowlist: vec!["127.0.0.1".to_owned()],
            require_hmac: true,
            updated_at: patched.updated_at,
            ..created.clone()
        };
        assert_eq!(patched, expected);
        assert!(patched.updated_at >= created.updated_at);

        // An empty patch changes nothing; `Some(None)` clears the channel.
        let same = webhooks
            .update(None, created.id, WebhookPatch::default())
            .await
            .expect("empty patch");
        assert_eq!(
            Webhook {
                updated_at: patched.updated_at,
                ..same
            },
            patched
        );
        let patch = WebhookPatch {
            channel_id: Some(None),
            rate_limit_per_min: Some(5),
            localhost_only: Some(true),
            ..WebhookPatch::default()
        };
        let cleared = webhooks
            .update(None, created.id, patch)
            .await
            .expect("clear");
        assert_eq!(cleared.channel_id, None);
        assert_eq!(
            (cleared.rate_limit_per_min, cleared.localhost_only),
            (5, true)
        );
        assert_eq!(cleared.name, "renamed");

        let secret = WebhookSecret {
            secret_prefix: "wh_bbbbb".to_owned(),
            secret_hash: hash('b'),
            encrypted_secret: "aes-gcm:new".to_owned(),
        };
        let rotated = webhooks
            .rotate(Some(MASTER_TENANT_ID), created.id, secret.clone())
            .await
            .expect("rotate");
        assert_eq!(
            (
                rotated.secret_prefix.as_str(),
                rotated.encrypted_secret.as_str()
            ),
            ("wh_bbbbb", "aes-gcm:new")
        );
        assert_eq!(
            webhooks.by_secret_hash(&hash('a')).await.expect("old"),
            None
        );
        let found = webhooks.by_secret_hash(&hash('b')).await.expect("new");
        assert_eq!(found, Some(rotated.clone()));
        // Rotating onto another live webhook's secret conflicts.
        let other = webhooks
            .create(new_webhook(MASTER_TENANT_ID, "other", &hash('c')))
            .await
            .expect("other");
        let taken = webhooks.rotate(None, other.id, secret.clone()).await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");

        webhooks.revoke(None, created.id).await.expect("revoke");
        let revoked = webhooks.get(None, created.id).await.expect("revoked");
        assert!(revoked.revoked);
        webhooks
            .revoke(None, created.id)
            .await
            .expect("revoke twice");
        let twice = webhooks.get(None, created.id).await.expect("still revoked");
        assert_eq!(twice, revoked, "revoking again changes nothing");
        assert_eq!(
            webhooks.by_secret_hash(&hash('b')).await.expect("gone"),
            None
        );
        let patch = WebhookPatch {
            name: Some("zombie".to_owned()),
            ..WebhookPatch::default()
        };
        assert_not_found(webhooks.update(None, created.id, patch).await, "webhook");
        assert_not_found(webhooks.rotate(None, created.id, secret).await, "webhook");
        assert_not_found(webhooks.revoke(None, Uuid::now_v7()).await, "webhook");
        let listed = webhooks
            .list(Some(MASTER_TENANT_ID), None)
            .await
            .expect("list");
        assert_eq!(listed.len(), 2, "revoked webhooks are listed");
    }
);

database_test!(
    tenants_see_only_their_own_webhooks,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let other: TenantId = OTHER_TENANT.parse().expect("tenant id");
        let store = db.store();
        let webhooks = store.webhooks();
        let alpha = agent(store.as_ref(), "alpha").await;
        let mut mine = new_webhook(MASTER_TENANT_ID, "mine", &hash('a'));
        mine.agent_id = Some(alpha.id);
        let mine = webhooks.create(mine).await.expect("mine");
        let theirs = webhooks
            .create(new_webhook(other, "theirs", &hash('b')))
            .await
            .expect("theirs");
        // Another tenant's agent is not found.
        let mut borrowed = new_webhook(other, "borrowed", &hash('c'));
        borrowed.agent_id = Some(alpha.id);
        assert_not_found(webhooks.create(borrowed).await, "agent");

        let scoped = Some(other);
        assert_not_found(webhooks.get(scoped, mine.id).await, "webhook");
        let patch = WebhookPatch {
            name: Some("stolen".to_owned()),
            ..WebhookPatch::default()
        };
        assert_not_found(webhooks.update(scoped, mine.id, patch).await, "webhook");
        let secret = WebhookSecret {
            secret_prefix: "wh_ddddd".to_owned(),
            secret_hash: hash('d'),
            encrypted_secret: String::new(),
        };
        assert_not_found(webhooks.rotate(scoped, mine.id, secret).await, "webhook");
        assert_not_found(webhooks.revoke(scoped, mine.id).await, "webhook");
        assert_eq!(webhooks.get(None, mine.id).await.expect("untouched"), mine);
        let listed = webhooks.list(scoped, None).await.expect("theirs");
        assert_eq!(listed.iter().map(|w| w.id).collect::<Vec<_>>(), [theirs.id]);
        assert!(
            webhooks
                .list(scoped, Some(alpha.id))
                .await
                .expect("none")
                .is_empty()
        );
        assert_eq!(webhooks.list(None, None).await.expect("all").len(), 2);

        let call = webhooks
            .record_call(new_call(&mine, Some("k"), CallMode::Sync))
            .await
            .expect("call");
        assert_not_found(webhooks.get_call(scoped, call.id).await, "webhook call");
        for tenant in [Some(MASTER_TENANT_ID), None] {
            assert_eq!(webhooks.get_call(tenant, call.id).await.expect("get"), call);
        }
        // A call is recorded only for a webhook of its own tenant.
        let mut crossed = new_call(&mine, None, CallMode::Sync);
        crossed.tenant_id = other;
        assert_not_found(webhooks.record_call(crossed).await, "webhook");
    }
);

store_test!(calls_are_recorded_once_per_idempotency_key, |store: Arc<
    dyn Store,
>| async move {
    let webhooks = store.webhooks();
    let alpha = agent(store.as_ref(), "alpha").await;
    let mut hook = new_webhook(MASTER_TENANT_ID, "hook", &hash('a'));
    hook.agent_id = Some(alpha.id);
    let hook = webhooks.create(hook).await.expect("hook");
    let other = webhooks
        .create(new_webhook(MASTER_TENANT_ID, "other", &hash('b')))
        .await
        .expect("other");

    let before = Utc::now() - Duration::milliseconds(1);
    let sync = webhooks
        .record_call(new_call(&hook, Some("req-1"), CallMode::Sync))
        .await
        .expect("sync");
    assert_eq!(
        (sync.mode, sync.status),
        (CallMode::Sync, CallStatus::Running)
    );
    assert_eq!((sync.webhook_id, sync.agent_id), (hook.id, Some(alpha.id)));
    assert_eq!(sync.idempotency_key.as_deref(), Some("req-1"));
    assert_eq!(sync.callback_url, None);
    assert_eq!(
        sync.request_payload,
        json!({"body_hash": "ab", "meta": {"key": "req-1"}})
    );
    assert_eq!((sync.attempts, sync.response.clone()), (0, None));
    assert_eq!(sync.started_at, Some(sync.created_at));
    assert_eq!((sync.next_attempt_at, sync.completed_at), (None, None));
    assert!(sync.created_at >= before);
    assert_ne!(sync.delivery_id, sync.id);

    let async_call = webhooks
        .record_call(new_call(&hook, Some("req-2"), CallMode::Async))
        .await
        .expect("async");
    assert_eq!(async_call.status, CallStatus::Queued);
    assert_eq!(async_call.next_attempt_at, Some(async_call.created_at));
    assert_eq!(async_call.started_at, None);
    assert_eq!(
        async_call.callback_url.as_deref(),
        Some("https://example.com/cb")
    );
    assert_ne!(async_call.delivery_id, sync.delivery_id);

    let repeated = webhooks
        .record_call(new_call(&hook, Some("req-1"), CallMode::Async))
        .await;
    assert!(
        matches!(&repeated, Err(StoreError::Conflict(e)) if e == "webhook call"),
        "{repeated:?}"
    );
    let found = webhooks
        .call_by_key(hook.id, "req-1")
        .await
        .expect("by key");
    assert_eq!(found, Some(sync.clone()));
    assert_eq!(
        webhooks.call_by_key(other.id, "req-1").await.expect("none"),
        None
    );
    // The same key on another webhook, and calls without a key, are new calls.
    webhooks
        .record_call(new_call(&other, Some("req-1"), CallMode::Sync))
        .await
        .expect("other webhook");
    let unkeyed = [
        webhooks
            .record_call(new_call(&hook, None, CallMode::Sync))
            .await,
        webhooks
            .record_call(new_call(&hook, None, CallMode::Sync))
            .await,
    ];
    let [first, second] = unkeyed.map(|r| r.expect("unkeyed"));

    let all = webhooks.list_calls(hook.id, 10, 0).await.expect("list");
    assert_eq!(ids(&all), [second.id, first.id, async_call.id, sync.id]);
    let page = webhooks.list_calls(hook.id, 2, 1).await.expect("page");
    assert_eq!(ids(&page), [first.id, async_call.id]);
    assert_eq!(
        webhooks
            .list_calls(other.id, 10, 0)
            .await
            .expect("other")
            .len(),
        1
    );

    let mut unknown = new_call(&hook, None, CallMode::Sync);
    unknown.webhook_id = Uuid::now_v7();
    assert_not_found(webhooks.record_call(unknown).await, "webhook");
    assert_not_found(
        webhooks.get_call(None, Uuid::now_v7()).await,
        "webhook call",
    );
});

store_test!(
    a_call_moves_on_until_it_ends,
    |store: Arc<dyn Store>| async move {
        let webhooks = store.webhooks();
        let hook = webhooks
            .create(new_webhook(MASTER_TENANT_ID, "hook", &hash('a')))
            .await
            .expect("hook");
        let [call] = queued(store.as_ref(), &hook, 1)
            .await
            .try_into()
            .expect("one");
        let claimed = webhooks.claim_due(soon(), 10).await.expect("claim");
        assert_eq!(ids(&claimed), [call.id]);

        // The callback failed: queued again for later, with the answer kept for the retry.
        let later = Utc::now() + Duration::minutes(5);
        let retry = CallUpdate {
            status: CallStatus::Queued,
            response: Some(json!({"output": "héllo"})),
            last_error: Some("502 Bad Gateway".to_owned()),
            next_attempt_at: Some(later),
            attempted: true,
        };
        webhooks.update_call(call.id, retry).await.expect("retry");
        let waiting = webhooks.get_call(None, call.id).await.expect("waiting");
        assert_eq!((waiting.status, waiting.attempts), (CallStatus::Queued, 1));
        assert_eq!(waiting.last_error.as_deref(), Some("502 Bad Gateway"));
        assert_eq!(waiting.response, Some(json!({"output": "héllo"})));
        let next = waiting.next_attempt_at.expect("next attempt");
        assert!((next - later).abs() < Duration::milliseconds(1), "{next}");
        assert_eq!(waiting.completed_at, None);
        assert!(
            webhooks
                .claim_due(soon(), 10)
                .await
                .expect("not yet")
                .is_empty()
        );
        let due = webhooks.claim_due(later + Duration::seconds(1), 10).await;
        assert_eq!(ids(&due.expect("due")), [call.id]);

        // Delivered: done, the error cleared, the response left as it was.
        let done = CallUpdate {
            attempted: true,
            ..update(CallStatus::Done)
        };
        webhooks.update_call(call.id, done).await.expect("done");
        let ended = webhooks.get_call(None, call.id).await.expect("ended");
        assert_eq!((ended.status, ended.attempts), (CallStatus::Done, 2));
        assert_eq!((ended.last_error, ended.next_attempt_at), (None, None));
        assert_eq!(ended.response, Some(json!({"output": "héllo"})));
        assert!(ended.completed_at.is_some());
        assert_not_found(
            webhooks
                .update_call(Uuid::now_v7(), update(CallStatus::Done))
                .await,
            "webhook call",
        );
    }
);

store_test!(
    claims_take_due_async_calls_oldest_first_and_once,
    |store: Arc<dyn Store>| async move {
        let webhooks = store.webhooks();
        let hook = webhooks
            .create(new_webhook(MASTER_TENANT_ID, "hook", &hash('a')))
            .await
            .expect("hook");
        let calls = queued(store.as_ref(), &hook, 3).await;
        // Neither a running sync call nor a queued sync one is ever claimed.
        webhooks
            .record_call(new_call(&hook, None, CallMode::Sync))
            .await
            .expect("running sync");
        let mut sync_queued = new_call(&hook, None, CallMode::Sync);
        sync_queued.status = CallStatus::Queued;
        webhooks
            .record_call(sync_queued)
            .await
            .expect("queued sync");
        let [late] = queued(store.as_ref(), &hook, 1)
            .await
            .try_into()
            .expect("one");
        let later = Utc::now() + Duration::minutes(5);
        let postpone = CallUpdate {
            next_attempt_at: Some(later),
            ..update(CallStatus::Queued)
        };
        webhooks
            .update_call(late.id, postpone)
            .await
            .expect("postpone");

        let now = soon();
        let first = webhooks.claim_due(now, 2).await.expect("first claim");
        assert_eq!(ids(&first), ids(&calls[..2]));
        for call in &first {
            assert_eq!(call.status, CallStatus::Running);
            let started = call.started_at.expect("started");
            assert!(
                (started - now).abs() < Duration::milliseconds(1),
                "{started}"
            );
        }
        let stored = webhooks.get_call(None, calls[0].id).await.expect("stored");
        assert_eq!(stored, first[0], "the claim is stored as returned");
        let second = webhooks.claim_due(now, 2).await.expect("second claim");
        assert_eq!(ids(&second), [calls[2].id]);
        assert!(
            webhooks
                .claim_due(now, 2)
                .await
                .expect("nothing")
                .is_empty()
        );
        let last = webhooks.claim_due(later + Duration::seconds(1), 2).await;
        assert_eq!(ids(&last.expect("late")), [late.id]);
    }
);

store_test!(concurrent_claims_never_share_a_call, |store: Arc<
    dyn Store,
>| async move {
    let hook = store
        .webhooks()
        .create(new_webhook(MASTER_TENANT_ID, "hook", &hash('a')))
        .await
        .expect("hook");
    for round in 0..5 {
        let mut all = BTreeSet::new();
        for _ in 0..6 {
            let call = new_call(&hook, None, CallMode::Async);
            let call = store.webhooks().record_call(call).await.expect("queued");
            all.insert(call.id);
        }
        let now = soon();
        let claim = |store: Arc<dyn Store>| {
            tokio::spawn(async move { store.webhooks().claim_due(now, 4).await })
        };
        let (a, b) = (claim(store.clone()), claim(store.clone()));
        let a = ids(&a.await.expect("join").expect("claim a"));
        let b = ids(&b.await.expect("join").expect("claim b"));
        let (a, b): (BTreeSet<_>, BTreeSet<_>) = (a.into_iter().collect(), b.into_iter().collect());
        assert!(a.is_disjoint(&b), "round {round}: {a:?} and {b:?} overlap");
        assert!(a.len() <= 4 && b.len() <= 4, "round {round}");
        let union: BTreeSet<_> = a.union(&b).copied().collect();
        assert_eq!(union, all, "round {round}: every due call is claimed once");
        for id in all {
            store
                .webhooks()
                .update_call(id, update(CallStatus::Done))
                .await
                .expect("done");
        }
    }
});

store_test!(
    stale_claims_are_queued_again_and_finished_calls_pruned,
    |store: Arc<dyn Store>| async move {
        let webhooks = store.webhooks();
        let hook = webhooks
            .create(new_webhook(MASTER_TENANT_ID, "hook", &hash('a')))
            .await
            .expect("hook");
        let calls = queued(store.as_ref(), &hook, 4).await;
        let sync = webhooks
            .record_call(new_call(&hook, None, CallMode::Sync))
            .await
            .expect("running sync");
        let claimed = webhooks.claim_due(soon(), 10).await.expect("claim");
        assert_eq!(ids(&claimed), ids(&calls));

        // Claims started before the cut-off are stale; sync calls are never queued.
        assert_eq!(
            webhooks
                .requeue_stale(Utc::now() - Duration::minutes(1))
                .await
                .expect("none"),
            0
        );
        for (call, status) in
            calls[1..]
                .iter()
                .zip([CallStatus::Done, CallStatus::Failed, CallStatus::Dead])
        {
            webhooks
                .update_call(call.id, update(status))
                .await
                .expect("finish");
        }
        let cutoff = soon() + Duration::seconds(1);
        assert_eq!(webhooks.requeue_stale(cutoff).await.expect("requeue"), 1);
        let again = webhooks.get_call(None, calls[0].id).await.expect("again");
        assert_eq!(again.status, CallStatus::Queued);
        assert!(again.next_attempt_at.is_some());
        let still = webhooks.get_call(None, sync.id).await.expect("sync");
        assert_eq!(still.status, CallStatus::Running);
        assert_eq!(
            ids(&webhooks.claim_due(soon(), 10).await.expect("reclaim")),
            [calls[0].id]
        );

        assert_eq!(
            webhooks
                .prune_calls(Utc::now() - Duration::minutes(1))
                .await
                .expect("too old"),
            0
        );
        assert_eq!(webhooks.prune_calls(soon()).await.expect("prune"), 3);
        let left = webhooks.list_calls(hook.id, 10, 0).await.expect("left");
        assert_eq!(ids(&left), [sync.id, calls[0].id], "running calls stay");
    }
);

store_test!(
    deleting_an_agent_clears_it_from_its_webhooks,
    |store: Arc<dyn Store>| async move {
        let webhooks = store.webhooks();
        let alpha = agent(store.as_ref(), "alpha").await;
        let beta = agent(store.as_ref(), "beta").await;
        let mut of_alpha = new_webhook(MASTER_TENANT_ID, "alpha's", &hash('a'));
        of_alpha.agent_id = Some(alpha.id);
        let of_alpha = webhooks.create(of_alpha).await.expect("alpha's");
        let mut of_beta = new_webhook(MASTER_TENANT_ID, "beta's", &hash('b'));
        of_beta.agent_id = Some(beta.id);
        let of_beta = webhooks.create(of_beta).await.expect("beta's");
        let call = webhooks
            .record_call(new_call(&of_alpha, None, CallMode::Sync))
            .await
            .expect("call");

        store
            .agents()
            .delete(MASTER_TENANT_ID, &alpha.agent_key)
            .await
            .expect("delete alpha");
        let detached = webhooks.get(None, of_alpha.id).await.expect("alpha's");
        assert_eq!(detached.agent_id, None);
        assert!(detached.updated_at >= of_alpha.updated_at);
        assert_eq!(
            webhooks.get(None, of_beta.id).await.expect("beta's"),
            of_beta
        );
        assert!(
            webhooks
                .list(None, Some(alpha.id))
                .await
                .expect("none")
                .is_empty()
        );
        // The call keeps the agent it ran.
        let kept = webhooks.get_call(None, call.id).await.expect("call");
        assert_eq!(kept.agent_id, Some(alpha.id));
        assert_not_found(
            store
                .agents()
                .delete(MASTER_TENANT_ID, &alpha.agent_key)
                .await,
            "agent",
        );
    }
);

//! Session maintenance on both engines: listing with filters and pages, patching labels,
//! models and metadata, deleting, resetting, compacting and counting token usage.

use std::sync::Arc;
use std::time::Duration;

use goclaw_core::{
    Agent, AgentKey, MASTER_TENANT_ID, NewAgent, NewMessage, Role, Session, SessionFilter,
    SessionId, SessionKey, SessionPatch, Store, StoreError, TenantId, Usage,
};
use goclaw_store::store_test;
use serde_json::json;

/// Longer than the millisecond resolution of SQLite's timestamps.
const TICK: Duration = Duration::from_millis(15);

fn session_key(raw: &str) -> SessionKey {
    SessionKey::parse(raw).expect("valid session key")
}

async fn agent(store: &dyn Store, key: &str) -> Agent {
    let key = AgentKey::parse(key).expect("valid agent key");
    store
        .agents()
        .create(NewAgent::new(MASTER_TENANT_ID, key, "Agent"))
        .await
        .expect("agent")
}

async fn open_session(
    store: &dyn Store,
    key: &str,
    agent: Option<&Agent>,
    user: &str,
    channel: &str,
) -> Session {
    store
        .sessions()
        .get_or_create(MASTER_TENANT_ID, &session_key(key), agent, user, channel)
        .await
        .expect("session")
}

async fn get(store: &dyn Store, key: &str) -> Session {
    store
        .sessions()
        .get(MASTER_TENANT_ID, &session_key(key))
        .await
        .expect("get session")
}

async fn append_texts(store: &dyn Store, session: SessionId, count: usize) {
    for n in 1..=count {
        store
            .messages()
            .append(session, NewMessage::text(Role::User, format!("m{n}")))
            .await
            .expect("append");
    }
}

fn is_session_not_found<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound("session")))
}

store_test!(
    list_filters_orders_and_pages,
    |store: Arc<dyn Store>| async move {
        let s = store.as_ref();
        let alpha = agent(s, "alpha").await;
        let beta = agent(s, "beta").await;
        open_session(s, "s1", Some(&alpha), "alice", "ws").await;
        tokio::time::sleep(TICK).await;
        open_session(s, "s2", Some(&alpha), "bob", "telegram").await;
        tokio::time::sleep(TICK).await;
        open_session(s, "s3", Some(&beta), "alice", "telegram").await;
        tokio::time::sleep(TICK).await;
        // Activity moves a session to the front.
        let s1 = get(s, "s1").await.id;
        append_texts(s, s1, 1).await;

        let check = |filter: SessionFilter, expected: &'static [&'static str], total: u64| {
            let store = Arc::clone(&store);
            async move {
                let (sessions, counted) = store
                    .sessions()
                    .list(MASTER_TENANT_ID, &filter)
                    .await
                    .expect("list");
                let keys: Vec<&str> = sessions.iter().map(|s| s.session_key.as_str()).collect();
                assert_eq!((keys.as_slice(), counted), (expected, total), "{filter:?}");
            }
        };
        let by_agent = |agent: &Agent| SessionFilter {
            agent_id: Some(agent.id),
            ..SessionFilter::default()
        };
        let by_user = |user: &str| SessionFilter {
            user_id: Some(user.to_owned()),
            ..SessionFilter::default()
        };
        let by_channel = |channel: &str| SessionFilter {
            channel: Some(channel.to_owned()),
            ..SessionFilter::default()
        };
        let page = |limit: u32, offset: u32| SessionFilter {
            limit,
            offset,
            ..SessionFilter::default()
        };

        check(SessionFilter::default(), &["s1", "s3", "s2"], 3).await;
        check(by_agent(&alpha), &["s1", "s2"], 2).await;
        check(by_agent(&beta), &["s3"], 1).await;
        check(by_user("alice"), &["s1", "s3"], 2).await;
        check(by_user("carol"), &[], 0).await;
        check(by_channel("telegram"), &["s3", "s2"], 2).await;
        check(
            SessionFilter {
                user_id: Some("bob".to_owned()),
                ..by_agent(&alpha)
            },
            &["s2"],
            1,
        )
        .await;
        check(
            SessionFilter {
                channel: Some("ws".to_owned()),
                ..by_agent(&beta)
            },
            &[],
            0,
        )
        .await;
        check(page(2, 0), &["s1", "s3"], 3).await;
        check(page(2, 2), &["s2"], 3).await;
        check(page(2, 5), &[], 3).await;
        check(page(0, 1), &["s3", "s2"], 3).await;

        let (other, total) = store
            .sessions()
            .list(TenantId::generate(), &SessionFilter::default())
            .await
            .expect("other tenant");
        assert_eq!((other.len(), total), (0, 0));
    }
);

store_test!(list_without_a_limit_returns_twenty, |store: Arc<
    dyn Store,
>| async move {
    for n in 0..23 {
        open_session(store.as_ref(), &format!("bulk-{n:02}"), None, "u", "ws").await;
    }
    let (sessions, total) = store
        .sessions()
        .list(MASTER_TENANT_ID, &SessionFilter::default())
        .await
        .expect("list");
    assert_eq!((sessions.len(), total), (20, 23));
});

store_test!(patch_sets_fields_and_merges_metadata, |store: Arc<
    dyn Store,
>| async move {
    let s = store.as_ref();
    let created = open_session(s, "agent:a:patch", None, "alice", "ws").await;
    let key = session_key("agent:a:patch");
    let sessions = store.sessions();
    tokio::time::sleep(TICK).await;

    let first = sessions
        .patch(
            MASTER_TENANT_ID,
            &key,
            SessionPatch {
                label: Some("Trip planning".to_owned()),
                model: Some("gpt-4o".to_owned()),
                metadata: Some(json!({"pinned": true, "color": "blue"})),
            },
        )
        .await
        .expect("patch");
    assert_eq!(first.label, "Trip planning");
    assert_eq!(first.model, "gpt-4o");
    assert_eq!(first.metadata, json!({"pinned": true, "color": "blue"}));
    assert!(first.updated_at > created.updated_at);
    assert_eq!(
        (first.id, first.created_at),
        (created.id, created.created_at)
    );

    let second = sessions
        .patch(
            MASTER_TENANT_ID,
            &key,
            SessionPatch {
                metadata: Some(json!({"pinned": null, "topic": "travel"})),
                ..SessionPatch::default()
            },
        )
        .await
        .expect("patch metadata");
    assert_eq!(second.metadata, json!({"color": "blue", "topic": "travel"}));
    assert_eq!(second.label, "Trip planning");
    assert_eq!(second.model, "gpt-4o");
    assert_eq!(get(s, "agent:a:patch").await, second);

    let refused = sessions
        .patch(
            MASTER_TENANT_ID,
            &key,
            SessionPatch {
                label: Some("not applied".to_owned()),
                metadata: Some(json!("text")),
                ..SessionPatch::default()
            },
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(get(s, "agent:a:patch").await.label, "Trip planning");

    let missing = sessions
        .patch(
            MASTER_TENANT_ID,
            &session_key("nope"),
            SessionPatch::default(),
        )
        .await;
    assert!(is_session_not_found(&missing), "{missing:?}");
});

store_test!(delete_removes_the_session_and_its_messages, |store: Arc<
    dyn Store,
>| async move {
    let s = store.as_ref();
    let doomed = open_session(s, "agent:a:doomed", None, "alice", "ws").await;
    let kept = open_session(s, "agent:a:kept", None, "alice", "ws").await;
    append_texts(s, doomed.id, 3).await;
    append_texts(s, kept.id, 2).await;
    let key = session_key("agent:a:doomed");

    store
        .sessions()
        .delete(MASTER_TENANT_ID, &key)
        .await
        .expect("delete");
    let missing = store.sessions().get(MASTER_TENANT_ID, &key).await;
    assert!(is_session_not_found(&missing), "{missing:?}");
    let orphans = store
        .messages()
        .list(doomed.id, 0, 100)
        .await
        .expect("list");
    assert!(orphans.is_empty(), "{orphans:?}");
    assert_eq!(
        store
            .messages()
            .list(kept.id, 0, 100)
            .await
            .expect("list")
            .len(),
        2
    );
    let again = store.sessions().delete(MASTER_TENANT_ID, &key).await;
    assert!(is_session_not_found(&again), "{again:?}");

    let reborn = open_session(s, "agent:a:doomed", None, "alice", "ws").await;
    assert_ne!(reborn.id, doomed.id);
    assert_eq!(reborn.message_count, 0);
});

store_test!(
    reset_empties_the_session_but_keeps_its_settings,
    |store: Arc<dyn Store>| async move {
        let s = store.as_ref();
        let session = open_session(s, "agent:a:reset", None, "alice", "ws").await;
        let key = session_key("agent:a:reset");
        append_texts(s, session.id, 4).await;
        let sessions = store.sessions();
        sessions
            .compact(session.id, "They said hello.", 3)
            .await
            .expect("compact");
        let usage = Usage {
            input_tokens: 100,
            output_tokens: 20,
            ..Usage::default()
        };
        sessions.add_usage(session.id, &usage).await.expect("usage");
        let patch = SessionPatch {
            label: Some("Keep me".to_owned()),
            metadata: Some(json!({"pinned": true})),
            ..SessionPatch::default()
        };
        sessions
            .patch(MASTER_TENANT_ID, &key, patch)
            .await
            .expect("patch");

        sessions.reset(MASTER_TENANT_ID, &key).await.expect("reset");
        let after = get(s, "agent:a:reset").await;
        assert_eq!(after.id, session.id);
        assert_eq!(after.summary, None);
        assert_eq!(after.message_count, 0);
        assert_eq!(after.context_start_seq, 0);
        assert_eq!((after.input_tokens, after.output_tokens), (0, 0));
        assert_eq!(after.compaction_count, 0);
        assert_eq!(after.label, "Keep me");
        assert_eq!(after.metadata, json!({"pinned": true}));
        let left = store
            .messages()
            .list(session.id, 0, 100)
            .await
            .expect("list");
        assert!(left.is_empty(), "{left:?}");

        let next = store
            .messages()
            .append(session.id, NewMessage::text(Role::User, "fresh start"))
            .await
            .expect("append after reset");
        assert_eq!(next.seq, 1);
        let missing = sessions.reset(MASTER_TENANT_ID, &session_key("nope")).await;
        assert!(is_session_not_found(&missing), "{missing:?}");
    }
);

store_test!(compact_records_summary_and_pointer, |store: Arc<
    dyn Store,
>| async move {
    let s = store.as_ref();
    let session = open_session(s, "agent:a:compact", None, "alice", "ws").await;
    append_texts(s, session.id, 6).await;
    let sessions = store.sessions();

    sessions
        .compact(session.id, "Summary one.", 4)
        .await
        .expect("compact");
    let once = get(s, "agent:a:compact").await;
    assert_eq!(once.summary.as_deref(), Some("Summary one."));
    assert_eq!(once.context_start_seq, 4);
    assert_eq!(once.compaction_count, 1);
    assert_eq!(once.message_count, 6);

    sessions
        .compact(session.id, "Summary two.", 6)
        .await
        .expect("compact again");
    let twice = get(s, "agent:a:compact").await;
    assert_eq!(twice.summary.as_deref(), Some("Summary two."));
    assert_eq!(twice.context_start_seq, 6);
    assert_eq!(twice.compaction_count, 2);
    let transcript = store
        .messages()
        .list(session.id, 0, 100)
        .await
        .expect("list");
    assert_eq!(transcript.len(), 6, "the transcript is kept");

    let missing = sessions.compact(SessionId::generate(), "x", 1).await;
    assert!(is_session_not_found(&missing), "{missing:?}");
});

store_test!(add_usage_accumulates, |store: Arc<dyn Store>| async move {
    let s = store.as_ref();
    let session = open_session(s, "agent:a:usage", None, "alice", "ws").await;
    let sessions = store.sessions();
    let runs = [(120, 30), (80, 5), (0, 0)];
    for (input_tokens, output_tokens) in runs {
        let usage = Usage {
            input_tokens,
            output_tokens,
            cache_read_tokens: 999,
            ..Usage::default()
        };
        sessions.add_usage(session.id, &usage).await.expect("usage");
    }
    let after = get(s, "agent:a:usage").await;
    assert_eq!((after.input_tokens, after.output_tokens), (200, 35));
    let missing = sessions
        .add_usage(SessionId::generate(), &Usage::default())
        .await;
    assert!(is_session_not_found(&missing), "{missing:?}");
});

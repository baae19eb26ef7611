//! The store traits on both engines: tenants, agent creation, session creation and message
//! transcripts, including the concurrency promises of `get_or_create` and `append`. Agent and
//! session maintenance have files of their own (`agents.rs`, `sessions.rs`).

use std::collections::BTreeSet;
use std::sync::Arc;

use goclaw_core::{
    AgentKey, MASTER_TENANT_ID, MASTER_TENANT_SLUG, NewAgent, NewMessage, Role, SessionId,
    SessionKey, Store, StoreBackend, StoreError, TenantId,
};
use goclaw_store::store_test;

fn agent_key(raw: &str) -> AgentKey {
    AgentKey::parse(raw).expect("valid agent key")
}

fn session_key(raw: &str) -> SessionKey {
    SessionKey::parse(raw).expect("valid session key")
}

fn new_agent(key: &str) -> NewAgent {
    let mut agent = NewAgent::new(MASTER_TENANT_ID, agent_key(key), format!("Agent {key}"));
    agent.provider = "anthropic".to_owned();
    agent.model = "claude-sonnet-4".to_owned();
    agent
}

/// A session in the master tenant with no agent.
async fn session(store: &dyn Store, key: &str) -> SessionId {
    store
        .sessions()
        .get_or_create(MASTER_TENANT_ID, &session_key(key), None, "alice", "ws")
        .await
        .expect("session")
        .id
}

store_test!(ping_answers, |store: Arc<dyn Store>| async move {
    store.ping().await.expect("ping");
    assert!(matches!(
        store.backend(),
        StoreBackend::Sqlite | StoreBackend::Postgres
    ));
});

store_test!(
    master_tenant_is_seeded,
    |store: Arc<dyn Store>| async move {
        let by_id = store.tenants().get(MASTER_TENANT_ID).await.expect("by id");
        assert_eq!(by_id.slug, MASTER_TENANT_SLUG);
        assert_eq!(by_id.name, "Master");
        assert_eq!(by_id.status, "active");
        let by_slug = store
            .tenants()
            .get_by_slug("master")
            .await
            .expect("by slug");
        assert_eq!(by_slug, by_id);
        assert_eq!(store.tenants().list().await.expect("list"), vec![by_id]);
    }
);

store_test!(
    unknown_tenant_is_not_found,
    |store: Arc<dyn Store>| async move {
        let missing = store.tenants().get(TenantId::generate()).await;
        assert!(matches!(missing, Err(StoreError::NotFound("tenant"))));
        let missing = store.tenants().get_by_slug("nobody").await;
        assert!(matches!(missing, Err(StoreError::NotFound("tenant"))));
    }
);

store_test!(agents_are_created_and_listed_by_key, |store: Arc<
    dyn Store,
>| async move {
    let agents = store.agents();
    let zed = agents.create(new_agent("zed")).await.expect("create zed");
    let mut default = new_agent("default");
    default.is_default = true;
    let default = agents.create(default).await.expect("create default");
    assert_eq!(zed.agent_key.as_str(), "zed");
    assert_eq!(zed.display_name, "Agent zed");
    assert_eq!(
        (zed.provider.as_str(), zed.model.as_str()),
        ("anthropic", "claude-sonnet-4")
    );
    assert!(default.is_default && !zed.is_default);
    assert_eq!(zed.tenant_id, MASTER_TENANT_ID);

    let fetched = agents
        .get_by_key(MASTER_TENANT_ID, &agent_key("zed"))
        .await
        .expect("get zed");
    assert_eq!(fetched, zed);
    let listed = agents.list(MASTER_TENANT_ID).await.expect("list");
    assert_eq!(listed, vec![default, zed]);
    assert!(
        agents
            .list(TenantId::generate())
            .await
            .expect("list")
            .is_empty()
    );
});

store_test!(
    duplicate_agent_key_conflicts,
    |store: Arc<dyn Store>| async move {
        store
            .agents()
            .create(new_agent("dup"))
            .await
            .expect("first");
        let second = store.agents().create(new_agent("dup")).await;
        assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    }
);

store_test!(
    agent_lookups_miss_cleanly,
    |store: Arc<dyn Store>| async move {
        let missing = store
            .agents()
            .get_by_key(MASTER_TENANT_ID, &agent_key("ghost"))
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound("agent"))));
        let mut orphan = new_agent("orphan");
        orphan.tenant_id = TenantId::generate();
        let orphan = store.agents().create(orphan).await;
        assert!(
            matches!(orphan, Err(StoreError::NotFound("tenant"))),
            "{orphan:?}"
        );
    }
);

store_test!(get_or_create_returns_one_session_per_key, |store: Arc<
    dyn Store,
>| async move {
    let agent = store
        .agents()
        .create(new_agent("default"))
        .await
        .expect("agent");
    let key = session_key("agent:default:ws-alice");
    let sessions = store.sessions();
    let created = sessions
        .get_or_create(MASTER_TENANT_ID, &key, Some(&agent), "alice", "ws")
        .await
        .expect("create");
    assert_eq!(created.session_key, key);
    assert_eq!(created.agent_id, Some(agent.id));
    assert_eq!(
        (created.user_id.as_str(), created.channel.as_str()),
        ("alice", "ws")
    );
    assert_eq!(created.message_count, 0);
    assert_eq!(created.summary, None);
    assert_eq!((created.label.as_str(), created.model.as_str()), ("", ""));
    assert_eq!(created.context_start_seq, 0);
    assert_eq!((created.input_tokens, created.output_tokens), (0, 0));
    assert_eq!(created.compaction_count, 0);
    assert_eq!(created.metadata, serde_json::json!({}));

    let again = sessions
        .get_or_create(MASTER_TENANT_ID, &key, None, "bob", "telegram")
        .await
        .expect("again");
    assert_eq!(again, created);
    assert_eq!(
        sessions.get(MASTER_TENANT_ID, &key).await.expect("get"),
        created
    );
    let missing = sessions
        .get(MASTER_TENANT_ID, &session_key("agent:default:other"))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound("session"))));
});

store_test!(concurrent_get_or_create_agrees_on_one_id, |store: Arc<
    dyn Store,
>| async move {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .sessions()
                    .get_or_create(
                        MASTER_TENANT_ID,
                        &session_key("agent:default:race"),
                        None,
                        &format!("user-{i}"),
                        "ws",
                    )
                    .await
                    .expect("get_or_create")
                    .id
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.expect("task"));
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
});

store_test!(
    append_assigns_sequential_seq,
    |store: Arc<dyn Store>| async move {
        let id = session(store.as_ref(), "agent:default:seq").await;
        let messages = store.messages();
        for n in 1..=5 {
            let appended = messages
                .append(id, NewMessage::text(Role::User, format!("hello {n}")))
                .await
                .expect("append");
            assert_eq!(appended.seq, n);
            assert_eq!(appended.session_id, id);
            assert_eq!(appended.content, format!("hello {n}"));
        }
        let session = store
            .sessions()
            .get(MASTER_TENANT_ID, &session_key("agent:default:seq"))
            .await
            .expect("session");
        assert_eq!(session.message_count, 5);
        assert!(session.updated_at >= session.created_at);
    }
);

store_test!(
    messages_round_trip_tool_calls,
    |store: Arc<dyn Store>| async move {
        let id = session(store.as_ref(), "agent:default:tools").await;
        let calls = serde_json::json!([{"id": "call_1", "name": "read_file", "arguments": {"path": "a.txt"}}]);
        let assistant = NewMessage {
            role: Role::Assistant,
            content: String::new(),
            tool_calls: calls.clone(),
            tool_call_id: None,
            metadata: serde_json::json!({}),
        };
        let tool = NewMessage {
            role: Role::Tool,
            content: "file contents".to_owned(),
            tool_calls: serde_json::Value::Null,
            tool_call_id: Some("call_1".to_owned()),
            metadata: serde_json::json!({"is_error": false}),
        };
        let messages = store.messages();
        let first = messages.append(id, assistant).await.expect("assistant");
        let second = messages.append(id, tool).await.expect("tool");
        assert_eq!(first.tool_calls, calls);
        assert_eq!(second.tool_calls, serde_json::Value::Null);
        let listed = messages.list(id, 0, 10).await.expect("list");
        assert_eq!(listed, vec![first, second]);
        assert_eq!(listed[1].role, Role::Tool);
        assert_eq!(listed[1].tool_call_id.as_deref(), Some("call_1"));
        assert_eq!(listed[1].metadata, serde_json::json!({"is_error": false}));
    }
);

store_test!(
    messages_round_trip_metadata,
    |store: Arc<dyn Store>| async move {
        let id = session(store.as_ref(), "agent:default:metadata").await;
        let metadata = serde_json::json!({
            "thinking": "Let me see.",
            "run_id": "run-1",
            "usage": {"input_tokens": 12, "output_tokens": 34},
            "sender": {"id": "42", "name": "Alice"},
        });
        let mut with_metadata = NewMessage::text(Role::Assistant, "Hi!");
        with_metadata.metadata = metadata.clone();
        let mut without = NewMessage::text(Role::User, "plain");
        without.metadata = serde_json::Value::Null;
        let messages = store.messages();
        let first = messages.append(id, with_metadata).await.expect("append");
        let second = messages.append(id, without).await.expect("append");
        assert_eq!(first.metadata, metadata);
        assert_eq!(second.metadata, serde_json::json!({}));
        let listed = messages.list(id, 0, 10).await.expect("list");
        assert_eq!(listed, vec![first, second]);

        let mut bad = NewMessage::text(Role::User, "bad");
        bad.metadata = serde_json::json!(["not", "an", "object"]);
        let refused = messages.append(id, bad).await;
        assert!(refused.is_err(), "{refused:?}");
        assert_eq!(messages.list(id, 0, 10).await.expect("list").len(), 2);
    }
);

store_test!(list_pages_by_seq, |store: Arc<dyn Store>| async move {
    let id = session(store.as_ref(), "agent:default:pages").await;
    let other = session(store.as_ref(), "agent:default:other").await;
    for n in 1..=10 {
        store
            .messages()
            .append(id, NewMessage::text(Role::User, format!("m{n}")))
            .await
            .expect("append");
    }
    store
        .messages()
        .append(other, NewMessage::text(Role::User, "elsewhere"))
        .await
        .expect("append other");

    let check = |after: i64, limit: u32, expected: Vec<i64>| {
        let store = Arc::clone(&store);
        async move {
            let listed = store.messages().list(id, after, limit).await.expect("list");
            let seqs: Vec<i64> = listed.iter().map(|m| m.seq).collect();
            assert_eq!(seqs, expected, "after {after} limit {limit}");
        }
    };
    check(0, 100, (1..=10).collect()).await;
    check(0, 3, vec![1, 2, 3]).await;
    check(3, 3, vec![4, 5, 6]).await;
    check(8, 100, vec![9, 10]).await;
    check(10, 100, vec![]).await;
    check(0, 0, vec![]).await;
});

store_test!(concurrent_appends_never_share_a_seq, |store: Arc<
    dyn Store,
>| async move {
    let id = session(store.as_ref(), "agent:default:burst").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .messages()
                    .append(id, NewMessage::text(Role::User, format!("burst {i}")))
                    .await
                    .expect("append")
                    .seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.expect("task"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let listed = store.messages().list(id, 0, 100).await.expect("list");
    assert_eq!(listed.len(), 20);
});

store_test!(append_to_unknown_session_is_not_found, |store: Arc<
    dyn Store,
>| async move {
    let missing = store
        .messages()
        .append(SessionId::generate(), NewMessage::text(Role::User, "hi"))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("session"))),
        "{missing:?}"
    );
});

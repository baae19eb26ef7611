//! Episodic summaries on both engines: de-duplication by source, the scope rule (one agent's
//! one user, never another tenant's), full-text search by any word, vector search, expiry and
//! pruning, listing, and the sweep of idle sessions.

use std::sync::Arc;

use chrono::{Duration, Utc};
use goclaw_core::{
    AgentId, AgentKey, EMBEDDING_DIMENSIONS, EpisodicScope, MASTER_TENANT_ID, NewAgent, NewEpisode,
    NewMessage, Role, ScoredEpisode, SessionKey, Store, StoreError, SweepCursor, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};

const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";

async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> AgentId {
    let key = AgentKey::parse(key).expect("valid agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
        .id
}

fn episode(scope: &EpisodicScope, source: &str, summary: &str) -> NewEpisode {
    NewEpisode {
        scope: scope.clone(),
        session_key: format!("agent:a:{source}"),
        summary: summary.to_owned(),
        l0_abstract: format!("About {source}."),
        key_topics: vec![source.to_owned()],
        embedding: None,
        source_type: "session".to_owned(),
        source_id: source.to_owned(),
        turn_count: 3,
        token_count: 120,
        expires_at: None,
    }
}

/// A unit vector along `axis`, tilted towards `towards` by `tilt`.
fn vector(axis: usize, towards: usize, tilt: f32) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIMENSIONS];
    v[axis] = 1.0;
    v[towards] += tilt;
    v
}

fn sources(found: &[ScoredEpisode]) -> Vec<&str> {
    found.iter().map(|f| f.episode.source_id.as_str()).collect()
}

store_test!(an_episode_is_stored_once_per_source, |store: Arc<
    dyn Store,
>| async move {
    let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let scope = EpisodicScope::new(MASTER_TENANT_ID, agent, "alice");
    let episodic = store.episodic();
    let first = episodic
        .insert_episode(episode(&scope, "s1#4", "first words"))
        .await
        .expect("insert")
        .expect("new");
    assert_eq!(first.user_id, "alice");
    assert_eq!(first.key_topics, ["s1#4"]);
    assert_eq!(first.l0_abstract, "About s1#4.");
    let again = episodic
        .insert_episode(episode(&scope, "s1#4", "other words"))
        .await
        .expect("insert again");
    assert_eq!(again, None, "a known source is not stored twice");
    assert!(
        episodic
            .episode_exists(&scope, "s1#4")
            .await
            .expect("exists")
    );
    let kept = episodic
        .get_episode(MASTER_TENANT_ID, first.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(kept.summary, "first words", "the first summary is kept");
    // The same source for another user is another episode.
    let bob = EpisodicScope::new(MASTER_TENANT_ID, agent, "bob");
    assert!(!episodic.episode_exists(&bob, "s1#4").await.expect("exists"));
    assert!(
        episodic
            .insert_episode(episode(&bob, "s1#4", "bob's"))
            .await
            .expect("insert")
            .is_some()
    );
});

database_test!(
    tenants_do_not_share_episodes,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(ACME, "acme").await;
        let store = db.store();
        let acme: TenantId = ACME.parse().expect("tenant");
        let ours = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let theirs = agent(store.as_ref(), acme, "keeper").await;
        let episodic = store.episodic();
        // Naming another tenant's agent stores nothing.
        let wrong = EpisodicScope::new(MASTER_TENANT_ID, theirs, "alice");
        let refused = episodic
            .insert_episode(episode(&wrong, "s1#1", "lighthouse"))
            .await;
        assert!(
            matches!(refused, Err(StoreError::NotFound("agent"))),
            "{refused:?}"
        );
        let mine = EpisodicScope::new(MASTER_TENANT_ID, ours, "alice");
        let stored = episodic
            .insert_episode(episode(&mine, "s1#1", "lighthouse"))
            .await
            .expect("insert")
            .expect("new");
        assert_eq!(
            episodic.get_episode(acme, stored.id).await.expect("get"),
            None,
            "another tenant does not see it"
        );
        let as_acme = EpisodicScope::new(acme, ours, "alice");
        assert!(
            episodic
                .search_episodes_text(&as_acme, "lighthouse", 10)
                .await
                .expect("search")
                .is_empty()
        );
        assert!(
            episodic
                .list_episodes(acme, ours, None, 10, 0)
                .await
                .expect("list")
                .is_empty()
        );
    }
);

store_test!(text_search_finds_any_word_in_the_scope, |store: Arc<
    dyn Store,
>| async move {
    let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let other = agent(store.as_ref(), MASTER_TENANT_ID, "other").await;
    let alice = EpisodicScope::new(MASTER_TENANT_ID, keeper, "alice");
    let episodic = store.episodic();
    for (scope, source, summary) in [
        (&alice, "a1", "Alice's favourite colour is teal."),
        (&alice, "a2", "Alice plans a trip to Lisbon in May."),
        (&alice, "a3", "Nothing of note happened."),
        (
            &EpisodicScope::new(MASTER_TENANT_ID, keeper, "bob"),
            "b1",
            "Bob likes teal too.",
        ),
        (
            &EpisodicScope::new(MASTER_TENANT_ID, other, "alice"),
            "o1",
            "Teal, said Alice.",
        ),
    ] {
        episodic
            .insert_episode(episode(scope, source, summary))
            .await
            .expect("insert");
    }
    let found = episodic
        .search_episodes_text(&alice, "What is my favourite COLOUR?", 10)
        .await
        .expect("search");
    assert_eq!(sources(&found).first(), Some(&"a1"), "{found:?}");
    assert!(!sources(&found).contains(&"b1") && !sources(&found).contains(&"o1"));
    assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
    let found = episodic
        .search_episodes_text(&alice, "teal lisbon", 10)
        .await
        .expect("search");
    let mut got = sources(&found);
    got.sort_unstable();
    assert_eq!(got, ["a1", "a2"], "any word matches");
    // The abstract is searched too.
    let found = episodic
        .search_episodes_text(&alice, "about a3", 1)
        .await
        .expect("search");
    assert_eq!(sources(&found), ["a3"]);
    for empty in ["", "?!", "   "] {
        assert!(
            episodic
                .search_episodes_text(&alice, empty, 10)
                .await
                .expect("search")
                .is_empty(),
            "{empty:?}"
        );
    }
});

store_test!(vector_search_is_nearest_first_in_the_scope, |store: Arc<
    dyn Store,
>| async move {
    let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let alice = EpisodicScope::new(MASTER_TENANT_ID, keeper, "alice");
    let bob = EpisodicScope::new(MASTER_TENANT_ID, keeper, "bob");
    let episodic = store.episodic();
    for (scope, source, embedding) in [
        (&alice, "near", Some(vector(5, 6, 0.1))),
        (&alice, "far", Some(vector(6, 5, 0.1))),
        (&alice, "none", None),
        (&bob, "bob", Some(vector(5, 6, 0.0))),
    ] {
        let mut new = episode(scope, source, "words");
        new.embedding = embedding;
        episodic.insert_episode(new).await.expect("insert");
    }
    let found = episodic
        .search_episodes_vector(&alice, &vector(5, 6, 0.0), 10)
        .await
        .expect("search");
    assert_eq!(sources(&found), ["near", "far"]);
    assert!(
        found[0].score > 0.99 && found[0].score <= 1.0 + 1e-6,
        "{found:?}"
    );
    let found = episodic
        .search_episodes_vector(&alice, &vector(5, 6, 0.0), 1)
        .await
        .expect("search");
    assert_eq!(sources(&found), ["near"]);
});

store_test!(expired_episodes_are_hidden_then_pruned, |store: Arc<
    dyn Store,
>| async move {
    let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let alice = EpisodicScope::new(MASTER_TENANT_ID, keeper, "alice");
    let episodic = store.episodic();
    let now = Utc::now();
    for (source, expires_at) in [
        ("past", Some(now - Duration::hours(1))),
        ("future", Some(now + Duration::days(90))),
        ("never", None),
    ] {
        let mut new = episode(&alice, source, "the harbour lights");
        new.expires_at = expires_at;
        new.embedding = Some(vector(1, 2, 0.0));
        episodic.insert_episode(new).await.expect("insert");
    }
    for found in [
        episodic
            .search_episodes_text(&alice, "harbour", 10)
            .await
            .expect("text"),
        episodic
            .search_episodes_vector(&alice, &vector(1, 2, 0.0), 10)
            .await
            .expect("vector"),
    ] {
        let mut got = sources(&found);
        got.sort_unstable();
        assert_eq!(got, ["future", "never"], "expired episodes are not found");
    }
    assert_eq!(
        episodic.prune_expired_episodes(now).await.expect("prune"),
        1
    );
    assert_eq!(
        episodic.prune_expired_episodes(now).await.expect("prune"),
        0
    );
    let listed = episodic
        .list_episodes(MASTER_TENANT_ID, keeper, Some("alice"), 10, 0)
        .await
        .expect("list");
    assert_eq!(listed.len(), 2);
    // Pruned rows leave the indexes too.
    let again = episodic
        .prune_expired_episodes(now + Duration::days(91))
        .await
        .expect("prune");
    assert_eq!(again, 1);
    let found = episodic
        .search_episodes_text(&alice, "harbour", 10)
        .await
        .expect("text");
    assert_eq!(sources(&found), ["never"]);
});

store_test!(episodes_are_listed_newest_first_by_user, |store: Arc<
    dyn Store,
>| async move {
    let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let episodic = store.episodic();
    for (user, source) in [("alice", "1"), ("bob", "2"), ("alice", "3")] {
        episodic
            .insert_episode(episode(
                &EpisodicScope::new(MASTER_TENANT_ID, keeper, user),
                source,
                "x",
            ))
            .await
            .expect("insert");
    }
    let list = |user: Option<&'static str>, limit, offset| {
        let store = store.clone();
        async move {
            let found = store
                .episodic()
                .list_episodes(MASTER_TENANT_ID, keeper, user, limit, offset)
                .await
                .expect("list");
            found.into_iter().map(|e| e.source_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(None, 10, 0).await, ["3", "2", "1"]);
    assert_eq!(list(Some("alice"), 10, 0).await, ["3", "1"]);
    assert_eq!(list(Some("alice"), 1, 1).await, ["1"]);
    assert!(list(Some("carol"), 10, 0).await.is_empty());
});

store_test!(
    idle_sessions_are_found_by_their_last_change,
    |store: Arc<dyn Store>| async move {
        let keeper = store
            .agents()
            .create(NewAgent::new(
                MASTER_TENANT_ID,
                AgentKey::parse("keeper").expect("key"),
                "Keeper",
            ))
            .await
            .expect("agent");
        let sessions = store.sessions();
        let before = Utc::now() - Duration::seconds(1);
        let mut keys = Vec::new();
        for name in ["one", "two", "empty"] {
            let key = SessionKey::parse(&format!("agent:keeper:ws:direct:{name}")).expect("key");
            let session = sessions
                .get_or_create(MASTER_TENANT_ID, &key, Some(&keeper), "alice", "ws")
                .await
                .expect("session");
            if name != "empty" {
                store
                    .messages()
                    .append(session.id, NewMessage::text(Role::User, "hello"))
                    .await
                    .expect("message");
            }
            keys.push(key.to_string());
            // Distinct change times, so the order below is known (SQLite keeps milliseconds).
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let after = Utc::now() + Duration::seconds(1);
        let window = |from: SweepCursor, limit: u32| {
            let store = store.clone();
            async move {
                store
                    .episodic()
                    .idle_sessions(from, after, limit)
                    .await
                    .expect("idle")
            }
        };
        let idle = window(SweepCursor::after(before), 10).await;
        let found: Vec<&str> = idle.iter().map(|s| s.session_key.as_str()).collect();
        assert_eq!(
            found,
            [keys[0].as_str(), keys[1].as_str()],
            "oldest first, empty ones left out"
        );
        assert!(
            idle.iter()
                .all(|s| s.agent_id == keeper.id && s.user_id == "alice")
        );
        assert!(idle.iter().all(|s| s.message_count == 1));
        let first = window(SweepCursor::after(before), 1).await;
        assert_eq!(first.len(), 1);
        let rest = window(first[0].cursor(), 10).await;
        let found: Vec<&str> = rest.iter().map(|s| s.session_key.as_str()).collect();
        assert_eq!(
            found,
            [keys[1].as_str()],
            "the window starts after the cursor"
        );

        // Sessions changed in the same instant are told apart by their id: the window resumes
        // within the instant, neither skipping nor repeating one.
        let second = &idle[1];
        let same_instant_before = SweepCursor {
            updated_at: second.updated_at,
            session_id: uuid::Uuid::nil(),
        };
        let resumed = window(same_instant_before, 10).await;
        assert_eq!(resumed.len(), 1, "{resumed:?}");
        assert_eq!(resumed[0].id, second.id);
        assert!(window(second.cursor(), 10).await.is_empty());
        assert!(
            window(SweepCursor::after(second.updated_at), 10)
                .await
                .is_empty()
        );
        assert!(
            store
                .episodic()
                .idle_sessions(SweepCursor::after(after), after + Duration::hours(1), 10)
                .await
                .expect("idle")
                .is_empty()
        );
    }
);

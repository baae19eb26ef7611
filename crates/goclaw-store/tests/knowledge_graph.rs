//! The knowledge graph on both engines: entities upserted by external id within one agent's
//! user, relations only between entities of one scope and valid in time, nearest entities by
//! embedding, merges that move relations, de-duplication candidates (and their dismissal),
//! counts by type, deletion and clearing, and isolation between users, agents and tenants.

use std::sync::Arc;

use chrono::{Duration, Utc};
use goclaw_core::{
    AgentId, AgentKey, EMBEDDING_DIMENSIONS, GraphCounts, GraphScope, MASTER_TENANT_ID, NewAgent,
    NewEntity, NewRelation, Store, StoreError, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use serde_json::json;
use uuid::Uuid;

const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";

async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> AgentId {
    store
        .agents()
        .create(NewAgent::new(
            tenant,
            AgentKey::parse(key).expect("key"),
            "Agent",
        ))
        .await
        .expect("agent")
        .id
}

fn entity(external: &str, name: &str) -> NewEntity {
    NewEntity {
        external_id: external.to_owned(),
        name: name.to_owned(),
        entity_type: "person".to_owned(),
        description: String::new(),
        properties: json!({}),
        source_id: "episode-1".to_owned(),
        confidence: 0.8,
        embedding: None,
    }
}

fn relation(source: Uuid, kind: &str, target: Uuid) -> NewRelation {
    NewRelation {
        source,
        relation_type: kind.to_owned(),
        target,
        confidence: 0.7,
        properties: json!({}),
        valid_until: None,
    }
}

fn vector(axis: usize, towards: usize, tilt: f32) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIMENSIONS];
    v[axis] = 1.0;
    v[towards] += tilt;
    v
}

store_test!(entities_are_upserted_by_external_id, |store: Arc<
    dyn Store,
>| async move {
    let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let alice = GraphScope::new(MASTER_TENANT_ID, keeper, "alice");
    let graph = store.knowledge_graph();
    let mut ada = entity("ada", "Ada");
    ada.description = "a mathematician".to_owned();
    ada.properties = json!({"born": "1815"});
    let first = graph.upsert_entity(&alice, ada).await.expect("insert");
    assert_eq!(first.valid_until, None);
    let mut again = entity("ada", "Ada Lovelace");
    again.confidence = 0.5;
    let second = graph.upsert_entity(&alice, again).await.expect("update");
    assert_eq!(second.id, first.id, "the same entity");
    assert_eq!(second.name, "Ada Lovelace");
    assert_eq!(
        second.description, "a mathematician",
        "an empty description keeps the old one"
    );
    assert_eq!(second.confidence, 0.8, "the higher confidence is kept");
    assert_eq!(second.properties, json!({}));
    // Another user's "ada" is another entity.
    let bob = GraphScope::new(MASTER_TENANT_ID, keeper, "bob");
    let bobs = graph
        .upsert_entity(&bob, entity("ada", "Ada"))
        .await
        .expect("bob's");
    assert_ne!(bobs.id, first.id);
    let listed = graph.list_entities(&alice, 10, 0).await.expect("list");
    assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), [first.id]);
    let found = graph.find_entities(&alice, "LOVE", 10).await.expect("find");
    assert_eq!(found.len(), 1);
    let found = graph
        .find_entities(&alice, "mathem", 10)
        .await
        .expect("find");
    assert_eq!(found.len(), 1, "descriptions are searched too");
    for nothing in ["%", "_", "zzz", ""] {
        assert!(
            graph
                .find_entities(&alice, nothing, 10)
                .await
                .expect("find")
                .is_empty(),
            "{nothing:?}"
        );
    }
    assert_eq!(
        graph
            .get_entity(MASTER_TENANT_ID, first.id)
            .await
            .expect("get")
            .map(|e| e.name),
        Some("Ada Lovelace".to_owned())
    );
});

database_test!(tenants_do_not_share_graphs, |db: TestDatabase| async move {
    let db = db.migrated_with_tenant(ACME, "acme").await;
    let store = db.store();
    let acme: TenantId = ACME.parse().expect("tenant");
    let theirs = agent(store.as_ref(), acme, "keeper").await;
    let ours = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let graph = store.knowledge_graph();
    let wrong = GraphScope::new(MASTER_TENANT_ID, theirs, "alice");
    let refused = graph.upsert_entity(&wrong, entity("ada", "Ada")).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound("agent"))),
        "{refused:?}"
    );
    let theirs = GraphScope::new(acme, theirs, "alice");
    let ada = graph
        .upsert_entity(&theirs, entity("ada", "Ada"))
        .await
        .expect("acme's");
    assert_eq!(
        graph
            .get_entity(MASTER_TENANT_ID, ada.id)
            .await
            .expect("get"),
        None
    );
    let ours = GraphScope::new(MASTER_TENANT_ID, ours, "alice");
    let lab = graph
        .upsert_entity(&ours, entity("lab", "Lab"))
        .await
        .expect("ours");
    // A relation across scopes is refused.
    let crossing = graph
        .upsert_relation(&ours, relation(lab.id, "knows", ada.id))
        .await;
    assert!(
        matches!(crossing, Err(StoreError::NotFound(_))),
        "{crossing:?}"
    );
    let crossing = graph
        .upsert_relation(&theirs, relation(ada.id, "knows", lab.id))
        .await;
    assert!(
        matches!(crossing, Err(StoreError::NotFound(_))),
        "{crossing:?}"
    );
});

store_test!(
    relations_are_valid_in_time,
    |store: Arc<dyn Store>| async move {
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let alice = GraphScope::new(MASTER_TENANT_ID, keeper, "alice");
        let graph = store.knowledge_graph();
        let ada = graph
            .upsert_entity(&alice, entity("ada", "Ada"))
            .await
            .expect("ada");
        let lab = graph
            .upsert_entity(&alice, entity("lab", "Lab"))
            .await
            .expect("lab");
        let old = graph
            .upsert_entity(&alice, entity("old", "Old Lab"))
            .await
            .expect("old");
        let works = graph
            .upsert_relation(&alice, relation(ada.id, "works_at", lab.id))
            .await
            .expect("works_at");
        let ended = Utc::now() + Duration::hours(1);
        let mut worked = relation(ada.id, "works_at", old.id);
        worked.valid_until = Some(ended);
        graph
            .upsert_relation(&alice, worked)
            .await
            .expect("worked_at");
        let later = ended + Duration::minutes(1);
        let current = graph
            .relations_of(&alice, ada.id, later)
            .await
            .expect("current");
        assert_eq!(current.iter().map(|r| r.id).collect::<Vec<_>>(), [works.id]);
        let then = graph
            .relations_of(&alice, ada.id, ended - Duration::minutes(1))
            .await
            .expect("then");
        assert_eq!(then.len(), 2, "both held before the old one ended");
        let before = graph
            .relations_of(&alice, ada.id, works.created_at - Duration::hours(1))
            .await
            .expect("before");
        assert!(before.is_empty(), "nothing held before it was learnt");
        let from_lab = graph
            .relations_of(&alice, lab.id, later)
            .await
            .expect("to lab");
        assert_eq!(from_lab.len(), 1, "relations are found from either end");
        // Learning it again updates it.
        let mut again = relation(ada.id, "works_at", lab.id);
        again.confidence = 0.9;
        let updated = graph.upsert_relation(&alice, again).await.expect("again");
        assert_eq!((updated.id, updated.confidence), (works.id, 0.9));
        assert_eq!(
            graph.graph_counts(&alice).await.expect("counts"),
            GraphCounts {
                entities: 3,
                relations: 1
            }
        );
    }
);

store_test!(
    similar_entities_and_merges,
    |store: Arc<dyn Store>| async move {
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let alice = GraphScope::new(MASTER_TENANT_ID, keeper, "alice");
        let graph = store.knowledge_graph();
        let with = |external: &str, name: &str, embedding: Vec<f32>| {
            let mut e = entity(external, name);
            e.embedding = Some(embedding);
            e
        };
        let ada = graph
            .upsert_entity(&alice, with("ada", "Ada Lovelace", vector(3, 4, 0.0)))
            .await
            .expect("ada");
        let ada2 = graph
            .upsert_entity(&alice, with("ada_l", "Ada Lovelace", vector(3, 4, 0.05)))
            .await
            .expect("ada2");
        let lab = graph
            .upsert_entity(&alice, with("lab", "Lab", vector(7, 8, 0.0)))
            .await
            .expect("lab");
        let bob = GraphScope::new(MASTER_TENANT_ID, keeper, "bob");
        graph
            .upsert_entity(&bob, with("ada", "Ada", vector(3, 4, 0.0)))
            .await
            .expect("bob's");
        let near = graph
            .similar_entities(&alice, &vector(3, 4, 0.0), 10)
            .await
            .expect("similar");
        let ids: Vec<Uuid> = near.iter().map(|s| s.entity.id).collect();
        assert_eq!(ids, [ada.id, ada2.id, lab.id]);
        assert!(
            near[0].similarity > 0.999 && near[1].similarity > 0.99 && near[2].similarity < 0.01,
            "{near:?}"
        );

        graph
            .upsert_relation(&alice, relation(ada.id, "works_at", lab.id))
            .await
            .expect("r1");
        graph
            .upsert_relation(&alice, relation(ada2.id, "works_at", lab.id))
            .await
            .expect("r2");
        graph
            .upsert_relation(&alice, relation(lab.id, "employs", ada2.id))
            .await
            .expect("r3");
        graph
            .upsert_relation(&alice, relation(ada2.id, "knows", ada.id))
            .await
            .expect("r4");
        graph
            .add_dedup_candidate(&alice, ada.id, ada2.id, 0.95)
            .await
            .expect("candidate");
        graph
            .add_dedup_candidate(&alice, ada.id, ada2.id, 0.95)
            .await
            .expect("once per pair");
        assert_eq!(
            graph
                .dedup_candidates(&alice, 10)
                .await
                .expect("candidates")
                .len(),
            1
        );
        assert!(
            graph
                .dedup_candidates(&bob, 10)
                .await
                .expect("bob's")
                .is_empty()
        );

        graph
            .merge_entities(&alice, ada.id, ada2.id)
            .await
            .expect("merge");
        assert_eq!(
            graph
                .get_entity(MASTER_TENANT_ID, ada2.id)
                .await
                .expect("get"),
            None
        );
        let mut kinds: Vec<String> = graph
            .relations_of(&alice, ada.id, Utc::now() + Duration::seconds(1))
            .await
            .expect("relations")
            .into_iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r.source_entity_id == ada.id,
                    r.relation_type,
                    r.target_entity_id == ada.id
                )
            })
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            ["false employs true", "true works_at false"],
            "moved, without duplicates or self-loops"
        );
        assert!(
            graph
                .dedup_candidates(&alice, 10)
                .await
                .expect("candidates")
                .is_empty(),
            "gone with the merged entity"
        );
        let refused = graph.merge_entities(&bob, ada.id, lab.id).await;
        assert!(
            matches!(refused, Err(StoreError::NotFound(_))),
            "another scope's entities: {refused:?}"
        );
    }
);

store_test!(
    entities_are_counted_listed_deleted_and_cleared_within_their_scope,
    |store: Arc<dyn Store>| async move {
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let alice = GraphScope::new(MASTER_TENANT_ID, keeper, "alice");
        let bob = GraphScope::new(MASTER_TENANT_ID, keeper, "bob");
        let graph = store.knowledge_graph();
        let ada = graph
            .upsert_entity(&alice, entity("ada", "Ada"))
            .await
            .expect("ada");
        let mut lab = entity("lab", "Lab");
        lab.entity_type = "place".to_owned();
        let lab = graph.upsert_entity(&alice, lab).await.expect("lab");
        let carl = graph
            .upsert_entity(&alice, entity("carl", "Carl"))
            .await
            .expect("carl");
        let bobs = graph
            .upsert_entity(&bob, entity("ada", "Ada"))
            .await
            .expect("bob's");
        graph
            .upsert_relation(&alice, relation(ada.id, "works_at", lab.id))
            .await
            .expect("relation");
        graph
            .upsert_relation(&alice, relation(carl.id, "works_at", lab.id))
            .await
            .expect("relation");
        graph
            .add_dedup_candidate(&alice, ada.id, carl.id, 0.93)
            .await
            .expect("candidate");

        assert_eq!(
            graph.entity_type_counts(&alice).await.expect("types"),
            [("person".to_owned(), 2), ("place".to_owned(), 1)]
        );
        assert_eq!(
            graph.entity_type_counts(&bob).await.expect("types"),
            [("person".to_owned(), 1)]
        );
        let relations = graph.list_relations(&alice, 10).await.expect("relations");
        assert_eq!(relations.len(), 2);
        assert!(
            graph
                .list_relations(&bob, 10)
                .await
                .expect("none")
                .is_empty()
        );
        assert_eq!(graph.list_relations(&alice, 1).await.expect("one").len(), 1);

        // Another user's candidate and entity are not theirs to touch.
        let candidate = graph.dedup_candidates(&alice, 10).await.expect("pending")[0].id;
        assert!(
            !graph
                .dismiss_dedup_candidate(&bob, candidate)
                .await
                .expect("bob")
        );
        assert!(
            graph
                .dismiss_dedup_candidate(&alice, candidate)
                .await
                .expect("alice")
        );
        assert!(
            !graph
                .dismiss_dedup_candidate(&alice, candidate)
                .await
                .expect("twice")
        );
        assert!(
            graph
                .dedup_candidates(&alice, 10)
                .await
                .expect("none")
                .is_empty()
        );
        assert!(!graph.delete_entity(&bob, ada.id).await.expect("bob"));

        // Deleting an entity takes its relations along.
        assert!(graph.delete_entity(&alice, ada.id).await.expect("deleted"));
        assert_eq!(
            graph.graph_counts(&alice).await.expect("counts"),
            GraphCounts {
                entities: 2,
                relations: 1
            }
        );
        assert!(!graph.delete_entity(&alice, ada.id).await.expect("gone"));

        assert_eq!(graph.clear_graph(&alice).await.expect("cleared"), 2);
        assert_eq!(
            graph.graph_counts(&alice).await.expect("counts"),
            GraphCounts::default()
        );
        let still = graph
            .get_entity(MASTER_TENANT_ID, bobs.id)
            .await
            .expect("get");
        assert!(still.is_some(), "bob's graph stays");
    }
);

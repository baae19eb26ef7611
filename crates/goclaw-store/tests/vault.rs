//! The knowledge vault registry on both engines: documents registered and updated in place by
//! tenant, owner and path; the scope rule; lookups by path and basename; listing; full-text and
//! vector search; wikilinks replaced, moved with their documents and deleted with either end;
//! and isolation between agents and tenants.

use std::sync::Arc;

use goclaw_core::{
    AgentId, AgentKey, EMBEDDING_DIMENSIONS, MASTER_TENANT_ID, NewAgent, NewVaultDocument,
    NewVaultLink, Store, StoreError, TenantId, VaultDocument, VaultFilter, VaultOwner, VaultScope,
    VaultView,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use serde_json::json;

const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";

fn acme() -> TenantId {
    ACME.parse().expect("tenant id")
}

async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> AgentId {
    let key = AgentKey::parse(key).expect("valid agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
        .id
}

fn new_doc(tenant: TenantId, owner: VaultOwner, path: &str, hash: &str) -> NewVaultDocument {
    let title = path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".md");
    NewVaultDocument {
        tenant,
        owner,
        path: path.to_owned(),
        title: title.to_owned(),
        doc_type: "note".to_owned(),
        content_hash: hash.to_owned(),
        summary: String::new(),
        metadata: json!({}),
    }
}

async fn put(store: &dyn Store, tenant: TenantId, owner: VaultOwner, path: &str) -> VaultDocument {
    store
        .vault()
        .upsert_document(new_doc(tenant, owner, path, "h1"))
        .await
        .expect("registered")
}

fn paths(docs: &[VaultDocument]) -> Vec<&str> {
    docs.iter().map(|d| d.path.as_str()).collect()
}

fn axis(i: usize) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIMENSIONS];
    v[i] = 1.0;
    v
}

store_test!(
    a_document_is_registered_and_updated_in_place,
    |store: Arc<dyn Store>| async move {
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let vault = store.vault();
        let owner = VaultOwner::personal(keeper);
        let first = put(
            store.as_ref(),
            MASTER_TENANT_ID,
            owner,
            "keeper/notes/Plan.md",
        )
        .await;
        assert_eq!(
            (
                first.scope,
                first.agent_id,
                first.team_id,
                first.title.as_str()
            ),
            (VaultScope::Personal, Some(keeper), None, "Plan")
        );
        let mut changed = new_doc(MASTER_TENANT_ID, owner, "keeper/notes/Plan.md", "h2");
        changed.summary = "the plan".to_owned();
        changed.metadata = json!({"words": 3});
        let second = vault.upsert_document(changed).await.expect("updated");
        assert_eq!(second.id, first.id, "one document per owner and path");
        assert_eq!(
            (second.content_hash.as_str(), second.summary.as_str()),
            ("h2", "the plan")
        );
        assert_eq!(second.metadata, json!({"words": 3}));
        assert_eq!(second.created_at, first.created_at);
        assert_eq!(
            vault
                .find_document(MASTER_TENANT_ID, &owner, "keeper/notes/Plan.md")
                .await
                .expect("find"),
            Some(second.clone())
        );
        assert_eq!(
            vault
                .get_document(MASTER_TENANT_ID, first.id)
                .await
                .expect("get"),
            Some(second)
        );
        // The same path shared is another document.
        let shared = put(
            store.as_ref(),
            MASTER_TENANT_ID,
            VaultOwner::shared(),
            "keeper/notes/Plan.md",
        )
        .await;
        assert_ne!(shared.id, first.id);
        assert_eq!((shared.scope, shared.agent_id), (VaultScope::Shared, None));
        assert!(
            vault
                .delete_document(MASTER_TENANT_ID, first.id)
                .await
                .expect("delete")
        );
        assert!(
            !vault
                .delete_document(MASTER_TENANT_ID, first.id)
                .await
                .expect("again")
        );
        assert_eq!(
            vault
                .get_document(MASTER_TENANT_ID, first.id)
                .await
                .expect("get"),
            None
        );
    }
);

database_test!(
    owners_must_be_live_agents_of_the_tenant,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(ACME, "acme").await;
        let store = db.store();
        let vault = store.vault();
        let acme_agent = agent(store.as_ref(), acme(), "keeper").await;
        let refused = vault
            .upsert_document(new_doc(
                MASTER_TENANT_ID,
                VaultOwner::personal(acme_agent),
                "keeper/a.md",
                "h",
            ))
            .await
            .expect_err("another tenant's agent");
        assert!(
            matches!(refused, StoreError::NotFound("agent")),
            "{refused:?}"
        );
        let gone = agent(store.as_ref(), MASTER_TENANT_ID, "gone").await;
        store
            .agents()
            .delete(MASTER_TENANT_ID, &AgentKey::parse("gone").expect("key"))
            .await
            .expect("soft delete");
        let refused = vault
            .upsert_document(new_doc(
                MASTER_TENANT_ID,
                VaultOwner::personal(gone),
                "gone/a.md",
                "h",
            ))
            .await
            .expect_err("a deleted agent");
        assert!(
            matches!(refused, StoreError::NotFound("agent")),
            "{refused:?}"
        );
        // A team document has a team and no agent.
        let team = uuid::Uuid::now_v7();
        let doc = put(
            store.as_ref(),
            acme(),
            VaultOwner::of_team(team),
            "teams/x/a.md",
        )
        .await;
        assert_eq!(
            (doc.scope, doc.team_id, doc.agent_id),
            (VaultScope::Team, Some(team), None)
        );
    }
);

database_test!(
    views_see_their_agent_and_shared_documents_only,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(ACME, "acme").await;
        let store = db.store();
        let vault = store.vault();
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let other = agent(store.as_ref(), MASTER_TENANT_ID, "other").await;
        let acme_agent = agent(store.as_ref(), acme(), "keeper").await;
        let s = store.as_ref();
        put(
            s,
            MASTER_TENANT_ID,
            VaultOwner::personal(keeper),
            "keeper/falcon.md",
        )
        .await;
        put(
            s,
            MASTER_TENANT_ID,
            VaultOwner::personal(other),
            "other/falcon.md",
        )
        .await;
        put(
            s,
            MASTER_TENANT_ID,
            VaultOwner::shared(),
            "falcon-handbook.md",
        )
        .await;
        put(
            s,
            MASTER_TENANT_ID,
            VaultOwner::of_team(uuid::Uuid::now_v7()),
            "teams/t/falcon.md",
        )
        .await;
        put(
            s,
            acme(),
            VaultOwner::personal(acme_agent),
            "keeper/falcon.md",
        )
        .await;
        let all = VaultFilter {
            limit: 100,
            ..VaultFilter::default()
        };
        let keepers = VaultView::agent(MASTER_TENANT_ID, keeper);
        let listed = vault.list_documents(&keepers, &all).await.expect("list");
        assert_eq!(paths(&listed), ["falcon-handbook.md", "keeper/falcon.md"]);
        assert_eq!(
            vault.count_documents(&keepers, &all).await.expect("count"),
            2
        );
        let found = vault
            .search_text(&keepers, "falcon", 10)
            .await
            .expect("search");
        let mut found: Vec<&str> = found.iter().map(|f| f.document.path.as_str()).collect();
        found.sort_unstable();
        assert_eq!(found, ["falcon-handbook.md", "keeper/falcon.md"]);
        let by_directory = vault
            .search_text(&keepers, "keeper", 10)
            .await
            .expect("search");
        assert_eq!(
            by_directory
                .iter()
                .map(|f| f.document.path.as_str())
                .collect::<Vec<_>>(),
            ["keeper/falcon.md"],
            "a directory's name finds its files on both engines"
        );
        let tenant = VaultView::tenant(MASTER_TENANT_ID);
        assert_eq!(
            vault.count_documents(&tenant, &all).await.expect("count"),
            4
        );
        assert_eq!(
            vault
                .search_text(&tenant, "falcon", 10)
                .await
                .expect("search")
                .len(),
            4,
            "the tenant view sees every document of the tenant, none of acme's"
        );
        for (prefix, expected) in [("keeper/", true), ("other/", true), ("teams/", false)] {
            let found = vault.has_personal_under(MASTER_TENANT_ID, prefix).await;
            assert_eq!(found.expect("query"), expected, "{prefix}");
        }
        assert!(
            !vault
                .has_personal_under(acme(), "other/")
                .await
                .expect("query")
        );
        let acme_view = VaultView::tenant(acme());
        assert_eq!(
            paths(&vault.list_documents(&acme_view, &all).await.expect("list")),
            ["keeper/falcon.md"]
        );
        // Lookups: the agent's own before shared; by basename, case-insensitive.
        put(
            s,
            MASTER_TENANT_ID,
            VaultOwner::shared(),
            "keeper/falcon.md",
        )
        .await;
        let by_path = vault
            .lookup(&keepers, "keeper/falcon.md", false)
            .await
            .expect("lookup");
        assert_eq!(
            by_path.iter().map(|d| d.scope).collect::<Vec<_>>(),
            [VaultScope::Personal, VaultScope::Shared]
        );
        let by_name = vault
            .lookup(&keepers, "falcon.md", true)
            .await
            .expect("lookup");
        assert_eq!(by_name.len(), 2);
        assert_eq!(by_name[0].agent_id, Some(keeper));
        let others = VaultView::agent(MASTER_TENANT_ID, other);
        let by_name = vault
            .lookup(&others, "falcon.md", true)
            .await
            .expect("lookup");
        assert_eq!(
            paths(&by_name),
            ["other/falcon.md", "keeper/falcon.md"],
            "other sees its own and the shared copy, never keeper's personal one"
        );
        // Filters.
        let notes = VaultFilter {
            scope: Some(VaultScope::Shared),
            doc_types: vec!["note".to_owned(), "media".to_owned()],
            limit: 1,
            offset: 1,
        };
        assert_eq!(
            paths(&vault.list_documents(&tenant, &notes).await.expect("list")),
            ["keeper/falcon.md"]
        );
        assert_eq!(
            vault.count_documents(&tenant, &notes).await.expect("count"),
            2
        );
    }
);

store_test!(
    vector_search_is_confined_to_the_agents_view,
    |store: Arc<dyn Store>| async move {
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let other = agent(store.as_ref(), MASTER_TENANT_ID, "other").await;
        let vault = store.vault();
        let s = store.as_ref();
        let mine = put(
            s,
            MASTER_TENANT_ID,
            VaultOwner::personal(keeper),
            "keeper/a.md",
        )
        .await;
        let theirs = put(
            s,
            MASTER_TENANT_ID,
            VaultOwner::personal(other),
            "other/a.md",
        )
        .await;
        let shared = put(s, MASTER_TENANT_ID, VaultOwner::shared(), "b.md").await;
        let plain = put(
            s,
            MASTER_TENANT_ID,
            VaultOwner::personal(keeper),
            "keeper/c.md",
        )
        .await;
        for (doc, v) in [(&mine, axis(1)), (&theirs, axis(1)), (&shared, axis(2))] {
            vault
                .set_embedding(MASTER_TENANT_ID, doc.id, Some(&v))
                .await
                .expect("embedding");
        }
        let found = vault
            .search_vector(MASTER_TENANT_ID, keeper, &axis(1), 10)
            .await
            .expect("search");
        let ids: Vec<_> = found.iter().map(|f| f.document.id).collect();
        assert_eq!(
            ids,
            [mine.id, shared.id],
            "nearest first; no embedding, no hit"
        );
        assert!((found[0].score - 1.0).abs() < 1e-6, "{}", found[0].score);
        assert!(found[1].score.abs() < 1e-6, "{}", found[1].score);
        assert!(!ids.contains(&plain.id));
        // Cleared embeddings leave the index.
        vault
            .set_embedding(MASTER_TENANT_ID, mine.id, None)
            .await
            .expect("cleared");
        let found = vault
            .search_vector(MASTER_TENANT_ID, keeper, &axis(1), 10)
            .await
            .expect("search");
        assert_eq!(
            found.iter().map(|f| f.document.id).collect::<Vec<_>>(),
            [shared.id]
        );
        let missing = vault
            .set_embedding(MASTER_TENANT_ID, uuid::Uuid::now_v7(), None)
            .await
            .expect_err("no document");
        assert!(matches!(missing, StoreError::NotFound("vault document")));
    }
);

database_test!(
    wikilinks_are_replaced_moved_and_deleted_with_their_documents,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(ACME, "acme").await;
        let store = db.store();
        let vault = store.vault();
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let s = store.as_ref();
        let owner = VaultOwner::personal(keeper);
        let index = put(s, MASTER_TENANT_ID, owner, "keeper/index.md").await;
        let plan = put(s, MASTER_TENANT_ID, owner, "keeper/plan.md").await;
        let notes = put(s, MASTER_TENANT_ID, owner, "keeper/notes.md").await;
        let link = |to: &VaultDocument, context: &str| NewVaultLink {
            to_doc_id: to.id,
            context: context.to_owned(),
        };
        let stored = vault
            .replace_wikilinks(
                MASTER_TENANT_ID,
                index.id,
                &[
                    link(&plan, "see [[plan]]"),
                    link(&notes, "[[notes]]"),
                    link(&plan, "again"),
                ],
            )
            .await
            .expect("links");
        assert_eq!(stored.len(), 2, "one link per target");
        assert_eq!(
            (stored[0].link_type.as_str(), stored[0].context.as_str()),
            ("wikilink", "see [[plan]]")
        );
        let out = vault
            .out_links(MASTER_TENANT_ID, index.id)
            .await
            .expect("out");
        assert_eq!(out, stored);
        // Replacing drops what the text no longer links.
        vault
            .replace_wikilinks(MASTER_TENANT_ID, index.id, &[link(&plan, "only [[plan]]")])
            .await
            .expect("replaced");
        let out = vault
            .out_links(MASTER_TENANT_ID, index.id)
            .await
            .expect("out");
        assert_eq!(
            out.iter()
                .map(|l| (l.to_doc_id, l.context.as_str()))
                .collect::<Vec<_>>(),
            [(plan.id, "only [[plan]]")]
        );
        let back = vault
            .backlinks(MASTER_TENANT_ID, plan.id)
            .await
            .expect("back");
        assert_eq!(back.len(), 1);
        assert_eq!(
            (
                back[0].from_doc_id,
                back[0].path.as_str(),
                back[0].title.as_str()
            ),
            (index.id, "keeper/index.md", "index")
        );
        // A move keeps the id and the links.
        let moved = vault
            .move_document(
                MASTER_TENANT_ID,
                plan.id,
                "keeper/archive/Plan 2.md",
                "Plan 2",
            )
            .await
            .expect("moved");
        assert_eq!(
            (moved.id, moved.path.as_str()),
            (plan.id, "keeper/archive/Plan 2.md")
        );
        let found = vault
            .lookup(
                &VaultView::agent(MASTER_TENANT_ID, keeper),
                "plan 2.md",
                true,
            )
            .await
            .expect("by new basename");
        assert_eq!(found.iter().map(|d| d.id).collect::<Vec<_>>(), [plan.id]);
        assert_eq!(
            vault
                .backlinks(MASTER_TENANT_ID, plan.id)
                .await
                .expect("back")
                .len(),
            1
        );
        let clash = vault
            .move_document(MASTER_TENANT_ID, notes.id, "keeper/index.md", "index")
            .await
            .expect_err("taken");
        assert!(matches!(clash, StoreError::Conflict(_)), "{clash:?}");
        // Deleting the target deletes the links into it.
        assert!(
            vault
                .delete_document(MASTER_TENANT_ID, plan.id)
                .await
                .expect("delete")
        );
        assert!(
            vault
                .out_links(MASTER_TENANT_ID, index.id)
                .await
                .expect("out")
                .is_empty()
        );
        // Links never cross tenants, and another tenant cannot read them.
        let acme_agent = agent(s, acme(), "keeper").await;
        let foreign = put(s, acme(), VaultOwner::personal(acme_agent), "keeper/x.md").await;
        let refused = vault
            .replace_wikilinks(MASTER_TENANT_ID, index.id, &[link(&foreign, "[[x]]")])
            .await
            .expect_err("cross-tenant");
        assert!(matches!(refused, StoreError::NotFound("vault document")));
        vault
            .replace_wikilinks(MASTER_TENANT_ID, index.id, &[link(&notes, "[[notes]]")])
            .await
            .expect("links");
        assert!(
            vault
                .out_links(acme(), index.id)
                .await
                .expect("out")
                .is_empty()
        );
        assert!(
            vault
                .backlinks(acme(), notes.id)
                .await
                .expect("back")
                .is_empty()
        );
        assert_eq!(
            vault.get_document(acme(), index.id).await.expect("get"),
            None
        );
        assert!(
            !vault
                .delete_document(acme(), index.id)
                .await
                .expect("delete")
        );
    }
);

database_test!(
    summaries_are_searchable_and_similar_links_are_symmetric,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(ACME, "acme").await;
        let store = db.store();
        let vault = store.vault();
        let s = store.as_ref();
        let keeper = agent(s, MASTER_TENANT_ID, "keeper").await;
        let owner = VaultOwner::personal(keeper);
        let a = put(s, MASTER_TENANT_ID, owner, "keeper/a.md").await;
        let b = put(s, MASTER_TENANT_ID, owner, "keeper/b.md").await;
        let c = put(s, MASTER_TENANT_ID, owner, "keeper/c.md").await;
        let view = VaultView::agent(MASTER_TENANT_ID, keeper);

        vault
            .set_summary(MASTER_TENANT_ID, a.id, "Kingfishers along the canal.")
            .await
            .expect("summary");
        let found = vault
            .search_text(&view, "kingfishers", 10)
            .await
            .expect("search");
        assert_eq!(
            found.iter().map(|f| f.document.id).collect::<Vec<_>>(),
            [a.id]
        );
        let missing = vault
            .set_summary(acme(), a.id, "elsewhere")
            .await
            .expect_err("another tenant's document");
        assert!(matches!(missing, StoreError::NotFound("vault document")));

        let similar = |to: &VaultDocument| NewVaultLink {
            to_doc_id: to.id,
            context: "similarity 0.80".to_owned(),
        };
        let similar_targets = |from: uuid::Uuid| {
            let vault = store.vault();
            async move {
                let mut targets: Vec<uuid::Uuid> = vault
                    .out_links(MASTER_TENANT_ID, from)
                    .await
                    .expect("links")
                    .into_iter()
                    .filter(|l| l.link_type == "similar")
                    .map(|l| l.to_doc_id)
                    .collect();
                targets.sort();
                targets
            }
        };
        vault
            .replace_similar_links(MASTER_TENANT_ID, a.id, &[similar(&b), similar(&c)])
            .await
            .expect("links");
        assert_eq!(similar_targets(b.id).await, [a.id], "stored both ways");
        assert_eq!(similar_targets(c.id).await, [a.id]);
        // Recomputing a's neighbours drops the pair that is no longer similar, both ways, and
        // leaves the wikilinks alone.
        vault
            .replace_wikilinks(
                MASTER_TENANT_ID,
                c.id,
                &[NewVaultLink {
                    to_doc_id: a.id,
                    context: "[[a]]".to_owned(),
                }],
            )
            .await
            .expect("wikilink");
        vault
            .replace_similar_links(MASTER_TENANT_ID, a.id, &[similar(&b)])
            .await
            .expect("links");
        assert_eq!(similar_targets(a.id).await, [b.id]);
        assert!(similar_targets(c.id).await.is_empty());
        let c_links = vault
            .out_links(MASTER_TENANT_ID, c.id)
            .await
            .expect("links");
        assert_eq!(c_links.len(), 1);
        assert_eq!(c_links[0].link_type, "wikilink");

        let acme_agent = agent(s, acme(), "keeper").await;
        let foreign = put(s, acme(), VaultOwner::personal(acme_agent), "keeper/x.md").await;
        let refused = vault
            .replace_similar_links(MASTER_TENANT_ID, a.id, &[similar(&foreign)])
            .await
            .expect_err("cross-tenant");
        assert!(matches!(refused, StoreError::NotFound("vault document")));
        assert_eq!(similar_targets(a.id).await, [b.id], "nothing changed");
    }
);

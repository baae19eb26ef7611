//! `vault_search` as GoClaw's unified search, on both engines: one call finds the vault
//! documents, the episodes and the knowledge-graph entities of the caller, each source scaled
//! by its best hit and weighted vault 0.4 / episodic 0.3 / kg 0.3; `types` chooses the
//! sources; and two users of one `open` agent, and the same user with another agent, each find
//! only their own workspace, episodes and entities plus the shared documents.

use std::path::Path;
use std::sync::Arc;

use goclaw_core::{
    AgentId, AgentKey, EpisodicScope, GraphScope, MASTER_TENANT_ID, NewAgent, NewEntity,
    NewEpisode, SessionKey, Store, Tool, ToolContext,
};
use goclaw_memory::episodic::EpisodicRecall;
use goclaw_memory::vault::Vault;
use goclaw_store::store_test;
use goclaw_tools::vault::{vault_tools, vault_tools_with_episodes};
use serde_json::{Value, json};

fn ctx(base: &Path, agent: &str, user: &str) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: agent.to_owned(),
        session_key: SessionKey::parse(&format!("agent:{agent}:ws:{user}")).expect("key"),
        user_id: user.to_owned(),
        trust: goclaw_core::Trust::User,
        run_id: "run-1".to_owned(),
        channel: "ws".to_owned(),
        workspace: base.join(agent).join(user),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

async fn search(tools: &[Arc<dyn Tool>], ctx: &ToolContext, args: Value) -> String {
    let tool = tools
        .iter()
        .find(|t| t.definition().name == "vault_search")
        .expect("vault_search");
    let out = tool.call(ctx, args).await;
    assert!(!out.is_error, "{}", out.content);
    out.content
}

/// The numbered result lines, without their snippets.
fn results(found: &str) -> Vec<&str> {
    found
        .lines()
        .filter(|l| {
            l.split_once(". [")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .collect()
}

async fn agent(store: &Arc<dyn Store>, key: &str) -> AgentId {
    store
        .agents()
        .create(NewAgent::new(
            MASTER_TENANT_ID,
            AgentKey::parse(key).expect("key"),
            key,
        ))
        .await
        .expect("an open agent")
        .id
}

async fn episode(store: &Arc<dyn Store>, agent: AgentId, user: &str, about: &str) -> String {
    store
        .episodic()
        .insert_episode(NewEpisode {
            scope: EpisodicScope::new(MASTER_TENANT_ID, agent, user),
            session_key: format!("agent:x:ws:direct:{user}"),
            summary: format!("{about} In detail."),
            l0_abstract: about.to_owned(),
            key_topics: Vec::new(),
            embedding: None,
            source_type: "session".to_owned(),
            source_id: format!("{user}#{about}"),
            turn_count: 1,
            token_count: 10,
            expires_at: None,
        })
        .await
        .expect("insert")
        .expect("new")
        .id
        .to_string()
}

async fn entity(
    store: &Arc<dyn Store>,
    agent: AgentId,
    user: &str,
    name: &str,
    confidence: f64,
) -> String {
    store
        .knowledge_graph()
        .upsert_entity(
            &GraphScope::new(MASTER_TENANT_ID, agent, user),
            NewEntity {
                external_id: name.to_lowercase(),
                name: name.to_owned(),
                entity_type: "place".to_owned(),
                description: format!("{name}, as {user} told it"),
                properties: json!({}),
                source_id: "e1".to_owned(),
                confidence,
                embedding: None,
            },
        )
        .await
        .expect("entity")
        .id
        .to_string()
}

store_test!(
    one_search_finds_each_users_own_knowledge_weighted_by_source,
    |store: Arc<dyn Store>| async move {
        let scout = agent(&store, "scout").await;
        let other = agent(&store, "other").await;
        let dir = tempfile::tempdir().expect("workspace base");
        let vault = Vault::new(store.clone(), None, dir.path().to_path_buf());
        let base = vault.base().to_path_buf();
        for (path, text) in [
            ("scout/alice/otter-notes.md", "alice's otters"),
            ("scout/bob/otter-bob.md", "bob's otters"),
            ("otter-handbook.md", "for everyone"),
        ] {
            let file = base.join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("directories");
            std::fs::write(&file, text).expect("file");
            vault
                .register(MASTER_TENANT_ID, path)
                .await
                .expect("registered");
        }
        let alices_episode = episode(&store, scout, "alice", "Alice visited the otter pool.").await;
        let bobs_episode = episode(&store, scout, "bob", "Bob fed the otter.").await;
        let elsewhere = episode(&store, other, "alice", "Alice asked other about the otter.").await;
        let sanctuary = entity(&store, scout, "alice", "Otter Sanctuary", 0.9).await;
        let river = entity(&store, scout, "alice", "Otter River", 0.45).await;
        let bobs_entity = entity(&store, scout, "bob", "Otter Bob", 0.8).await;
        let others_entity = entity(&store, other, "alice", "Otter Other", 0.8).await;
        let tools = vault_tools_with_episodes(
            store.clone(),
            vault.clone(),
            Some(EpisodicRecall::new(store.clone(), None)),
        );
        let alice = ctx(&base, "scout", "alice");

        let found = search(&tools, &alice, json!({"query": "otter"})).await;
        let lines = results(&found);
        assert_eq!(lines.len(), 5, "{found}");
        // Each source's best scores its weight; the weaker entity half the best's.
        assert!(lines[0].starts_with("1. [vault] "), "{found}");
        assert!(lines[0].contains("score: 0.40"), "{found}");
        let line_of = |id: &str| {
            lines
                .iter()
                .find(|l| l.contains(id))
                .unwrap_or_else(|| panic!("{id} not in {found}"))
        };
        let episode_line = line_of(&format!("episodic_id: {alices_episode}"));
        assert!(
            episode_line.contains("[episodic]") && episode_line.contains("score: 0.30"),
            "{found}"
        );
        assert!(found.contains("Alice visited the otter pool."), "{found}");
        let best = line_of(&format!("entity_id: {sanctuary}"));
        assert!(
            best.contains("[kg] Otter Sanctuary") && best.contains("score: 0.30"),
            "{found}"
        );
        let weaker = line_of(&format!("entity_id: {river}"));
        assert!(weaker.contains("score: 0.15"), "{found}");
        assert!(found.contains("scout/alice/otter-notes.md"), "{found}");
        assert!(found.contains("otter-handbook.md"), "{found}");
        for (what, hidden) in [
            ("bob's document", "otter-bob"),
            ("bob's episode", bobs_episode.as_str()),
            ("bob's entity", bobs_entity.as_str()),
            ("the other agent's episode", elsewhere.as_str()),
            ("the other agent's entity", others_entity.as_str()),
        ] {
            assert!(!found.contains(hidden), "{what}: {found}");
        }

        // Bob sees his own, whatever the arguments name.
        let bob = ctx(&base, "scout", "bob");
        let found = search(
            &tools,
            &bob,
            json!({"query": "otter", "user_id": "alice", "agent_id": other.to_string()}),
        )
        .await;
        assert_eq!(results(&found).len(), 4, "{found}");
        assert!(found.contains(&bobs_episode) && found.contains(&bobs_entity));
        assert!(
            found.contains("otter-bob") && !found.contains("alice"),
            "{found}"
        );

        // `types` chooses the sources; `maxResults` caps the merged list.
        let graph = search(&tools, &alice, json!({"query": "otter", "types": "kg"})).await;
        let graph = results(&graph);
        assert_eq!(graph.len(), 2, "{graph:?}");
        assert!(graph.iter().all(|l| l.contains("[kg]")), "{graph:?}");
        let episodes = search(
            &tools,
            &alice,
            json!({"query": "otter", "types": "episodic"}),
        )
        .await;
        assert_eq!(results(&episodes).len(), 1, "{episodes}");
        assert!(episodes.contains(&alices_episode), "{episodes}");
        let notes = search(
            &tools,
            &alice,
            json!({"query": "otter", "types": "note", "scope": "shared"}),
        )
        .await;
        let notes = results(&notes);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("otter-handbook.md"), "{notes:?}");
        let capped = search(&tools, &alice, json!({"query": "otter", "maxResults": 2})).await;
        assert_eq!(results(&capped).len(), 2, "{capped}");

        // The same user with the other agent finds that agent's knowledge only.
        let elsewhere_ctx = ctx(&base, "other", "alice");
        let found = search(&tools, &elsewhere_ctx, json!({"query": "otter"})).await;
        assert!(
            found.contains(&elsewhere) && found.contains(&others_entity),
            "{found}"
        );
        assert!(!found.contains(&alices_episode) && !found.contains(&sanctuary));

        // Without episodic memory only the vault is searched.
        let vault_only = vault_tools(store.clone(), vault.clone());
        let found = search(&vault_only, &alice, json!({"query": "otter"})).await;
        let lines = results(&found);
        assert_eq!(lines.len(), 2, "{found}");
        assert!(lines.iter().all(|l| l.contains("[vault]")), "{found}");
    }
);

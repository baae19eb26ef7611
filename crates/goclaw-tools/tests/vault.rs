//! The vault tools on both engines, without a watcher: `write_file` and `edit` register what
//! they write in the same call (markdown with its links, other types by GoClaw's rules, nothing
//! outside the vault's rules); `vault_search` and `vault_read` show an `open` agent's user their
//! own workspace and the shared documents, never another user's, whatever the arguments.

use std::path::Path;
use std::sync::Arc;

use goclaw_core::{
    AgentKey, MASTER_TENANT_ID, NewAgent, SessionKey, Store, Tool, ToolContext, VaultView,
};
use goclaw_memory::vault::Vault;
use goclaw_store::store_test;
use goclaw_tools::vault::{VaultFileTool, vault_tools};
use serde_json::{Value, json};

fn ctx(base: &Path, user: &str) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "scout".to_owned(),
        session_key: SessionKey::parse(&format!("agent:scout:ws:{user}")).expect("key"),
        user_id: user.to_owned(),
        trust: goclaw_core::Trust::Admin,
        run_id: "run-1".to_owned(),
        channel: "ws".to_owned(),
        workspace: base.join("scout").join(user),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

fn file_tool(vault: &Vault, name: &str) -> VaultFileTool {
    let inner = goclaw_tools::registry::builtin_file_tools()
        .into_iter()
        .find(|t| t.definition().name == name)
        .expect("file tool");
    VaultFileTool::wrap(inner, vault.clone()).expect("a writing tool")
}

async fn vault_tool(
    store: &Arc<dyn Store>,
    vault: &Vault,
    ctx: &ToolContext,
    name: &str,
    args: Value,
) -> (bool, String) {
    let tools = vault_tools(store.clone(), vault.clone());
    let tool = tools
        .iter()
        .find(|t| t.definition().name == name)
        .expect("vault tool");
    let out = tool.call(ctx, args).await;
    (out.is_error, out.content)
}

store_test!(
    writes_are_registered_and_reads_stay_with_their_user,
    |store: Arc<dyn Store>| async move {
        let scout = store
            .agents()
            .create(NewAgent::new(
                MASTER_TENANT_ID,
                AgentKey::parse("scout").expect("key"),
                "Scout",
            ))
            .await
            .expect("an open agent")
            .id;
        let dir = tempfile::tempdir().expect("workspace base");
        let vault = Vault::new(store.clone(), None, dir.path().to_path_buf());
        let base = vault.base().to_path_buf();
        let alice = ctx(&base, "alice");
        let bob = ctx(&base, "bob");
        std::fs::create_dir_all(&alice.workspace).expect("alice's workspace");
        std::fs::create_dir_all(&bob.workspace).expect("bob's workspace");
        let write = file_tool(&vault, "write_file");
        let view = VaultView::agent(MASTER_TENANT_ID, scout);
        let registered = |path: &'static str| {
            let store = store.clone();
            async move {
                store
                    .vault()
                    .lookup(&view, path, false)
                    .await
                    .expect("lookup")
                    .into_iter()
                    .next()
            }
        };

        for (who, path, text) in [
            (
                &alice,
                "notes/kite-plan.md",
                "Kites fly at dawn. See [[kite-gear]].",
            ),
            (&alice, "notes/kite-gear.md", "gear list"),
            (&alice, "kite.exe", "not a document"),
            (&alice, "memory/kite.md", "memory, not the vault"),
            (&bob, "kite-bob.md", "bob's kite"),
        ] {
            let out = write
                .call(who, json!({"path": path, "content": text}))
                .await;
            assert!(!out.is_error, "{path}: {}", out.content);
        }
        let plan = registered("scout/alice/notes/kite-plan.md")
            .await
            .expect("registered at once");
        let gear = registered("scout/alice/notes/kite-gear.md")
            .await
            .expect("registered at once");
        assert_eq!(
            (plan.agent_id, plan.doc_type.as_str()),
            (Some(scout), "note")
        );
        assert!(registered("scout/alice/kite.exe").await.is_none());
        assert!(registered("scout/alice/memory/kite.md").await.is_none());
        // The plan was written before the gear existed; editing it reads its links again.
        let edit = file_tool(&vault, "edit");
        let out = edit
            .call(
                &alice,
                json!({"path": "notes/kite-plan.md", "old_string": "dawn", "new_string": "dusk"}),
            )
            .await;
        assert!(!out.is_error, "{}", out.content);
        let links = store
            .vault()
            .out_links(MASTER_TENANT_ID, plan.id)
            .await
            .expect("links");
        assert_eq!(
            links.iter().map(|l| l.to_doc_id).collect::<Vec<_>>(),
            [gear.id]
        );
        let edited = registered("scout/alice/notes/kite-plan.md")
            .await
            .expect("still there");
        assert_ne!(
            edited.content_hash, plan.content_hash,
            "the new content's hash"
        );
        std::fs::write(base.join("kite-handbook.md"), "for everyone").expect("shared file");
        vault
            .register(MASTER_TENANT_ID, "kite-handbook.md")
            .await
            .expect("shared");

        let (failed, found) = vault_tool(
            &store,
            &vault,
            &alice,
            "vault_search",
            json!({"query": "kite"}),
        )
        .await;
        assert!(!failed, "{found}");
        assert!(
            found.contains("scout/alice/notes/kite-plan.md") && found.contains("kite-handbook.md"),
            "{found}"
        );
        assert!(
            !found.contains("kite-bob"),
            "another user's workspace: {found}"
        );
        let (_, bobs) = vault_tool(
            &store,
            &vault,
            &bob,
            "vault_search",
            json!({"query": "kite", "scope": "personal"}),
        )
        .await;
        assert!(
            bobs.contains("scout/bob/kite-bob.md") && !bobs.contains("handbook"),
            "{bobs}"
        );
        assert!(!bobs.contains("alice"), "{bobs}");

        let (failed, read) = vault_tool(
            &store,
            &vault,
            &alice,
            "vault_read",
            json!({"doc_id": plan.id.to_string()}),
        )
        .await;
        assert!(!failed, "{read}");
        assert!(
            read.starts_with("# kite-plan (scout/alice/notes/kite-plan.md)"),
            "{read}"
        );
        assert!(
            read.contains("Kites fly at dusk.") && read.contains("## Links\n- kite-gear"),
            "{read}"
        );
        let (failed, refused) = vault_tool(
            &store,
            &vault,
            &bob,
            "vault_read",
            json!({"doc_id": plan.id.to_string()}),
        )
        .await;
        assert!(failed && refused.contains("not accessible"), "{refused}");
        let (failed, capped) = vault_tool(
            &store,
            &vault,
            &alice,
            "vault_read",
            json!({"doc_id": plan.id.to_string(), "max_bytes": 5}),
        )
        .await;
        assert!(
            !failed && capped.contains("Kites\n\n…[truncated"),
            "{capped}"
        );
        let (failed, bad) = vault_tool(
            &store,
            &vault,
            &alice,
            "vault_read",
            json!({"doc_id": "nope"}),
        )
        .await;
        assert!(failed && bad.contains("invalid doc_id"), "{bad}");
    }
);

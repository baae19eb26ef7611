//! The knowledge vault over a real store (both engines) and a real file watcher: a file
//! written into a workspace by anyone is found by a search within 2 s; a moved note keeps its
//! document and the link graph follows the new name; a deleted file leaves the results and the
//! links into it go; agents and tenants see only their own documents and the shared ones; a
//! rescan registers, updates and forgets what the disk says.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use goclaw_core::{
    AgentId, AgentKey, MASTER_TENANT_ID, NewAgent, Store, TenantId, VaultDocument, VaultScope,
    VaultView,
};
use goclaw_fake_llm::FakeLlm;
use goclaw_memory::embed::{EmbeddingClient, EmbeddingSettings};
use goclaw_memory::vault::{SearchRequest, Vault, VaultWatcher};
use goclaw_store::database_test;
use goclaw_store::testing::TestDatabase;
use tokio_util::sync::CancellationToken;

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

fn write(root: &Path, path: &str, text: &str) {
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("directories");
    std::fs::write(file, text).expect("file written");
}

/// A store with a second tenant, a workspace directory, and the vault over them.
struct Setup {
    _db: TestDatabase,
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    vault: Vault,
    root: std::path::PathBuf,
}

async fn setup(db: TestDatabase, embedder: Option<&FakeLlm>) -> Setup {
    let db = db.migrated_with_tenant(ACME, "acme").await;
    let store = db.store();
    let dir = tempfile::tempdir().expect("workspace base");
    let embedder = embedder.map(|fake| {
        let client = EmbeddingClient::new(EmbeddingSettings::new("fake", fake.base_url()))
            .expect("embedding client");
        Arc::new(client) as Arc<dyn goclaw_memory::embed::Embedder>
    });
    let vault = Vault::new(store.clone(), embedder, dir.path().to_path_buf());
    let root = vault.base().to_path_buf();
    Setup {
        _db: db,
        _dir: dir,
        store,
        vault,
        root,
    }
}

/// Polls `check` every 50 ms until it holds, for at most `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn found(vault: &Vault, view: &VaultView, query: &str) -> Vec<String> {
    vault
        .search(view, &SearchRequest::new(query))
        .await
        .expect("search")
        .into_iter()
        .map(|hit| hit.document.path)
        .collect()
}

async fn doc(store: &dyn Store, view: &VaultView, path: &str) -> Option<VaultDocument> {
    store
        .vault()
        .lookup(view, path, false)
        .await
        .expect("lookup")
        .into_iter()
        .next()
}

database_test!(
    the_watcher_registers_moves_and_forgets_files,
    |db: TestDatabase| async move {
        let s = setup(db, None).await;
        let keeper = agent(s.store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let view = VaultView::agent(MASTER_TENANT_ID, keeper);
        let shutdown = CancellationToken::new();
        let watcher = VaultWatcher::start(s.vault.clone(), shutdown.clone()).expect("watching");

        // Written by something other than an agent's tools: found within 2 s.
        write(
            &s.root,
            "keeper/notes/falcon.md",
            "# Falcon\nThe falcon launch plan.\n",
        );
        eventually(
            Duration::from_secs(2),
            "the new note is searchable",
            || async { found(&s.vault, &view, "falcon").await == ["keeper/notes/falcon.md"] },
        )
        .await;
        let falcon = doc(s.store.as_ref(), &view, "keeper/notes/falcon.md")
            .await
            .expect("registered");
        assert_eq!(
            (
                falcon.scope,
                falcon.agent_id,
                falcon.doc_type.as_str(),
                falcon.title.as_str()
            ),
            (VaultScope::Personal, Some(keeper), "note", "falcon")
        );

        // A note linking it, by name and by a name nothing has yet.
        write(
            &s.root,
            "keeper/index.md",
            "Start with [[falcon]]; later read [[osprey|the osprey plan]].\n",
        );
        eventually(
            Duration::from_secs(2),
            "the index links the note",
            || async {
                let Some(index) = doc(s.store.as_ref(), &view, "keeper/index.md").await else {
                    return false;
                };
                let out = s
                    .store
                    .vault()
                    .out_links(MASTER_TENANT_ID, index.id)
                    .await
                    .expect("out");
                out.len() == 1 && out[0].to_doc_id == falcon.id
            },
        )
        .await;

        // Renamed: the same document under the new path; [[osprey]] now resolves to it and
        // [[falcon]] no longer does.
        std::fs::rename(
            s.root.join("keeper/notes/falcon.md"),
            s.root.join("keeper/notes/osprey.md"),
        )
        .expect("rename");
        eventually(
            Duration::from_secs(3),
            "the link follows the new name",
            || async {
                let Some(moved) = doc(s.store.as_ref(), &view, "keeper/notes/osprey.md").await
                else {
                    return false;
                };
                let Some(index) = doc(s.store.as_ref(), &view, "keeper/index.md").await else {
                    return false;
                };
                let out = s
                    .store
                    .vault()
                    .out_links(MASTER_TENANT_ID, index.id)
                    .await
                    .expect("out");
                moved.id == falcon.id
                    && out.len() == 1
                    && out[0].to_doc_id == falcon.id
                    && out[0].context.contains("[[osprey|the osprey plan]]")
            },
        )
        .await;
        assert_eq!(
            doc(s.store.as_ref(), &view, "keeper/notes/falcon.md").await,
            None
        );
        let back = s
            .store
            .vault()
            .backlinks(MASTER_TENANT_ID, falcon.id)
            .await
            .expect("back");
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].path, "keeper/index.md");

        // Deleted: gone from the results, and the links into it with it.
        std::fs::remove_file(s.root.join("keeper/notes/osprey.md")).expect("delete");
        eventually(
            Duration::from_secs(2),
            "the deleted note leaves",
            || async { found(&s.vault, &view, "osprey").await.is_empty() },
        )
        .await;
        let index = doc(s.store.as_ref(), &view, "keeper/index.md")
            .await
            .expect("index");
        assert!(
            s.store
                .vault()
                .out_links(MASTER_TENANT_ID, index.id)
                .await
                .expect("out")
                .is_empty()
        );

        // A whole directory moved in at once, then removed.
        let staging = tempfile::tempdir_in(&s.root).expect("staging");
        write(staging.path(), "kestrel.md", "kestrel");
        write(staging.path(), "deep/harrier.md", "harrier");
        std::fs::rename(staging.path(), s.root.join("keeper/birds")).expect("move in");
        eventually(Duration::from_secs(3), "the directory's files", || async {
            found(&s.vault, &view, "harrier").await == ["keeper/birds/deep/harrier.md"]
                && found(&s.vault, &view, "kestrel").await == ["keeper/birds/kestrel.md"]
        })
        .await;
        std::fs::remove_dir_all(s.root.join("keeper/birds")).expect("remove dir");
        eventually(
            Duration::from_secs(2),
            "the directory's files leave",
            || async {
                found(&s.vault, &view, "harrier").await.is_empty()
                    && found(&s.vault, &view, "kestrel").await.is_empty()
            },
        )
        .await;
        assert!(watcher.is_running());
        shutdown.cancel();
    }
);

database_test!(
    agents_and_tenants_see_only_their_documents,
    |db: TestDatabase| async move {
        let s = setup(db, None).await;
        let store = s.store.as_ref();
        let keeper = agent(store, MASTER_TENANT_ID, "keeper").await;
        let other = agent(store, MASTER_TENANT_ID, "other").await;
        let acme_keeper = agent(store, acme(), "keeper").await;
        write(&s.root, "keeper/heron-secret.md", "nest coordinates");
        write(&s.root, "other/heron-notes.md", "sightings");
        write(&s.root, "heron-handbook.md", "for everyone");
        write(&s.root, "keeper/heron.exe", "binary");
        let acme_file = format!("tenants/{ACME}/keeper/heron-acme.md");
        write(&s.root, &acme_file, "acme plans");
        let master = s.vault.rescan(MASTER_TENANT_ID).await.expect("rescan");
        assert_eq!(
            (master.scanned, master.new, master.truncated),
            (3, 3, false)
        );
        let acme_scan = s.vault.rescan(acme()).await.expect("rescan acme");
        assert_eq!((acme_scan.scanned, acme_scan.new), (1, 1));

        let sorted = |mut paths: Vec<String>| {
            paths.sort();
            paths
        };
        let keepers = VaultView::agent(MASTER_TENANT_ID, keeper);
        let others = VaultView::agent(MASTER_TENANT_ID, other);
        assert_eq!(
            sorted(found(&s.vault, &keepers, "heron").await),
            ["heron-handbook.md", "keeper/heron-secret.md"]
        );
        assert_eq!(
            sorted(found(&s.vault, &others, "heron").await),
            ["heron-handbook.md", "other/heron-notes.md"]
        );
        let acme_view = VaultView::agent(acme(), acme_keeper);
        assert_eq!(
            found(&s.vault, &acme_view, "heron").await,
            ["keeper/heron-acme.md"]
        );
        let tenant = VaultView::tenant(MASTER_TENANT_ID);
        assert_eq!(
            found(&s.vault, &tenant, "heron").await.len(),
            3,
            "the tenant's view has all of its documents and none of acme's"
        );

        // A second rescan changes nothing; a changed and a deleted file are followed.
        let again = s.vault.rescan(MASTER_TENANT_ID).await.expect("again");
        assert_eq!((again.new, again.updated, again.unchanged), (0, 0, 3));
        write(&s.root, "heron-handbook.md", "changed");
        std::fs::remove_file(s.root.join("other/heron-notes.md")).expect("delete");
        let third = s.vault.rescan(MASTER_TENANT_ID).await.expect("third");
        assert_eq!((third.scanned, third.updated, third.unchanged), (2, 1, 1));
        assert_eq!(
            found(&s.vault, &others, "heron").await,
            ["heron-handbook.md"]
        );
    }
);

database_test!(
    with_an_embedder_documents_are_found_by_vector_too,
    |db: TestDatabase| async move {
        let fake = FakeLlm::start().await;
        let s = setup(db, Some(&fake)).await;
        let keeper = agent(s.store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        // The title and path do not hold the word; only the embedded text does.
        write(
            &s.root,
            "keeper/q3.md",
            "cormorant migration routes along the coast",
        );
        write(&s.root, "keeper/q4.md", "budget spreadsheet totals");
        s.vault.rescan(MASTER_TENANT_ID).await.expect("rescan");
        let view = VaultView::agent(MASTER_TENANT_ID, keeper);
        let hits = s
            .vault
            .search(&view, &SearchRequest::new("cormorant migration"))
            .await
            .expect("search");
        assert_eq!(hits[0].document.path, "keeper/q3.md", "{hits:?}");
        assert!(hits[0].score > 0.0);
        let request = SearchRequest {
            doc_types: vec!["media".to_owned()],
            ..SearchRequest::new("cormorant migration")
        };
        assert!(
            s.vault
                .search(&view, &request)
                .await
                .expect("search")
                .is_empty()
        );
    }
);

database_test!(
    a_deleted_agents_files_never_become_shared,
    |db: TestDatabase| async move {
        let s = setup(db, None).await;
        let store = s.store.as_ref();
        agent(store, MASTER_TENANT_ID, "keeper").await;
        let other = agent(store, MASTER_TENANT_ID, "other").await;
        write(&s.root, "keeper/alice/plover-diary.md", "private");
        s.vault.rescan(MASTER_TENANT_ID).await.expect("rescan");
        store
            .agents()
            .delete(MASTER_TENANT_ID, &AgentKey::parse("keeper").expect("key"))
            .await
            .expect("soft delete");
        write(&s.root, "keeper/alice/plover-more.md", "more private");
        write(&s.root, "plover-guide.md", "shared");
        let scan = s.vault.rescan(MASTER_TENANT_ID).await.expect("rescan");
        assert_eq!((scan.new, scan.skipped > 0), (1, true), "{scan:?}");
        let others = VaultView::agent(MASTER_TENANT_ID, other);
        assert_eq!(
            found(&s.vault, &others, "plover").await,
            ["plover-guide.md"]
        );
    }
);

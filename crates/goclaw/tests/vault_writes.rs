//! Changing the knowledge vault over GoClaw's routes on both engines: alice and bob
//! (read+write keys bound to them) retitle, link, register and forget only documents in their
//! own workspace of the `open` agent `default`; vera (a read-only key) changes nothing; the
//! tenant's shared documents are an admin's; the folder tree and batched links show each caller
//! only what they see; the enrichment routes answer idle; answers have GoClaw's shapes.

mod support;

use std::path::Path;

use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "vault-writes-token-60f2a9";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        // No enrichment: its model calls would race the assertions on the enrichment routes.
        "{ gateway: { rate_limit_rpm: 0 }, agents: { defaults: { memory: { vault_enrichment: false } } } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

fn write(root: &Path, path: &str, text: &str) {
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("directories");
    std::fs::write(file, text).expect("file written");
}

/// The id of the document at `path`, as the admin lists it.
async fn id_of(who: &Callers, app: &TestApp, path: &str) -> String {
    let (status, list) = who
        .call(
            app,
            "admin",
            Method::GET,
            "/v1/vault/documents?limit=500",
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["documents"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["path"] == path))
        .and_then(|d| d["id"].as_str())
        .unwrap_or_else(|| panic!("{path} not in {list}"))
        .to_owned()
}

app_test!(
    each_user_changes_only_their_own_workspace,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        let ws = app.data_dir.path().join("workspace");
        write(&ws, "default/alice/plan.md", "# Plan\n");
        write(&ws, "default/bob/bobs.md", "bob's");
        write(&ws, "handbook.md", "for everyone");
        let (status, _) = who
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/vault/rescan",
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200);
        let plan = id_of(&who, &app, "default/alice/plan.md").await;
        let bobs = id_of(&who, &app, "default/bob/bobs.md").await;
        let handbook = id_of(&who, &app, "handbook.md").await;
        let agent_doc = |id: &str| format!("/v1/agents/default/vault/documents/{id}");

        // Retitling: alice her own document; nobody else's, nor the shared one below admin.
        let change =
            json!({"title": "Heron plan", "doc_type": "note", "metadata": {"tag": "birds"}});
        let (status, changed) = who
            .call(
                &app,
                "alice",
                Method::PUT,
                &agent_doc(&plan),
                Some(change.clone()),
            )
            .await;
        assert_eq!(status, 200, "{changed}");
        assert_goclaw_shape("http_get_v1_vault_documents_id", &changed);
        assert_eq!(
            (&changed["title"], &changed["metadata"]),
            (&json!("Heron plan"), &json!({"tag": "birds"}))
        );
        for (caller, id, expected) in [
            ("bob", &plan, 404),
            ("vera", &plan, 403),
            ("alice", &handbook, 404),
            ("alice", &bobs, 404),
        ] {
            let (status, answer) = who
                .call(
                    &app,
                    caller,
                    Method::PUT,
                    &format!("/v1/vault/documents/{id}"),
                    Some(change.clone()),
                )
                .await;
            assert_eq!(status, expected, "{caller} PUT {id}: {answer}");
        }
        let (status, _) = who
            .call(
                &app,
                "admin",
                Method::PUT,
                &format!("/v1/vault/documents/{handbook}"),
                Some(json!({"title": "Handbook"})),
            )
            .await;
        assert_eq!(status, 200);
        for bad in [
            json!({"scope": "shared"}),
            json!({"team_id": "0193a5b0-7000-7000-8000-0000000000aa"}),
            json!({"doc_type": "spreadsheet"}),
            json!({"title": " "}),
        ] {
            let (status, answer) = who
                .call(
                    &app,
                    "alice",
                    Method::PUT,
                    &agent_doc(&plan),
                    Some(bad.clone()),
                )
                .await;
            assert_eq!(status, 400, "{bad}: {answer}");
        }

        // Links: from her own document to one she sees; never from or to someone else's.
        let link =
            json!({"from_doc_id": plan, "to_doc_id": handbook, "context": "see the handbook"});
        let (status, made) = who
            .call(
                &app,
                "alice",
                Method::POST,
                "/v1/agents/default/vault/links",
                Some(link),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        assert_eq!(
            (&made["link_type"], &made["to_doc_id"]),
            (&json!("reference"), &json!(handbook))
        );
        let link_id = made["id"].as_str().expect("link id").to_owned();
        let (_, links) = who
            .call(
                &app,
                "alice",
                Method::GET,
                &format!("{}/links", agent_doc(&plan)),
                None,
            )
            .await;
        assert_goclaw_shape("http_get_v1_vault_documents_id_links", &links);
        assert_eq!(links["outlinks"][0]["id"], json!(link_id), "{links}");
        for (caller, from, to) in [
            ("alice", &plan, &bobs),
            ("bob", &bobs, &plan),
            ("bob", &handbook, &bobs),
        ] {
            let (status, answer) = who
                .call(
                    &app,
                    caller,
                    Method::POST,
                    "/v1/vault/links",
                    Some(json!({"from_doc_id": from, "to_doc_id": to})),
                )
                .await;
            assert_eq!(status, 404, "{caller} {from} → {to}: {answer}");
        }
        for (caller, expected) in [("bob", 404), ("vera", 403)] {
            let (status, _) = who
                .call(
                    &app,
                    caller,
                    Method::DELETE,
                    &format!("/v1/vault/links/{link_id}"),
                    None,
                )
                .await;
            assert_eq!(status, expected, "{caller}");
        }
        let (status, _) = who
            .call(
                &app,
                "alice",
                Method::DELETE,
                &format!("/v1/agents/default/vault/links/{link_id}"),
                None,
            )
            .await;
        assert_eq!(status, 204);
        let (_, links) = who
            .call(
                &app,
                "alice",
                Method::GET,
                &format!("/v1/vault/documents/{plan}/links"),
                None,
            )
            .await;
        assert_eq!(links["outlinks"], json!([]), "{links}");

        // Registering a file of her own workspace; not bob's, not outside the workspace.
        write(&ws, "default/alice/heron-count.md", "14 nests");
        let (status, created) = who
            .call(
                &app,
                "alice",
                Method::POST,
                "/v1/agents/default/vault/documents",
                Some(json!({"path": "default/alice/heron-count.md", "title": "Heron count"})),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        assert_goclaw_shape("http_get_v1_vault_documents_id", &created);
        assert_eq!(
            (&created["title"], &created["scope"]),
            (&json!("Heron count"), &json!("personal"))
        );
        for (path, expected) in [
            ("default/bob/bobs.md", 404),
            ("default/alice/missing.md", 404),
            ("../outside.md", 404),
            ("/etc/passwd", 404),
        ] {
            let (status, answer) = who
                .call(
                    &app,
                    "alice",
                    Method::POST,
                    "/v1/vault/documents",
                    Some(json!({"path": path, "title": "X"})),
                )
                .await;
            assert_eq!(status, expected, "{path}: {answer}");
        }
        let (status, _) = who
            .call(
                &app,
                "vera",
                Method::POST,
                "/v1/vault/documents",
                Some(json!({"path": "handbook.md", "title": "X"})),
            )
            .await;
        assert_eq!(status, 403);

        // Forgetting: her own only; the file stays on disk.
        for (caller, id, expected) in [
            ("bob", &plan, 404),
            ("vera", &plan, 403),
            ("alice", &handbook, 404),
        ] {
            let (status, _) = who
                .call(
                    &app,
                    caller,
                    Method::DELETE,
                    &format!("/v1/vault/documents/{id}"),
                    None,
                )
                .await;
            assert_eq!(status, expected, "{caller} DELETE {id}");
        }
        let (status, _) = who
            .call(&app, "alice", Method::DELETE, &agent_doc(&plan), None)
            .await;
        assert_eq!(status, 204);
        let (status, _) = who
            .call(&app, "alice", Method::GET, &agent_doc(&plan), None)
            .await;
        assert_eq!(status, 404);
        assert!(ws.join("default/alice/plan.md").is_file(), "the file stays");
    }
);

/// The names of a tree level's entries, folders marked with a trailing `/`.
fn names(tree: &Value) -> Vec<String> {
    tree["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries: {tree}"))
        .iter()
        .map(|e| {
            let name = e["name"].as_str().expect("name");
            if e["isDir"] == true {
                format!("{name}/")
            } else {
                name.to_owned()
            }
        })
        .collect()
}

app_test!(
    the_tree_and_batched_links_show_each_caller_what_they_see,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        let ws = app.data_dir.path().join("workspace");
        write(&ws, "default/alice/notes/a.md", "a");
        write(&ws, "default/alice/b.md", "b");
        write(&ws, "default/bob/c.md", "c");
        write(&ws, "handbook.md", "for everyone");
        let (status, _) = who
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/vault/rescan",
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200);
        let b = id_of(&who, &app, "default/alice/b.md").await;
        let c = id_of(&who, &app, "default/bob/c.md").await;
        let handbook = id_of(&who, &app, "handbook.md").await;

        let tree = |caller: &'static str, path: &'static str| {
            let who = &who;
            let app = &app;
            async move {
                let (status, tree) = who
                    .call(
                        app,
                        caller,
                        Method::GET,
                        &format!("/v1/vault/tree?path={path}"),
                        None,
                    )
                    .await;
                assert_eq!(status, 200, "{caller} {path}: {tree}");
                tree
            }
        };
        let root = tree("alice", "").await;
        assert_goclaw_shape("http_get_v1_vault_tree", &root);
        assert_eq!(names(&root), ["default/", "handbook.md"]);
        assert_eq!(names(&tree("alice", "default").await), ["alice/"]);
        assert_eq!(names(&tree("bob", "default").await), ["bob/"]);
        assert!(names(&tree("vera", "default").await).is_empty());
        assert_eq!(names(&tree("admin", "default").await), ["alice/", "bob/"]);
        let mine = tree("alice", "default/alice").await;
        assert_eq!(names(&mine), ["notes/", "b.md"]);
        assert_eq!(mine["entries"][1]["docId"], json!(b), "{mine}");
        assert!(names(&tree("alice", "../default").await).is_empty());

        for (caller, from) in [("alice", &b), ("bob", &c)] {
            let (status, made) = who
                .call(
                    &app,
                    caller,
                    Method::POST,
                    "/v1/vault/links",
                    Some(json!({"from_doc_id": from, "to_doc_id": handbook})),
                )
                .await;
            assert_eq!(status, 201, "{caller}: {made}");
        }
        let batch = json!({"doc_ids": [b, c, handbook, "not-an-id"]});
        let from_of = |links: &Value| -> Vec<String> {
            links
                .as_array()
                .unwrap_or_else(|| panic!("a bare array: {links}"))
                .iter()
                .map(|l| l["from_doc_id"].as_str().expect("from").to_owned())
                .collect()
        };
        let (status, links) = who
            .call(
                &app,
                "alice",
                Method::POST,
                "/v1/vault/links/batch",
                Some(batch.clone()),
            )
            .await;
        assert_eq!(status, 200, "{links}");
        assert_goclaw_shape("http_post_v1_vault_links_batch", &links);
        assert_eq!(from_of(&links), [b.as_str()]);
        let (_, links) = who
            .call(
                &app,
                "bob",
                Method::POST,
                "/v1/vault/links/batch",
                Some(batch.clone()),
            )
            .await;
        assert_eq!(from_of(&links), [c.as_str()]);
        let (_, links) = who
            .call(
                &app,
                "vera",
                Method::POST,
                "/v1/vault/links/batch",
                Some(batch.clone()),
            )
            .await;
        assert!(from_of(&links).is_empty(), "{links}");
        let (_, links) = who
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/vault/links/batch",
                Some(batch),
            )
            .await;
        assert_eq!(from_of(&links).len(), 2, "{links}");

        let (status, idle) = who
            .call(
                &app,
                "vera",
                Method::GET,
                "/v1/vault/enrichment/status",
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_goclaw_shape("http_get_v1_vault_enrichment_status", &idle);
        assert_eq!(idle["running"], false);
        let (status, _) = who
            .call(
                &app,
                "alice",
                Method::POST,
                "/v1/vault/enrichment/stop",
                None,
            )
            .await;
        assert_eq!(status, 403);
        let (status, stopped) = who
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/vault/enrichment/stop",
                None,
            )
            .await;
        assert_eq!(
            (status, &stopped["stopped"]),
            (200, &json!(false)),
            "{stopped}"
        );
    }
);

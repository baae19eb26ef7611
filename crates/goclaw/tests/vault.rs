//! The knowledge vault in the running gateway, on both engines: files dropped into the
//! workspaces by anyone are registered by the watcher within 2 s and served by the `/vault`
//! routes in GoClaw's shapes; two users with keys bound to them and a viewer each see the
//! tenant's shared documents and only their own workspace of an `open` agent; the rescan is
//! for admins; and `vault_search` and `vault_read` reach the model in a real turn, the search
//! also finding the caller's own episodes and knowledge graph, never another user's.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "vault-test-token-5d1c7e93";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

fn workspace(app: &TestApp) -> PathBuf {
    app.data_dir.path().join("workspace")
}

fn write(root: &Path, path: &str, text: &str) {
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("directories");
    std::fs::write(file, text).expect("file written");
}

/// `method path` with `bearer`; the status and the JSON body.
async fn call(
    app: &TestApp,
    bearer: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{method} {path} answered {status} with no JSON ({e}): {text}"));
    (status, json)
}

async fn get(app: &TestApp, bearer: &str, path: &str) -> (u16, Value) {
    call(app, bearer, Method::GET, path, None).await
}

fn paths(list: &Value) -> Vec<String> {
    let mut paths: Vec<String> = list["documents"]
        .as_array()
        .unwrap_or_else(|| panic!("no documents in {list}"))
        .iter()
        .map(|d| d["path"].as_str().expect("path").to_owned())
        .collect();
    paths.sort();
    paths
}

/// Polls the agent's listing as the owner until it holds `want` paths, for at most 2 s.
async fn listed_within_2s(app: &TestApp, want: &[&str]) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let (status, list) = get(app, TOKEN, "/v1/agents/default/vault/documents").await;
        assert_eq!(status, 200, "{list}");
        if paths(&list) == want {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not registered within 2 s: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn id_of(list: &Value, path: &str) -> String {
    list["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .find(|d| d["path"] == path)
        .and_then(|d| d["id"].as_str())
        .unwrap_or_else(|| panic!("{path} not in {list}"))
        .to_owned()
}

app_test!(
    the_dashboard_routes_serve_what_the_watcher_registered,
    app,
    |app: TestApp| async move {
        let (_, alice) = app
            .create_api_key(
                TOKEN,
                json!({"name": "alice", "scopes": ["operator.read"], "owner_id": "alice"}),
            )
            .await;
        let (_, bob) = app
            .create_api_key(
                TOKEN,
                json!({"name": "bob", "scopes": ["operator.read"], "owner_id": "bob"}),
            )
            .await;
        let (_, viewer) = app
            .create_api_key(
                TOKEN,
                json!({"name": "viewer", "scopes": ["operator.read"]}),
            )
            .await;
        // `default` is an `open` agent: each user's workspace is default/<user>.
        let ws = workspace(&app);
        write(
            &ws,
            "default/alice/falcon-plan.md",
            "# Plan\nsee [[falcon-notes]] first\n",
        );
        write(&ws, "default/alice/falcon-notes.md", "notes");
        write(&ws, "default/bob/falcon-bob.md", "bob's");
        write(&ws, "falcon-handbook.md", "for everyone");
        let all = [
            "default/alice/falcon-notes.md",
            "default/alice/falcon-plan.md",
            "default/bob/falcon-bob.md",
            "falcon-handbook.md",
        ];
        let list = listed_within_2s(&app, &all).await;
        assert_goclaw_shape("http_get_v1_agents_id_vault_documents", &list);
        assert_eq!(list["total"], 4);
        let plan = id_of(&list, "default/alice/falcon-plan.md");
        let notes = id_of(&list, "default/alice/falcon-notes.md");

        // After the start-up rescan: only the watcher sees a new file, then its deletion.
        write(&ws, "falcon-late.md", "late");
        let mut with_late = all.to_vec();
        with_late.push("falcon-late.md");
        listed_within_2s(&app, &with_late).await;
        std::fs::remove_file(ws.join("falcon-late.md")).expect("delete");
        listed_within_2s(&app, &all).await;

        // Each user sees the shared document and their own workspace; the viewer, no user's.
        let (_, mine) = get(&app, &alice, "/v1/agents/default/vault/documents").await;
        assert_eq!(
            paths(&mine),
            [
                "default/alice/falcon-notes.md",
                "default/alice/falcon-plan.md",
                "falcon-handbook.md"
            ]
        );
        assert_eq!(mine["total"], 3);
        let (_, bobs) = get(&app, &bob, "/v1/vault/documents?agent_id=default").await;
        assert_eq!(
            paths(&bobs),
            ["default/bob/falcon-bob.md", "falcon-handbook.md"]
        );
        let (_, viewers) = get(&app, &viewer, "/v1/vault/documents").await;
        assert_eq!(paths(&viewers), ["falcon-handbook.md"]);
        let (_, page) = get(
            &app,
            &alice,
            "/v1/agents/default/vault/documents?limit=1&offset=1",
        )
        .await;
        assert_eq!(
            (paths(&page).len(), &page["total"]),
            (1, &json!(3)),
            "{page}"
        );

        // One document, and its links.
        let (status, doc) = get(
            &app,
            &alice,
            &format!("/v1/agents/default/vault/documents/{plan}"),
        )
        .await;
        assert_eq!(status, 200, "{doc}");
        assert_goclaw_shape("http_get_v1_vault_documents_id", &doc);
        assert_eq!(
            (&doc["scope"], &doc["title"]),
            (&json!("personal"), &json!("falcon-plan"))
        );
        for (who, key) in [("bob", &bob), ("the viewer", &viewer)] {
            let (status, refused) = get(&app, key, &format!("/v1/vault/documents/{plan}")).await;
            assert_eq!(status, 404, "{who}: {refused}");
            let (status, _) = get(&app, key, &format!("/v1/vault/documents/{plan}/links")).await;
            assert_eq!(status, 404, "{who}");
        }
        let (status, links) = get(&app, &alice, &format!("/v1/vault/documents/{plan}/links")).await;
        assert_eq!(status, 200, "{links}");
        assert_eq!(links["outlinks"][0]["to_doc_id"], json!(notes), "{links}");
        assert_eq!(links["doc_names"][&notes], "falcon-notes");
        let (_, back) = get(
            &app,
            &alice,
            &format!("/v1/agents/default/vault/documents/{notes}/links"),
        )
        .await;
        assert_eq!(back["backlinks"][0]["from_doc_id"], json!(plan), "{back}");
        assert_eq!(back["backlinks"][0]["path"], "default/alice/falcon-plan.md");
        assert_goclaw_shape("http_get_v1_vault_documents_id_links", &back);

        // Search: by words of the name, only what the caller sees.
        let body = json!({"query": "falcon"});
        let (status, found) = call(
            &app,
            &bob,
            Method::POST,
            "/v1/agents/default/vault/search",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 200, "{found}");
        assert_goclaw_shape("http_post_v1_vault_search", &found);
        let mut found_paths: Vec<&str> = found
            .as_array()
            .expect("a bare array")
            .iter()
            .map(|r| r["document"]["path"].as_str().expect("path"))
            .collect();
        found_paths.sort_unstable();
        assert_eq!(
            found_paths,
            ["default/bob/falcon-bob.md", "falcon-handbook.md"]
        );
        assert_eq!(found[0]["source"], "vault");
        let (_, none) = call(
            &app,
            &alice,
            Method::POST,
            "/v1/vault/search",
            Some(json!({"query": "osprey"})),
        )
        .await;
        assert_eq!(none, json!([]));
        let (status, _) = call(
            &app,
            &alice,
            Method::POST,
            "/v1/vault/search",
            Some(json!({"query": ""})),
        )
        .await;
        assert_eq!(status, 400);

        // The rescan is an admin's.
        let (status, refused) = call(
            &app,
            &alice,
            Method::POST,
            "/v1/vault/rescan",
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 403, "{refused}");
        std::fs::remove_file(ws.join("default/bob/falcon-bob.md")).expect("delete");
        let (status, rescanned) = call(
            &app,
            TOKEN,
            Method::POST,
            "/v1/vault/rescan",
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 200, "{rescanned}");
        assert_goclaw_shape("http_post_v1_vault_rescan", &rescanned);
        assert_eq!(
            (&rescanned["scanned"], &rescanned["truncated"]),
            (&json!(3), &json!(false))
        );
        let (_, bobs) = get(&app, &bob, "/v1/vault/documents").await;
        assert_eq!(paths(&bobs), ["falcon-handbook.md"], "deleted files leave");
    }
);

async fn connect(app: &TestApp, user: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": TOKEN, "user_id": user }))
        .await;
    ws
}

app_test!(
    vault_tools_reach_the_model_in_a_turn,
    app,
    |app: TestApp| async move {
        let ws = workspace(&app);
        write(
            &ws,
            "default/alice/heron-survey.md",
            "Heron survey: 14 nests.\nSee [[heron-map]].\n",
        );
        write(&ws, "default/alice/heron-map.md", "map");
        write(&ws, "default/bob/heron-secret.md", "bob's");
        let list = listed_within_2s(
            &app,
            &[
                "default/alice/heron-map.md",
                "default/alice/heron-survey.md",
                "default/bob/heron-secret.md",
            ],
        )
        .await;
        let survey = id_of(&list, "default/alice/heron-survey.md");
        let secret = id_of(&list, "default/bob/heron-secret.md");

        app.llm.push(Reply::tool_call(
            "c1",
            "vault_search",
            json!({"query": "heron"}),
        ));
        app.llm.push(Reply::tool_call(
            "c2",
            "vault_read",
            json!({"doc_id": survey}),
        ));
        app.llm.push(Reply::tool_call(
            "c3",
            "vault_read",
            json!({"doc_id": secret}),
        ));
        app.llm.push(Reply::text("Fourteen nests."));
        let mut alice = connect(&app, "alice").await;
        let answer = alice
            .call_ok(
                "chat.send",
                json!({"message": "how many heron nests?", "sessionKey": "agent:default:ws:direct:vault"}),
            )
            .await;
        assert_eq!(answer["content"], "Fourteen nests.");
        let requests = app.llm.requests();
        let offered = requests[0].body.to_string();
        assert!(
            offered.contains("\"vault_search\"") && offered.contains("\"vault_read\""),
            "{offered}"
        );
        let searched = requests[1].body.to_string();
        assert!(
            searched.contains("default/alice/heron-survey.md") && searched.contains(&survey),
            "{searched}"
        );
        assert!(
            !searched.contains("heron-secret"),
            "another user's workspace: {searched}"
        );
        let read = requests[2].body.to_string();
        assert!(
            read.contains("Heron survey: 14 nests.") && read.contains("## Links"),
            "{read}"
        );
        assert!(read.contains("heron-map"), "{read}");
        let refused = requests[3].body.to_string();
        assert!(refused.contains("not accessible"), "{refused}");
        assert!(!refused.contains("bob's"), "{refused}");
    }
);

/// Stores an episode and a knowledge-graph entity about herons for `user` with `default`.
async fn remember_herons(app: &TestApp, user: &str) -> (String, String) {
    use goclaw_core::{
        AgentKey, EpisodicScope, GraphScope, MASTER_TENANT_ID, NewEntity, NewEpisode,
    };
    let store = app.db.store();
    let agent = store
        .agents()
        .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("default").expect("key"))
        .await
        .expect("the default agent");
    let episode = store
        .episodic()
        .insert_episode(NewEpisode {
            scope: EpisodicScope::new(MASTER_TENANT_ID, agent.id, user),
            session_key: format!("agent:default:ws:direct:{user}-herons"),
            summary: format!("{user} counted heron nests by the river."),
            l0_abstract: format!("{user}: heron nests"),
            key_topics: vec!["heron".to_owned()],
            embedding: None,
            source_type: "session".to_owned(),
            source_id: format!("{user}-herons#2"),
            turn_count: 1,
            token_count: 10,
            expires_at: None,
        })
        .await
        .expect("insert")
        .expect("a new episode");
    let entity = store
        .knowledge_graph()
        .upsert_entity(
            &GraphScope::new(MASTER_TENANT_ID, agent.id, user),
            NewEntity {
                external_id: format!("{user}-heronry"),
                name: format!("Heronry of {user}"),
                entity_type: "place".to_owned(),
                description: String::new(),
                properties: json!({}),
                source_id: "episode".to_owned(),
                confidence: 0.9,
                embedding: None,
            },
        )
        .await
        .expect("entity");
    (episode.id.to_string(), entity.id.to_string())
}

app_test!(
    vault_search_in_a_turn_finds_the_users_own_episodes_and_graph,
    app,
    |app: TestApp| async move {
        let ws = workspace(&app);
        write(&ws, "default/alice/heron-survey.md", "Heron survey");
        write(&ws, "default/bob/heron-bob.md", "bob's");
        listed_within_2s(
            &app,
            &["default/alice/heron-survey.md", "default/bob/heron-bob.md"],
        )
        .await;
        let (alices_episode, alices_entity) = remember_herons(&app, "alice").await;
        let (bobs_episode, bobs_entity) = remember_herons(&app, "bob").await;

        app.llm.push(Reply::tool_call(
            "c1",
            "vault_search",
            json!({"query": "heron", "user_id": "bob"}),
        ));
        app.llm.push(Reply::text("Found them."));
        let mut alice = connect(&app, "alice").await;
        alice
            .call_ok(
                "chat.send",
                json!({"message": "what do I know about herons?",
                       "sessionKey": "agent:default:ws:direct:unified"}),
            )
            .await;
        let requests = app.llm.requests();
        let found = requests[1].body.to_string();
        for (what, id) in [
            ("her document", "default/alice/heron-survey.md"),
            ("her episode", alices_episode.as_str()),
            ("her entity", alices_entity.as_str()),
        ] {
            assert!(found.contains(id), "{what} {id}: {found}");
        }
        assert!(
            found.contains("[episodic]") && found.contains("[kg]"),
            "{found}"
        );
        for (what, id) in [
            ("bob's document", "heron-bob"),
            ("bob's episode", bobs_episode.as_str()),
            ("bob's entity", bobs_entity.as_str()),
        ] {
            assert!(!found.contains(id), "{what}: {found}");
        }
    }
);

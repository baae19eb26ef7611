//! `/v1/agents/{id}/episodic`, `/episodic/search` and `/kg/…` on both engines, in GoClaw's
//! shapes and as its callers would see them: alice and bob (read+write keys bound to them) see
//! only their own episodes and graph, vera (a read-only key) none of theirs, an admin key the
//! tenant's; another tenant's agent is not found for anyone.

mod support;

use goclaw_core::{
    AgentKey, EpisodicScope, GraphScope, MASTER_TENANT_ID, NewAgent, NewEntity, NewEpisode,
    NewRelation, Store, TenantId,
};
use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "episodic-http-test-token-7d21c0";
const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(backend, "{}", &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

impl Callers {
    /// The `user_id`s of the episodes `who` lists at `path`.
    async fn listed(&self, app: &TestApp, who: &str, path: &str) -> Vec<String> {
        let (status, body) = self.call(app, who, Method::GET, path, None).await;
        assert_eq!(status, 200, "{who} GET {path}: {body}");
        users(&body, "user_id")
    }

    /// The abstracts `who` finds searching `body`.
    async fn found(&self, app: &TestApp, who: &str, body: Value) -> Vec<String> {
        let path = "/v1/agents/default/episodic/search";
        let (status, found) = self.call(app, who, Method::POST, path, Some(body)).await;
        assert_eq!(status, 200, "{who} POST {path}: {found}");
        users(&found, "l0_abstract")
    }
}

fn users(body: &Value, field: &str) -> Vec<String> {
    let mut values: Vec<String> = body
        .as_array()
        .unwrap_or_else(|| panic!("a bare array: {body}"))
        .iter()
        .filter_map(|e| e[field].as_str().map(str::to_owned))
        .collect();
    values.sort();
    values
}

async fn remember(store: &dyn Store, tenant: TenantId, agent: &str, user: &str) {
    let agent = store
        .agents()
        .get_by_key(tenant, &AgentKey::parse(agent).expect("key"))
        .await
        .expect("agent");
    store
        .episodic()
        .insert_episode(NewEpisode {
            scope: EpisodicScope::new(tenant, agent.id, user),
            session_key: format!("agent:default:ws:direct:{user}"),
            summary: format!("{user} talked about the lighthouse at length."),
            l0_abstract: format!("{user}: lighthouse"),
            key_topics: vec!["lighthouse".to_owned()],
            embedding: None,
            source_type: "session".to_owned(),
            source_id: format!("agent:default:ws:direct:{user}#2"),
            turn_count: 1,
            token_count: 12,
            expires_at: Some(chrono::Utc::now() + chrono::Duration::days(90)),
        })
        .await
        .expect("insert")
        .expect("new");
}

app_test!(
    episodes_are_listed_and_searched_by_their_users_only,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let store = app.db.store();
        for user in ["alice", "bob"] {
            remember(store.as_ref(), MASTER_TENANT_ID, "default", user).await;
        }
        app.db.add_tenant(ACME, "acme").await;
        let acme: TenantId = ACME.parse().expect("tenant");
        let theirs = store
            .agents()
            .create(NewAgent::new(
                acme,
                AgentKey::parse("default").expect("key"),
                "Acme",
            ))
            .await
            .expect("acme agent");
        remember(store.as_ref(), acme, "default", "alice").await;

        // GoClaw's shapes.
        let (status, list) = who
            .call(
                &app,
                "alice",
                Method::GET,
                "/v1/agents/default/episodic",
                None,
            )
            .await;
        assert_eq!(status, 200, "{list}");
        assert_goclaw_shape("http_get_v1_agents_id_episodic", &list);
        assert_eq!(
            list[0]["summary"],
            "alice talked about the lighthouse at length."
        );
        let (status, hits) = who
            .call(
                &app,
                "alice",
                Method::POST,
                "/v1/agents/default/episodic/search",
                Some(json!({ "query": "lighthouse" })),
            )
            .await;
        assert_eq!(status, 200, "{hits}");
        assert_goclaw_shape("http_post_v1_agents_id_episodic_search", &hits);
        assert_eq!(hits[0]["episodic_id"], list[0]["id"]);

        // Users see their own; naming someone else matches nothing.
        let list = "/v1/agents/default/episodic";
        for (caller, path, expected) in [
            ("alice", list.to_owned(), vec!["alice"]),
            ("alice", format!("{list}?user_id=bob"), vec![]),
            ("bob", list.to_owned(), vec!["bob"]),
            ("vera", list.to_owned(), vec![]),
            ("vera", format!("{list}?user_id=alice"), vec![]),
            ("admin", list.to_owned(), vec!["alice", "bob"]),
            ("admin", format!("{list}?user_id=bob"), vec!["bob"]),
            ("admin", format!("{list}?limit=1&offset=5"), vec![]),
        ] {
            assert_eq!(
                who.listed(&app, caller, &path).await,
                expected,
                "{caller} GET {path}"
            );
        }
        for (caller, body, expected) in [
            (
                "alice",
                json!({"query": "lighthouse"}),
                vec!["alice: lighthouse"],
            ),
            (
                "alice",
                json!({"query": "lighthouse", "user_id": "bob"}),
                vec![],
            ),
            (
                "bob",
                json!({"query": "lighthouse"}),
                vec!["bob: lighthouse"],
            ),
            (
                "vera",
                json!({"query": "lighthouse", "user_id": "alice"}),
                vec![],
            ),
            (
                "admin",
                json!({"query": "lighthouse", "user_id": "bob"}),
                vec!["bob: lighthouse"],
            ),
        ] {
            assert_eq!(
                who.found(&app, caller, body.clone()).await,
                expected,
                "{caller} {body}"
            );
        }

        // Another tenant's agent is not found, whoever asks and however it is named.
        for caller in ["alice", "admin"] {
            let path = format!("/v1/agents/{}/episodic", theirs.id);
            let (status, body) = who.call(&app, caller, Method::GET, &path, None).await;
            assert_eq!(status, 404, "{caller} {path}: {body}");
            assert_goclaw_shape("http_error", &body);
            let path = format!("/v1/agents/{}/episodic/search", theirs.id);
            let query = Some(json!({"query": "lighthouse", "user_id": "alice"}));
            let (status, _) = who.call(&app, caller, Method::POST, &path, query).await;
            assert_eq!(status, 404, "{caller} {path}");
        }

        // Bad input is answered with the API's error body.
        for (method, path, body) in [
            (Method::GET, "/v1/agents/default/episodic?limit=0", None),
            (Method::GET, "/v1/agents/default/episodic?offset=-1", None),
            (
                Method::POST,
                "/v1/agents/default/episodic/search",
                Some(json!({"query": " "})),
            ),
            (
                Method::POST,
                "/v1/agents/default/episodic/search",
                Some(json!({"query": "x", "max_results": 1000})),
            ),
        ] {
            let (status, answer) = who.call(&app, "alice", method.clone(), path, body).await;
            assert_eq!(status, 400, "{method} {path}: {answer}");
            assert_goclaw_shape("http_error", &answer);
        }
    }
);

/// Alice's graph with the default agent: Ada works at the Lab, a pending candidate pair.
async fn alice_graph(store: &dyn Store) -> (String, String) {
    let agent = store
        .agents()
        .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("default").expect("key"))
        .await
        .expect("agent");
    let scope = GraphScope::new(MASTER_TENANT_ID, agent.id, "alice");
    let graph = store.knowledge_graph();
    let entity = |id: &str, name: &str| NewEntity {
        external_id: id.to_owned(),
        name: name.to_owned(),
        entity_type: "person".to_owned(),
        description: String::new(),
        properties: json!({}),
        source_id: "episode".to_owned(),
        confidence: 1.0,
        embedding: None,
    };
    let ada = graph
        .upsert_entity(&scope, entity("ada", "Ada"))
        .await
        .expect("ada");
    let lab = graph
        .upsert_entity(&scope, entity("lab", "Lab"))
        .await
        .expect("lab");
    graph
        .upsert_relation(
            &scope,
            NewRelation {
                source: ada.id,
                relation_type: "works_at".to_owned(),
                target: lab.id,
                confidence: 0.9,
                properties: json!({}),
                valid_until: None,
            },
        )
        .await
        .expect("relation");
    graph
        .add_dedup_candidate(&scope, ada.id, lab.id, 0.93)
        .await
        .expect("candidate");
    (ada.id.to_string(), lab.id.to_string())
}

app_test!(
    the_knowledge_graph_is_read_by_its_user_only,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let (ada, lab) = alice_graph(app.db.store().as_ref()).await;
        let base = "/v1/agents/default/kg";
        let get = |caller: &'static str, path: String| {
            let who = &who;
            let app = &app;
            async move { who.call(app, caller, Method::GET, &path, None).await }
        };

        let (status, list) = get("alice", format!("{base}/entities")).await;
        assert_eq!(status, 200, "{list}");
        assert_goclaw_shape("http_get_v1_agents_id_kg_entities", &list);
        assert_eq!(users(&list, "name"), ["Ada", "Lab"]);
        let (_, found) = get("alice", format!("{base}/entities?q=ad")).await;
        assert_eq!(users(&found, "name"), ["Ada"]);
        let (status, detail) = get("alice", format!("{base}/entities/{ada}")).await;
        assert_eq!(status, 200, "{detail}");
        assert_goclaw_shape("http_get_v1_agents_id_kg_entities_id", &detail);
        assert_eq!(detail["relations"][0]["target_entity_id"], lab.as_str());
        let (status, walk) = who
            .call(
                &app,
                "alice",
                Method::POST,
                &format!("{base}/traverse"),
                Some(json!({"entity_id": ada})),
            )
            .await;
        assert_eq!(status, 200, "{walk}");
        assert_goclaw_shape("http_post_v1_agents_id_kg_traverse", &walk);
        assert_eq!(walk[1]["via"], "works_at");
        assert_eq!(walk[1]["path"], json!(["Ada", "Lab"]));
        let (status, pairs) = get("alice", format!("{base}/dedup")).await;
        assert_eq!(status, 200, "{pairs}");
        assert_goclaw_shape("http_get_v1_agents_id_kg_dedup", &pairs);

        // Nobody else reads alice's graph; an admin may, by naming her.
        for caller in ["bob", "vera"] {
            for path in [
                format!("{base}/entities"),
                format!("{base}/entities?user_id=alice"),
                format!("{base}/dedup?user_id=alice"),
            ] {
                let (status, body) = get(caller, path.clone()).await;
                assert_eq!((status, body.clone()), (200, json!([])), "{caller} {path}");
            }
            let (status, _) = get(caller, format!("{base}/entities/{ada}?user_id=alice")).await;
            assert_eq!(status, 404, "{caller}");
            let (_, walk) = who
                .call(
                    &app,
                    caller,
                    Method::POST,
                    &format!("{base}/traverse"),
                    Some(json!({"entity_id": ada, "user_id": "alice"})),
                )
                .await;
            assert_eq!(walk, json!([]), "{caller}");
        }
        let (_, list) = get("admin", format!("{base}/entities?user_id=alice")).await;
        assert_eq!(users(&list, "name"), ["Ada", "Lab"]);
        let (_, own) = get("admin", format!("{base}/entities")).await;
        assert_eq!(own, json!([]), "the admin's own graph is empty");
        let (status, _) = get("alice", format!("{base}/entities?limit=0")).await;
        assert_eq!(status, 400);
    }
);

//! Changing an agent's knowledge graph over `/v1/agents/{id}/kg/…` on both engines, in GoClaw's
//! shapes: alice and bob (read+write keys bound to them) upsert, merge, dismiss, delete and
//! reset only their own graph, see its stats and drawing, and cannot touch each other's; vera
//! (a read-only key) may read but never change; an admin key may name a user; an extraction
//! with a named provider lands in the caller's own graph.

mod support;

use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "kg-http-test-token-4b9e11";
const BASE: &str = "/v1/agents/default/kg";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(backend, "{}", &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

impl Callers {
    /// `method` on the knowledge-graph route `path` (under the default agent's `/kg`) as `who`.
    async fn kg(
        &self,
        app: &TestApp,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call(app, who, method, &format!("{BASE}{path}"), body)
            .await
    }

    /// `who` stores an entity in their graph (or in `user`'s); its id.
    async fn upsert(&self, app: &TestApp, who: &str, user: Option<&str>, name: &str) -> String {
        let mut body = json!({"external_id": name.to_lowercase(), "name": name,
                              "entity_type": "person", "description": format!("{name} of {who}")});
        if let Some(user) = user {
            body["user_id"] = json!(user);
        }
        let (status, stored) = self
            .kg(app, who, Method::POST, "/entities", Some(body))
            .await;
        assert_eq!(status, 200, "{who} upsert {name}: {stored}");
        assert_goclaw_shape("http_post_v1_agents_id_kg_entities", &stored);
        let path = format!("/entities?q={}", name.to_lowercase());
        let (_, found) = self
            .kg(
                app,
                if user.is_some() { "admin" } else { who },
                Method::GET,
                &match user {
                    Some(user) => format!("{path}&user_id={user}"),
                    None => path,
                },
                None,
            )
            .await;
        found
            .as_array()
            .and_then(|f| f.iter().find(|e| e["name"] == name))
            .and_then(|e| e["id"].as_str())
            .unwrap_or_else(|| panic!("{name} not found: {found}"))
            .to_owned()
    }

    async fn names(&self, app: &TestApp, who: &str) -> Vec<String> {
        let (status, list) = self.kg(app, who, Method::GET, "/entities", None).await;
        assert_eq!(status, 200, "{list}");
        let mut names: Vec<String> = list
            .as_array()
            .expect("a bare array")
            .iter()
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    }
}

app_test!(
    each_user_changes_only_their_own_graph,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let ada = who.upsert(&app, "alice", None, "Ada").await;
        let lab = who.upsert(&app, "alice", None, "Lab").await;
        let ada_again = who.upsert(&app, "alice", None, "Ada").await;
        assert_eq!(ada, ada_again, "upserted by external id");
        let bobs = who.upsert(&app, "bob", None, "Bert").await;
        who.upsert(&app, "admin", Some("bob"), "Berta").await;
        assert_eq!(who.names(&app, "alice").await, ["Ada", "Lab"]);
        assert_eq!(who.names(&app, "bob").await, ["Bert", "Berta"]);

        // Stats and the drawing are the caller's own graph.
        let (status, stats) = who.kg(&app, "alice", Method::GET, "/stats", None).await;
        assert_eq!(status, 200, "{stats}");
        assert_goclaw_shape("http_get_v1_agents_id_kg_stats", &stats);
        assert_eq!(
            stats,
            json!({"entity_count": 2, "relation_count": 0, "entity_types": {"person": 2}})
        );
        let (_, theirs) = who
            .kg(&app, "vera", Method::GET, "/stats?user_id=alice", None)
            .await;
        assert_eq!(theirs["entity_count"], 0, "{theirs}");
        let (status, drawing) = who.kg(&app, "bob", Method::GET, "/graph", None).await;
        assert_eq!(status, 200, "{drawing}");
        let drawn: Vec<&str> = drawing["entities"]
            .as_array()
            .expect("entities")
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert_eq!(drawn, ["Bert", "Berta"]);
        assert_eq!(drawing["relations"], json!([]));

        // Nobody below admin changes someone else's graph, whatever they name.
        for (caller, path, body) in [
            ("bob", "/merge", json!({"target_id": ada, "source_id": lab})),
            (
                "bob",
                "/merge",
                json!({"target_id": ada, "source_id": lab, "user_id": "alice"}),
            ),
            (
                "bob",
                "/entities",
                json!({"external_id": "x", "name": "X",
                                         "entity_type": "t", "user_id": "alice"}),
            ),
        ] {
            let (status, answer) = who.kg(&app, caller, Method::POST, path, Some(body)).await;
            assert!(
                matches!(status, 403 | 404),
                "{caller} {path}: {status} {answer}"
            );
        }
        let (status, _) = who
            .kg(
                &app,
                "bob",
                Method::DELETE,
                &format!("/entities/{ada}"),
                None,
            )
            .await;
        assert_eq!(status, 404, "alice's entity is not in bob's graph");
        let (status, _) = who
            .kg(&app, "bob", Method::POST, "/reset?user_id=alice", None)
            .await;
        assert_eq!(status, 403);
        for (method, path, body) in [
            (
                Method::POST,
                "/entities".to_owned(),
                Some(json!({"external_id": "v",
                "name": "V", "entity_type": "t"})),
            ),
            (Method::DELETE, format!("/entities/{bobs}"), None),
            (Method::POST, "/reset".to_owned(), None),
        ] {
            let (status, _) = who.kg(&app, "vera", method.clone(), &path, body).await;
            assert_eq!(status, 403, "vera {method} {path}");
        }
        assert_eq!(who.names(&app, "alice").await, ["Ada", "Lab"]);
        assert_eq!(who.names(&app, "bob").await, ["Bert", "Berta"]);

        // Alice merges Lab into Ada, then deletes Ada.
        let (status, merged) = who
            .kg(
                &app,
                "alice",
                Method::POST,
                "/merge",
                Some(json!({"target_id": ada, "source_id": lab})),
            )
            .await;
        assert_eq!(status, 200, "{merged}");
        assert_goclaw_shape("http_post_v1_agents_id_kg_merge", &merged);
        assert_eq!(who.names(&app, "alice").await, ["Ada"]);
        let (status, deleted) = who
            .kg(
                &app,
                "alice",
                Method::DELETE,
                &format!("/entities/{ada}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{deleted}");
        assert_goclaw_shape("http_delete_v1_agents_id_kg_entities_id", &deleted);
        assert!(who.names(&app, "alice").await.is_empty());
        let (status, _) = who
            .kg(
                &app,
                "alice",
                Method::DELETE,
                &format!("/entities/{ada}"),
                None,
            )
            .await;
        assert_eq!(status, 404, "deleted already");

        // Bob resets his graph; the admin's reset of alice's finds nothing left.
        let (status, reset) = who.kg(&app, "bob", Method::POST, "/reset", None).await;
        assert_eq!(status, 200, "{reset}");
        assert_goclaw_shape("http_post_v1_agents_id_kg_reset", &reset);
        assert_eq!(reset, json!({"deleted_count": 2}));
        assert!(who.names(&app, "bob").await.is_empty());
        let (_, none) = who
            .kg(&app, "admin", Method::POST, "/reset?user_id=alice", None)
            .await;
        assert_eq!(none, json!({"deleted_count": 0}));

        // Bad input.
        for (path, body) in [
            (
                "/entities",
                json!({"external_id": " ", "name": "No id", "entity_type": "t"}),
            ),
            (
                "/entities",
                json!({"external_id": "e", "name": "E", "entity_type": "t",
                                 "confidence": 2}),
            ),
            ("/merge", json!({"target_id": "", "source_id": ada})),
            ("/dedup/dismiss", json!({"candidate_id": " "})),
        ] {
            let (status, answer) = who
                .kg(&app, "alice", Method::POST, path, Some(body.clone()))
                .await;
            assert_eq!(status, 400, "{path} {body}: {answer}");
        }
        let (status, _) = who
            .kg(
                &app,
                "alice",
                Method::POST,
                "/dedup/dismiss",
                Some(json!({"candidate_id": "0193a5b0-7000-7000-8000-0000000000ff"})),
            )
            .await;
        assert_eq!(status, 404);
    }
);

app_test!(
    a_candidate_pair_is_dismissed_by_its_user,
    app,
    |app: TestApp| async move {
        use goclaw_core::{AgentKey, GraphScope, MASTER_TENANT_ID};
        let who = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let ada = who.upsert(&app, "alice", None, "Ada").await;
        let adah = who.upsert(&app, "alice", None, "Adah").await;
        let store = app.db.store();
        let agent = store
            .agents()
            .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("default").expect("key"))
            .await
            .expect("agent");
        let scope = GraphScope::new(MASTER_TENANT_ID, agent.id, "alice");
        let id = |raw: &str| raw.parse().expect("a uuid");
        store
            .knowledge_graph()
            .add_dedup_candidate(&scope, id(&ada), id(&adah), 0.93)
            .await
            .expect("candidate");
        let (_, pairs) = who.kg(&app, "alice", Method::GET, "/dedup", None).await;
        let candidate = pairs[0]["id"].as_str().expect("a pending pair").to_owned();
        let dismiss = json!({"candidate_id": candidate});
        for caller in ["bob", "vera"] {
            let (status, _) = who
                .kg(
                    &app,
                    caller,
                    Method::POST,
                    "/dedup/dismiss",
                    Some(dismiss.clone()),
                )
                .await;
            assert!(matches!(status, 403 | 404), "{caller}: {status}");
        }
        let (status, dismissed) = who
            .kg(
                &app,
                "alice",
                Method::POST,
                "/dedup/dismiss",
                Some(dismiss.clone()),
            )
            .await;
        assert_eq!(status, 200, "{dismissed}");
        assert_goclaw_shape("http_post_v1_agents_id_kg_dedup_dismiss", &dismissed);
        let (_, pairs) = who.kg(&app, "alice", Method::GET, "/dedup", None).await;
        assert_eq!(pairs, json!([]));
        let (status, again) = who
            .kg(&app, "alice", Method::POST, "/dedup/dismiss", Some(dismiss))
            .await;
        assert_eq!(status, 404, "{again}");
        assert_eq!(who.names(&app, "alice").await, ["Ada", "Adah"]);
    }
);

app_test!(
    an_extraction_lands_in_the_callers_graph,
    app,
    |app: TestApp| async move {
        use goclaw_testkit::Reply;
        let who = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let answer = json!({
            "entities": [
                {"id": "ada", "name": "Ada", "type": "person"},
                {"id": "lab", "name": "Lab", "type": "place"}
            ],
            "relations": [
                {"source": "ada", "type": "works_at", "target": "lab", "confidence": 0.9},
                {"source": "lab", "type": "near", "target": "ada", "confidence": 0.2}
            ]
        });
        app.llm.push(Reply::text(answer.to_string()));
        let body = json!({"text": "Ada works at the Lab.", "provider": "openai",
                          "model": "gpt-test", "min_confidence": 0.5});
        let (status, report) = who
            .kg(&app, "alice", Method::POST, "/extract", Some(body.clone()))
            .await;
        assert_eq!(status, 200, "{report}");
        assert_goclaw_shape("http_post_v1_agents_id_kg_extract", &report);
        assert_eq!(
            report,
            json!({"entities": 2, "relations": 1, "dedup_merged": 0, "dedup_flagged": 0})
        );
        let sent = app
            .llm
            .requests()
            .last()
            .expect("the model was asked")
            .body
            .to_string();
        assert!(
            sent.contains("Ada works at the Lab.") && sent.contains("gpt-test"),
            "{sent}"
        );
        assert_eq!(who.names(&app, "alice").await, ["Ada", "Lab"]);
        assert!(
            who.names(&app, "bob").await.is_empty(),
            "bob's graph is untouched"
        );
        let (_, stats) = who.kg(&app, "alice", Method::GET, "/stats", None).await;
        assert_eq!(stats["relation_count"], 1, "{stats}");

        // Someone else's graph, a read-only key, an unknown provider: refused, nothing asked.
        let asked = app.llm.requests().len();
        let mut for_alice = body.clone();
        for_alice["user_id"] = json!("alice");
        let (status, _) = who
            .kg(&app, "bob", Method::POST, "/extract", Some(for_alice))
            .await;
        assert_eq!(status, 403);
        let (status, _) = who
            .kg(&app, "vera", Method::POST, "/extract", Some(body.clone()))
            .await;
        assert_eq!(status, 403);
        let mut unknown = body.clone();
        unknown["provider"] = json!("nowhere");
        let (status, answer) = who
            .kg(&app, "alice", Method::POST, "/extract", Some(unknown))
            .await;
        assert_eq!(status, 404, "{answer}");
        assert_eq!(
            app.llm.requests().len(),
            asked,
            "no model call for refused requests"
        );
    }
);

app_test!(
    a_duplicate_scan_flags_similar_entities_of_the_callers_graph,
    app,
    |app: TestApp| async move {
        use goclaw_core::{
            AgentKey, EMBEDDING_DIMENSIONS, GraphScope, MASTER_TENANT_ID, NewEntity,
        };
        let who = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let (status, none) = who
            .kg(&app, "alice", Method::POST, "/dedup/scan", Some(json!({})))
            .await;
        assert_eq!(
            (status, none),
            (200, json!({"candidates_found": 0})),
            "no embedder yet"
        );
        let (status, _) = support::http::call(
            &app,
            TOKEN,
            None,
            Method::PUT,
            "/v1/system-configs/embedding.provider",
            Some(json!({"value": "openai"})),
        )
        .await;
        assert_eq!(status, 200);

        let store = app.db.store();
        let agent = store
            .agents()
            .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("default").expect("key"))
            .await
            .expect("agent");
        for (user, external, name) in [
            ("alice", "ada", "Ada Lovelace"),
            ("alice", "ada-again", "Ada Lovelace"),
            ("alice", "lab", "Analytical Engine"),
            ("bob", "ada", "Ada Lovelace"),
            ("bob", "ada-again", "Ada Lovelace"),
        ] {
            store
                .knowledge_graph()
                .upsert_entity(
                    &GraphScope::new(MASTER_TENANT_ID, agent.id, user),
                    NewEntity {
                        external_id: external.to_owned(),
                        name: name.to_owned(),
                        entity_type: "person".to_owned(),
                        description: String::new(),
                        properties: json!({}),
                        source_id: "seed".to_owned(),
                        confidence: 1.0,
                        embedding: Some(goclaw_testkit::embedding_vector(
                            name,
                            EMBEDDING_DIMENSIONS,
                        )),
                    },
                )
                .await
                .expect("entity");
        }
        let (status, found) = who
            .kg(
                &app,
                "alice",
                Method::POST,
                "/dedup/scan",
                Some(json!({"threshold": 0.95})),
            )
            .await;
        assert_eq!(status, 200, "{found}");
        assert_goclaw_shape("http_post_v1_agents_id_kg_dedup_scan", &found);
        assert_eq!(found, json!({"candidates_found": 1}));
        let (_, pairs) = who.kg(&app, "alice", Method::GET, "/dedup", None).await;
        let pair: Vec<&str> = ["entity_a", "entity_b"]
            .iter()
            .map(|side| pairs[0][side]["name"].as_str().expect("name"))
            .collect();
        assert_eq!(pair, ["Ada Lovelace", "Ada Lovelace"], "{pairs}");
        assert_eq!(pairs.as_array().map(Vec::len), Some(1), "{pairs}");
        let (_, bobs) = who.kg(&app, "bob", Method::GET, "/dedup", None).await;
        assert_eq!(bobs, json!([]), "bob's graph was not scanned");
        let (status, _) = who
            .kg(
                &app,
                "bob",
                Method::POST,
                "/dedup/scan",
                Some(json!({"user_id": "alice"})),
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = who
            .kg(&app, "vera", Method::POST, "/dedup/scan", Some(json!({})))
            .await;
        assert_eq!(status, 403);
    }
);

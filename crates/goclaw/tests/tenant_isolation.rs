//! Tenant isolation on both engines, driven by the access tables: tenant B ("globex", with its
//! own admin dan-globex, agent, session, provider, setting and bob's API key) is invisible to
//! tenant A's callers — its admin carol (gateway token with a membership), alice (a read+write
//! key of A) and vera (a read-only key of A). Every read method of `scopes::METHOD_ACCESS` and every
//! `GET` route of `scopes::ROUTE_ACCESS` is called as each of them, so a new method or route is
//! covered when it is added, and no answer may name anything of B. Then the same callers try to
//! act on B's objects by id and are refused, and B is left as it was. Also who may do what with
//! the tenants themselves: the tenant's admin, alice, vera, bob and `operator.provision` keys.

mod support;

use std::time::Duration;

use goclaw_core::{
    AgentKey, NewAgent, NewLlmProvider, NewMessage, ProviderName, Role, SessionKey, Store, TenantId,
};
use goclaw_gateway::scopes::{Access, METHOD_ACCESS, ROUTE_ACCESS};
use goclaw_testkit::{StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::tenancy::{As, add_member, connect_ok, create_tenant, http, tenant_key};

const TOKEN: &str = "isolation-test-token-7d2a94";
const B_SESSION: &str = "agent:globex-bot:ws:direct:globex-session";
const A_SESSION: &str = "agent:acme-bot:ws:direct:acme-session";
const CALL_DEADLINE: Duration = Duration::from_secs(30);

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

/// Two tenants and their callers.
struct World {
    a: String,
    b: String,
    alice: String,
    vera: String,
    bob: String,
    bob_key_id: String,
    b_agent: String,
    b_provider: String,
}

impl World {
    /// What must never appear in an answer to A's callers.
    fn markers(&self) -> Vec<String> {
        vec![
            "globex".to_owned(),
            self.b.clone(),
            self.bob_key_id.clone(),
            self.b_agent.clone(),
            self.b_provider.clone(),
        ]
    }

    /// A's callers: the admin carol, alice and vera.
    fn callers(&self) -> Vec<(&'static str, As<'_>)> {
        vec![
            ("carol", As::user(TOKEN, "carol", Some("acme"))),
            ("alice", As::key(&self.alice)),
            ("vera", As::key(&self.vera)),
        ]
    }
}

async fn agent(store: &dyn Store, tenant: TenantId, key: &str, name: &str) -> String {
    let key = AgentKey::parse(key).expect("agent key");
    let agent = store
        .agents()
        .create(NewAgent::new(tenant, key, name))
        .await
        .expect("agent");
    agent.id.to_string()
}

async fn session(store: &dyn Store, tenant: TenantId, key: &str, user: &str, text: &str) {
    let key = SessionKey::parse(key).expect("session key");
    let session = store
        .sessions()
        .get_or_create(tenant, &key, None, user, "ws")
        .await
        .expect("session");
    store
        .messages()
        .append(session.id, NewMessage::text(Role::User, text))
        .await
        .expect("message");
}

/// Tenants A (`acme`, admin carol, keys of alice and vera) and B (`globex`, admin dan-globex,
/// bob's key, and an agent, a session, a provider and a setting of its own).
async fn world(app: &TestApp) -> World {
    let a = create_tenant(app, TOKEN, "acme", "Acme").await;
    let b = create_tenant(app, TOKEN, "globex", "Globex Corp").await;
    add_member(app, TOKEN, &a, "carol", "admin").await;
    add_member(app, TOKEN, &b, "dan-globex", "admin").await;
    let rw: &[&str] = &["operator.read", "operator.write"];
    let (_, alice) = tenant_key(app, TOKEN, "carol", "acme", "alice", rw).await;
    let (_, vera) = tenant_key(app, TOKEN, "carol", "acme", "vera", &["operator.read"]).await;
    let (bob_key_id, bob) = tenant_key(app, TOKEN, "dan-globex", "globex", "bob", rw).await;

    let store = app.db.store();
    let (ta, tb): (TenantId, TenantId) = (a.parse().expect("id"), b.parse().expect("id"));
    agent(store.as_ref(), ta, "acme-bot", "Acme Bot").await;
    let b_agent = agent(store.as_ref(), tb, "globex-bot", "Globex Bot").await;
    session(store.as_ref(), ta, A_SESSION, "alice", "acme hello").await;
    session(store.as_ref(), tb, B_SESSION, "bob", "globex secret plan").await;
    let name = ProviderName::parse("globex-llm").expect("provider name");
    let b_provider = store
        .llm_providers()
        .create(NewLlmProvider::new(tb, name))
        .await
        .expect("provider")
        .id
        .to_string();
    store
        .system_configs()
        .set(tb, "globex.note", "globex-setting")
        .await
        .expect("setting");
    World {
        a,
        b,
        alice,
        vera,
        bob,
        bob_key_id,
        b_agent,
        b_provider,
    }
}

/// Panics when `answer` names anything of B.
fn assert_clean(world: &World, who: &str, what: &str, answer: &Value) {
    let text = answer.to_string().to_lowercase();
    for marker in world.markers() {
        assert!(
            !text.contains(&marker.to_lowercase()),
            "{who} {what} leaks {marker:?}: {answer}"
        );
    }
}

/// The read methods of the access table, with params naming A's own things.
fn read_methods() -> Vec<&'static str> {
    METHOD_ACCESS
        .iter()
        .filter(|(_, rule)| rule.access == Access::Read)
        .map(|(method, _)| *method)
        .collect()
}

/// The `GET` routes of the access table that take credentials, each path parameter filled
/// with `value` (a catch-all with a file name).
fn read_routes(value: &str) -> Vec<String> {
    ROUTE_ACCESS
        .iter()
        .filter(|(method, _, rule)| *method == "GET" && rule.access != Access::Public)
        .map(|(_, path, _)| {
            path.split('/')
                .map(|segment| match segment {
                    s if s.starts_with("{*") => "notes.md",
                    s if s.starts_with('{') => value,
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

async fn ws_call(ws: &mut WsClient, method: &str, params: Value) -> Value {
    tokio::time::timeout(CALL_DEADLINE, ws.call(method, params))
        .await
        .unwrap_or_else(|_| panic!("{method} answered in time"))
}

app_test!(
    nothing_of_another_tenant_reaches_a_tenants_callers,
    app,
    |app: TestApp| async move {
        let world = world(&app).await;
        let params = json!({
            "agentId": "acme-bot", "key": A_SESSION, "sessionKey": A_SESSION,
            "id": world.a, "tenant_id": world.a, "limit": 100,
        });
        let methods = read_methods();
        assert!(methods.contains(&"tenants.list") && methods.contains(&"sessions.list"));
        assert!(read_routes("x").contains(&"/v1/tenants".to_owned()));
        // B's admin is online meanwhile, so lists of connections are covered too.
        let (_b_online, _) = connect_ok(&app, As::user(TOKEN, "dan-globex", Some("globex"))).await;
        for (who, caller) in world.callers() {
            let (mut ws, connected) = connect_ok(&app, caller).await;
            assert_eq!(connected["tenant_id"], world.a.as_str(), "{who}");
            for method in &methods {
                let answer = ws_call(&mut ws, method, params.clone()).await;
                assert_clean(&world, who, method, &answer);
            }
            for value in ["acme-bot", world.a.as_str()] {
                for path in read_routes(value) {
                    let call = http(&app, caller, Method::GET, &path, None);
                    let (_, answer) = tokio::time::timeout(CALL_DEADLINE, call)
                        .await
                        .unwrap_or_else(|_| panic!("GET {path} answered in time"));
                    assert_clean(&world, who, &format!("GET {path}"), &answer);
                }
            }
        }
        // The sweep saw A's own things, so an empty answer is not what passed it.
        let (status, agents) =
            http(&app, As::key(&world.alice), Method::GET, "/v1/agents", None).await;
        assert_eq!(status, 200);
        assert!(agents.to_string().contains("acme-bot"), "{agents}");
    }
);

app_test!(
    a_tenants_callers_cannot_act_on_another_tenants_things,
    app,
    |app: TestApp| async move {
        let world = world(&app).await;
        let b = world.b.as_str();
        let ws_cases = [
            ("tenants.get", json!({ "id": b }), "NOT_FOUND"),
            (
                "tenants.update",
                json!({ "id": b, "name": "Taken" }),
                "NOT_FOUND",
            ),
            ("tenants.users.list", json!({ "tenant_id": b }), "NOT_FOUND"),
            (
                "tenants.users.remove",
                json!({ "tenant_id": b, "user_id": "dan-globex" }),
                "NOT_FOUND",
            ),
            (
                "agents.files.get",
                json!({ "agentId": "globex-bot", "name": "AGENTS.md" }),
                "NOT_FOUND",
            ),
            ("agents.delete", json!({ "agentId": "globex-bot" }), ""),
            ("sessions.delete", json!({ "key": B_SESSION }), ""),
        ];
        for (who, caller) in world.callers() {
            let (mut ws, _) = connect_ok(&app, caller).await;
            for (method, params, expected) in &ws_cases {
                let res = ws_call(&mut ws, method, params.clone()).await;
                if !expected.is_empty() && res["ok"] == false {
                    let code = res["error"]["code"].as_str().unwrap_or_default();
                    // Below admin the role check may refuse first; either way nothing of B.
                    assert!(
                        code == *expected || code == "UNAUTHORIZED",
                        "{who} {method}: {res}"
                    );
                }
                if *expected == "NOT_FOUND" && who == "carol" {
                    assert_eq!(res["error"]["code"], "NOT_FOUND", "{who} {method}: {res}");
                }
            }
            let history =
                ws_call(&mut ws, "chat.history", json!({ "sessionKey": B_SESSION })).await;
            assert!(
                !history.to_string().contains("globex secret plan"),
                "{who}: {history}"
            );
        }
        let http_cases = [
            (Method::GET, format!("/v1/agents/{}", world.b_agent)),
            (Method::GET, "/v1/agents/globex-bot".to_owned()),
            (Method::DELETE, "/v1/agents/globex-bot".to_owned()),
            (Method::GET, format!("/v1/providers/{}", world.b_provider)),
            (Method::DELETE, "/v1/providers/globex-llm".to_owned()),
            (Method::DELETE, format!("/v1/api-keys/{}", world.bob_key_id)),
            (Method::GET, "/v1/system-configs/globex.note".to_owned()),
            (Method::GET, format!("/v1/tenants/{b}")),
            (Method::PATCH, format!("/v1/tenants/{b}")),
            (Method::GET, format!("/v1/tenants/{b}/users")),
            (Method::DELETE, format!("/v1/tenants/{b}/users/dan-globex")),
        ];
        for (who, caller) in world.callers() {
            for (method, path) in &http_cases {
                let body = (*method == Method::PATCH).then(|| json!({ "name": "Taken" }));
                let (status, answer) = http(&app, caller, method.clone(), path, body).await;
                assert!(
                    matches!(status, 403 | 404),
                    "{who} {method} {path}: {status} {answer}"
                );
                assert!(!answer.to_string().contains("globex-setting"), "{answer}");
            }
        }
        // Naming B does not move A's callers: a key stays, a non-member is refused.
        let alice_in_b = As {
            bearer: &world.alice,
            user: None,
            tenant: Some("globex"),
        };
        let (status, agents) = http(&app, alice_in_b, Method::GET, "/v1/agents", None).await;
        assert_eq!(status, 200);
        assert!(!agents.to_string().contains("globex"), "{agents}");
        let carol_in_b = As::user(TOKEN, "carol", Some("globex"));
        let (status, _) = http(&app, carol_in_b, Method::GET, "/v1/agents", None).await;
        assert_eq!(status, 401);

        // B is as it was, as its own admin and bob see it.
        let dan = As::user(TOKEN, "dan-globex", Some("globex"));
        let (_, tenant) = http(&app, dan, Method::GET, &format!("/v1/tenants/{b}"), None).await;
        assert_eq!(tenant["name"], "Globex Corp");
        let (_, users) = http(
            &app,
            dan,
            Method::GET,
            &format!("/v1/tenants/{b}/users"),
            None,
        )
        .await;
        assert_eq!(users["users"][0]["user_id"], "dan-globex");
        let (_, agents) = http(&app, As::key(&world.bob), Method::GET, "/v1/agents", None).await;
        assert!(agents.to_string().contains("globex-bot"), "{agents}");
        let (status, _) = http(&app, dan, Method::GET, "/v1/providers/globex-llm", None).await;
        assert_eq!(status, 200);
        let (mut bob, _) = connect_ok(&app, As::key(&world.bob)).await;
        let history = ws_call(&mut bob, "chat.history", json!({ "sessionKey": B_SESSION })).await;
        assert!(
            history.to_string().contains("globex secret plan"),
            "{history}"
        );
    }
);

/// `method` on `ws`, expecting success (`None`) or that error code.
async fn expect(ws: &mut WsClient, who: &str, method: &str, params: Value, refused: Option<&str>) {
    let res = ws_call(ws, method, params).await;
    match refused {
        None => assert_eq!(res["ok"], true, "{who} {method}: {res}"),
        Some(code) => assert_eq!(res["error"]["code"], code, "{who} {method}: {res}"),
    }
}

app_test!(
    each_caller_manages_only_what_it_may,
    app,
    |app: TestApp| async move {
        let world = world(&app).await;
        let (a, b) = (world.a.as_str(), world.b.as_str());
        let denied = Some("UNAUTHORIZED");
        let new = |slug: &str| json!({ "name": slug, "slug": slug });
        let cases: [(&str, &str, Value, Option<&str>); 16] = [
            // carol administers A: reads, renames and lists its members, nothing more.
            (
                "carol",
                "tenants.update",
                json!({ "id": a, "name": "Acme Two" }),
                None,
            ),
            (
                "carol",
                "tenants.update",
                json!({ "id": a, "status": "suspended" }),
                denied,
            ),
            (
                "carol",
                "tenants.users.list",
                json!({ "tenant_id": a }),
                None,
            ),
            ("carol", "tenants.create", new("carols"), denied),
            (
                "carol",
                "tenants.users.add",
                json!({ "tenant_id": a, "user_id": "x" }),
                denied,
            ),
            // alice and vera read A but do not manage it.
            ("alice", "tenants.get", json!({ "id": a }), None),
            (
                "alice",
                "tenants.users.list",
                json!({ "tenant_id": a }),
                denied,
            ),
            (
                "alice",
                "tenants.update",
                json!({ "id": a, "name": "Mine" }),
                denied,
            ),
            ("alice", "tenants.create", new("alices"), denied),
            (
                "alice",
                "tenants.users.remove",
                json!({ "tenant_id": a, "user_id": "carol" }),
                denied,
            ),
            ("vera", "tenants.get", json!({ "id": a }), None),
            (
                "vera",
                "tenants.users.list",
                json!({ "tenant_id": a }),
                denied,
            ),
            (
                "vera",
                "tenants.update",
                json!({ "id": a, "name": "Mine" }),
                denied,
            ),
            // bob reads B and nothing of A.
            ("bob", "tenants.get", json!({ "id": b }), None),
            ("bob", "tenants.get", json!({ "id": a }), Some("NOT_FOUND")),
            (
                "bob",
                "tenants.users.list",
                json!({ "tenant_id": a }),
                Some("NOT_FOUND"),
            ),
        ];
        let carol = As::user(TOKEN, "carol", Some("acme"));
        for (who, method, params, refused) in cases {
            let caller = match who {
                "carol" => carol,
                "alice" => As::key(&world.alice),
                "vera" => As::key(&world.vera),
                _ => As::key(&world.bob),
            };
            let (mut ws, _) = connect_ok(&app, caller).await;
            expect(&mut ws, who, method, params, refused).await;
        }
        for (who, bearer, slug) in [
            ("alice", &world.alice, "acme"),
            ("bob", &world.bob, "globex"),
        ] {
            let (mut ws, _) = connect_ok(&app, As::key(bearer)).await;
            let list = ws_call(&mut ws, "tenants.list", json!({})).await;
            let slugs: Vec<&str> = list["payload"]["tenants"]
                .as_array()
                .map(|l| l.iter().filter_map(|t| t["slug"].as_str()).collect())
                .unwrap_or_default();
            assert_eq!(slugs, [slug], "{who}: {list}");
        }

        // operator.provision: a system key creates tenants and adds members where it works;
        // one bound to A adds members to A only.
        let (_, system) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "provisioner", "scopes": ["operator.provision"] }),
            )
            .await;
        let (status, created) = http(
            &app,
            As::key(&system),
            Method::POST,
            "/v1/tenants",
            Some(new("initech")),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let initech = created["id"].as_str().expect("id").to_owned();
        let body = json!({ "user_id": "peter", "role": "admin" });
        let path = format!("/v1/tenants/{initech}/users");
        let (status, _) = http(
            &app,
            As::key(&system),
            Method::POST,
            &path,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            status, 404,
            "a system key works in the master tenant unless it names one"
        );
        let narrowed = As {
            bearer: &system,
            user: None,
            tenant: Some("initech"),
        };
        let (status, _) = http(&app, narrowed, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, 201);
        let (_, bound) =
            tenant_key(&app, TOKEN, "carol", "acme", "ops", &["operator.provision"]).await;
        let (status, _) = http(
            &app,
            As::key(&bound),
            Method::POST,
            &format!("/v1/tenants/{a}/users"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 201);
        let bound_in_b = As {
            bearer: &bound,
            user: None,
            tenant: Some("globex"),
        };
        let (status, _) = http(
            &app,
            bound_in_b,
            Method::POST,
            &format!("/v1/tenants/{b}/users"),
            Some(body),
        )
        .await;
        assert_eq!(status, 404);
        // An admin key without the provision scope may not create tenants.
        let (_, admin_key) =
            tenant_key(&app, TOKEN, "carol", "acme", "ada", &["operator.admin"]).await;
        let (status, _) = http(
            &app,
            As::key(&admin_key),
            Method::POST,
            "/v1/tenants",
            Some(new("adas")),
        )
        .await;
        assert_eq!(status, 403);
    }
);

//! Tenants and their members on both engines, over WebSocket and HTTP: the owner creates,
//! changes and lists tenants and their members in GoClaw's shapes; a tenant's admin (the
//! gateway token with a member's user id) selects its tenant with `connect`'s `tenant_id` or
//! `X-GoClaw-Tenant-Id` and manages only that tenant; non-members are refused with
//! `TENANT_ACCESS_REVOKED` (HTTP 401); alice and bob (read+write keys of two tenants) and vera
//! (a read-only key) see only their own tenant, and a tenant-bound key never moves; removing a
//! member pushes `tenant.access.revoked` to that user's connections, which lose access on
//! their next call. A paired browser enters the tenants its user belongs to (`tenant_hint`).

mod support;

use std::time::Duration;

use goclaw_core::MASTER_TENANT_ID;
use goclaw_testkit::{StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::tenancy::{As, add_member, connect, connect_ok, create_tenant, http, tenant_key};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "tenants-test-token-58c1e0";
const WAIT: Duration = Duration::from_secs(30);

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

fn owner() -> As<'static> {
    As::key(TOKEN)
}

/// The error code of a failed response frame.
fn code(res: &Value) -> &str {
    assert_eq!(res["ok"], false, "expected a refusal: {res}");
    res["error"]["code"].as_str().unwrap_or_default()
}

fn slugs(answer: &Value) -> Vec<String> {
    answer["tenants"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|t| t["slug"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

app_test!(
    owner_manages_tenants_and_members_over_websocket,
    app,
    |app: TestApp| async move {
        let (mut ws, connected) = connect_ok(&app, As::user(TOKEN, "system", None)).await;
        assert_eq!(connected["is_owner"], true);
        assert_goclaw_shape(
            "ws_tenants.mine",
            &ws.call_ok("tenants.mine", json!({})).await,
        );

        let created = ws
            .call_ok("tenants.create", json!({ "name": "Acme", "slug": "acme" }))
            .await;
        assert_goclaw_shape("http_post_v1_tenants", &created);
        assert_eq!(created["status"], "active");
        let acme = created["id"].as_str().expect("id").to_owned();
        for (params, expected) in [
            (json!({ "name": "Acme", "slug": "acme" }), "ALREADY_EXISTS"),
            (json!({ "name": "X", "slug": "Upper" }), "INVALID_REQUEST"),
            (json!({ "name": "X", "slug": "-edge" }), "INVALID_REQUEST"),
            (
                json!({ "name": "X", "slug": "under_score" }),
                "INVALID_REQUEST",
            ),
            (
                json!({ "name": "X", "slug": "a".repeat(101) }),
                "INVALID_REQUEST",
            ),
            (json!({ "slug": "nameless" }), "INVALID_REQUEST"),
            (json!({ "name": "Slugless" }), "INVALID_REQUEST"),
        ] {
            let res = ws.call("tenants.create", params.clone()).await;
            assert_eq!(code(&res), expected, "{params}: {res}");
        }

        let list = ws.call_ok("tenants.list", json!({})).await;
        assert_goclaw_shape("ws_tenants.list", &list);
        assert_eq!(slugs(&list), ["master", "acme"]);
        let got = ws.call_ok("tenants.get", json!({ "id": acme })).await;
        assert_eq!(got["slug"], "acme");
        assert_eq!(
            code(&ws.call("tenants.get", json!({ "id": "nope" })).await),
            "INVALID_REQUEST"
        );
        let unknown = json!({ "id": "0193a5b0-7000-7000-8000-0000000000ff" });
        assert_eq!(code(&ws.call("tenants.get", unknown).await), "NOT_FOUND");

        let update = json!({ "id": acme, "name": "Acme Corp", "settings": { "plan": "pro" } });
        let ok = ws.call_ok("tenants.update", update).await;
        assert_goclaw_shape("ws_tenants.update", &ok);
        assert_eq!(ok, json!({ "ok": "true" }));
        let got = ws.call_ok("tenants.get", json!({ "id": acme })).await;
        assert_eq!(
            (got["name"].clone(), got["settings"].clone()),
            (json!("Acme Corp"), json!({ "plan": "pro" }))
        );
        // Nothing named changes nothing.
        assert_eq!(
            ws.call_ok("tenants.update", json!({ "id": acme })).await,
            json!({ "ok": "true" })
        );
        for (params, expected) in [
            (json!({ "id": acme, "status": "gone" }), "INVALID_REQUEST"),
            (
                json!({ "id": MASTER_TENANT_ID.to_string(), "status": "suspended" }),
                "UNAUTHORIZED",
            ),
        ] {
            let res = ws.call("tenants.update", params.clone()).await;
            assert_eq!(code(&res), expected, "{params}: {res}");
        }

        let add = json!({ "tenant_id": acme, "user_id": "carol", "role": "admin" });
        assert_eq!(
            ws.call_ok("tenants.users.add", add).await,
            json!({ "ok": "true" })
        );
        let add = json!({ "tenant_id": acme, "user_id": "dora", "display_name": "Dora" });
        ws.call_ok("tenants.users.add", add).await;
        for params in [
            json!({ "tenant_id": acme, "user_id": "x", "role": "root" }),
            json!({ "tenant_id": acme }),
            json!({ "tenant_id": "nope", "user_id": "x" }),
        ] {
            let res = ws.call("tenants.users.add", params.clone()).await;
            assert_eq!(code(&res), "INVALID_REQUEST", "{params}: {res}");
        }
        let users = ws
            .call_ok("tenants.users.list", json!({ "tenant_id": acme }))
            .await;
        assert_goclaw_shape("ws_tenants.users.list", &users);
        let members: Vec<(Value, Value, Value)> = users["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| {
                (
                    u["user_id"].clone(),
                    u["role"].clone(),
                    u["display_name"].clone(),
                )
            })
            .collect();
        assert_eq!(
            members,
            [
                (json!("carol"), json!("admin"), Value::Null),
                (json!("dora"), json!("member"), json!("Dora"))
            ]
        );
        let remove = json!({ "tenant_id": acme, "user_id": "dora" });
        assert_eq!(
            ws.call_ok("tenants.users.remove", remove).await,
            json!({ "ok": "true" })
        );
        let users = ws
            .call_ok("tenants.users.list", json!({ "tenant_id": acme }))
            .await;
        assert_eq!(users["users"].as_array().map(Vec::len), Some(1));

        // The owner's tenants.mine lists every tenant as its owner.
        let mine = ws.call_ok("tenants.mine", json!({})).await;
        assert_eq!(slugs(&mine), ["master", "acme"]);
        assert!(
            mine["tenants"]
                .as_array()
                .expect("list")
                .iter()
                .all(|t| t["role"] == "owner")
        );
    }
);

app_test!(
    owner_manages_tenants_and_members_over_http,
    app,
    |app: TestApp| async move {
        let body = json!({ "name": "Globex", "slug": "globex", "settings": { "tier": 2 } });
        let (status, created) = http(&app, owner(), Method::POST, "/v1/tenants", Some(body)).await;
        assert_eq!(status, 201, "{created}");
        assert_goclaw_shape("http_post_v1_tenants", &created);
        assert_eq!(created["settings"], json!({ "tier": 2 }));
        let id = created["id"].as_str().expect("id").to_owned();
        let body = json!({ "name": "Globex", "slug": "globex" });
        let (status, _) = http(&app, owner(), Method::POST, "/v1/tenants", Some(body)).await;
        assert_eq!(status, 409);
        let (status, _) = http(
            &app,
            owner(),
            Method::POST,
            "/v1/tenants",
            Some(json!({ "name": "x", "slug": "Bad" })),
        )
        .await;
        assert_eq!(status, 400);

        let (status, list) = http(&app, owner(), Method::GET, "/v1/tenants", None).await;
        assert_eq!(status, 200);
        assert_goclaw_shape("ws_tenants.list", &list);
        assert_eq!(slugs(&list), ["master", "globex"]);
        let path = format!("/v1/tenants/{id}");
        let (status, got) = http(&app, owner(), Method::GET, &path, None).await;
        assert_eq!((status, got["name"].clone()), (200, json!("Globex")));
        let (status, ok) = http(
            &app,
            owner(),
            Method::PATCH,
            &path,
            Some(json!({ "status": "suspended" })),
        )
        .await;
        assert_eq!((status, ok), (200, json!({ "ok": "true" })));
        let (_, got) = http(&app, owner(), Method::GET, &path, None).await;
        assert_eq!(got["status"], "suspended");
        let (status, _) = http(&app, owner(), Method::PATCH, &path, Some(json!({}))).await;
        assert_eq!(status, 200);
        let (_, got) = http(&app, owner(), Method::GET, &path, None).await;
        assert_eq!(
            got["status"], "suspended",
            "an empty change changes nothing"
        );
        let (status, _) = http(&app, owner(), Method::GET, "/v1/tenants/not-an-id", None).await;
        assert_eq!(status, 400);

        let users = format!("/v1/tenants/{id}/users");
        let body = json!({ "user_id": "erin", "role": "operator" });
        let (status, ok) = http(&app, owner(), Method::POST, &users, Some(body)).await;
        assert_eq!((status, ok), (201, json!({ "ok": "true" })));
        let (status, list) = http(&app, owner(), Method::GET, &users, None).await;
        assert_eq!(status, 200);
        assert_goclaw_shape("ws_tenants.users.list", &list);
        assert_eq!(list["users"][0]["role"], "operator");
        let (status, ok) = http(
            &app,
            owner(),
            Method::DELETE,
            &format!("{users}/erin"),
            None,
        )
        .await;
        assert_eq!((status, ok), (200, json!({ "ok": "true" })));
        let (_, list) = http(&app, owner(), Method::GET, &users, None).await;
        assert_eq!(list["users"], json!([]));
    }
);

app_test!(
    members_select_their_tenant_and_others_are_refused,
    app,
    |app: TestApp| async move {
        let acme = create_tenant(&app, TOKEN, "acme", "Acme").await;
        add_member(&app, TOKEN, &acme, "carol", "admin").await;

        // By slug and by id: the tenant's fields in connect's answer.
        for name in ["acme", acme.as_str()] {
            let (_, connected) = connect_ok(&app, As::user(TOKEN, "carol", Some(name))).await;
            assert_goclaw_shape("ws_connect", &connected);
            assert_eq!(connected["tenant_id"], acme.as_str());
            assert_eq!(connected["tenant_slug"], "acme");
            assert_eq!(connected["tenant_name"], "Acme");
            assert_eq!(connected["is_owner"], false);
            assert_eq!(connected["is_master_scope"], false);
            assert_eq!(connected["role"], "admin");
        }
        // Without a membership, or anonymously: refused.
        for who in [
            As::user(TOKEN, "dave", Some("acme")),
            As {
                bearer: TOKEN,
                user: None,
                tenant: Some("acme"),
            },
        ] {
            let (_, res) = connect(&app, who).await;
            assert_eq!(code(&res), "TENANT_ACCESS_REVOKED", "{who:?}: {res}");
        }
        // An unknown tenant leaves the caller in the master tenant, as in GoClaw.
        let (_, connected) = connect_ok(&app, As::user(TOKEN, "dave", Some("nowhere"))).await;
        assert_eq!(connected["tenant_id"], MASTER_TENANT_ID.to_string());
        assert_eq!(connected["is_master_scope"], true);
        // The owner narrows to any tenant and keeps the master scope.
        let (_, connected) = connect_ok(&app, As::user(TOKEN, "system", Some("acme"))).await;
        assert_eq!(connected["tenant_id"], acme.as_str());
        assert_eq!(
            (
                connected["is_owner"].clone(),
                connected["is_master_scope"].clone()
            ),
            (json!(true), json!(true))
        );

        // HTTP: the same rule; a refusal is 401, as in GoClaw.
        let (status, list) = http(
            &app,
            As::user(TOKEN, "carol", Some("acme")),
            Method::GET,
            "/v1/tenants",
            None,
        )
        .await;
        assert_eq!((status, slugs(&list)), (200, vec!["acme".to_owned()]));
        let (status, _) = http(
            &app,
            As::user(TOKEN, "dave", Some("acme")),
            Method::GET,
            "/v1/agents",
            None,
        )
        .await;
        assert_eq!(status, 401);

        // A tenant-bound key stays in its tenant whatever it names.
        let (_, alice) = tenant_key(
            &app,
            TOKEN,
            "carol",
            "acme",
            "alice",
            &["operator.read", "operator.write"],
        )
        .await;
        let (_, connected) = connect_ok(
            &app,
            As {
                bearer: &alice,
                user: None,
                tenant: Some("master"),
            },
        )
        .await;
        assert_eq!(connected["tenant_id"], acme.as_str());
        let master = MASTER_TENANT_ID.to_string();
        let who = As {
            bearer: &alice,
            user: None,
            tenant: Some(&master),
        };
        let (status, list) = http(&app, who, Method::GET, "/v1/tenants", None).await;
        assert_eq!((status, slugs(&list)), (200, vec!["acme".to_owned()]));

        // tenants.mine: a member's active tenants with its role there.
        let (mut carol, _) = connect_ok(&app, As::user(TOKEN, "carol", None)).await;
        let mine = carol.call_ok("tenants.mine", json!({})).await;
        assert_goclaw_shape("ws_tenants.mine", &mine);
        assert_eq!(mine["tenants"][0]["slug"], "acme");
        assert_eq!(mine["tenants"][0]["role"], "admin");
        let (mut dave, _) = connect_ok(&app, As::user(TOKEN, "dave", None)).await;
        assert_eq!(
            dave.call_ok("tenants.mine", json!({})).await,
            json!({ "tenants": [] })
        );

        // A suspended tenant admits nobody by membership and leaves tenants.mine.
        let path = format!("/v1/tenants/{acme}");
        let (status, _) = http(
            &app,
            owner(),
            Method::PATCH,
            &path,
            Some(json!({ "status": "suspended" })),
        )
        .await;
        assert_eq!(status, 200);
        let (_, res) = connect(&app, As::user(TOKEN, "carol", Some("acme"))).await;
        assert_eq!(code(&res), "TENANT_ACCESS_REVOKED");
        assert_eq!(
            carol.call_ok("tenants.mine", json!({})).await,
            json!({ "tenants": [] })
        );
    }
);

/// Waits for event `name` on `ws`, with an overall deadline.
async fn event(ws: &mut WsClient, name: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(found) = ws.events.iter().find(|e| e["event"] == name) {
            return found.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no {name} event");
        tokio::time::timeout_at(deadline, ws.pump())
            .await
            .unwrap_or_else(|_| panic!("no {name} event in time"));
    }
}

app_test!(
    removing_a_member_revokes_its_access,
    app,
    |app: TestApp| async move {
        let acme = create_tenant(&app, TOKEN, "acme", "Acme").await;
        add_member(&app, TOKEN, &acme, "carol", "admin").await;
        add_member(&app, TOKEN, &acme, "dora", "member").await;
        let (mut carol, _) = connect_ok(&app, As::user(TOKEN, "carol", Some("acme"))).await;
        let (mut dora, _) = connect_ok(&app, As::user(TOKEN, "dora", Some("acme"))).await;
        carol.call_ok("status", json!({})).await;

        // carol, the tenant's admin, removes dora.
        let remove = json!({ "tenant_id": acme, "user_id": "dora" });
        carol.call_ok("tenants.users.remove", remove).await;
        let revoked = event(&mut dora, "tenant.access.revoked").await;
        assert_goclaw_shape("ws_event_tenant.access.revoked", &revoked["payload"]);
        assert_eq!(
            revoked["payload"],
            json!({ "user_id": "dora", "tenant_id": acme })
        );
        let res = dora.call("status", json!({})).await;
        assert_eq!(code(&res), "TENANT_ACCESS_REVOKED", "{res}");
        let (status, _) = http(
            &app,
            As::user(TOKEN, "dora", Some("acme")),
            Method::GET,
            "/v1/agents",
            None,
        )
        .await;
        assert_eq!(status, 401);
        // Only the removed user hears of it.
        carol.call_ok("status", json!({})).await;
        assert!(
            carol
                .events
                .iter()
                .all(|e| e["event"] != "tenant.access.revoked"),
            "{:?}",
            carol.events
        );

        // The owner removes carol over HTTP; her open connection loses access too.
        let path = format!("/v1/tenants/{acme}/users/carol");
        let (status, _) = http(&app, owner(), Method::DELETE, &path, None).await;
        assert_eq!(status, 200);
        event(&mut carol, "tenant.access.revoked").await;
        let res = carol.call("tenants.list", json!({})).await;
        assert_eq!(code(&res), "TENANT_ACCESS_REVOKED", "{res}");
    }
);

/// `GET path` as a paired browser (`X-GoClaw-Sender-Id`) acting as `user` in `tenant`.
async fn browser_get(
    app: &TestApp,
    sender: &str,
    user: &str,
    tenant: &str,
    path: &str,
) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(path))
        .header("X-GoClaw-Sender-Id", sender)
        .header("X-GoClaw-User-Id", user)
        .header("X-GoClaw-Tenant-Id", tenant)
        .send()
        .await
        .expect("HTTP request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

app_test!(
    a_paired_browser_enters_the_tenants_its_user_belongs_to,
    app,
    |app: TestApp| async move {
        let acme = create_tenant(&app, TOKEN, "acme", "Acme").await;
        add_member(&app, TOKEN, &acme, "web", "member").await;
        let (mut owner_ws, _) = connect_ok(&app, As::user(TOKEN, "system", None)).await;
        let mut pending = WsClient::open(&app.ws_url()).await;
        let asked = pending
            .call_ok("connect", json!({ "user_id": "web" }))
            .await;
        let pairing = asked["pairing_code"].as_str().expect("a code").to_owned();
        let sender = asked["sender_id"].as_str().expect("a sender").to_owned();
        owner_ws
            .call_ok("device.pair.approve", json!({ "code": pairing }))
            .await;

        let mut browser = WsClient::open(&app.ws_url()).await;
        let params = json!({ "user_id": "web", "sender_id": sender, "tenant_hint": "acme" });
        let connected = browser.call_ok("connect", params).await;
        assert_eq!(connected["role"], "operator");
        assert_eq!(connected["tenant_id"], acme.as_str());
        assert_eq!(connected["tenant_slug"], "acme");
        let mut stranger = WsClient::open(&app.ws_url()).await;
        let params = json!({ "user_id": "stranger", "sender_id": sender, "tenant_hint": "acme" });
        let res = stranger.call("connect", params).await;
        assert_eq!(code(&res), "TENANT_ACCESS_REVOKED", "{res}");

        let (status, list) = browser_get(&app, &sender, "web", "acme", "/v1/tenants").await;
        assert_eq!((status, slugs(&list)), (200, vec!["acme".to_owned()]));
        let (status, _) = browser_get(&app, &sender, "stranger", "acme", "/v1/tenants").await;
        assert_eq!(status, 401);

        // Revoking the pairing closes the browser's connection in the tenant it selected.
        let revoke = json!({ "senderId": sender, "channel": "browser" });
        owner_ws.call_ok("device.pair.revoke", revoke).await;
        let closed = tokio::time::timeout(WAIT, async {
            while browser.next_frame().await.is_some() {}
        })
        .await;
        assert!(closed.is_ok(), "the paired browser's connection was closed");
    }
);

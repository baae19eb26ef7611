//! `device.pair.*` over WebSocket on both engines, in GoClaw's shapes, as the gateway token, an
//! admin key, a key with only the pairing scope, a read-write user, a viewer and an admin of
//! another tenant: who may ask for a code and who may answer; a sender asking again gets its
//! code back; an account has at most 3 codes waiting; approving, denying and revoking; another
//! tenant's codes and pairings do not exist for a caller; and the `device.pair.requested` and
//! `device.pair.resolved` events reach the tenant's admins and nobody else.

mod support;

use std::time::Duration;

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use serde_json::{Value, json};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "pairing-token-7c1e";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

/// Every caller's connection.
struct Sockets {
    owner: WsClient,
    admin: WsClient,
    pairer: WsClient,
    alice: WsClient,
    vera: WsClient,
    carol: WsClient,
}

async fn signed_in(app: &TestApp, token: &str, user: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": token, "user_id": user }))
        .await;
    ws
}

async fn sockets(app: &TestApp) -> Sockets {
    let key = |scopes: &'static [&'static str], owner: &'static str| async move {
        let body = json!({ "name": owner, "scopes": scopes, "owner_id": owner });
        app.create_api_key(TOKEN, body).await.1
    };
    let admin = key(&["operator.admin"], "ada").await;
    let pairer = key(&["operator.pairing"], "pat").await;
    let alice = key(&["operator.read", "operator.write"], "alice").await;
    let vera = key(&["operator.read"], "vera").await;
    let acme = app
        .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
        .await;
    Sockets {
        owner: signed_in(app, TOKEN, "system").await,
        admin: signed_in(app, &admin, "").await,
        pairer: signed_in(app, &pairer, "").await,
        alice: signed_in(app, &alice, "").await,
        vera: signed_in(app, &vera, "").await,
        carol: signed_in(app, &acme.key, "").await,
    }
}

fn asking(sender: &str) -> Value {
    json!({ "senderId": sender, "channel": "telegram", "chatId": sender })
}

fn code_of(answer: &Value) -> String {
    answer["code"].as_str().expect("a code").to_owned()
}

fn refused(response: &Value) -> bool {
    response["ok"] == false && response["error"]["code"] == "UNAUTHORIZED"
}

fn error_code(response: &Value) -> &str {
    response["error"]["code"].as_str().unwrap_or_default()
}

app_test!(
    codes_are_asked_for_and_answered_in_goclaws_shapes,
    app,
    |app: TestApp| async move {
        let mut who = sockets(&app).await;

        // Asking: the pairing scope and admins; not a read-write user or a viewer.
        for (name, ws) in [("alice", &mut who.alice), ("vera", &mut who.vera)] {
            let answer = ws.call("device.pair.request", asking("4711")).await;
            assert!(refused(&answer), "{name}: {answer}");
        }
        let first = who
            .pairer
            .call_ok("device.pair.request", asking("4711"))
            .await;
        assert_goclaw_shape("ws_device.pair.request", &first);
        let code = code_of(&first);
        assert!(goclaw_core::pairing::is_pairing_code(&code), "{code}");
        let again = who
            .admin
            .call_ok("device.pair.request", asking("4711"))
            .await;
        assert_eq!(code_of(&again), code, "the waiting code comes back");

        // Bad input.
        for params in [
            json!({ "senderId": "", "channel": "telegram" }),
            json!({ "senderId": "-x", "channel": "telegram" }),
            json!({ "senderId": "a b", "channel": "telegram" }),
            json!({ "senderId": "x".repeat(129), "channel": "telegram" }),
            json!({ "senderId": "4711", "channel": "" }),
            json!({ "senderId": "4711", "channel": "tele/gram" }),
            json!({ "senderId": "4711", "channel": "telegram", "chatId": "a\nb" }),
        ] {
            let answer = who.pairer.call("device.pair.request", params.clone()).await;
            assert_eq!(error_code(&answer), "INVALID_REQUEST", "{params}: {answer}");
        }

        // At most 3 waiting per account.
        who.pairer
            .call_ok("device.pair.request", asking("4712"))
            .await;
        who.pairer
            .call_ok("device.pair.request", asking("4713"))
            .await;
        let fourth = who.pairer.call("device.pair.request", asking("4714")).await;
        assert_eq!(error_code(&fourth), "RESOURCE_EXHAUSTED", "{fourth}");

        // Answering: admins only.
        for (name, ws) in [
            ("pairer", &mut who.pairer),
            ("alice", &mut who.alice),
            ("vera", &mut who.vera),
        ] {
            for (method, params) in [
                ("device.pair.list", json!({})),
                ("device.pair.approve", json!({ "code": code })),
                ("device.pair.deny", json!({ "code": code })),
                (
                    "device.pair.revoke",
                    json!({ "senderId": "4711", "channel": "telegram" }),
                ),
            ] {
                let answer = ws.call(method, params).await;
                assert!(refused(&answer), "{name} {method}: {answer}");
            }
        }

        let listed = who.admin.call_ok("device.pair.list", json!({})).await;
        let pending = listed["pending"].as_array().expect("pending");
        assert_eq!(pending.len(), 3, "{listed}");
        assert_eq!(listed["paired"], json!([]));
        let created = pending[0]["created_at"].as_i64().expect("ms");
        let expires = pending[0]["expires_at"].as_i64().expect("ms");
        assert_eq!(expires - created, 60 * 60 * 1000, "{listed}");
        assert_eq!(pending[2]["sender_id"], "4711", "newest first: {listed}");

        let approved = who
            .admin
            .call_ok("device.pair.approve", json!({ "code": code }))
            .await;
        assert_eq!(approved["paired"]["sender_id"], "4711");
        assert_eq!(approved["paired"]["paired_by"], "ada");
        let again = who
            .admin
            .call("device.pair.approve", json!({ "code": code }))
            .await;
        assert_eq!(error_code(&again), "NOT_FOUND", "{again}");
        let missing = who.admin.call("device.pair.approve", json!({})).await;
        assert_eq!(error_code(&missing), "INVALID_REQUEST", "{missing}");

        let listed = who.admin.call_ok("device.pair.list", json!({})).await;
        assert_goclaw_shape("ws_device.pair.list", &listed);
        assert_eq!(listed["paired"][0]["sender_id"], "4711", "{listed}");

        let denied_code = code_of(
            &who.admin
                .call_ok("device.pair.request", asking("4712"))
                .await,
        );
        let denied = who
            .owner
            .call_ok("device.pair.deny", json!({ "code": denied_code }))
            .await;
        assert_goclaw_shape("ws_device.pair.deny", &denied);
        let gone = who
            .owner
            .call("device.pair.deny", json!({ "code": denied_code }))
            .await;
        assert_eq!(error_code(&gone), "NOT_FOUND", "{gone}");

        // Another tenant's admin sees none of it and can answer none of it.
        let theirs = who.carol.call_ok("device.pair.list", json!({})).await;
        assert_eq!(theirs, json!({ "pending": [], "paired": [] }));
        let waiting = code_of(
            &who.admin
                .call_ok("device.pair.request", asking("4713"))
                .await,
        );
        for (method, params) in [
            ("device.pair.approve", json!({ "code": waiting })),
            ("device.pair.deny", json!({ "code": waiting })),
            (
                "device.pair.revoke",
                json!({ "senderId": "4711", "channel": "telegram" }),
            ),
        ] {
            let answer = who.carol.call(method, params).await;
            assert_eq!(error_code(&answer), "NOT_FOUND", "carol {method}: {answer}");
        }

        let revoked = who
            .admin
            .call_ok(
                "device.pair.revoke",
                json!({ "senderId": "4711", "channel": "telegram" }),
            )
            .await;
        assert_goclaw_shape("ws_device.pair.revoke", &revoked);
        let again = who
            .admin
            .call(
                "device.pair.revoke",
                json!({ "senderId": "4711", "channel": "telegram" }),
            )
            .await;
        assert_eq!(error_code(&again), "NOT_FOUND", "{again}");
    }
);

/// Reads `ws` until it has an event `name` or `wait` passes; the events named `name` it has.
async fn events_named(ws: &mut WsClient, name: &str, wait: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let found: Vec<Value> = ws
            .events
            .iter()
            .filter(|e| e["event"] == name)
            .cloned()
            .collect();
        if !found.is_empty() || tokio::time::Instant::now() >= deadline {
            return found;
        }
        tokio::time::timeout(Duration::from_millis(100), ws.pump())
            .await
            .ok();
    }
}

app_test!(
    pairing_events_reach_the_tenants_admins_only,
    app,
    |app: TestApp| async move {
        let mut who = sockets(&app).await;
        let code = code_of(
            &who.pairer
                .call_ok("device.pair.request", asking("4711"))
                .await,
        );
        who.admin
            .call_ok("device.pair.approve", json!({ "code": code }))
            .await;

        for (name, ws) in [("owner", &mut who.owner), ("admin", &mut who.admin)] {
            let requested = events_named(ws, "device.pair.requested", Duration::from_secs(5)).await;
            assert_eq!(requested.len(), 1, "{name}: {requested:?}");
            assert_goclaw_shape("ws_event_device.pair.requested", &requested[0]);
            assert_eq!(requested[0]["payload"]["code"], code.as_str());
            assert_eq!(requested[0]["payload"]["sender_id"], "4711");
            let resolved = events_named(ws, "device.pair.resolved", Duration::from_secs(5)).await;
            assert_eq!(resolved.len(), 1, "{name}: {resolved:?}");
            assert_goclaw_shape("ws_event_device.pair.resolved", &resolved[0]);
            assert_eq!(resolved[0]["payload"]["action"], "approved");
        }
        // Carol, an admin of another tenant, asks for a code of her own: its event comes through
        // the same broadcast after the master tenant's, so once she has it, anything of the
        // master tenant's would have reached her first.
        let theirs = code_of(
            &who.carol
                .call_ok("device.pair.request", asking("9000"))
                .await,
        );
        let carols = events_named(
            &mut who.carol,
            "device.pair.requested",
            Duration::from_secs(5),
        )
        .await;
        let codes: Vec<&str> = carols
            .iter()
            .filter_map(|e| e["payload"]["code"].as_str())
            .collect();
        assert_eq!(codes, [theirs.as_str()], "carol: {carols:?}");
        // The others of the master tenant below admin get no pairing event on any tenant's
        // behalf. Which connection is sent what is pinned deterministically by
        // `ws::wire::tests::tenant_events_reach_exactly_their_callers`; here, after a moment
        // for their connections to forward whatever they were going to, a call's answer
        // comes after it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (name, ws) in [
            ("pairer", &mut who.pairer),
            ("alice", &mut who.alice),
            ("vera", &mut who.vera),
        ] {
            // Any answer will do (the pairing key may not call `health`).
            ws.call("health", json!({})).await;
            let pairing: Vec<&Value> = ws
                .events
                .iter()
                .filter(|e| {
                    e["event"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("device.pair."))
                })
                .collect();
            assert!(pairing.is_empty(), "{name} was sent {pairing:?}");
        }
    }
);

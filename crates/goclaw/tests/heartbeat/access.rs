//! The `heartbeat.*` methods' shapes as GoClaw's dashboard reads them, their refusals, and who
//! may see and do what: the owner and an admin (a key bound to ada) configure heartbeats;
//! alice (read+write) and vera (read only) may read them but change nothing. `heartbeat`
//! events reach the agent's tenant — its admins, operators and viewers — and nobody of
//! another tenant.

use goclaw_core::{ApiKeyScope, SessionKey};
use goclaw_testkit::{Reply, TestApp, WsClient};
use serde_json::{Value, json};

use super::support::wire::assert_goclaw_shape;
use super::{TOKEN, clocked, configure, heartbeat_test, owner, runs};

async fn key(app: &TestApp, scopes: &[&str], owner: &str) -> String {
    app.create_api_key(
        TOKEN,
        json!({ "name": owner, "scopes": scopes, "owner_id": owner }),
    )
    .await
    .1
}

async fn connect(app: &TestApp, token: &str, role: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    let hello = ws
        .call_ok("connect", json!({ "token": token, "user_id": "" }))
        .await;
    assert_eq!(hello["role"], role, "{hello}");
    ws
}

struct People {
    owner: WsClient,
    ada: WsClient,
    alice: WsClient,
    vera: WsClient,
}

async fn people(app: &TestApp) -> People {
    let ada = key(app, &["operator.admin"], "ada").await;
    let alice = key(app, &["operator.read", "operator.write"], "alice").await;
    let vera = key(app, &["operator.read"], "vera").await;
    People {
        owner: owner(app).await,
        ada: connect(app, &ada, "admin").await,
        alice: connect(app, &alice, "operator").await,
        vera: connect(app, &vera, "viewer").await,
    }
}

fn code(response: &Value) -> &str {
    response["error"]["code"].as_str().unwrap_or_default()
}

fn message(response: &Value) -> &str {
    response["error"]["message"].as_str().unwrap_or_default()
}

fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

heartbeat_test!(methods_answer_in_goclaws_shapes, |backend| async move {
    let Some((app, _clock)) = clocked(backend, "{}", &[]).await else {
        return;
    };
    let mut ws = owner(&app).await;
    let got = ws
        .call_ok("heartbeat.get", json!({ "agentId": "default" }))
        .await;
    assert_eq!(got, json!({ "heartbeat": null }));
    let hb = ws
        .call_ok("heartbeat.set", json!({ "agentId": "default" }))
        .await["heartbeat"]
        .clone();
    assert_eq!(
        keys(&hb),
        [
            "ackMaxChars",
            "agentId",
            "createdAt",
            "enabled",
            "id",
            "intervalSec",
            "isolatedSession",
            "lightContext",
            "maxRetries",
            "runCount",
            "suppressCount",
            "updatedAt",
        ],
        "GoClaw's defaults, nothing scheduled while disabled: {hb}"
    );
    assert_eq!(
        (
            &hb["enabled"],
            &hb["intervalSec"],
            &hb["isolatedSession"],
            &hb["ackMaxChars"],
            &hb["maxRetries"]
        ),
        (
            &json!(false),
            &json!(1800),
            &json!(true),
            &json!(300),
            &json!(2)
        )
    );
    let agent_id = hb["agentId"].as_str().expect("agent id").to_owned();
    // Every setting, by the agent's id this time.
    let hb = ws
        .call_ok(
            "heartbeat.set",
            json!({
                "agentId": agent_id, "enabled": true, "intervalSec": 600, "prompt": "Look around",
                "model": "gpt-test", "isolatedSession": false, "lightContext": true,
                "ackMaxChars": 10, "maxRetries": 0, "activeHoursStart": "08:00",
                "activeHoursEnd": "20:00", "timezone": "Europe/Berlin", "channel": "telegram",
                "chatId": "99",
            }),
        )
        .await["heartbeat"]
        .clone();
    for (field, value) in [
        ("enabled", json!(true)),
        ("intervalSec", json!(600)),
        ("prompt", json!("Look around")),
        ("model", json!("gpt-test")),
        ("isolatedSession", json!(false)),
        ("lightContext", json!(true)),
        ("ackMaxChars", json!(10)),
        ("maxRetries", json!(0)),
        ("activeHoursStart", json!("08:00")),
        ("activeHoursEnd", json!("20:00")),
        ("timezone", json!("Europe/Berlin")),
        ("channel", json!("telegram")),
        ("chatId", json!("99")),
    ] {
        assert_eq!(hb[field], value, "{field}: {hb}");
    }
    assert!(hb["nextRunAt"].is_string(), "enabled: scheduled: {hb}");
    let got = ws
        .call_ok("heartbeat.get", json!({ "agentId": "default" }))
        .await;
    assert_goclaw_shape("ws_heartbeat.get", &got);
    // Clearing a setting leaves it out.
    let hb = ws
        .call_ok(
            "heartbeat.set",
            json!({ "agentId": "default", "model": "", "chatId": "" }),
        )
        .await["heartbeat"]
        .clone();
    assert!(
        hb.get("model").is_none() && hb.get("chatId").is_none(),
        "{hb}"
    );
    assert_eq!(hb["prompt"], "Look around", "kept");

    let toggled = ws
        .call_ok(
            "heartbeat.toggle",
            json!({ "agentId": "default", "enabled": false }),
        )
        .await;
    assert_eq!(toggled, json!({ "agentId": "default", "enabled": false }));
    let set = ws
        .call_ok(
            "heartbeat.checklist.set",
            json!({ "agentId": "default", "content": "- Check é" }),
        )
        .await;
    assert_eq!(set, json!({ "ok": true, "length": 9 }));
    let got = ws
        .call_ok("heartbeat.checklist.get", json!({ "agentId": "default" }))
        .await;
    assert_eq!(got, json!({ "content": "- Check é" }));
    let logs = ws
        .call_ok("heartbeat.logs", json!({ "agentId": "default" }))
        .await;
    assert_eq!(logs, json!({ "logs": [], "total": 0 }));

    // Known chats: the tenant's channel sessions, each chat once.
    let store = app.db.store();
    let tenant = goclaw_core::MASTER_TENANT_ID;
    for (key, label) in [
        ("agent:default:telegram:direct:4242", "Ada"),
        ("agent:default:telegram:group:-100:topic:7", ""),
        ("agent:default:telegram:group:-100", "Ops room"),
        ("agent:default:ws:chat", ""),
    ] {
        let parsed = SessionKey::parse(key).expect("key");
        store
            .sessions()
            .get_or_create(tenant, &parsed, None, "u", "telegram")
            .await
            .expect("session");
        if !label.is_empty() {
            store
                .sessions()
                .patch(
                    tenant,
                    &SessionKey::parse(key).expect("key"),
                    goclaw_core::SessionPatch {
                        label: Some(label.to_owned()),
                        ..Default::default()
                    },
                )
                .await
                .expect("label");
        }
    }
    let targets = ws
        .call_ok("heartbeat.targets", json!({ "agentId": "default" }))
        .await;
    assert_goclaw_shape("ws_heartbeat.targets", &targets);
    let mut listed: Vec<(String, String, String)> = targets["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["channel"].as_str().unwrap_or_default().to_owned(),
                t["chatId"].as_str().unwrap_or_default().to_owned(),
                t["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("telegram".into(), "-100".into(), "group".into()),
            ("telegram".into(), "4242".into(), "dm".into()),
        ],
        "{targets}"
    );
    assert!(
        targets["targets"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["title"] == "Ada")),
        "{targets}"
    );

    // Refusals, in GoClaw's words.
    for (method, params, expected_code, expected) in [
        (
            "heartbeat.get",
            json!({}),
            "INVALID_REQUEST",
            "agentId is required",
        ),
        (
            "heartbeat.get",
            json!({ "agentId": "nobody" }),
            "INVALID_REQUEST",
            "invalid agentId",
        ),
        (
            "heartbeat.set",
            json!({ "agentId": "default", "intervalSec": 299 }),
            "INVALID_REQUEST",
            "minimum interval is 300 seconds",
        ),
        (
            "heartbeat.set",
            json!({ "agentId": "default", "maxRetries": 11 }),
            "INVALID_REQUEST",
            "maxRetries must be 0-10",
        ),
        (
            "heartbeat.set",
            json!({ "agentId": "default", "timezone": "Mars/Olympus" }),
            "INVALID_REQUEST",
            "invalid timezone: Mars/Olympus",
        ),
        (
            "heartbeat.set",
            json!({ "agentId": "default", "providerName": "nope" }),
            "INVALID_REQUEST",
            "provider not found: nope",
        ),
    ] {
        let answer = ws.call(method, params).await;
        assert_eq!(code(&answer), expected_code, "{method}: {answer}");
        assert_eq!(message(&answer), expected, "{method}: {answer}");
    }
    // An agent without a heartbeat cannot be toggled or tested.
    let other = app
        .db
        .store()
        .agents()
        .create(goclaw_core::NewAgent::new(
            tenant,
            goclaw_core::AgentKey::parse("quiet").expect("key"),
            "Quiet",
        ))
        .await
        .expect("agent");
    for method in ["heartbeat.toggle", "heartbeat.test"] {
        let answer = ws
            .call(
                method,
                json!({ "agentId": other.id.to_string(), "enabled": true }),
            )
            .await;
        assert_eq!(code(&answer), "NOT_FOUND", "{method}: {answer}");
        assert_eq!(message(&answer), "heartbeat not configured");
    }
});

heartbeat_test!(
    heartbeat_events_reach_the_tenant_and_nobody_else,
    |backend| async move {
        let Some((app, _clock)) = clocked(backend, "{}", &[]).await else {
            return;
        };
        let mut who = people(&app).await;
        let acme = app
            .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
            .await;
        let mut carol = connect(&app, &acme.key, "admin").await;

        // Only admins change heartbeats; everyone of the tenant reads them.
        configure(&mut who.ada, "- Check in", json!({})).await;
        for ws in [&mut who.alice, &mut who.vera] {
            for (method, params) in [
                (
                    "heartbeat.set",
                    json!({ "agentId": "default", "enabled": false }),
                ),
                (
                    "heartbeat.toggle",
                    json!({ "agentId": "default", "enabled": false }),
                ),
                ("heartbeat.test", json!({ "agentId": "default" })),
                (
                    "heartbeat.checklist.set",
                    json!({ "agentId": "default", "content": "mine" }),
                ),
            ] {
                let answer = ws.call(method, params).await;
                assert_eq!(code(&answer), "UNAUTHORIZED", "{method}: {answer}");
            }
            for method in [
                "heartbeat.get",
                "heartbeat.logs",
                "heartbeat.checklist.get",
                "heartbeat.targets",
            ] {
                ws.call_ok(method, json!({ "agentId": "default" })).await;
            }
            let hb = ws
                .call_ok("heartbeat.get", json!({ "agentId": "default" }))
                .await;
            assert_eq!(hb["heartbeat"]["enabled"], true, "unchanged: {hb}");
        }
        let checklist = who
            .vera
            .call_ok("heartbeat.checklist.get", json!({ "agentId": "default" }))
            .await;
        assert_eq!(checklist["content"], "- Check in");
        // Another tenant's admin cannot name this tenant's agent, by key or by id.
        let hb = who
            .owner
            .call_ok("heartbeat.get", json!({ "agentId": "default" }))
            .await;
        let agent_id = hb["heartbeat"]["agentId"].as_str().expect("id").to_owned();
        for agent in ["default", agent_id.as_str()] {
            let answer = carol
                .call("heartbeat.test", json!({ "agentId": agent }))
                .await;
            assert_eq!(message(&answer), "invalid agentId", "{agent}: {answer}");
        }

        app.llm.push(Reply::text("HEARTBEAT_OK"));
        who.owner
            .call_ok("heartbeat.test", json!({ "agentId": "default" }))
            .await;
        runs(&mut who.owner, 1).await;
        let logs = who
            .vera
            .call_ok("heartbeat.logs", json!({ "agentId": "default" }))
            .await;
        assert_goclaw_shape("ws_heartbeat.logs", &logs);
        let heard = |ws: &WsClient| {
            ws.events
                .iter()
                .any(|e| e["event"] == "heartbeat" && e["payload"]["action"] == "suppressed")
        };
        for (name, ws) in [
            ("owner", &mut who.owner),
            ("ada", &mut who.ada),
            ("alice", &mut who.alice),
            ("vera", &mut who.vera),
        ] {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            while !heard(ws) {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{name} heard nothing"
                );
                ws.pump().await;
            }
        }
        let event = who
            .vera
            .events
            .iter()
            .find(|e| e["event"] == "heartbeat" && e["payload"]["action"] == "suppressed")
            .cloned()
            .unwrap_or_default();
        assert_goclaw_shape("ws_event_heartbeat", &event);
        // Carol's tenant heard nothing: after a round trip her connection has forwarded
        // whatever it was going to.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        carol
            .call("heartbeat.get", json!({ "agentId": "helper" }))
            .await;
        assert!(
            !carol.events.iter().any(|e| e["event"] == "heartbeat"),
            "{:?}",
            carol.events
        );
    }
);

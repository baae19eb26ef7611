//! The `cron.*` methods' shapes as GoClaw's dashboard reads them, and who may see and do what:
//! the owner sees and changes every job; alice and bob (read+write keys bound to them) only
//! their own — each other's are refused as a permission matter, never listed; vera (read
//! only) lists nothing of theirs and may create nothing. A run's `cron` events reach its
//! job's owner and the tenant's admins, nobody else.

use goclaw_testkit::{ManualClock, Reply, StoreBackend, TestApp, WsClient};
use serde_json::{Value, json};

use super::{clocked, create, cron_test, finished_runs, t0};

const TOKEN: &str = "cron-access-token-61bd0e2f";

async fn key(app: &TestApp, scopes: &[&str], owner: &str) -> String {
    app.create_api_key(
        TOKEN,
        json!({ "name": owner, "scopes": scopes, "owner_id": owner }),
    )
    .await
    .1
}

async fn connect(app: &TestApp, token: &str, user_id: &str, role: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    let hello = ws
        .call_ok("connect", json!({ "token": token, "user_id": user_id }))
        .await;
    assert_eq!(hello["role"], role, "{hello}");
    ws
}

struct People {
    owner: WsClient,
    alice: WsClient,
    bob: WsClient,
    vera: WsClient,
}

async fn people(app: &TestApp) -> People {
    let alice = key(app, &["operator.read", "operator.write"], "alice").await;
    let bob = key(app, &["operator.read", "operator.write"], "bob").await;
    let vera = key(app, &["operator.read"], "vera").await;
    People {
        owner: connect(app, TOKEN, "system", "owner").await,
        alice: connect(app, &alice, "", "operator").await,
        bob: connect(app, &bob, "", "operator").await,
        vera: connect(app, &vera, "", "viewer").await,
    }
}

fn refused(response: &Value) -> bool {
    response["ok"] == false && response["error"]["code"] == "UNAUTHORIZED"
}

fn names(listed: &Value) -> Vec<String> {
    listed["jobs"]
        .as_array()
        .map(|jobs| {
            jobs.iter()
                .filter_map(|j| j["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn app(backend: StoreBackend) -> Option<(TestApp, std::sync::Arc<ManualClock>)> {
    clocked(backend, "{}", &[("GOCLAW_GATEWAY_TOKEN", TOKEN)], t0()).await
}

cron_test!(methods_answer_in_goclaws_shapes, |backend| async move {
    let Some((app, _clock)) = app(backend).await else {
        return;
    };
    let mut who = people(&app).await;
    let job = create(
        &mut who.alice,
        json!({
            "name": "weekly",
            "schedule": { "kind": "cron", "expr": "0 9 * * 1", "tz": "Europe/Berlin" },
            "message": "weekly report",
            "deliver": true,
            "deliverChannel": "telegram",
            "deliverTo": "99",
        }),
    )
    .await;
    let mut keys: Vec<&str> = job
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "agentId",
            "createdAtMs",
            "deliver",
            "deliverChannel",
            "deliverTo",
            "enabled",
            "id",
            "name",
            "payload",
            "schedule",
            "state",
            "stateless",
            "tenantId",
            "updatedAtMs",
            "userId",
            "wakeHeartbeat",
        ],
        "{job}"
    );
    assert_eq!(job["userId"], "alice");
    assert_eq!(job["stateless"], true, "stateless by default");
    assert_eq!(
        job["schedule"],
        json!({ "kind": "cron", "expr": "0 9 * * 1", "tz": "Europe/Berlin" })
    );
    assert_eq!(
        job["payload"],
        json!({ "kind": "agent_turn", "message": "weekly report" })
    );
    // Monday 2030-01-07 09:00 in Berlin is 08:00 UTC.
    assert_eq!(
        job["state"]["nextRunAtMs"],
        (t0() + chrono::TimeDelta::hours(8)).timestamp_millis()
    );
    let id = job["id"].as_str().expect("id").to_owned();

    let listed = who.alice.call_ok("cron.list", json!({})).await;
    assert_eq!(names(&listed), ["weekly"]);
    assert_eq!(listed["status"]["enabled"], true);
    assert_eq!(listed["status"]["jobs"], 1);

    let updated = who
        .alice
        .call_ok(
            "cron.update",
            json!({ "id": id, "patch": { "schedule": { "expr": "0 10 * * 1" }, "name": "weekly-10" } }),
        )
        .await;
    assert_eq!(updated["job"]["name"], "weekly-10");
    assert_eq!(
        updated["job"]["schedule"],
        json!({ "kind": "cron", "expr": "0 10 * * 1", "tz": "Europe/Berlin" })
    );
    let toggled = who
        .alice
        .call_ok("cron.toggle", json!({ "jobId": id, "enabled": false }))
        .await;
    assert_eq!(toggled, json!({ "jobId": id, "enabled": false }));
    let listed = who.alice.call_ok("cron.list", json!({})).await;
    assert!(
        names(&listed).is_empty(),
        "disabled jobs are left out: {listed}"
    );
    let listed = who
        .alice
        .call_ok("cron.list", json!({ "includeDisabled": true }))
        .await;
    assert_eq!(names(&listed), ["weekly-10"]);
    assert!(listed["jobs"][0]["state"]["nextRunAtMs"].is_null());
    // A disabled job is not due: `due` mode does not run it.
    let not_due = who
        .alice
        .call_ok("cron.run", json!({ "jobId": id, "mode": "due" }))
        .await;
    assert_eq!(
        not_due,
        json!({ "ok": true, "ran": false, "reason": "not-due" })
    );

    app.llm.push(Reply::text("forced answer"));
    let ran = who
        .alice
        .call_ok("cron.run", json!({ "jobId": id, "mode": "force" }))
        .await;
    assert_eq!(ran, json!({ "ok": true, "ran": true }));
    let runs = finished_runs(&mut who.alice, &id, 1).await;
    let mut keys: Vec<&str> = runs[0]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "error",
            "id",
            "inputTokens",
            "jobId",
            "outputTokens",
            "status",
            "summary",
            "ts"
        ]
    );
    // The answer was made but no telegram channel runs here: the run failed on delivery.
    assert_eq!(runs[0]["status"], "error");
    assert_eq!(runs[0]["summary"], "forced answer");
    assert!(
        runs[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("telegram")),
        "{runs:?}"
    );
    let page = who
        .alice
        .call_ok("cron.runs", json!({ "jobId": id, "limit": 5, "offset": 0 }))
        .await;
    assert_eq!(page["total"], 1);

    // Bad input answers clearly.
    for (params, text) in [
        (
            json!({ "name": "x", "message": "m" }),
            "schedule is required",
        ),
        (
            json!({ "name": "x", "message": "m", "schedule": { "kind": "cron", "expr": "61 * * * *" } }),
            "invalid cron expression",
        ),
        (
            json!({ "name": "x", "message": "m", "schedule": { "kind": "cron", "expr": "* * * * *", "tz": "Mars/Base" } }),
            "unknown time zone",
        ),
        (
            json!({ "name": "x", "message": "m", "schedule": { "kind": "at", "atMs": 1000 } }),
            "in the past",
        ),
        (
            json!({ "name": "x", "message": "m", "schedule": { "kind": "every", "everyMs": 10 } }),
            "too short",
        ),
        (
            json!({ "name": "", "message": "m", "schedule": { "kind": "every", "everyMs": 60000 } }),
            "name is required",
        ),
        (
            json!({ "name": "x", "schedule": { "kind": "every", "everyMs": 60000 } }),
            "message is required",
        ),
    ] {
        let answer = who.alice.call("cron.create", params.clone()).await;
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            answer["error"]["code"] == "INVALID_REQUEST" && message.contains(text),
            "{params} → {answer}"
        );
    }
    let duplicate = who
        .alice
        .call(
            "cron.create",
            json!({ "name": "weekly-10", "message": "m", "schedule": { "kind": "every", "everyMs": 60000 } }),
        )
        .await;
    assert_eq!(duplicate["error"]["code"], "ALREADY_EXISTS", "{duplicate}");
    let missing = who.alice.call("cron.update", json!({ "patch": {} })).await;
    assert_eq!(missing["error"]["message"], "jobId is required");

    let deleted = who
        .alice
        .call_ok("cron.delete", json!({ "jobId": id }))
        .await;
    assert_eq!(deleted, json!({ "deleted": true }));
    let gone = who.alice.call("cron.delete", json!({ "jobId": id })).await;
    assert_eq!(gone["error"]["code"], "NOT_FOUND", "{gone}");
});

cron_test!(
    cron_events_reach_the_owner_and_admins_only,
    |backend| async move {
        let Some((app, _clock)) = app(backend).await else {
            return;
        };
        let mut who = people(&app).await;
        let alices = create(
            &mut who.alice,
            json!({ "name": "alices", "schedule": { "kind": "every", "everyMs": 60000 }, "message": "a" }),
        )
        .await;
        let bobs = create(
            &mut who.bob,
            json!({ "name": "bobs", "schedule": { "kind": "every", "everyMs": 60000 }, "message": "b" }),
        )
        .await;
        let alice_id = alices["id"].as_str().expect("id").to_owned();
        let bob_id = bobs["id"].as_str().expect("id").to_owned();

        // Listing: each user their own, the owner both, the viewer none of theirs.
        let listed = |v: Value| {
            let mut n = names(&v);
            n.sort();
            n
        };
        assert_eq!(
            listed(who.alice.call_ok("cron.list", json!({})).await),
            ["alices"]
        );
        assert_eq!(
            listed(who.bob.call_ok("cron.list", json!({})).await),
            ["bobs"]
        );
        assert_eq!(
            listed(who.owner.call_ok("cron.list", json!({})).await),
            ["alices", "bobs"]
        );
        assert!(listed(who.vera.call_ok("cron.list", json!({})).await).is_empty());
        let status = who.vera.call_ok("cron.status", json!({})).await;
        assert_eq!(status["jobs"], 0, "{status}");

        // Bob cannot touch alice's job, by any method; the viewer cannot write at all.
        for (method, params) in [
            (
                "cron.update",
                json!({ "jobId": alice_id, "patch": { "name": "mine" } }),
            ),
            (
                "cron.toggle",
                json!({ "jobId": alice_id, "enabled": false }),
            ),
            ("cron.run", json!({ "jobId": alice_id, "mode": "force" })),
            ("cron.runs", json!({ "jobId": alice_id })),
            ("cron.delete", json!({ "jobId": alice_id })),
        ] {
            let answer = who.bob.call(method, params.clone()).await;
            assert!(refused(&answer), "bob {method}: {answer}");
            let answer = who.vera.call(method, params).await;
            assert!(
                answer["ok"] == false,
                "vera {method} on alice's job: {answer}"
            );
        }
        let answer = who
            .vera
            .call(
                "cron.create",
                json!({ "name": "v", "schedule": { "kind": "every", "everyMs": 60000 }, "message": "v" }),
            )
            .await;
        assert!(refused(&answer), "{answer}");
        // Alice's job is untouched.
        let listed_all = who.owner.call_ok("cron.list", json!({})).await;
        assert_eq!(listed(listed_all), ["alices", "bobs"]);

        // Alice's forced run: her and the owner's connections hear of it, bob's and vera's
        // do not (bob's own run shows they would hear of theirs).
        app.llm.push(Reply::text("alice's answer"));
        who.alice
            .call_ok("cron.run", json!({ "jobId": alice_id, "mode": "force" }))
            .await;
        finished_runs(&mut who.alice, &alice_id, 1).await;
        app.llm.push(Reply::text("bob's answer"));
        who.bob
            .call_ok("cron.run", json!({ "jobId": bob_id, "mode": "force" }))
            .await;
        finished_runs(&mut who.bob, &bob_id, 1).await;
        // The owner may run anyone's job.
        app.llm.push(Reply::text("owner ran it"));
        who.owner
            .call_ok("cron.run", json!({ "jobId": alice_id, "mode": "force" }))
            .await;
        finished_runs(&mut who.owner, &alice_id, 2).await;

        let of = |ws: &WsClient, job: &str, action: &str| {
            ws.events
                .iter()
                .filter(|e| e["event"] == "cron")
                .any(|e| e["payload"]["jobId"] == job && e["payload"]["action"] == action)
        };
        // Events may still be in flight behind the last response: read until bob has his.
        while !of(&who.bob, &bob_id, "completed") {
            who.bob.pump().await;
        }
        while !of(&who.owner, &alice_id, "completed") || !of(&who.owner, &bob_id, "completed") {
            who.owner.pump().await;
        }
        while !of(&who.alice, &alice_id, "completed") {
            who.alice.pump().await;
        }
        assert!(of(&who.alice, &alice_id, "running"));
        assert!(
            !of(&who.alice, &bob_id, "running"),
            "alice heard of bob's run"
        );
        assert!(
            !of(&who.bob, &alice_id, "running"),
            "bob heard of alice's run"
        );
        // The viewer, told about a ping round trip later, has heard of neither.
        who.vera.call_ok("cron.status", json!({})).await;
        assert!(
            !who.vera.events.iter().any(|e| e["event"] == "cron"),
            "{:?}",
            who.vera.events
        );
        let event = who
            .alice
            .events
            .iter()
            .find(|e| e["event"] == "cron" && e["payload"]["action"] == "completed")
            .expect("a completed event");
        assert_eq!(
            event["payload"],
            json!({ "action": "completed", "jobId": alice_id, "jobName": "alices", "userId": "alice", "status": "ok" })
        );
    }
);

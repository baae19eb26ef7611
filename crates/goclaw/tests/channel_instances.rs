//! Channel instances stored in the database, on both backends: created over HTTP, the WebSocket
//! methods and `goclaw channels add`, each starts a real bot against a loopback Telegram that
//! answers its users; changing one restarts it, disabling or deleting it stops it. The wire is
//! GoClaw's (`{instances, total, limit, offset}`, credentials as `"***"`, `{status}`), a token
//! never comes back in any answer, and every caller sees and does only what its role and tenant
//! allow: an admin of the master tenant, a viewer of it, and another tenant's admin.

mod support;

use std::time::Duration;

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{FakeTelegram, Reply, StoreBackend, TestApp, WsClient, app_test};
use reqwest::Method;
use serde_json::{Value, json};
use support::Goclaw;

const TOKEN: &str = "instances-gateway-token-7c2d";
const ENCRYPTION_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const BOT_TOKEN: &str = "777001:instance-bot-token-secret";
const WAIT: Duration = Duration::from_secs(30);

async fn with_key(backend: StoreBackend) -> Option<TestApp> {
    goclaw_testkit::spawn_app_with(
        backend,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ],
    )
    .await
}

async fn without_key(backend: StoreBackend) -> Option<TestApp> {
    goclaw_testkit::spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

async fn api(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn signed_in(app: &TestApp, token: &str, user: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": token, "user_id": user }))
        .await;
    ws
}

/// A Telegram instance's body, its bot on `telegram`.
fn telegram_instance(name: &str, telegram: &FakeTelegram) -> Value {
    json!({
        "name": name,
        "display_name": "Support",
        "channel_type": "telegram",
        "agent_id": "default",
        "credentials": { "token": BOT_TOKEN },
        "config": { "api_server": telegram.api_server(), "poll_timeout": 1, "dm_policy": "open" },
    })
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The state `channels.status` gives `name`, if it lists it.
async fn state_of(ws: &mut WsClient, name: &str) -> Option<String> {
    let status = ws.call_ok("channels.status", json!({})).await;
    status["channels"][name]["state"]
        .as_str()
        .map(str::to_owned)
}

app_test!(
    an_instance_runs_its_bot_and_follows_its_changes,
    with_key,
    |app: TestApp| async move {
        let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
        app.llm.set_default(Reply::text("answered by the instance"));
        let mut answers = Vec::new();

        let (status, created) = api(
            &app,
            Method::POST,
            "/v1/channels/instances",
            TOKEN,
            Some(telegram_instance("support-bot", &telegram)),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["name"], "support-bot");
        assert_eq!(created["display_name"], "Support");
        assert_eq!(created["channel_type"], "telegram");
        assert_eq!(created["credentials"], json!({ "token": "***" }));
        assert_eq!(created["has_credentials"], true);
        assert_eq!(created["is_default"], false);
        assert_eq!(created["enabled"], true);
        assert_eq!(created["config"]["dm_policy"], "open");
        let id = created["id"].as_str().expect("id").to_owned();
        answers.push(created.to_string());

        // The bot runs: a user's message is answered by the instance's agent.
        telegram.direct_message(501, "hello instance");
        let sent = telegram
            .wait_for_sent(WAIT, |s| !s.is_empty())
            .await
            .expect("an answer");
        assert_eq!(sent[0].chat_id, "501");
        assert_eq!(sent[0].text, "answered by the instance");

        let (status, page) = api(&app, Method::GET, "/v1/channels/instances", TOKEN, None).await;
        assert_eq!(status, 200);
        assert_eq!(page["total"], 1);
        assert_eq!(page["limit"], 50);
        assert_eq!(page["offset"], 0);
        assert_eq!(page["instances"][0]["id"], id.as_str());
        assert_eq!(page["instances"][0]["status"], "running");
        answers.push(page.to_string());

        // Credential keys sent in config end up in the credentials, merged with the stored ones.
        let (status, updated) = api(
            &app,
            Method::PUT,
            &format!("/v1/channels/instances/{id}"),
            TOKEN,
            Some(json!({
                "display_name": "Front desk",
                "config": {
                    "api_server": telegram.api_server(), "poll_timeout": 1,
                    "dm_policy": "open", "webhook_secret": "wh-secret-value-1",
                },
                "name": "renamed", "channel_type": "discord",
            })),
        )
        .await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated, json!({ "status": "updated" }));
        let (_, one) = api(
            &app,
            Method::GET,
            &format!("/v1/channels/instances/{id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(one["display_name"], "Front desk");
        assert_eq!(one["name"], "support-bot", "the name never changes");
        assert_eq!(one["channel_type"], "telegram");
        assert_eq!(
            one["credentials"],
            json!({ "token": "***", "webhook_secret": "***" })
        );
        assert!(one["config"].get("webhook_secret").is_none(), "{one}");
        answers.push(one.to_string());

        // Disabling stops the bot; enabling starts it again.
        let mut ws = signed_in(&app, TOKEN, "ops").await;
        let (status, _) = api(
            &app,
            Method::PUT,
            &format!("/v1/channels/instances/{id}"),
            TOKEN,
            Some(json!({ "enabled": false })),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(state_of(&mut ws, "support-bot").await, None);
        let (_, one) = api(
            &app,
            Method::GET,
            &format!("/v1/channels/instances/{id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(one["status"], "disabled");
        let polls = telegram.polls();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            telegram.polls() <= polls + 1,
            "a disabled instance keeps polling"
        );
        let (status, _) = api(
            &app,
            Method::PUT,
            &format!("/v1/channels/instances/{id}"),
            TOKEN,
            Some(json!({ "enabled": true })),
        )
        .await;
        assert_eq!(status, 200);
        wait_until("the instance to run again", async || {
            state_of(&mut ws, "support-bot").await.as_deref() == Some("running")
        })
        .await;

        // channels.toggle stops and starts it too.
        let toggled = ws
            .call_ok(
                "channels.toggle",
                json!({ "channel": "support-bot", "enabled": false }),
            )
            .await;
        assert_eq!(
            toggled,
            json!({ "channel": "support-bot", "enabled": false, "status": "ok" })
        );
        assert_eq!(
            state_of(&mut ws, "support-bot").await.as_deref(),
            Some("stopped")
        );
        let again = ws
            .call_ok(
                "channels.toggle",
                json!({ "channel": "support-bot", "enabled": false }),
            )
            .await;
        assert_eq!(again["status"], "already_stopped");
        ws.call_ok(
            "channels.toggle",
            json!({ "channel": "support-bot", "enabled": true }),
        )
        .await;
        wait_until("the toggled instance to run", async || {
            state_of(&mut ws, "support-bot").await.as_deref() == Some("running")
        })
        .await;
        let listed = ws.call_ok("channels.list", json!({})).await;
        assert_eq!(listed, json!({ "channels": ["support-bot"] }));

        // Deleting stops it for good.
        let (status, deleted) = api(
            &app,
            Method::DELETE,
            &format!("/v1/channels/instances/{id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(deleted, json!({ "status": "deleted" }));
        assert_eq!(state_of(&mut ws, "support-bot").await, None);
        let (status, _) = api(
            &app,
            Method::GET,
            &format!("/v1/channels/instances/{id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(status, 404);

        for answer in answers {
            assert!(!answer.contains(BOT_TOKEN), "the token leaked: {answer}");
            assert!(
                !answer.contains("wh-secret-value-1"),
                "a secret leaked: {answer}"
            );
        }
        app.stop().await.expect("clean stop");
    }
);

app_test!(
    each_caller_sees_and_changes_only_what_it_may,
    with_key,
    |app: TestApp| async move {
        let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
        let (_, alice) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "a-admin", "scopes": ["operator.admin"], "owner_id": "alice" }),
            )
            .await;
        let (_, victor) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "viewer", "scopes": ["operator.read"], "owner_id": "victor" }),
            )
            .await;
        let bob = app
            .other_tenant("acme", "helper", "bob", &[ApiKeyScope::Admin])
            .await;

        let (status, mine) = api(
            &app,
            Method::POST,
            "/v1/channels/instances",
            &alice,
            Some(telegram_instance("alice-bot", &telegram)),
        )
        .await;
        assert_eq!(status, 201, "{mine}");
        assert_eq!(mine["created_by"], "alice");
        let id = mine["id"].as_str().expect("id").to_owned();

        // Another tenant: cannot see, change or delete it, nor take its name, nor name the
        // master tenant's agent.
        let (_, theirs) = api(&app, Method::GET, "/v1/channels/instances", &bob.key, None).await;
        assert_eq!(theirs["total"], 0, "{theirs}");
        for (method, body) in [
            (Method::GET, None),
            (Method::PUT, Some(json!({ "display_name": "x" }))),
            (Method::DELETE, None),
        ] {
            let path = format!("/v1/channels/instances/{id}");
            let (status, answer) = api(&app, method.clone(), &path, &bob.key, body).await;
            assert_eq!(status, 404, "bob {method} {path}: {answer}");
        }
        let mut taken = telegram_instance("alice-bot", &telegram);
        taken["agent_id"] = json!("helper");
        let (status, _) = api(
            &app,
            Method::POST,
            "/v1/channels/instances",
            &bob.key,
            Some(taken),
        )
        .await;
        assert_eq!(status, 409, "a running name of another tenant is refused");
        let (status, _) = api(
            &app,
            Method::POST,
            "/v1/channels/instances",
            &bob.key,
            Some(telegram_instance("bob-bot", &telegram)),
        )
        .await;
        assert_eq!(status, 404, "another tenant's agent is not found");

        // A viewer reads but changes nothing.
        let (status, seen) = api(&app, Method::GET, "/v1/channels/instances", &victor, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            seen["instances"][0]["credentials"],
            json!({ "token": "***" })
        );
        let (status, _) = api(
            &app,
            Method::GET,
            &format!("/v1/channels/instances/{id}"),
            &victor,
            None,
        )
        .await;
        assert_eq!(status, 200);
        for (method, path, body) in [
            (
                Method::POST,
                "/v1/channels/instances".to_owned(),
                Some(telegram_instance("victor-bot", &telegram)),
            ),
            (
                Method::PUT,
                format!("/v1/channels/instances/{id}"),
                Some(json!({ "enabled": false })),
            ),
            (Method::DELETE, format!("/v1/channels/instances/{id}"), None),
        ] {
            let (status, answer) = api(&app, method.clone(), &path, &victor, body).await;
            assert_eq!(status, 403, "viewer {method} {path}: {answer}");
        }

        // Over the WebSocket, the same rules.
        let mut viewer_ws = signed_in(&app, &victor, "victor").await;
        let mut bob_ws = signed_in(&app, &bob.key, "bob").await;
        let listed = viewer_ws
            .call_ok("channels.instances.list", json!({}))
            .await;
        assert_eq!(listed["instances"][0]["name"], "alice-bot");
        assert!(!listed.to_string().contains(BOT_TOKEN));
        let got = viewer_ws
            .call_ok("channels.instances.get", json!({ "id": id }))
            .await;
        assert_eq!(got["credentials"], json!({ "token": "***" }));
        for (method, params) in [
            (
                "channels.instances.create",
                telegram_instance("v-bot", &telegram),
            ),
            (
                "channels.instances.update",
                json!({ "id": id, "updates": { "enabled": false } }),
            ),
            ("channels.instances.delete", json!({ "id": id })),
            (
                "channels.toggle",
                json!({ "channel": "alice-bot", "enabled": false }),
            ),
        ] {
            let answer = viewer_ws.call(method, params).await;
            assert_eq!(answer["ok"], false, "viewer {method}: {answer}");
            assert_eq!(answer["error"]["code"], "UNAUTHORIZED", "{answer}");
        }
        let theirs = bob_ws.call_ok("channels.instances.list", json!({})).await;
        assert_eq!(theirs, json!({ "instances": [] }));
        let status = bob_ws.call_ok("channels.status", json!({})).await;
        assert_eq!(
            status,
            json!({ "channels": {} }),
            "another tenant's channels are hidden"
        );
        for (method, params) in [
            ("channels.instances.get", json!({ "id": id })),
            (
                "channels.instances.update",
                json!({ "id": id, "updates": { "display_name": "x" } }),
            ),
            ("channels.instances.delete", json!({ "id": id })),
            (
                "channels.toggle",
                json!({ "channel": "alice-bot", "enabled": false }),
            ),
        ] {
            let answer = bob_ws.call(method, params).await;
            assert_eq!(
                answer["error"]["code"], "NOT_FOUND",
                "bob {method}: {answer}"
            );
        }
        let shown = viewer_ws.call_ok("channels.status", json!({})).await;
        assert!(shown["channels"].get("alice-bot").is_some(), "{shown}");

        // Bob's own instance lives in his tenant; an instance named like a configured
        // channel cannot be deleted.
        let mut own = telegram_instance("telegram", &telegram);
        own["agent_id"] = json!("helper");
        own["enabled"] = json!(false);
        let created = bob_ws.call_ok("channels.instances.create", own).await;
        assert_eq!(created["is_default"], true);
        let refused = bob_ws
            .call("channels.instances.delete", json!({ "id": created["id"] }))
            .await;
        assert_eq!(refused["error"]["code"], "UNAUTHORIZED", "{refused}");
        app.stop().await.expect("clean stop");
    }
);

app_test!(
    credentials_need_an_encryption_key,
    without_key,
    |app: TestApp| async move {
        let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
        let (status, answer) = api(
            &app,
            Method::POST,
            "/v1/channels/instances",
            TOKEN,
            Some(telegram_instance("bot", &telegram)),
        )
        .await;
        assert_eq!(status, 503, "{answer}");
        assert!(!answer.to_string().contains(BOT_TOKEN));
        for (body, expected) in [
            (
                json!({ "channel_type": "telegram", "agent_id": "default" }),
                400,
            ),
            (
                json!({ "name": "x", "channel_type": "icq", "agent_id": "default" }),
                400,
            ),
            (json!({ "name": "x", "channel_type": "telegram" }), 400),
            (
                json!({ "name": "a:b", "channel_type": "telegram", "agent_id": "default" }),
                400,
            ),
            (
                json!({ "name": "x", "channel_type": "telegram", "agent_id": "nobody" }),
                404,
            ),
            (
                json!({ "name": "x", "channel_type": "telegram", "agent_id": "default", "credentials": "t" }),
                400,
            ),
        ] {
            let (status, answer) = api(
                &app,
                Method::POST,
                "/v1/channels/instances",
                TOKEN,
                Some(body.clone()),
            )
            .await;
            assert_eq!(status, expected, "{body}: {answer}");
        }
        app.stop().await.expect("clean stop");
    }
);

app_test!(
    the_command_line_adds_lists_and_deletes,
    with_key,
    |app: TestApp| async move {
        let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
        app.llm.set_default(Reply::text("hi from the cli bot"));
        let goclaw = || {
            Goclaw::new(app.data_dir.path())
                .env("GOCLAW_SERVER", app.url(""))
                .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
        };
        let added = goclaw()
            .args(&[
                "channels",
                "add",
                "--type",
                "telegram",
                "--name",
                "cli-bot",
                "--agent",
                "default",
                "--dm-policy",
                "open",
            ])
            .run_with_stdin(&format!("{BOT_TOKEN}\n"))
            .await;
        assert!(added.success, "{added:?}");
        assert!(
            added
                .stdout
                .contains("Channel \"cli-bot\" (telegram) created and bound to agent."),
            "{}",
            added.stdout
        );
        assert!(!added.stdout.contains(BOT_TOKEN) && !added.stderr.contains(BOT_TOKEN));
        let id = added
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("ID: "))
            .expect("the new id")
            .to_owned();
        // It has no api_server: point it at the fake, then it answers.
        let (status, _) = api(
            &app,
            Method::PUT,
            &format!("/v1/channels/instances/{id}"),
            TOKEN,
            Some(json!({ "config": { "api_server": telegram.api_server(), "poll_timeout": 1, "dm_policy": "open" } })),
        )
        .await;
        assert_eq!(status, 200);
        telegram.direct_message(9, "hi");
        telegram
            .wait_for_sent(WAIT, |s| !s.is_empty())
            .await
            .expect("the cli bot answers");

        let listed = goclaw().args(&["channels", "list"]).run().await;
        assert!(listed.success, "{listed:?}");
        let header: Vec<&str> = listed
            .stdout
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        assert_eq!(header, ["ID", "NAME", "TYPE", "ENABLED", "STATUS"]);
        let row = listed.stdout.lines().nth(1).unwrap_or_default();
        for cell in [id.as_str(), "cli-bot", "telegram", "true", "running"] {
            assert!(row.contains(cell), "{row}");
        }
        let refused = goclaw().args(&["channels", "delete", &id]).run().await;
        assert!(
            !refused.success,
            "deleting without a terminal needs --force"
        );
        let deleted = goclaw()
            .args(&["channels", "delete", &id, "--force"])
            .run()
            .await;
        assert!(deleted.success, "{deleted:?}");
        assert_eq!(deleted.stdout.trim(), format!("Channel \"{id}\" deleted."));
        let empty = goclaw().args(&["channels", "list"]).run().await;
        assert_eq!(empty.stdout.trim(), "No channel instances configured.");
        app.stop().await.expect("clean stop");
    }
);

app_test!(
    a_message_webhook_posts_through_its_instance,
    with_key,
    |app: TestApp| async move {
        let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
        let (_, created) = api(
            &app,
            Method::POST,
            "/v1/channels/instances",
            TOKEN,
            Some(telegram_instance("alerts-bot", &telegram)),
        )
        .await;
        let instance = created["id"].as_str().expect("id").to_owned();
        let mut ws = signed_in(&app, TOKEN, "ops").await;
        wait_until("the instance to run", async || {
            state_of(&mut ws, "alerts-bot").await.as_deref() == Some("running")
        })
        .await;
        let (status, webhook) = api(
            &app,
            Method::POST,
            "/v1/webhooks",
            TOKEN,
            Some(json!({ "name": "alerts", "kind": "message", "channel_id": instance })),
        )
        .await;
        assert_eq!(status, 201, "{webhook}");
        let secret = webhook["secret"].as_str().expect("secret").to_owned();
        let call = |body: Value| {
            app.client
                .post(app.url("/v1/webhooks/message"))
                .bearer_auth(&secret)
                .json(&body)
                .send()
        };
        let answer = call(json!({ "chat_id": "4242", "content": "disk **full**" }))
            .await
            .expect("call sent");
        assert_eq!(answer.status(), 200);
        let sent = telegram
            .wait_for_sent(WAIT, |s| !s.is_empty())
            .await
            .expect("the post");
        assert_eq!(sent[0].chat_id, "4242");
        assert_eq!(sent[0].text, "disk <b>full</b>");

        // Its instance deleted, the webhook's channel is not found.
        api(
            &app,
            Method::DELETE,
            &format!("/v1/channels/instances/{instance}"),
            TOKEN,
            None,
        )
        .await;
        let answer = call(json!({ "chat_id": "4242", "content": "again" }))
            .await
            .expect("call sent");
        assert_eq!(answer.status(), 404);
        app.stop().await.expect("clean stop");
    }
);

app_test!(
    doctor_asks_each_stored_instance_of_its_platform,
    with_key,
    |app: TestApp| async move {
        let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
        api(
            &app,
            Method::POST,
            "/v1/channels/instances",
            TOKEN,
            Some(telegram_instance("good-bot", &telegram)),
        )
        .await;
        let mut refused = telegram_instance("bad-bot", &telegram);
        refused["credentials"] = json!({ "token": "111:a-token-telegram-refuses" });
        api(
            &app,
            Method::POST,
            "/v1/channels/instances",
            TOKEN,
            Some(refused),
        )
        .await;
        let database = match app.db.options() {
            goclaw_store::StoreOptions::Sqlite(sqlite) => (
                "GOCLAW_SQLITE_PATH",
                sqlite.path.to_string_lossy().into_owned(),
                "sqlite",
            ),
            goclaw_store::StoreOptions::Postgres(pg) => (
                "GOCLAW_POSTGRES_DSN",
                pg.expose_dsn().to_owned(),
                "postgres",
            ),
        };
        let home = tempfile::tempdir().expect("a home");
        let doctor = Goclaw::new(home.path())
            .env(database.0, &database.1)
            .env("GOCLAW_STORAGE_BACKEND", database.2)
            .env("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY)
            .env("GOCLAW_SANDBOX_MODE", "off")
            .args(&["doctor", "--json"])
            .run()
            .await;
        assert!(!doctor.stdout.contains(BOT_TOKEN), "a token leaked");
        let report: Value = serde_json::from_str(&doctor.stdout).expect("one JSON document");
        let check = |name: &str| {
            report["checks"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["name"] == name))
                .unwrap_or_else(|| panic!("no {name} check: {report:#}"))
                .clone()
        };
        let good = check("good-bot (telegram, stored)");
        assert_eq!(good["status"], "ok", "{good:#}");
        assert_eq!(good["detail"], "enabled, token ***, bot @GoclawBot answers");
        let bad = check("bad-bot (telegram, stored)");
        assert_eq!(bad["status"], "fail", "{bad:#}");
        assert!(
            bad["detail"]
                .as_str()
                .is_some_and(|d| d.contains("unauthorized")),
            "{bad:#}"
        );
        app.stop().await.expect("clean stop");
    }
);

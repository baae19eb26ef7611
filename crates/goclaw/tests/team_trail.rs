//! What a team's board keeps beside its tasks, over real WebSocket on both backends:
//! - every change to a task is in its audit trail (`teams.tasks.events`, `teams.tasks.get`)
//!   and the team's (`teams.events.list`, newest first, paged), in GoClaw's shapes, with the
//!   users who talked to the team's agents (`teams.known_users`); a team's trail is read only
//!   by those who see the team (alice and vera, named; never bob nor another tenant's admin);
//! - a member dispatched a task attaches a file it wrote (published into the team's workspace)
//!   and asks the user a question: the recovery ticker (test clock) reminds the user's
//!   Telegram chat (`Reminder (1/2): …`) until they answer there; `team.task.dispatched` and
//!   `team.task.attachment_added` reach only the team's audience.

mod support;
mod teams_kit;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use goclaw_core::{AgentKey, MASTER_TENANT_ID, SessionKey};
use goclaw_testkit::{
    FakeTelegram, Reply, StoreBackend, TestApp, app_test, spawn_app_with, spawn_app_with_config,
};
use serde_json::{Value, json};
use support::wire::assert_goclaw_shape;
use teams_kit::*;

const DEADLINE: Duration = Duration::from_secs(30);
const DISPATCHED: &str = "[Team task #";
const BOT: &str = "424242:team-trail-token-9c1e";
/// The user's Telegram chat the lead's session lives in.
const CHAT: i64 = 4711;

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

fn event_types(events: &Value) -> Vec<String> {
    events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| text(&e["event_type"]))
        .collect()
}

app_test!(
    the_trail_records_every_change_in_goclaws_shapes,
    app,
    |app: TestApp| async move {
        let mut who = callers(&app).await;
        let team = crew(&mut who.admin).await;
        let task = new_task(&mut who.alice, &team, "draft", &[]).await;
        let task_id = text(&task["id"]);
        let alice = &mut who.alice;
        on_task(
            alice,
            "teams.tasks.assign",
            &team,
            &task_id,
            json!({ "agentId": "writer" }),
        )
        .await;
        let progress = json!({ "agentId": "writer", "percent": 40, "step": "outline" });
        on_task(alice, "teams.tasks.progress", &team, &task_id, progress).await;
        on_task(
            alice,
            "teams.tasks.comment",
            &team,
            &task_id,
            json!({ "content": "go" }),
        )
        .await;
        let result = json!({ "agentId": "writer", "result": "a draft" });
        on_task(alice, "teams.tasks.complete", &team, &task_id, result).await;

        let params = json!({ "teamId": team, "taskId": task_id });
        let trail = who.vera.call_ok("teams.tasks.events", params.clone()).await;
        assert_goclaw_shape("ws_teams.tasks.events", &trail);
        assert_eq!(
            event_types(&trail["events"]),
            ["created", "assigned", "progress", "commented", "completed"],
            "{trail}"
        );
        let created = &trail["events"][0];
        assert_eq!(created["actor_type"], "human");
        assert_eq!(created["actor_id"], "alice");
        assert_eq!(created["data"]["status"], "pending", "{created}");
        let progressed = &trail["events"][2];
        assert_eq!(
            progressed["data"]["progress_step"], "outline",
            "{progressed}"
        );

        let got = who.vera.call_ok("teams.tasks.get", params.clone()).await;
        assert_goclaw_shape("ws_teams.tasks.get", &got);
        assert_eq!(got["events"], trail["events"]);
        assert_eq!(got["task"]["comment_count"], 1, "{got}");
        let listed = who
            .vera
            .call_ok(
                "teams.tasks.list",
                json!({ "teamId": team, "status": "all" }),
            )
            .await;
        assert_eq!(listed["tasks"][0]["comment_count"], 1, "{listed}");

        let page =
            |limit: u32, offset: u32| json!({ "team_id": team, "limit": limit, "offset": offset });
        let newest = who.alice.call_ok("teams.events.list", page(2, 0)).await;
        assert_goclaw_shape("ws_teams.events.list", &newest);
        assert_eq!(newest["count"], 2);
        assert_eq!(event_types(&newest["events"]), ["completed", "commented"]);
        let rest = who.alice.call_ok("teams.events.list", page(0, 2)).await;
        assert_eq!(
            event_types(&rest["events"]),
            ["progress", "assigned", "created"]
        );

        // Users who talked to one of the team's agents, sorted, once each.
        let store = app.db.store();
        let writer = store
            .agents()
            .get_by_key(MASTER_TENANT_ID, &AgentKey::parse("writer").expect("key"))
            .await
            .expect("writer");
        for (n, user) in ["zoe", "alice", "zoe"].into_iter().enumerate() {
            let key = SessionKey::parse(&format!("agent:writer:ws:direct:s{n}")).expect("key");
            store
                .sessions()
                .get_or_create(MASTER_TENANT_ID, &key, Some(&writer), user, "ws")
                .await
                .expect("session");
        }
        let known = who
            .vera
            .call_ok("teams.known_users", json!({ "teamId": team }))
            .await;
        assert_goclaw_shape("ws_teams.known_users", &known);
        assert_eq!(known["users"], json!(["alice", "zoe"]));

        // Only those who see the team read its trail.
        for (name, ws) in [("bob", &mut who.bob), ("carol", &mut who.carol)] {
            for (method, params) in [
                ("teams.tasks.events", params.clone()),
                ("teams.events.list", page(10, 0)),
                ("teams.known_users", json!({ "teamId": team })),
            ] {
                let refused = ws.call(method, params).await;
                assert_eq!(
                    error_code(&refused),
                    "NOT_FOUND",
                    "{name} {method}: {refused}"
                );
            }
        }
        let missing = who.admin.call("teams.events.list", json!({})).await;
        assert_eq!(error_code(&missing), "INVALID_REQUEST", "{missing}");
    }
);

/// Waits until `found` holds for the task `task_id` in the store.
async fn task_where(
    app: &TestApp,
    task_id: &str,
    found: impl Fn(&goclaw_core::TeamTask) -> bool,
) -> goclaw_core::TeamTask {
    let id = task_id.parse().expect("task id");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let task = app
            .db
            .store()
            .team_tasks()
            .get(MASTER_TENANT_ID, id)
            .await
            .expect("task");
        if found(&task) {
            return task;
        }
        assert!(tokio::time::Instant::now() < deadline, "{task:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The app with a (fake) Telegram channel open to direct messages.
async fn with_telegram(backend: StoreBackend) -> Option<(TestApp, FakeTelegram)> {
    let telegram = FakeTelegram::start(BOT).await.expect("fake Telegram");
    let config = format!(
        "{{ gateway: {{ rate_limit_rpm: 0 }}, tools: {{ host_exec_for_users: true }}, \
         channels: {{ telegram: {{ api_server: '{}', \
         poll_timeout: 1, dm_policy: 'open' }} }} }}",
        telegram.api_server()
    );
    let env = [
        ("GOCLAW_GATEWAY_TOKEN", TOKEN),
        ("GOCLAW_TELEGRAM_TOKEN", BOT),
    ];
    spawn_app_with_config(backend, &config, &env)
        .await
        .map(|app| (app, telegram))
}

app_test!(
    trail_events_reach_the_teams_users_only,
    with_telegram,
    |(app, telegram): (TestApp, FakeTelegram)| async move {
        let mut who = callers(&app).await;
        let created = who
            .admin
            .call_ok(
                "teams.create",
                json!({
                    "name": "desk", "lead": "lead", "members": ["writer"],
                    "settings": { "version": 2, "allow_user_ids": ["alice", "vera"],
                                  "followup_max_reminders": 2 },
                }),
            )
            .await;
        let team = text(&created["team"]["id"]);

        app.llm.push(Reply::tool_call(
            "l1",
            "team_tasks",
            json!({ "action": "create", "subject": "EU figures", "assignee": "writer" }),
        ));
        app.llm.push(Reply::text("The writer is on it."));
        for (id, tool, arguments) in [
            (
                "m1",
                "write_file",
                json!({ "path": "report.md", "content": "EU: 42" }),
            ),
            (
                "m2",
                "team_tasks",
                json!({ "action": "attach", "path": "report.md" }),
            ),
            (
                "m3",
                "team_tasks",
                json!({ "action": "ask_user", "text": "Which region next?" }),
            ),
        ] {
            app.llm
                .push_routed(DISPATCHED, Reply::tool_call(id, tool, arguments));
        }
        app.llm
            .push_routed(DISPATCHED, Reply::text("Waiting on the user."));
        app.llm.set_default(Reply::text("Noted."));

        let lead_session = format!("agent:lead:telegram:direct:{CHAT}");
        let reply = who
            .owner
            .call_ok(
                "chat.send",
                json!({ "agentId": "lead", "message": "get the EU figures", "sessionKey": lead_session }),
            )
            .await;
        assert_eq!(reply["content"], "The writer is on it.", "{reply}");
        let listed = who
            .admin
            .call_ok(
                "teams.tasks.list",
                json!({ "teamId": team, "status": "all" }),
            )
            .await;
        let task_id = text(&listed["tasks"][0]["id"]);
        let asked = task_where(&app, &task_id, |t| t.followup.is_some()).await;
        let followup = asked.followup.clone().expect("follow-up");
        assert_eq!(
            (
                followup.channel.as_str(),
                followup.chat_id.as_str(),
                followup.max
            ),
            ("telegram", "4711", 2)
        );

        // The file the member wrote is attached and published in the team's workspace.
        let got = who
            .vera
            .call_ok(
                "teams.tasks.get",
                json!({ "teamId": team, "taskId": task_id }),
            )
            .await;
        assert_eq!(got["attachments"][0]["path"], "report.md", "{got}");
        assert_eq!(got["attachments"][0]["file_size"], 6);
        assert_eq!(got["attachments"][0]["mime_type"], "text/markdown");
        assert_eq!(got["task"]["attachment_count"], 1);
        assert_eq!(got["task"]["followup_message"], "Which region next?");
        let kinds = event_types(&got["events"]);
        for kind in ["created", "claimed", "dispatched", "attachment_added"] {
            assert!(kinds.contains(&kind.to_owned()), "{kind} in {kinds:?}");
        }
        let file = who
            .alice
            .call_ok(
                "teams.workspace.read",
                json!({ "team_id": team, "chat_id": asked.chat_id, "file_name": "report.md" }),
            )
            .await;
        assert_eq!(file["content"], "EU: 42", "{file}");

        // Reminded in the user's chat until they answer there.
        let passed = app
            .task_recovery
            .tick(Utc::now() + TimeDelta::minutes(31))
            .await
            .expect("a recovery pass");
        assert_eq!(passed.reminded, 1);
        let sent = telegram
            .wait_for_sent(DEADLINE, |sent| {
                sent.iter().any(|m| m.text.contains("Which region next?"))
            })
            .await
            .unwrap_or_else(|sent| panic!("no reminder in {sent:?}"));
        let reminder = sent
            .iter()
            .find(|m| m.text.contains("Which region next?"))
            .expect("the reminder");
        assert_eq!(reminder.chat_id, CHAT.to_string());
        assert!(
            reminder.text.starts_with("Reminder (1/2)"),
            "{}",
            reminder.text
        );
        let again = app
            .task_recovery
            .tick(Utc::now() + TimeDelta::minutes(32))
            .await
            .expect("a recovery pass");
        assert_eq!(again.reminded, 0, "not due again before the interval");

        telegram.direct_message(CHAT, "EU and then APAC");
        task_where(&app, &task_id, |t| t.followup.is_none()).await;
        let later = app
            .task_recovery
            .tick(Utc::now() + TimeDelta::hours(3))
            .await
            .expect("a recovery pass");
        assert_eq!(later.reminded, 0, "the user answered");

        fence(&mut who, "tester").await;
        for event in ["team.task.dispatched", "team.task.attachment_added"] {
            let got: BTreeSet<&str> = who
                .all()
                .into_iter()
                .filter(|(_, ws)| {
                    ws.events
                        .iter()
                        .any(|e| e["event"] == event && e["payload"]["team_id"] == team)
                })
                .map(|(name, _)| name)
                .collect();
            assert_eq!(got, names("owner admin alice vera"), "{event}");
        }
        let added = event_where(&mut who.vera, "team.task.attachment_added", |_| true).await;
        assert_eq!(added["payload"]["path"], "report.md", "{added}");
        assert_eq!(added["payload"]["actor_id"], "writer");
    }
);

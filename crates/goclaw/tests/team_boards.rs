//! A team's task board over real WebSocket on both backends: a blocked task waits until every
//! blocker has ended (completed, failed or cancelled) and is then released and announced; the
//! recovery ticker, driven with the test's own clock, resets a task whose lock expired, marks
//! work that waited too long stale, announces both, puts work in progress back at start-up,
//! and leaves v1 teams alone; and a team's
//! files live per chat, for the team's users only, never reached through `..` or a link.

mod teams_kit;

use chrono::{TimeDelta, Utc};
use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with};
use serde_json::{Value, json};
use teams_kit::*;

mod support;

use support::wire::assert_goclaw_shape;

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

app_test!(
    blocked_tasks_wait_for_every_blocker,
    app,
    |app: TestApp| async move {
        let mut who = callers(&app).await;
        let admin = &mut who.admin;
        let team = crew(admin).await;
        let a = text(&new_task(admin, &team, "a", &[]).await["id"]);
        let b = text(&new_task(admin, &team, "b", &[]).await["id"]);
        let c = new_task(admin, &team, "c", &[&a, &b]).await;
        assert_eq!(c["status"], "blocked");
        assert_eq!(c["blocked_by"], json!([a, b]));
        let c = text(&c["id"]);
        let status = |list: &Value, id: &str| {
            list["tasks"]
                .as_array()
                .and_then(|tasks| tasks.iter().find(|t| t["id"] == id))
                .map(|t| t["status"].clone())
        };
        on_task(
            admin,
            "teams.tasks.claim",
            &team,
            &a,
            json!({ "agentId": "writer" }),
        )
        .await;
        let ended = on_task(
            admin,
            "teams.tasks.complete",
            &team,
            &a,
            json!({ "agentId": "writer" }),
        )
        .await;
        assert_eq!(ended["unblocked"], json!([]), "b is still open");
        let all = admin
            .call_ok(
                "teams.tasks.list",
                json!({ "teamId": team, "status": "all" }),
            )
            .await;
        assert_eq!(status(&all, &c), Some(json!("blocked")));
        let unclaimable = admin
            .call(
                "teams.tasks.claim",
                json!({ "teamId": team, "taskId": c, "agentId": "tester" }),
            )
            .await;
        assert_eq!(
            error_code(&unclaimable),
            "FAILED_PRECONDITION",
            "{unclaimable}"
        );
        // A failed or cancelled blocker has ended too (GoClaw's rule).
        let ended = on_task(
            admin,
            "teams.tasks.cancel",
            &team,
            &b,
            json!({ "reason": "dropped" }),
        )
        .await;
        assert_eq!(ended["unblocked"], json!([c]));
        let all = admin
            .call_ok(
                "teams.tasks.list",
                json!({ "teamId": team, "status": "all" }),
            )
            .await;
        assert_eq!(status(&all, &c), Some(json!("pending")));
        let event = event_where(admin, "team.task.updated", |p| p["task_id"] == c).await;
        assert_eq!(event["payload"]["status"], "pending");
        on_task(
            admin,
            "teams.tasks.claim",
            &team,
            &c,
            json!({ "agentId": "tester" }),
        )
        .await;
        let missing = admin
            .call("teams.tasks.create", json!({ "teamId": team, "subject": "d", "blockedBy": [uuid::Uuid::now_v7().to_string()] }))
            .await;
        assert_eq!(error_code(&missing), "INVALID_REQUEST", "{missing}");
    }
);

app_test!(
    a_task_whose_lock_expires_is_reset_by_the_recovery_ticker,
    app,
    |app: TestApp| async move {
        let mut who = callers(&app).await;
        let admin = &mut who.admin;
        let team = crew(admin).await;
        // A v1 team is left alone (GoClaw tends v2 boards only).
        let old = admin
            .call_ok(
                "teams.create",
                json!({ "name": "old", "lead": "tester", "members": ["writer"] }),
            )
            .await;
        let old = text(&old["team"]["id"]);
        let held = text(&new_task(admin, &team, "held", &[]).await["id"]);
        let claimed = on_task(
            admin,
            "teams.tasks.claim",
            &team,
            &held,
            json!({ "agentId": "writer" }),
        )
        .await;
        let expires: chrono::DateTime<Utc> = text(&claimed["task"]["lock_expires_at"])
            .parse()
            .expect("a time");
        let old_task = text(&new_task(admin, &old, "old", &[]).await["id"]);
        on_task(
            admin,
            "teams.tasks.claim",
            &old,
            &old_task,
            json!({ "agentId": "writer" }),
        )
        .await;

        let early = app
            .task_recovery
            .tick(expires - TimeDelta::seconds(1))
            .await
            .expect("pass");
        assert!(early.reset.is_empty(), "the lock still holds: {early:?}");
        let later = expires + TimeDelta::seconds(1);
        let passed = app.task_recovery.tick(later).await.expect("pass");
        assert_eq!(ids_of(&passed.reset), [held.as_str()]);
        let got = admin
            .call_ok("teams.tasks.get", json!({ "teamId": team, "taskId": held }))
            .await;
        assert_eq!(got["task"]["status"], "pending");
        assert!(got["task"].get("owner_agent_id").is_none(), "{got}");
        let reset = event_where(admin, "team.task.updated", |p| p["task_id"] == held).await;
        assert_eq!(reset["payload"]["actor_type"], "system");
        assert_eq!(reset["payload"]["reason"], "lock expired");
        let alice = event_where(&mut who.alice, "team.task.updated", |p| {
            p["task_id"] == held
        })
        .await;
        assert_eq!(alice["payload"]["status"], "pending");
        let old_one = admin
            .call_ok(
                "teams.tasks.get",
                json!({ "teamId": old, "taskId": old_task }),
            )
            .await;
        assert_eq!(
            old_one["task"]["status"], "in_progress",
            "v1 boards are not tended"
        );

        // Two hours without a change, a pending task is stale.
        let soon = later + TimeDelta::hours(1);
        assert!(
            app.task_recovery
                .tick(soon)
                .await
                .expect("pass")
                .stale
                .is_empty()
        );
        let stale = app
            .task_recovery
            .tick(later + TimeDelta::hours(3))
            .await
            .expect("pass");
        assert_eq!(ids_of(&stale.stale), [held.as_str()]);
        let event = event_where(admin, "team.task.stale", |p| p["task_id"] == held).await;
        assert_eq!(event["payload"]["status"], "stale");
        // Nothing is left to do a pass later.
        let quiet = app
            .task_recovery
            .tick(later + TimeDelta::hours(9))
            .await
            .expect("pass");
        assert!(quiet.reset.is_empty() && quiet.stale.is_empty() && quiet.released.is_empty());

        // At start-up no run holds a task any more: whatever is in progress goes back.
        let fresh = text(&new_task(admin, &team, "fresh", &[]).await["id"]);
        on_task(
            admin,
            "teams.tasks.claim",
            &team,
            &fresh,
            json!({ "agentId": "tester" }),
        )
        .await;
        let restarted = app.task_recovery.start_up().await.expect("start-up");
        assert_eq!(
            ids_of(&restarted),
            [fresh.as_str()],
            "the v1 team's task stays"
        );
    }
);

app_test!(
    team_workspaces_keep_files_per_chat_for_the_teams_users,
    app,
    |app: TestApp| async move {
        let mut who = callers(&app).await;
        let team = crew(&mut who.admin).await;
        let file =
            |chat: &str, name: &str| json!({ "team_id": team, "chat_id": chat, "file_name": name });
        let mut plan = file("c1", "docs/plan.md");
        plan["content"] = json!("step one");
        let written = who
            .alice
            .call_ok("teams.workspace.write", plan.clone())
            .await;
        assert_eq!(written["file"]["size"], 8);
        let listed = who
            .vera
            .call_ok("teams.workspace.list", json!({ "team_id": team }))
            .await;
        assert_goclaw_shape("ws_teams.workspace.list", &listed);
        let names: Vec<&str> = listed["files"]
            .as_array()
            .expect("files")
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        assert_eq!(names, ["c1", "c1/docs", "c1/docs/plan.md"]);
        assert!(
            listed["files"]
                .as_array()
                .expect("files")
                .iter()
                .all(|f| f["path"] == f["name"]),
            "no host paths: {listed}"
        );
        let read = who
            .vera
            .call_ok("teams.workspace.read", file("c1", "docs/plan.md"))
            .await;
        assert_goclaw_shape("ws_teams.workspace.read", &read);
        assert_eq!(read["content"], "step one");
        let other_chat = who
            .alice
            .call("teams.workspace.read", file("c2", "docs/plan.md"))
            .await;
        assert_eq!(error_code(&other_chat), "NOT_FOUND", "{other_chat}");
        let viewer = who.vera.call("teams.workspace.write", plan.clone()).await;
        assert_eq!(error_code(&viewer), "UNAUTHORIZED", "{viewer}");
        for ws in [&mut who.bob, &mut who.carol] {
            let refused = ws
                .call("teams.workspace.read", file("c1", "docs/plan.md"))
                .await;
            assert_eq!(error_code(&refused), "NOT_FOUND", "{refused}");
        }
        for name in ["../../../etc/passwd", "/etc/passwd", "docs/../../x", "a\\b"] {
            let refused = who
                .alice
                .call("teams.workspace.read", file("c1", name))
                .await;
            assert_eq!(error_code(&refused), "INVALID_REQUEST", "{name}: {refused}");
        }
        let deleted = who
            .alice
            .call_ok("teams.workspace.delete", file("c1", "docs/plan.md"))
            .await;
        assert_goclaw_shape("ws_teams.workspace.delete", &deleted);
        let gone = who
            .alice
            .call("teams.workspace.read", file("c1", "docs/plan.md"))
            .await;
        assert_eq!(error_code(&gone), "NOT_FOUND", "{gone}");
    }
);

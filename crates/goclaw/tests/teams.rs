//! Teams, their task boards and delegation links over real WebSocket on both backends: the
//! methods answer in GoClaw's shapes, and a team is seen below admin only by the users it names
//! (alice with a read+write key, vera with a read-only key): every team event reaches exactly
//! the tenant's admins and those users, never bob (read+write, not named) nor carol (another
//! tenant's admin). Blocking and the recovery ticker are in `team_boards.rs`.

mod support;
mod teams_kit;

use std::collections::BTreeSet;

use chrono::{TimeDelta, Utc};
use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with};
use serde_json::json;
use support::wire::assert_goclaw_shape;
use teams_kit::*;

/// Every team event, and who of the callers below receives it.
const TEAM_EVENTS: &[&str] = &[
    "team.created",
    "team.updated",
    "team.member.added",
    "team.member.removed",
    "team.task.created",
    "team.task.assigned",
    "team.task.claimed",
    "team.task.progress",
    "team.task.commented",
    "team.task.reviewed",
    "team.task.approved",
    "team.task.rejected",
    "team.task.completed",
    "team.task.failed",
    "team.task.cancelled",
    "team.task.updated",
    "team.task.stale",
    "team.task.deleted",
    "team.deleted",
];
const LINK_EVENTS: &[&str] = &[
    "agent_link.created",
    "agent_link.updated",
    "agent_link.deleted",
];
/// Who is sent a team's events: its tenant's admins and the users it names.
const TEAM_AUDIENCE: &str = "owner admin alice vera";
const ADMINS: &str = "owner admin";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

app_test!(
    team_methods_answer_in_goclaws_shapes,
    app,
    |app: TestApp| async move {
        let mut who = callers(&app).await;
        let admin = &mut who.admin;
        let link = admin
            .call_ok(
                "agents.links.create",
                json!({ "sourceAgent": "writer", "targetAgent": "tester", "description": "qa" }),
            )
            .await;
        assert_goclaw_shape("ws_agents.links.create", &link);
        assert_eq!(link["link"]["description"], "qa");
        let again = admin
            .call(
                "agents.links.create",
                json!({ "sourceAgent": "writer", "targetAgent": "tester" }),
            )
            .await;
        assert_eq!(error_code(&again), "ALREADY_EXISTS", "{again}");
        let link_id = text(&link["link"]["id"]);
        admin
            .call_ok(
                "agents.links.update",
                json!({ "linkId": link_id, "status": "disabled" }),
            )
            .await;
        let team = crew(admin).await;
        let listed = admin.call_ok("teams.list", json!({})).await;
        assert_goclaw_shape("ws_teams.list", &listed);
        assert_eq!(listed["count"], 1);
        assert_eq!(listed["teams"][0]["member_count"], 3);
        let got = admin.call_ok("teams.get", json!({ "teamId": team })).await;
        assert_goclaw_shape("ws_teams.get", &got);
        let roles: Vec<&str> = got["members"]
            .as_array()
            .expect("members")
            .iter()
            .filter_map(|m| m["role"].as_str())
            .collect();
        assert_eq!(roles, ["lead", "member", "member"]);
        // The lead may delegate to its members now.
        let links = admin
            .call_ok("agents.links.list", json!({ "agentId": "lead" }))
            .await;
        assert_goclaw_shape("ws_agents.links.list", &links);
        assert_eq!(links["count"], 2, "{links}");
        let into_tester = admin
            .call_ok(
                "agents.links.list",
                json!({ "agentId": "tester", "direction": "to" }),
            )
            .await;
        assert_eq!(into_tester["count"], 2, "{into_tester}");

        let task = admin
            .call_ok(
                "teams.tasks.create",
                json!({ "teamId": team, "subject": "draft", "chatId": "agent:lead:ws:direct:s1" }),
            )
            .await;
        assert_goclaw_shape("ws_teams.tasks.create", &task);
        let task_id = text(&task["task"]["id"]);
        assert_eq!(task["task"]["task_number"], 1);
        assert_eq!(task["task"]["channel"], "dashboard");
        admin
            .call_ok(
                "teams.tasks.assign",
                json!({ "teamId": team, "taskId": task_id, "agentId": "writer" }),
            )
            .await;
        let moved = admin
            .call_ok(
                "teams.tasks.progress",
                json!({ "teamId": team, "taskId": task_id, "agentId": "writer", "percent": 40, "step": "outline" }),
            )
            .await;
        assert_eq!(moved["task"]["progress_percent"], 40);
        let sidebar = admin
            .call_ok(
                "teams.tasks.active-by-session",
                json!({ "sessionKey": "agent:lead:ws:direct:s1" }),
            )
            .await;
        assert_goclaw_shape("ws_teams.tasks.active-by-session", &sidebar);
        assert_eq!(sidebar["tasks"][0]["ownerAgentKey"], "writer", "{sidebar}");
        assert_eq!(sidebar["tasks"][0]["progressStep"], "outline");
        admin
            .call_ok(
                "teams.tasks.comment",
                json!({ "teamId": team, "taskId": task_id, "content": "looks good" }),
            )
            .await;
        let comments = admin
            .call_ok(
                "teams.tasks.comments",
                json!({ "teamId": team, "taskId": task_id }),
            )
            .await;
        assert_goclaw_shape("ws_teams.tasks.comments", &comments);
        let light = admin
            .call_ok(
                "teams.tasks.get-light",
                json!({ "teamId": team, "taskId": task_id }),
            )
            .await;
        assert_eq!(light["task"]["id"], task_id.as_str());
        assert!(light.get("comments").is_none(), "{light}");
        let scopes = admin
            .call_ok("teams.scopes", json!({ "teamId": team }))
            .await;
        assert_eq!(
            scopes["scopes"],
            json!([{ "channel": "dashboard", "chat_id": "agent:lead:ws:direct:s1" }])
        );
        let detail = admin
            .call_ok(
                "teams.tasks.get",
                json!({ "teamId": team, "taskId": task_id }),
            )
            .await;
        assert_goclaw_shape("ws_teams.tasks.get", &detail);
        assert_eq!(detail["task"]["owner_agent_key"], "writer");
        assert_eq!(detail["task"]["comment_count"], 1);
        admin
            .call_ok(
                "teams.tasks.review",
                json!({ "teamId": team, "taskId": task_id, "agentId": "writer", "result": "v1" }),
            )
            .await;
        let busy = admin
            .call(
                "teams.tasks.delete",
                json!({ "teamId": team, "taskId": task_id }),
            )
            .await;
        assert_eq!(error_code(&busy), "INVALID_REQUEST", "{busy}");
        admin
            .call_ok(
                "teams.tasks.approve",
                json!({ "teamId": team, "taskId": task_id }),
            )
            .await;
        let twice = admin
            .call(
                "teams.tasks.approve",
                json!({ "teamId": team, "taskId": task_id }),
            )
            .await;
        assert_eq!(error_code(&twice), "FAILED_PRECONDITION", "{twice}");
        let done = admin
            .call_ok(
                "teams.tasks.list",
                json!({ "teamId": team, "status": "completed" }),
            )
            .await;
        assert_goclaw_shape("ws_teams.tasks.list", &done);
        assert_eq!(ids(&done["tasks"]), [task_id.as_str()]);
        let active = admin
            .call_ok("teams.tasks.list", json!({ "teamId": team }))
            .await;
        assert_eq!(active["count"], 0, "{active}");
        admin
            .call_ok(
                "teams.tasks.delete",
                json!({ "teamId": team, "taskId": task_id }),
            )
            .await;
        let spare = text(&new_task(admin, &team, "spare", &[]).await["id"]);
        admin
            .call_ok(
                "teams.tasks.cancel",
                json!({ "teamId": team, "taskId": spare }),
            )
            .await;
        let open = text(&new_task(admin, &team, "open", &[]).await["id"]);
        let bulk = admin
            .call_ok(
                "teams.tasks.delete-bulk",
                json!({ "teamId": team, "taskIds": [spare, open, task_id, "nonsense"] }),
            )
            .await;
        assert_eq!(
            bulk,
            json!({ "deleted": 1 }),
            "only the ended task that is still there"
        );

        let updated = admin
            .call_ok(
                "teams.update",
                json!({ "teamId": team, "name": "crew-2", "settings": { "version": 2, "bogus": 1 } }),
            )
            .await;
        assert_goclaw_shape("ws_teams.update", &updated);
        let got = admin.call_ok("teams.get", json!({ "teamId": team })).await;
        assert_eq!(got["team"]["name"], "crew-2");
        assert_eq!(
            got["team"]["settings"],
            json!({ "version": 2 }),
            "unknown settings dropped"
        );
        let tester = text(&got["members"][2]["agent_id"]);
        admin
            .call_ok(
                "teams.members.remove",
                json!({ "teamId": team, "agentId": tester }),
            )
            .await;
        let lead = text(&got["team"]["lead_agent_id"]);
        let refused = admin
            .call(
                "teams.members.remove",
                json!({ "teamId": team, "agentId": lead }),
            )
            .await;
        assert_eq!(error_code(&refused), "INVALID_REQUEST", "{refused}");
        let links = admin
            .call_ok("agents.links.list", json!({ "agentId": "lead" }))
            .await;
        assert_eq!(
            links["count"], 1,
            "the removed member's team link goes: {links}"
        );
        admin
            .call_ok("teams.delete", json!({ "teamId": team }))
            .await;
        let gone = admin.call("teams.get", json!({ "teamId": team })).await;
        assert_eq!(error_code(&gone), "NOT_FOUND", "{gone}");
        admin
            .call_ok("agents.links.delete", json!({ "linkId": link_id }))
            .await;

        let created = event_where(admin, "team.task.created", |_| true).await;
        assert_goclaw_shape("ws_event_team.task.created", &created);
        assert_eq!(created["payload"]["actor_type"], "human");
        let added = event_where(admin, "team.created", |_| true).await;
        assert_goclaw_shape("ws_event_team.created", &added);
        let linked = event_where(admin, "agent_link.created", |_| true).await;
        assert_goclaw_shape("ws_event_agent_link.created", &linked);
        let changed = event_where(admin, "agent_link.updated", |_| true).await;
        assert_goclaw_shape("ws_event_agent_link.updated", &changed);
    }
);

app_test!(
    team_events_reach_admins_and_the_teams_users_only,
    app,
    |app: TestApp| async move {
        let mut who = callers(&app).await;
        let link = who
            .admin
            .call_ok(
                "agents.links.create",
                json!({ "sourceAgent": "tester", "targetAgent": "writer" }),
            )
            .await;
        let link_id = text(&link["link"]["id"]);
        who.admin
            .call_ok(
                "agents.links.update",
                json!({ "linkId": link_id, "maxConcurrent": 5 }),
            )
            .await;
        who.admin
            .call_ok("agents.links.delete", json!({ "linkId": link_id }))
            .await;
        let team = crew(&mut who.admin).await;
        who.admin
            .call_ok(
                "teams.update",
                json!({ "teamId": team, "description": "ships" }),
            )
            .await;
        let got = who
            .admin
            .call_ok("teams.get", json!({ "teamId": team }))
            .await;
        let tester = text(&got["members"][2]["agent_id"]);
        who.admin
            .call_ok(
                "teams.members.remove",
                json!({ "teamId": team, "agentId": tester }),
            )
            .await;
        let added = who
            .admin
            .call_ok(
                "teams.members.add",
                json!({ "teamId": team, "agent": "tester" }),
            )
            .await;
        assert_eq!(added, json!({ "ok": true }));
        // GoClaw's reviewer role; adding again changes the role.
        let params = json!({ "teamId": team, "agent": "tester", "role": "reviewer" });
        who.admin.call_ok("teams.members.add", params).await;
        let got = who
            .admin
            .call_ok("teams.get", json!({ "teamId": team }))
            .await;
        assert_eq!(got["members"][2]["role"], "reviewer", "{got}");
        let odd = json!({ "teamId": team, "agent": "tester", "role": "boss" });
        let refused = who.admin.call("teams.members.add", odd).await;
        assert_eq!(error_code(&refused), "INVALID_REQUEST", "{refused}");

        // Who sees the team: the admins and the users it names, whatever their role.
        for (name, ws) in who.all() {
            let listed = ws.call("teams.list", json!({})).await;
            let count = listed["payload"]["count"].as_u64().unwrap_or_default();
            let sees = names(TEAM_AUDIENCE).contains(name);
            assert_eq!(count == 1, sees, "{name} teams.list: {listed}");
            let got = ws.call("teams.get", json!({ "teamId": team })).await;
            let code = if sees { "" } else { "NOT_FOUND" };
            assert_eq!(error_code(&got), code, "{name} teams.get: {got}");
            let tasks = ws.call("teams.tasks.list", json!({ "teamId": team })).await;
            assert_eq!(error_code(&tasks), code, "{name} teams.tasks.list: {tasks}");
        }
        // Links are the tenant's: readable below admin, unknown to another tenant.
        let links = who
            .vera
            .call_ok("agents.links.list", json!({ "agentId": "lead" }))
            .await;
        assert_eq!(links["count"], 2, "{links}");
        let theirs = who
            .carol
            .call("agents.links.list", json!({ "agentId": "lead" }))
            .await;
        assert_eq!(error_code(&theirs), "INVALID_REQUEST", "{theirs}");
        // Who changes its board: operators it names; a viewer it names only reads.
        let refused = who
            .vera
            .call(
                "teams.tasks.create",
                json!({ "teamId": team, "subject": "x" }),
            )
            .await;
        assert_eq!(error_code(&refused), "UNAUTHORIZED", "{refused}");
        for ws in [&mut who.bob, &mut who.carol] {
            let refused = ws
                .call(
                    "teams.tasks.create",
                    json!({ "teamId": team, "subject": "x" }),
                )
                .await;
            assert_eq!(error_code(&refused), "NOT_FOUND", "{refused}");
        }
        let alice = &mut who.alice;
        let first = text(&new_task(alice, &team, "first", &[]).await["id"]);
        let refused = alice
            .call(
                "teams.tasks.delete",
                json!({ "teamId": team, "taskId": first }),
            )
            .await;
        assert_eq!(error_code(&refused), "UNAUTHORIZED", "{refused}");
        on_task(
            alice,
            "teams.tasks.assign",
            &team,
            &first,
            json!({ "agentId": "writer" }),
        )
        .await;
        on_task(
            alice,
            "teams.tasks.progress",
            &team,
            &first,
            json!({ "agentId": "writer", "percent": 50 }),
        )
        .await;
        on_task(
            alice,
            "teams.tasks.comment",
            &team,
            &first,
            json!({ "content": "nice" }),
        )
        .await;
        on_task(
            alice,
            "teams.tasks.review",
            &team,
            &first,
            json!({ "agentId": "writer", "result": "r" }),
        )
        .await;
        on_task(alice, "teams.tasks.approve", &team, &first, json!({})).await;
        let second = text(&new_task(alice, &team, "second", &[]).await["id"]);
        on_task(
            alice,
            "teams.tasks.claim",
            &team,
            &second,
            json!({ "agentId": "tester" }),
        )
        .await;
        on_task(
            alice,
            "teams.tasks.complete",
            &team,
            &second,
            json!({ "agentId": "tester", "result": "ok" }),
        )
        .await;
        let third = text(&new_task(alice, &team, "third", &[]).await["id"]);
        on_task(
            alice,
            "teams.tasks.claim",
            &team,
            &third,
            json!({ "agentId": "writer" }),
        )
        .await;
        on_task(
            alice,
            "teams.tasks.fail",
            &team,
            &third,
            json!({ "agentId": "writer", "reason": "no" }),
        )
        .await;
        let fourth = text(&new_task(alice, &team, "fourth", &[]).await["id"]);
        on_task(
            alice,
            "teams.tasks.claim",
            &team,
            &fourth,
            json!({ "agentId": "writer" }),
        )
        .await;
        on_task(
            alice,
            "teams.tasks.review",
            &team,
            &fourth,
            json!({ "agentId": "writer", "result": "r" }),
        )
        .await;
        on_task(
            alice,
            "teams.tasks.reject",
            &team,
            &fourth,
            json!({ "reason": "redo" }),
        )
        .await;
        let fifth = text(&new_task(alice, &team, "fifth", &[]).await["id"]);
        let sixth = text(&new_task(alice, &team, "sixth", &[&fifth]).await["id"]);
        on_task(alice, "teams.tasks.cancel", &team, &fifth, json!({})).await;
        on_task(
            &mut who.admin,
            "teams.tasks.delete",
            &team,
            &fifth,
            json!({}),
        )
        .await;
        let passed = app
            .task_recovery
            .tick(Utc::now() + TimeDelta::hours(3))
            .await
            .expect("a recovery pass");
        assert_eq!(
            ids_of(&passed.stale),
            [sixth],
            "the released task waited too long"
        );
        who.admin
            .call_ok("teams.delete", json!({ "teamId": team }))
            .await;

        fence(&mut who, "writer").await;
        let mut wrong = Vec::new();
        for event in TEAM_EVENTS.iter().chain(LINK_EVENTS) {
            let expected = if event.starts_with("agent_link.") {
                ADMINS
            } else {
                TEAM_AUDIENCE
            };
            let got: BTreeSet<&str> = who
                .all()
                .into_iter()
                .filter(|(_, ws)| {
                    ws.events.iter().any(|e| {
                        e["event"] == *event
                            && (event.starts_with("agent_link.") || e["payload"]["team_id"] == team)
                    })
                })
                .map(|(name, _)| name)
                .collect();
            if got != names(expected) {
                wrong.push(format!("{event}: sent to {got:?}, not {expected}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let member = event_where(&mut who.vera, "team.member.added", |_| true).await;
        assert_goclaw_shape("ws_event_team.member.added", &member);
        let released = event_where(&mut who.alice, "team.task.updated", |_| true).await;
        assert_eq!(
            released["payload"]["reason"], "blockers ended",
            "{released}"
        );
    }
);

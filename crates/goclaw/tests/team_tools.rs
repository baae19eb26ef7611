//! The `team_tasks` tool end to end, on SQLite and PostgreSQL, with the fake model scripting
//! the lead and its member: the lead creates a task for the member, which is claimed for it
//! and dispatched to a run of the member on the `delegate` lane; the member completes it
//! (without naming the task: its one task in progress); the lead's session is told the result
//! and answers it; a member may not create tasks; a task whose member run ended without
//! completing it is reset by the recovery ticker once its lock expires (test clock) and
//! dispatched again; a task a member submits for review is completed by the lead's approval. The board, the dispatched session and the
//! lead's transcript are checked in the store.
//!
//! The fake tells the member's requests from the lead's by the dispatched message
//! (`[Team task #`), which the lead never sees.

use std::time::{Duration, Instant};

use goclaw_core::{
    AgentKey, MASTER_TENANT_ID, MemberRole, Message, NewAgent, NewTeam, Role, SessionKey,
    TaskQuery, TaskStatus,
};
use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with_config};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(30);
const DISPATCHED: &str = "[Team task #";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(backend, "{ gateway: { rate_limit_rpm: 0 } }", &[]).await
}

async fn messages(app: &TestApp, session: &str) -> Vec<Message> {
    let store = app.db.store();
    let key = SessionKey::parse(session).expect("session key");
    let Ok(found) = store.sessions().get(MASTER_TENANT_ID, &key).await else {
        return Vec::new();
    };
    store
        .messages()
        .list(found.id, 0, 500)
        .await
        .expect("messages")
}

/// `lead` and `researcher`, and the team `desk` (GoClaw's v2 settings) with `researcher` as
/// its member; the agents' ids and the team.
async fn desk(app: &TestApp) -> (Vec<goclaw_core::AgentId>, goclaw_core::Team) {
    let store = app.db.store();
    let mut ids = Vec::new();
    for key in ["lead", "researcher"] {
        let agent = store
            .agents()
            .create(NewAgent::new(
                MASTER_TENANT_ID,
                AgentKey::parse(key).expect("key"),
                key,
            ))
            .await
            .expect("agent");
        ids.push(agent.id);
    }
    let team = store
        .teams()
        .create(NewTeam {
            tenant_id: MASTER_TENANT_ID,
            name: "desk".to_owned(),
            description: String::new(),
            lead_agent_id: ids[0],
            settings: json!({ "version": 2 }),
        })
        .await
        .expect("team");
    store
        .teams()
        .add_member(MASTER_TENANT_ID, team.id, ids[1], MemberRole::Member)
        .await
        .expect("member");
    (ids, team)
}

app_test!(
    the_lead_dispatches_a_task_and_hears_the_result,
    app,
    |app: TestApp| async move {
        let store = app.db.store();
        let (ids, team) = desk(&app).await;
        app.llm.push(Reply::tool_call(
            "t1",
            "team_tasks",
            json!({ "action": "create", "subject": "Collect sources",
                    "description": "Three sources on tides.", "assignee": "researcher" }),
        ));
        app.llm.push(Reply::text("I asked the researcher."));
        app.llm.push_routed(
            DISPATCHED,
            Reply::tool_call(
                "m1",
                "team_tasks",
                json!({ "action": "complete", "result": "SOURCES: moon, sun, basin" }),
            ),
        );
        app.llm.push_routed(DISPATCHED, Reply::text("done"));
        app.llm
            .set_default(Reply::text("The researcher found moon, sun and basin."));

        let lead_session = "agent:lead:ws:direct:tides";
        let mut ws = app.ws_connect("dana").await;
        let reply = ws
            .call_ok(
                "chat.send",
                json!({ "agentId": "lead", "message": "research tides", "sessionKey": lead_session }),
            )
            .await;
        assert_eq!(reply["content"], "I asked the researcher.", "{reply}");

        // The lead hears the result as a new turn and answers it.
        let deadline = Instant::now() + DEADLINE;
        let history = loop {
            let history = messages(&app, lead_session).await;
            let told = history.iter().position(|m| {
                m.role == Role::User && m.content.contains("completed by researcher")
            });
            if let Some(at) = told
                && history[at + 1..].iter().any(|m| {
                    m.role == Role::Assistant
                        && m.content == "The researcher found moon, sun and basin."
                })
            {
                break history;
            }
            assert!(
                Instant::now() < deadline,
                "the lead was not told: {history:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let notice = history
            .iter()
            .find(|m| m.content.contains("completed by researcher"))
            .expect("notice");
        assert!(
            notice.content.contains("SOURCES: moon, sun, basin"),
            "{}",
            notice.content
        );
        assert_eq!(notice.metadata["channel"], "team");

        // The board: one task, completed by the researcher with its result.
        let tasks = store
            .team_tasks()
            .list(MASTER_TENANT_ID, team.id, &TaskQuery::default())
            .await
            .expect("tasks");
        assert_eq!(tasks.len(), 1, "{tasks:#?}");
        assert_eq!(tasks[0].status, TaskStatus::Completed);
        assert_eq!(tasks[0].owner_agent_id, Some(ids[1]));
        assert_eq!(
            tasks[0].result.as_deref(),
            Some("SOURCES: moon, sun, basin")
        );
        assert_eq!(tasks[0].user_id, "dana");
        // The member ran in a team session of its own, as dana.
        let member_session = format!(
            "agent:researcher:team:{}:agent-lead-ws-direct-tides",
            team.id.simple()
        );
        let member = messages(&app, &member_session).await;
        assert!(
            member.iter().any(|m| m.content.contains("Collect sources")),
            "{member:#?}"
        );
        let metrics = app.get("/metrics").await.text().await.unwrap_or_default();
        // The member's run and the lead's notice turn both took the delegate lane.
        assert!(
            metrics.contains("goclaw_runs_started_total{lane=\"delegate\"} 2"),
            "{metrics}"
        );

        // A member may not create tasks.
        app.llm.set_default(Reply::text("ok"));
        app.llm.push(Reply::tool_call(
            "t2",
            "team_tasks",
            json!({ "action": "create", "subject": "x", "assignee": "lead" }),
        ));
        app.llm.push(Reply::text("cannot"));
        ws.call_ok(
            "chat.send",
            json!({ "agentId": "researcher", "message": "make a task" }),
        )
        .await;
        let shown = app
            .llm
            .requests()
            .last()
            .map(|r| r.body.to_string())
            .unwrap_or_default();
        assert!(
            shown.contains("only the team's lead creates tasks"),
            "{shown}"
        );
    }
);

app_test!(
    a_task_whose_member_run_died_is_dispatched_again,
    app,
    |app: TestApp| async move {
        let store = app.db.store();
        let (ids, team) = desk(&app).await;
        app.llm.push(Reply::tool_call(
            "t1",
            "team_tasks",
            json!({ "action": "create", "subject": "Measure tides", "assignee": "researcher" }),
        ));
        app.llm.push(Reply::text("asked"));
        // The member's first run ends without completing the task (as if it died).
        app.llm
            .push_routed(DISPATCHED, Reply::text("still working"));
        app.llm.push_routed(
            DISPATCHED,
            Reply::tool_call(
                "m1",
                "team_tasks",
                json!({ "action": "complete", "result": "DONE AFTER RETRY" }),
            ),
        );
        app.llm.push_routed(DISPATCHED, Reply::text("done"));
        app.llm.set_default(Reply::text("noted"));
        let mut ws = app.ws_connect("dana").await;
        ws.call_ok(
            "chat.send",
            json!({ "agentId": "lead", "message": "measure", "sessionKey": "agent:lead:ws:direct:m" }),
        )
        .await;
        let member_session = format!(
            "agent:researcher:team:{}:agent-lead-ws-direct-m",
            team.id.simple()
        );
        let deadline = Instant::now() + DEADLINE;
        while !messages(&app, &member_session)
            .await
            .iter()
            .any(|m| m.role == Role::Assistant && m.content == "still working")
        {
            assert!(Instant::now() < deadline, "the member never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let held = store
            .team_tasks()
            .list(MASTER_TENANT_ID, team.id, &TaskQuery::default())
            .await
            .expect("tasks");
        assert_eq!(held[0].status, TaskStatus::InProgress);
        assert_eq!(held[0].owner_agent_id, Some(ids[1]));

        // An hour and a minute later the lock has expired: the ticker resets the task and
        // hands it to the researcher again, who completes it this time.
        let later = chrono::Utc::now() + chrono::TimeDelta::minutes(61);
        let recovered = app.task_recovery.tick(later).await.expect("tick");
        assert_eq!(recovered.reset.len(), 1, "{recovered:?}");
        assert_eq!(recovered.dispatched, 1, "{recovered:?}");
        let deadline = Instant::now() + DEADLINE;
        let done = loop {
            let tasks = store
                .team_tasks()
                .list(MASTER_TENANT_ID, team.id, &TaskQuery::default())
                .await
                .expect("tasks");
            if tasks[0].status == TaskStatus::Completed {
                break tasks;
            }
            assert!(Instant::now() < deadline, "not completed: {tasks:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(done[0].result.as_deref(), Some("DONE AFTER RETRY"));
        let dispatched = messages(&app, &member_session)
            .await
            .iter()
            .filter(|m| m.role == Role::User && m.content.contains(DISPATCHED))
            .count();
        assert_eq!(dispatched, 2, "dispatched twice");
    }
);

app_test!(
    a_reviewed_task_waits_for_the_leads_approval,
    app,
    |app: TestApp| async move {
        let store = app.db.store();
        let (_, team) = desk(&app).await;
        app.llm.push(Reply::tool_call(
            "t1",
            "team_tasks",
            json!({ "action": "create", "subject": "Draft the report", "assignee": "researcher" }),
        ));
        app.llm.push(Reply::text("asked"));
        app.llm.push_routed(
            DISPATCHED,
            Reply::tool_call(
                "m1",
                "team_tasks",
                json!({ "action": "review", "result": "DRAFT v1" }),
            ),
        );
        app.llm
            .push_routed(DISPATCHED, Reply::text("sent for review"));
        // The lead, told of the review, approves the board's one task in review.
        app.llm.push_routed(
            "submitted for review by researcher",
            Reply::tool_call("l2", "team_tasks", json!({ "action": "approve" })),
        );
        app.llm.set_default(Reply::text("approved"));
        let mut ws = app.ws_connect("dana").await;
        ws.call_ok(
            "chat.send",
            json!({ "agentId": "lead", "message": "draft it", "sessionKey": "agent:lead:ws:direct:r" }),
        )
        .await;
        let deadline = Instant::now() + DEADLINE;
        let done = loop {
            let tasks = store
                .team_tasks()
                .list(MASTER_TENANT_ID, team.id, &TaskQuery::default())
                .await
                .expect("tasks");
            if tasks[0].status == TaskStatus::Completed {
                break tasks;
            }
            assert!(Instant::now() < deadline, "not approved: {tasks:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(done[0].result.as_deref(), Some("DRAFT v1"));
        let lead = messages(&app, "agent:lead:ws:direct:r").await;
        assert!(
            lead.iter().any(|m| m.role == Role::User
                && m.content.contains("submitted for review by researcher")
                && m.content.contains("DRAFT v1")),
            "{lead:#?}"
        );
    }
);

app_test!(
    a_reviewer_judges_what_members_hand_in,
    app,
    |app: TestApp| async move {
        let store = app.db.store();
        let (ids, team) = desk(&app).await;
        let critic = store
            .agents()
            .create(NewAgent::new(
                MASTER_TENANT_ID,
                AgentKey::parse("critic").expect("key"),
                "critic",
            ))
            .await
            .expect("critic");
        store
            .teams()
            .add_member(MASTER_TENANT_ID, team.id, critic.id, MemberRole::Reviewer)
            .await
            .expect("reviewer");
        let mut ws = app.ws_connect("dana").await;

        // A task the member handed in for review.
        let tasks = store.team_tasks();
        let task = tasks
            .create(goclaw_core::NewTeamTask::new(
                MASTER_TENANT_ID,
                team.id,
                "Check the numbers",
            ))
            .await
            .expect("task");
        let hour = Duration::from_secs(3600);
        tasks
            .claim(MASTER_TENANT_ID, task.id, ids[1], hour)
            .await
            .expect("claim")
            .expect("claimed");
        tasks
            .submit_for_review(MASTER_TENANT_ID, task.id, ids[1], "NUMBERS v1")
            .await
            .expect("review")
            .expect("in review");

        // The member may not judge its own work; the reviewer approves the board's one task
        // in review, told its part in TEAM.md.
        app.llm.push(Reply::tool_call(
            "r1",
            "team_tasks",
            json!({ "action": "approve" }),
        ));
        app.llm.push(Reply::text("tried"));
        app.llm.push(Reply::tool_call(
            "c1",
            "team_tasks",
            json!({ "action": "approve" }),
        ));
        app.llm.push(Reply::text("approved"));
        ws.call_ok(
            "chat.send",
            json!({ "agentId": "researcher", "message": "approve it", "sessionKey": "agent:researcher:ws:direct:j" }),
        )
        .await;
        let results = app
            .llm
            .requests()
            .last()
            .map(|r| r.body.to_string())
            .unwrap_or_default();
        assert!(
            results.contains("only the team's lead or a reviewer approves tasks"),
            "{results}"
        );
        ws.call_ok(
            "chat.send",
            json!({ "agentId": "critic", "message": "judge it", "sessionKey": "agent:critic:ws:direct:j" }),
        )
        .await;
        let judged = tasks.get(MASTER_TENANT_ID, task.id).await.expect("task");
        assert_eq!(judged.status, TaskStatus::Completed, "{judged:#?}");
        let prompt = app
            .llm
            .requests()
            .iter()
            .map(|r| r.body.to_string())
            .find(|b| b.contains("judge it"))
            .unwrap_or_default();
        assert!(
            prompt.contains("You are a reviewer of this team"),
            "{prompt}"
        );
        assert_eq!(critic.agent_key.as_str(), "critic");
    }
);

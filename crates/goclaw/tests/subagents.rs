//! Subagents end to end, on SQLite and PostgreSQL, with the fake model scripting the agents:
//! a parent spawns two subagents and gets one follow-up turn with both results; the depth,
//! concurrency and children limits answer with GoClaw's texts; `cancel` ends a running
//! subagent without announcing it; and subagent runs take the `subagent` lane, one at a time
//! when `GOCLAW_LANE_SUBAGENT=1`.
//!
//! The fake tells a subagent's requests from its parent's by the subagent's system prompt,
//! which names its label (`labelled alpha,`) — text the parent never sees.

use std::time::{Duration, Instant};

use goclaw_core::{MASTER_TENANT_ID, Message, Role, SessionKey, SubagentStatus, SubagentTask};
use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with_config};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(30);
const NEVER: Duration = Duration::from_secs(600);

/// The messages of `session`, in order (none before it exists).
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

/// The subagent tasks spawned from `session`, oldest first.
async fn tasks(app: &TestApp, session: &str) -> Vec<SubagentTask> {
    app.db
        .store()
        .subagent_tasks()
        .list_by_parent(MASTER_TENANT_ID, session)
        .await
        .expect("subagent tasks")
}

/// Polls `check` until it returns `Some`, failing with `what` at the deadline.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn from_subagents(message: &Message) -> bool {
    message.role == Role::User && message.metadata["channel"] == "subagent"
}

/// Whether some request to the model carried `text`.
fn model_saw(app: &TestApp, text: &str) -> bool {
    app.llm
        .requests()
        .iter()
        .any(|r| r.body.to_string().contains(text))
}

app_test!(
    two_subagents_report_back_in_one_parent_turn,
    |app: TestApp| async move {
        let parent = "agent:default:ws:direct:subagent-parent";
        app.llm
            .route("labelled alpha,", Reply::text("ALPHA-RESULT: 42 widgets"));
        app.llm
            .route("labelled beta,", Reply::text("BETA-RESULT: 7 gadgets"));
        app.llm.push(
            Reply::tool_call(
                "call_a",
                "spawn",
                json!({"task": "Count the widgets", "label": "alpha"}),
            )
            .with_tool_call(
                "call_b",
                "spawn",
                json!({"task": "Count the gadgets", "label": "beta"}),
            ),
        );
        app.llm.push(Reply::text("two helpers are on it"));
        app.llm.set_default(Reply::text("42 widgets and 7 gadgets"));
        let mut ws = app.ws_connect("olga").await;
        let reply = ws
            .call_ok(
                "chat.send",
                json!({ "message": "count widgets and gadgets", "sessionKey": parent }),
            )
            .await;
        assert_eq!(reply["content"], "two helpers are on it");

        // One follow-up turn carries both results, and the parent answers it.
        let history = eventually("the parent's answer to its subagents' results", || async {
            let history = messages(&app, parent).await;
            let at = history.iter().position(from_subagents)?;
            history[at + 1..]
                .iter()
                .any(|m| m.role == Role::Assistant && m.content == "42 widgets and 7 gadgets")
                .then_some(history)
        })
        .await;
        let announced: Vec<&Message> = history.iter().filter(|m| from_subagents(m)).collect();
        assert_eq!(
            announced.len(),
            1,
            "one announcement for both: {history:#?}"
        );
        let text = &announced[0].content;
        assert!(text.contains("ALPHA-RESULT: 42 widgets"), "{text}");
        assert!(text.contains("BETA-RESULT: 7 gadgets"), "{text}");
        assert!(text.contains("Multiple subagent tasks completed"), "{text}");
        assert_eq!(announced[0].metadata["user_id"], "olga");

        // Both are recorded as completed, one level down, each in a session of its own that
        // belongs to the user and was fed through the subagent channel.
        let recorded = tasks(&app, parent).await;
        assert_eq!(recorded.len(), 2, "{recorded:#?}");
        for (task, label, result) in [
            (&recorded[0], "alpha", "ALPHA-RESULT: 42 widgets"),
            (&recorded[1], "beta", "BETA-RESULT: 7 gadgets"),
        ] {
            assert_eq!(task.status, SubagentStatus::Completed);
            assert_eq!(task.subject, label);
            assert_eq!(task.result.as_deref(), Some(result));
            assert_eq!(task.depth, 1);
            assert!(task.completed_at.is_some());
            let prefix = format!("agent:default:subagent:{label}-");
            assert!(
                task.session_key.starts_with(&prefix),
                "{}",
                task.session_key
            );
            let child = messages(&app, &task.session_key).await;
            assert!(child.first().is_some_and(from_subagents), "{child:#?}");
            assert_eq!(child.last().map(|m| m.content.as_str()), Some(result));
            let session = app
                .db
                .store()
                .sessions()
                .get(
                    MASTER_TENANT_ID,
                    &SessionKey::parse(&task.session_key).expect("key"),
                )
                .await
                .expect("the subagent's session");
            assert_eq!(session.user_id, "olga");
        }
    }
);

// A parent whose only child spawns (sync) a grandchild: refused at the default depth of 1.
app_test!(
    the_depth_limit_refuses_a_grandchild,
    |app: TestApp| async move {
        let parent = "agent:default:ws:direct:depth-parent";
        app.llm.push_routed(
            "labelled deep,",
            Reply::tool_call(
                "call_g",
                "spawn",
                json!({"task": "Go deeper", "label": "deeper"}),
            ),
        );
        app.llm
            .push_routed("labelled deep,", Reply::text("DEEP-DONE without help"));
        app.llm.push(Reply::tool_call(
            "call_c",
            "spawn",
            json!({"task": "Dig", "label": "deep", "mode": "sync"}),
        ));
        app.llm.set_default(Reply::text("parent done"));
        let mut ws = app.ws_connect("olga").await;
        let reply = ws
            .call_ok(
                "chat.send",
                json!({ "message": "dig", "sessionKey": parent }),
            )
            .await;
        assert_eq!(reply["content"], "parent done");
        assert!(model_saw(&app, "spawn depth limit reached (1/1)"));
        // The sync spawn handed the child's answer to the parent's run, not to a new turn.
        assert!(model_saw(&app, "DEEP-DONE without help"));
        let recorded = tasks(&app, parent).await;
        assert_eq!(recorded.len(), 1, "{recorded:#?}");
        assert_eq!(recorded[0].status, SubagentStatus::Completed);
        let grandchildren = tasks(&app, &recorded[0].session_key).await;
        assert!(grandchildren.is_empty(), "{grandchildren:#?}");
        assert!(!messages(&app, parent).await.iter().any(from_subagents));
    }
);

async fn one_at_a_time(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ agents: { defaults: { subagents: { maxConcurrent: 1 } } } }",
        &[],
    )
    .await
}

async fn one_child_each(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ agents: { defaults: { subagents: { maxConcurrent: 5, maxChildrenPerAgent: 1 } } } }",
        &[],
    )
    .await
}

/// The parent spawns `slow` (which never answers) and `second` in one reply; the second is
/// refused with `refusal`. Then it cancels everything, and `slow` ends cancelled, unannounced.
async fn second_spawn_is_refused(app: TestApp, refusal: &str) {
    let parent = "agent:default:ws:direct:limit-parent";
    app.llm.route(
        "labelled slow,",
        Reply::text("too late").first_byte_delay(NEVER),
    );
    app.llm.push(
        Reply::tool_call(
            "call_1",
            "spawn",
            json!({"task": "Take your time", "label": "slow"}),
        )
        .with_tool_call(
            "call_2",
            "spawn",
            json!({"task": "Also this", "label": "second"}),
        ),
    );
    app.llm.push(Reply::text("one of two started"));
    let mut ws = app.ws_connect("olga").await;
    let reply = ws
        .call_ok(
            "chat.send",
            json!({ "message": "two tasks", "sessionKey": parent }),
        )
        .await;
    assert_eq!(reply["content"], "one of two started");
    assert!(model_saw(&app, refusal), "no request carried {refusal:?}");
    let recorded = tasks(&app, parent).await;
    assert_eq!(recorded.len(), 1, "{recorded:#?}");
    assert_eq!(recorded[0].subject, "slow");
    assert_eq!(recorded[0].status, SubagentStatus::Running);

    app.llm.push(Reply::tool_call(
        "call_3",
        "spawn",
        json!({"action": "cancel", "id": "all"}),
    ));
    app.llm.push(Reply::text("cancelled"));
    let reply = ws
        .call_ok(
            "chat.send",
            json!({ "message": "stop it", "sessionKey": parent }),
        )
        .await;
    assert_eq!(reply["content"], "cancelled");
    let recorded = tasks(&app, parent).await;
    assert_eq!(
        recorded[0].status,
        SubagentStatus::Cancelled,
        "{recorded:#?}"
    );
    assert!(!messages(&app, parent).await.iter().any(from_subagents));
}

app_test!(
    the_concurrency_limit_refuses_a_spawn,
    one_at_a_time,
    |app: TestApp| async move {
        second_spawn_is_refused(app, "max concurrent subagents reached (1/1)").await;
    }
);

app_test!(
    the_children_limit_refuses_a_spawn,
    one_child_each,
    |app: TestApp| async move {
        second_spawn_is_refused(app, "max children per agent reached (1/1)").await;
    }
);

async fn one_subagent_lane_slot(backend: StoreBackend) -> Option<TestApp> {
    goclaw_testkit::spawn_app_with(backend, &[("GOCLAW_LANE_SUBAGENT", "1")]).await
}

/// `name{lane="subagent"}` in a `/metrics` scrape.
fn subagent_lane(scrape: &str, name: &str) -> f64 {
    let prefix = format!("{name}{{lane=\"subagent\"}} ");
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

app_test!(
    subagents_take_turns_in_a_one_slot_lane,
    one_subagent_lane_slot,
    |app: TestApp| async move {
        let parent = "agent:default:ws:direct:lane-parent";
        // Whichever runs first holds the lane's only slot while the model takes its time.
        let slow = Duration::from_secs(2);
        app.llm.route(
            "labelled alpha,",
            Reply::text("ALPHA").first_byte_delay(slow),
        );
        app.llm
            .route("labelled beta,", Reply::text("BETA").first_byte_delay(slow));
        app.llm.push(
            Reply::tool_call("call_a", "spawn", json!({"task": "A", "label": "alpha"}))
                .with_tool_call("call_b", "spawn", json!({"task": "B", "label": "beta"})),
        );
        app.llm.push(Reply::text("started"));
        app.llm.set_default(Reply::text("noted"));
        let mut ws = app.ws_connect("olga").await;
        ws.call_ok(
            "chat.send",
            json!({ "message": "two tasks", "sessionKey": parent }),
        )
        .await;

        // While one subagent runs, the other waits for the lane.
        let mut most_running = 0.0_f64;
        let deadline = Instant::now() + DEADLINE;
        loop {
            let scrape = app.get("/metrics").await.text().await.expect("scrape");
            let running = subagent_lane(&scrape, "goclaw_lane_running");
            let waiting = subagent_lane(&scrape, "goclaw_lane_queue_depth");
            most_running = most_running.max(running);
            if running == 1.0 && waiting == 1.0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "never saw one subagent running and one waiting:\n{scrape}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eventually("both subagents to end", || async {
            let recorded = tasks(&app, parent).await;
            (recorded.len() == 2
                && recorded
                    .iter()
                    .all(|t| t.status == SubagentStatus::Completed))
            .then_some(())
        })
        .await;
        assert!(most_running <= 1.0, "{most_running} ran at once");
        let scrape = app.get("/metrics").await.text().await.expect("scrape");
        assert!(
            subagent_lane(&scrape, "goclaw_runs_started_total") >= 2.0,
            "the subagents' runs were not counted in their lane"
        );
    }
);

app_test!(
    steer_restarts_a_subagent_and_wait_stops_at_its_timeout,
    |app: TestApp| async move {
        let parent = "agent:default:ws:direct:steer-parent";
        // The subagent's first run never answers; its steered run does.
        app.llm.push_routed(
            "labelled slow,",
            Reply::text("too late").first_byte_delay(NEVER),
        );
        app.llm
            .push_routed("labelled slow,", Reply::text("QUICK-RESULT: done fast"));
        app.llm.push(Reply::tool_call(
            "call_1",
            "spawn",
            json!({"task": "Take your time", "label": "slow"}),
        ));
        // Waiting a second on a subagent that never answers reports it still running.
        app.llm.push(Reply::tool_call(
            "call_2",
            "spawn",
            json!({"action": "wait", "timeout": 1}),
        ));
        app.llm.push(Reply::text("still going"));
        let mut ws = app.ws_connect("olga").await;
        let reply = ws
            .call_ok(
                "chat.send",
                json!({ "message": "take your time", "sessionKey": parent }),
            )
            .await;
        assert_eq!(reply["content"], "still going");
        assert!(model_saw(&app, r#"\"status\": \"running\""#));

        app.llm.push(Reply::tool_call(
            "call_3",
            "spawn",
            json!({"action": "steer", "message": "Be quick instead"}),
        ));
        app.llm.push(Reply::text("steered"));
        app.llm.set_default(Reply::text("the quick answer is in"));
        let reply = ws
            .call_ok(
                "chat.send",
                json!({ "message": "hurry up", "sessionKey": parent }),
            )
            .await;
        assert_eq!(reply["content"], "steered");

        // The steered run answers in the same session and is announced; the cancelled one
        // is not.
        let history = eventually("the steered result's announcement", || async {
            let history = messages(&app, parent).await;
            history
                .iter()
                .any(|m| m.role == Role::Assistant && m.content == "the quick answer is in")
                .then_some(history)
        })
        .await;
        let announced: Vec<&Message> = history.iter().filter(|m| from_subagents(m)).collect();
        assert_eq!(announced.len(), 1, "{history:#?}");
        assert!(announced[0].content.contains("QUICK-RESULT: done fast"));
        assert!(announced[0].content.contains("completed successfully"));
        let recorded = tasks(&app, parent).await;
        assert_eq!(recorded.len(), 2, "{recorded:#?}");
        assert_eq!(recorded[0].status, SubagentStatus::Cancelled);
        assert_eq!(recorded[1].status, SubagentStatus::Completed);
        assert_eq!(recorded[1].description, "Be quick instead");
        assert_eq!(recorded[0].session_key, recorded[1].session_key);
        assert_eq!(recorded[1].subject, "slow");
        let child: Vec<String> = messages(&app, &recorded[1].session_key)
            .await
            .into_iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.content)
            .collect();
        assert_eq!(child, ["Take your time", "Be quick instead"]);
    }
);

app_test!(
    a_subagent_cut_by_a_shutdown_is_reported_after_restart,
    |app: TestApp| async move {
        let mut app = app;
        let parent = "agent:default:ws:direct:shutdown-parent";
        app.llm.route(
            "labelled endless,",
            Reply::text("never").first_byte_delay(NEVER),
        );
        app.llm.push(Reply::tool_call(
            "call_1",
            "spawn",
            json!({"task": "Keep going", "label": "endless"}),
        ));
        app.llm.push(Reply::text("started"));
        let mut ws = app.ws_connect("olga").await;
        ws.call_ok(
            "chat.send",
            json!({ "message": "go", "sessionKey": parent }),
        )
        .await;
        eventually("the subagent to ask the model", || async {
            model_saw(&app, "labelled endless,").then_some(())
        })
        .await;
        drop(ws);

        // A graceful stop cancels the run at the end of its grace period; the task stays
        // running in the store until the next start reports it.
        app.llm
            .set_default(Reply::text("the helper was interrupted"));
        app.restart().await;
        let history = eventually("the parent's answer to the report", || async {
            let history = messages(&app, parent).await;
            history
                .iter()
                .any(|m| m.role == Role::Assistant && m.content == "the helper was interrupted")
                .then_some(history)
        })
        .await;
        let reports: Vec<&Message> = history.iter().filter(|m| from_subagents(m)).collect();
        assert_eq!(reports.len(), 1, "{history:#?}");
        assert!(reports[0].content.contains("interrupted by a restart"));
        let recorded = tasks(&app, parent).await;
        assert_eq!(recorded[0].status, SubagentStatus::Failed);
        assert_eq!(
            recorded[0].result.as_deref(),
            Some(goclaw_agent::INTERRUPTED_BY_RESTART)
        );
    }
);

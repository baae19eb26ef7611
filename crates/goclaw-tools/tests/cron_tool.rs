//! The `cron` tool on both engines: an agent adds, lists, updates, runs and removes jobs of
//! its own user; another user's job reads as not found to every action; a job asked for from
//! a Telegram chat delivers back to that chat; `run` makes a job due now, `due` mode leaves a
//! job that is not due alone; bad schedules and times in the past are refused.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use goclaw_core::clock::ManualClock;
use goclaw_core::{AgentKey, MASTER_TENANT_ID, NewAgent, SessionKey, Store, ToolContext};
use goclaw_store::store_test;
use goclaw_tools::cron::cron_tool;
use serde_json::{Value, json};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-07T00:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn ctx(user: &str, channel: &str, session: &str) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "assistant".to_owned(),
        session_key: SessionKey::parse(session).expect("key"),
        user_id: user.to_owned(),
        trust: goclaw_core::Trust::User,
        run_id: "run-1".to_owned(),
        channel: channel.to_owned(),
        workspace: PathBuf::from("/nonexistent"),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

fn ws(user: &str) -> ToolContext {
    ctx(user, "ws", &format!("agent:assistant:ws:direct:{user}"))
}

async fn call(
    store: &Arc<dyn Store>,
    clock: &Arc<ManualClock>,
    ctx: &ToolContext,
    args: Value,
) -> (bool, Value) {
    let tool = cron_tool(store.clone(), clock.clone(), "UTC");
    let out = tool.call(ctx, args).await;
    let value = serde_json::from_str(&out.content).unwrap_or(Value::String(out.content));
    (out.is_error, value)
}

async fn setup(store: &Arc<dyn Store>) -> Arc<ManualClock> {
    store
        .agents()
        .create(NewAgent::new(
            MASTER_TENANT_ID,
            AgentKey::parse("assistant").expect("key"),
            "Assistant",
        ))
        .await
        .expect("agent");
    Arc::new(ManualClock::new(t0()))
}

store_test!(
    jobs_belong_to_their_user,
    |store: Arc<dyn Store>| async move {
        let clock = setup(&store).await;
        let (error, added) = call(
            &store,
            &clock,
            &ws("alice"),
            json!({ "action": "add", "job": {
                "name": "water plants",
                "schedule": { "kind": "every", "everyMs": 3_600_000 },
                "message": "remind me to water the plants",
            }}),
        )
        .await;
        assert!(!error, "{added}");
        let id = added["job"]["id"].as_str().expect("id").to_owned();
        assert_eq!(added["job"]["deliver"], false, "not from a chat: {added}");
        assert_eq!(
            added["job"]["nextRunAtMs"],
            (t0() + TimeDelta::hours(1)).timestamp_millis()
        );

        let (_, listed) = call(&store, &clock, &ws("alice"), json!({ "action": "list" })).await;
        assert_eq!(listed["count"], 1);
        let (_, listed) = call(&store, &clock, &ws("bob"), json!({ "action": "list" })).await;
        assert_eq!(listed["count"], 0, "bob sees none of alice's: {listed}");
        for action in ["update", "remove", "run", "runs"] {
            let (error, answer) = call(
                &store,
                &clock,
                &ws("bob"),
                json!({ "action": action, "jobId": id, "patch": { "name": "bob's now" } }),
            )
            .await;
            assert!(
                error && answer.to_string().contains("not found"),
                "{action}: {answer}"
            );
        }

        let (error, updated) = call(
        &store,
        &clock,
        &ws("alice"),
        json!({ "action": "update", "jobId": id, "patch": { "message": "water the ferns", "disabled": true } }),
    )
    .await;
        assert!(!error, "{updated}");
        assert_eq!(updated["job"]["message"], "water the ferns");
        assert_eq!(updated["job"]["enabled"], false);
        let (error, refused) = call(
            &store,
            &clock,
            &ws("alice"),
            json!({ "action": "run", "jobId": id }),
        )
        .await;
        assert!(
            error && refused.to_string().contains("disabled"),
            "{refused}"
        );
        let (error, _) = call(
            &store,
            &clock,
            &ws("alice"),
            json!({ "action": "update", "jobId": id, "patch": { "disabled": false } }),
        )
        .await;
        assert!(!error);

        // Not due: `due` mode leaves it; `force` makes it due now.
        let (_, not_due) = call(
            &store,
            &clock,
            &ws("alice"),
            json!({ "action": "run", "jobId": id, "runMode": "due" }),
        )
        .await;
        assert_eq!(not_due["ran"], false, "{not_due}");
        clock.advance(TimeDelta::minutes(5));
        let (_, forced) = call(
            &store,
            &clock,
            &ws("alice"),
            json!({ "action": "run", "jobId": id, "runMode": "force" }),
        )
        .await;
        assert_eq!(forced["ran"], true, "{forced}");
        let due = store
            .cron()
            .due(t0() + TimeDelta::minutes(5), 10)
            .await
            .expect("due");
        assert_eq!(due.len(), 1, "the job is due now");

        let (_, status) = call(&store, &clock, &ws("alice"), json!({ "action": "status" })).await;
        assert_eq!(status["jobs"], 1);
        let (error, removed) = call(
            &store,
            &clock,
            &ws("alice"),
            json!({ "action": "remove", "jobId": id }),
        )
        .await;
        assert!(!error, "{removed}");
        assert_eq!(removed["deleted"], true);
        let (_, listed) = call(
            &store,
            &clock,
            &ws("alice"),
            json!({ "action": "list", "includeDisabled": true }),
        )
        .await;
        assert_eq!(listed["count"], 0);
    }
);

store_test!(
    a_job_asked_for_in_a_chat_answers_in_that_chat,
    |store: Arc<dyn Store>| async move {
        let clock = setup(&store).await;
        let telegram = ctx("tg-7", "telegram", "agent:assistant:telegram:direct:4242");
        let (error, added) = call(
            &store,
            &clock,
            &telegram,
            json!({ "action": "add", "job": {
                "name": "standup",
                "schedule": { "kind": "cron", "expr": "0 9 * * 1-5", "tz": "Europe/Berlin" },
                "message": "ask for the standup notes",
                "channel": "slack",
                "to": "somewhere-else",
            }}),
        )
        .await;
        assert!(!error, "{added}");
        assert_eq!(added["job"]["deliver"], true);
        assert_eq!(
            added["job"]["channel"], "telegram",
            "the chat's own channel wins"
        );
        assert_eq!(added["job"]["to"], "4242");
        // Asked not to deliver, it does not.
        let (_, quiet) = call(
            &store,
            &clock,
            &telegram,
            json!({ "action": "add", "job": {
                "name": "quiet",
                "schedule": { "kind": "every", "everyMs": 60_000 },
                "message": "think",
                "deliver": false,
            }}),
        )
        .await;
        assert_eq!(quiet["job"]["deliver"], false, "{quiet}");
    }
);

store_test!(bad_jobs_are_refused, |store: Arc<dyn Store>| async move {
    let clock = setup(&store).await;
    for (job, text) in [
        (
            json!({ "schedule": { "kind": "every", "everyMs": 60000 }, "message": "m" }),
            "job.name",
        ),
        (
            json!({ "name": "n", "schedule": { "kind": "every", "everyMs": 60000 } }),
            "job.message",
        ),
        (json!({ "name": "n", "message": "m" }), "job.schedule"),
        (
            json!({ "name": "n", "message": "m", "schedule": { "kind": "at", "atMs": t0().timestamp_millis() - 1 } }),
            "in the past",
        ),
        (
            json!({ "name": "n", "message": "m", "schedule": { "kind": "cron", "expr": "not cron" } }),
            "invalid cron expression",
        ),
        (
            json!({ "name": "n", "message": "m", "schedule": { "kind": "weekly" } }),
            "invalid schedule",
        ),
    ] {
        let (error, answer) = call(
            &store,
            &clock,
            &ws("alice"),
            json!({ "action": "add", "job": job }),
        )
        .await;
        assert!(
            error && answer.to_string().contains(text),
            "{job} → {answer}"
        );
    }
    let (error, answer) = call(&store, &clock, &ws("alice"), json!({ "action": "explode" })).await;
    assert!(
        error && answer.to_string().contains("unknown action"),
        "{answer}"
    );
    let (error, answer) = call(&store, &clock, &ws("alice"), json!({ "action": "remove" })).await;
    assert!(
        error && answer.to_string().contains("jobId is required"),
        "{answer}"
    );
});

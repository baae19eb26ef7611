//! What a board keeps beside its tasks, on both engines: the audit trail (oldest first per
//! task, newest first per team, paged, scoped to the tenant), attachments (once per path,
//! counted, detached), follow-ups (set only on a task in progress, due once per due time, sent
//! at most `max` times, cleared by the chat answering) and the users who talked to the team.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use goclaw_core::{
    ActorKind, Agent, AgentKey, MASTER_TENANT_ID, MemberRole, NewAgent, NewTaskAttachment,
    NewTaskComment, NewTaskEvent, NewTaskFollowup, NewTeam, NewTeamTask, SessionKey, Store,
    StoreError, TaskCounts, Team, TeamTask, TenantId,
};
use goclaw_store::store_test;
use serde_json::json;

const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000b2";
const HOUR: Duration = Duration::from_secs(3600);

async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> Agent {
    let key = AgentKey::parse(key).expect("agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
}

/// A team of a lead and one member, with one task the member holds.
async fn board(store: &dyn Store) -> (Team, Agent, TeamTask) {
    let lead = agent(store, MASTER_TENANT_ID, "lead").await;
    let member = agent(store, MASTER_TENANT_ID, "member").await;
    let team = store
        .teams()
        .create(NewTeam {
            tenant_id: MASTER_TENANT_ID,
            name: "crew".to_owned(),
            description: String::new(),
            lead_agent_id: lead.id,
            settings: json!({"version": 2}),
        })
        .await
        .expect("team");
    store
        .teams()
        .add_member(MASTER_TENANT_ID, team.id, member.id, MemberRole::Member)
        .await
        .expect("member");
    let task = store
        .team_tasks()
        .create(NewTeamTask::new(MASTER_TENANT_ID, team.id, "dig"))
        .await
        .expect("task");
    let task = store
        .team_tasks()
        .claim(MASTER_TENANT_ID, task.id, member.id, HOUR)
        .await
        .expect("claim")
        .expect("claimed");
    (team, member, task)
}

fn event(task: &TeamTask, kind: &str) -> NewTaskEvent {
    NewTaskEvent {
        task_id: task.id,
        event_type: kind.to_owned(),
        actor_kind: ActorKind::Agent,
        actor_id: "member".to_owned(),
        data: json!({"status": task.status.as_str()}),
    }
}

fn followup(due_in_minutes: i64, max: i32) -> NewTaskFollowup {
    NewTaskFollowup {
        due_at: Utc::now() + TimeDelta::minutes(due_in_minutes),
        max,
        message: "Which region?".to_owned(),
        channel: "telegram".to_owned(),
        chat_id: "4711".to_owned(),
    }
}

store_test!(events_are_kept_per_task_and_per_team, |store: Arc<
    dyn Store,
>| async move {
    let trail = store.task_trail();
    let (team, _, task) = board(store.as_ref()).await;
    for kind in ["created", "claimed", "progress"] {
        trail
            .record_event(MASTER_TENANT_ID, event(&task, kind))
            .await
            .expect("record");
    }
    let kinds = |events: Vec<goclaw_core::TaskEvent>| -> Vec<String> {
        events.into_iter().map(|e| e.event_type).collect()
    };
    let oldest_first = trail
        .task_events(MASTER_TENANT_ID, task.id)
        .await
        .expect("events");
    assert_eq!(oldest_first[0].team_id, team.id);
    assert_eq!(oldest_first[0].actor_kind, ActorKind::Agent);
    assert_eq!(oldest_first[0].data, json!({"status": "in_progress"}));
    assert_eq!(kinds(oldest_first), ["created", "claimed", "progress"]);
    let page = trail
        .team_events(MASTER_TENANT_ID, team.id, 2, 0)
        .await
        .expect("page");
    assert_eq!(kinds(page), ["progress", "claimed"], "newest first");
    let next = trail
        .team_events(MASTER_TENANT_ID, team.id, 2, 2)
        .await
        .expect("next page");
    assert_eq!(kinds(next), ["created"]);
    let unbounded = trail
        .team_events(MASTER_TENANT_ID, team.id, 0, 0)
        .await
        .expect("default page");
    assert_eq!(unbounded.len(), 3);

    // Another tenant neither records on nor reads the task.
    let other: TenantId = OTHER_TENANT.parse().expect("tenant");
    let refused = trail.record_event(other, event(&task, "cancelled")).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );
    assert!(
        trail
            .task_events(other, task.id)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        trail
            .team_events(other, team.id, 10, 0)
            .await
            .expect("read")
            .is_empty()
    );
});

store_test!(attachments_are_kept_once_per_path, |store: Arc<
    dyn Store,
>| async move {
    let trail = store.task_trail();
    let (team, member, task) = board(store.as_ref()).await;
    let new = NewTaskAttachment {
        task_id: task.id,
        chat_id: "4711".to_owned(),
        path: "report.md".to_owned(),
        file_size: 42,
        mime_type: "text/markdown".to_owned(),
        created_by_agent_id: Some(member.id),
        created_by_sender_id: String::new(),
    };
    let attached = trail
        .attach(MASTER_TENANT_ID, new.clone())
        .await
        .expect("attach")
        .expect("new path");
    assert_eq!((attached.team_id, attached.file_size), (team.id, 42));
    let again = trail
        .attach(MASTER_TENANT_ID, new.clone())
        .await
        .expect("again");
    assert_eq!(again, None, "the same path once");
    let fetched = trail
        .attachment(MASTER_TENANT_ID, team.id, attached.id)
        .await
        .expect("by id");
    assert_eq!(fetched, attached);
    let elsewhere = trail
        .attachment(MASTER_TENANT_ID, task.id, attached.id)
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::NotFound(_))),
        "another team's id"
    );

    let comment = NewTaskComment {
        task_id: task.id,
        agent_id: None,
        user_id: "ada".to_owned(),
        kind: goclaw_core::CommentKind::Note,
        content: "looks good".to_owned(),
    };
    store
        .team_tasks()
        .add_comment(MASTER_TENANT_ID, comment)
        .await
        .expect("comment");
    let counts = trail
        .counts(MASTER_TENANT_ID, team.id)
        .await
        .expect("counts");
    let expected = TaskCounts {
        comments: 1,
        attachments: 1,
    };
    assert_eq!(counts.get(&task.id), Some(&expected));

    assert!(
        trail
            .detach(MASTER_TENANT_ID, task.id, "report.md")
            .await
            .expect("detach")
    );
    assert!(
        !trail
            .detach(MASTER_TENANT_ID, task.id, "report.md")
            .await
            .expect("twice")
    );
    assert!(
        trail
            .attachments(MASTER_TENANT_ID, task.id)
            .await
            .expect("list")
            .is_empty()
    );

    let other: TenantId = OTHER_TENANT.parse().expect("tenant");
    let refused = trail.attach(other, new).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );
});

store_test!(follow_ups_are_sent_once_per_due_time, |store: Arc<
    dyn Store,
>| async move {
    let trail = store.task_trail();
    let (_, member, task) = board(store.as_ref()).await;
    let set = trail
        .set_followup(MASTER_TENANT_ID, task.id, followup(-1, 2))
        .await
        .expect("set")
        .expect("in progress");
    let state = set.followup.clone().expect("carried by the task");
    assert_eq!((state.sent, state.max), (0, 2));
    assert_eq!(state.message, "Which region?");

    let now = Utc::now();
    let due = trail.due_followups(now, 10).await.expect("due");
    assert_eq!(due.len(), 1);
    let due_at = due[0]
        .followup
        .as_ref()
        .and_then(|f| f.due_at)
        .expect("due at");
    let next = now + TimeDelta::minutes(30);
    assert!(
        trail
            .advance_followup(task.id, due_at, Some(next))
            .await
            .expect("first")
    );
    assert!(
        !trail
            .advance_followup(task.id, due_at, Some(next))
            .await
            .expect("second"),
        "a due time is counted once"
    );
    assert!(
        trail.due_followups(now, 10).await.expect("due").is_empty(),
        "not before next"
    );
    let later = next + TimeDelta::seconds(1);
    let due = trail.due_followups(later, 10).await.expect("due later");
    let due_at = due[0]
        .followup
        .as_ref()
        .and_then(|f| f.due_at)
        .expect("next due");
    assert!(
        trail
            .advance_followup(task.id, due_at, None)
            .await
            .expect("last")
    );
    assert!(
        trail
            .due_followups(later + TimeDelta::days(1), 10)
            .await
            .expect("done")
            .is_empty(),
        "max reached"
    );
    let task_now = store
        .team_tasks()
        .get(MASTER_TENANT_ID, task.id)
        .await
        .expect("task");
    assert_eq!(
        task_now.followup.map(|f| (f.sent, f.due_at)),
        Some((2, None))
    );

    // A new follow-up starts over; the chat answering clears it.
    trail
        .set_followup(MASTER_TENANT_ID, task.id, followup(-1, 0))
        .await
        .expect("set again")
        .expect("in progress");
    let cleared = trail
        .clear_followups_in_chat(MASTER_TENANT_ID, "telegram", "other-chat")
        .await
        .expect("other chat");
    assert_eq!(cleared, 0);
    let cleared = trail
        .clear_followups_in_chat(MASTER_TENANT_ID, "telegram", "4711")
        .await
        .expect("answered");
    assert_eq!(cleared, 1);
    assert!(
        trail
            .due_followups(later, 10)
            .await
            .expect("none")
            .is_empty()
    );
    assert!(
        !trail
            .clear_followup(MASTER_TENANT_ID, task.id)
            .await
            .expect("nothing left")
    );

    // Only a task in progress takes one, and it stops when the task ends.
    trail
        .set_followup(MASTER_TENANT_ID, task.id, followup(-1, 0))
        .await
        .expect("set")
        .expect("in progress");
    store
        .team_tasks()
        .complete(MASTER_TENANT_ID, task.id, member.id, "done")
        .await
        .expect("complete")
        .expect("owner");
    assert!(
        trail
            .due_followups(later, 10)
            .await
            .expect("ended")
            .is_empty()
    );
    let refused = trail
        .set_followup(MASTER_TENANT_ID, task.id, followup(5, 0))
        .await
        .expect("ended task");
    assert_eq!(refused, None);
});

store_test!(known_users_are_those_who_talked_to_members, |store: Arc<
    dyn Store,
>| async move {
    let (team, member, _) = board(store.as_ref()).await;
    let stranger = agent(store.as_ref(), MASTER_TENANT_ID, "stranger").await;
    for (n, (who, user)) in [
        (&member, "zoe"),
        (&member, "ada"),
        (&member, "ada"),
        (&stranger, "eve"),
    ]
    .into_iter()
    .enumerate()
    {
        let key = SessionKey::parse(&format!("agent:{}:ws:direct:{n}", who.agent_key))
            .expect("session key");
        store
            .sessions()
            .get_or_create(MASTER_TENANT_ID, &key, Some(who), user, "ws")
            .await
            .expect("session");
    }
    let users = store
        .task_trail()
        .known_users(MASTER_TENANT_ID, team.id, 100)
        .await
        .expect("users");
    assert_eq!(users, ["ada", "zoe"]);
    let other: TenantId = OTHER_TENANT.parse().expect("tenant");
    let none = store
        .task_trail()
        .known_users(other, team.id, 100)
        .await
        .expect("users");
    assert!(none.is_empty());
});

//! Rows of the delegation and team tables for the round trip, written through the store: a
//! link, an ended subagent task, a team with a member, a task board whose tasks carry a
//! `blocked_by` list, a parent, a lock, progress, a result and a follow-up, and a comment, an
//! audit event and an attachment.

use std::time::Duration;

use goclaw_core::{
    ActorKind, AgentKey, CommentKind, MemberRole, NewAgent, NewAgentLink, NewSubagentTask,
    NewTaskAttachment, NewTaskComment, NewTaskEvent, NewTaskFollowup, NewTeam, NewTeamTask,
    SubagentOutcome, SubagentStatus, TenantId,
};
use goclaw_store::testing::TestDatabase;
use serde_json::json;

use super::{ACME, ACME_AGENT};

pub async fn fill(db: &TestDatabase) {
    let store = db.store();
    let acme: TenantId = ACME.parse().expect("tenant");
    let lead = ACME_AGENT.parse().expect("agent");
    let helper = NewAgent::new(acme, AgentKey::parse("teammate").expect("key"), "Teammate");
    let helper = store.agents().create(helper).await.expect("helper").id;
    let mut link = NewAgentLink::new(acme, lead, helper);
    link.settings = json!({"note": "ops ✨"});
    store.agent_links().create(link).await.expect("link");

    let subagent = NewSubagentTask {
        tenant_id: acme,
        parent_agent_key: "acme".to_owned(),
        parent_session_key: "agent:acme:main".to_owned(),
        session_key: "agent:acme:subagent:dig".to_owned(),
        subject: "dig".to_owned(),
        description: "dig deeper".to_owned(),
        depth: 1,
        model: "gpt-test".to_owned(),
        provider: "openai".to_owned(),
        metadata: json!({"origin_channel": "telegram"}),
    };
    let subagent = store
        .subagent_tasks()
        .create(subagent)
        .await
        .expect("subagent");
    let outcome = SubagentOutcome {
        status: SubagentStatus::Completed,
        result: Some("found it".to_owned()),
        iterations: 4,
        input_tokens: 9_007_199_254_740_993,
        output_tokens: 12,
    };
    store
        .subagent_tasks()
        .finish(acme, subagent.id, outcome)
        .await
        .expect("finish");

    let team = NewTeam {
        tenant_id: acme,
        name: "crew ✨".to_owned(),
        description: "the crew".to_owned(),
        lead_agent_id: lead,
        settings: json!({"version": 2}),
    };
    let team = store.teams().create(team).await.expect("team");
    store
        .teams()
        .add_member(acme, team.id, helper, MemberRole::Member)
        .await
        .expect("member");
    let tasks = store.team_tasks();
    let first = tasks
        .create(NewTeamTask::new(acme, team.id, "first"))
        .await
        .expect("first");
    let mut second = NewTeamTask::new(acme, team.id, "second");
    second.blocked_by = vec![first.id];
    second.parent_id = Some(first.id);
    second.channel = "telegram".to_owned();
    second.chat_id = "4711".to_owned();
    second.metadata = json!({"assignee": "helper"});
    tasks.create(second).await.expect("second");
    let hour = Duration::from_secs(3600);
    tasks
        .claim(acme, first.id, helper, hour)
        .await
        .expect("claim")
        .expect("claimed");
    tasks
        .progress(acme, first.id, helper, 40, Some("halfway"), hour)
        .await
        .expect("progress");
    let comment = NewTaskComment {
        task_id: first.id,
        agent_id: Some(helper),
        user_id: "u1".to_owned(),
        kind: CommentKind::Blocker,
        content: "waiting on «access»".to_owned(),
    };
    tasks.add_comment(acme, comment).await.expect("comment");

    let trail = store.task_trail();
    let event = NewTaskEvent {
        task_id: first.id,
        event_type: "claimed".to_owned(),
        actor_kind: ActorKind::Agent,
        actor_id: "teammate".to_owned(),
        data: json!({"status": "in_progress", "note": "«go»"}),
    };
    trail.record_event(acme, event).await.expect("event");
    let attachment = NewTaskAttachment {
        task_id: first.id,
        chat_id: "4711".to_owned(),
        path: "notes/plan ✨.md".to_owned(),
        file_size: 5_000_000_000,
        mime_type: "text/markdown".to_owned(),
        created_by_agent_id: Some(helper),
        created_by_sender_id: "u1".to_owned(),
    };
    trail.attach(acme, attachment).await.expect("attach");
    let followup = NewTaskFollowup {
        due_at: chrono::Utc::now(),
        max: 3,
        message: "Did you find the «key»?".to_owned(),
        channel: "telegram".to_owned(),
        chat_id: "4711".to_owned(),
    };
    trail
        .set_followup(acme, first.id, followup)
        .await
        .expect("follow-up")
        .expect("in progress");
}

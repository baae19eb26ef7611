//! What the gateway's team methods and the task-recovery ticker need of the boards, on both
//! engines: ended tasks deleted (open ones refused), blocked tasks released once nothing open
//! holds them, a chat's open tasks, every tenant's active teams, and the links to an agent.

use std::sync::Arc;
use std::time::Duration;

use goclaw_core::{
    Agent, AgentKey, MASTER_TENANT_ID, MemberRole, NewAgent, NewTeam, NewTeamTask, Store,
    StoreError, TaskStatus, Team, TeamPatch, TeamTask, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use serde_json::json;
use uuid::Uuid;

const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000b2";
const HOUR: Duration = Duration::from_secs(3600);

fn other_tenant() -> TenantId {
    OTHER_TENANT.parse().expect("tenant id")
}

async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> Agent {
    let key = AgentKey::parse(key).expect("agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
}

async fn team(store: &dyn Store, tenant: TenantId, name: &str, lead: &Agent) -> Team {
    store
        .teams()
        .create(NewTeam {
            tenant_id: tenant,
            name: name.to_owned(),
            description: String::new(),
            lead_agent_id: lead.id,
            settings: json!({"version": 2}),
        })
        .await
        .expect("team")
}

async fn task(store: &dyn Store, team: &Team, subject: &str, blocked_by: &[Uuid]) -> TeamTask {
    let mut new = NewTeamTask::new(team.tenant_id, team.id, subject);
    new.blocked_by = blocked_by.to_vec();
    store.team_tasks().create(new).await.expect("task")
}

/// A lead, `members` member agents and their team, in the master tenant.
async fn board(store: &dyn Store, members: usize) -> (Team, Agent, Vec<Agent>) {
    let lead = agent(store, MASTER_TENANT_ID, "lead").await;
    let team = team(store, MASTER_TENANT_ID, "crew", &lead).await;
    let mut agents = Vec::new();
    for n in 0..members {
        let member = agent(store, MASTER_TENANT_ID, &format!("member-{n}")).await;
        store
            .teams()
            .add_member(MASTER_TENANT_ID, team.id, member.id, MemberRole::Member)
            .await
            .expect("member");
        agents.push(member);
    }
    (team, lead, agents)
}

store_test!(
    ended_tasks_are_deleted_and_orphans_released,
    |store: Arc<dyn Store>| async move {
        let tasks = store.team_tasks();
        let (crew, _, members) = board(store.as_ref(), 1).await;
        let first = task(store.as_ref(), &crew, "first", &[]).await;
        let waiting = task(store.as_ref(), &crew, "waiting", &[first.id]).await;
        assert_eq!(waiting.status, TaskStatus::Blocked);
        let refused = tasks
            .delete(MASTER_TENANT_ID, first.id)
            .await
            .expect("delete");
        assert_eq!(refused, None, "an open task is not deleted");
        let missing = tasks.delete(MASTER_TENANT_ID, Uuid::now_v7()).await;
        assert!(
            matches!(missing, Err(StoreError::NotFound(_))),
            "{missing:?}"
        );
        let theirs = tasks.delete(other_tenant(), first.id).await;
        assert!(matches!(theirs, Err(StoreError::NotFound(_))), "{theirs:?}");

        // A blocked task stays blocked while its blocker is open, and nothing releases it.
        assert!(
            tasks
                .release_blocked(crew.id)
                .await
                .expect("release")
                .is_empty()
        );
        // The blocker ends and is deleted behind the board's back (as a cancelled task
        // deleted from the dashboard would be, had its dependents not been released).
        tasks
            .claim(MASTER_TENANT_ID, first.id, members[0].id, HOUR)
            .await
            .expect("claim")
            .expect("won");
        let ended = tasks
            .complete(MASTER_TENANT_ID, first.id, members[0].id, "done")
            .await
            .expect("complete")
            .expect("owner");
        assert_eq!(
            ended.unblocked.iter().map(|t| t.id).collect::<Vec<_>>(),
            [waiting.id]
        );
        let deleted = tasks
            .delete(MASTER_TENANT_ID, first.id)
            .await
            .expect("delete")
            .expect("ended");
        assert_eq!(deleted.id, first.id);
        assert!(matches!(
            tasks.get(MASTER_TENANT_ID, first.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(
            tasks
                .release_blocked(Uuid::now_v7())
                .await
                .expect("no team")
                .is_empty()
        );
    }
);

store_test!(open_tasks_are_found_by_their_chat, |store: Arc<
    dyn Store,
>| async move {
    let tasks = store.team_tasks();
    let (crew, _, _) = board(store.as_ref(), 0).await;
    let in_chat = |subject: &str, chat: &str| {
        let mut new = NewTeamTask::new(MASTER_TENANT_ID, crew.id, subject);
        new.chat_id = chat.to_owned();
        new
    };
    let mine = tasks
        .create(in_chat("mine", "agent:lead:ws:direct:1"))
        .await
        .expect("task");
    let done = tasks
        .create(in_chat("done", "agent:lead:ws:direct:1"))
        .await
        .expect("task");
    tasks
        .create(in_chat("elsewhere", "agent:lead:ws:direct:2"))
        .await
        .expect("task");
    tasks
        .cancel(MASTER_TENANT_ID, done.id, "no")
        .await
        .expect("cancel");
    let found = tasks
        .open_in_chat(MASTER_TENANT_ID, "agent:lead:ws:direct:1")
        .await
        .expect("open");
    assert_eq!(found.iter().map(|t| t.id).collect::<Vec<_>>(), [mine.id]);
    let theirs = tasks
        .open_in_chat(other_tenant(), "agent:lead:ws:direct:1")
        .await
        .expect("open");
    assert!(theirs.is_empty());
});

store_test!(active_teams_and_links_to_an_agent, |store: Arc<
    dyn Store,
>| async move {
    let (crew, lead, members) = board(store.as_ref(), 1).await;
    let quiet = agent(store.as_ref(), MASTER_TENANT_ID, "quiet").await;
    let archived = team(store.as_ref(), MASTER_TENANT_ID, "archived", &quiet).await;
    store
        .teams()
        .update(
            MASTER_TENANT_ID,
            archived.id,
            TeamPatch {
                status: Some("archived".to_owned()),
                ..TeamPatch::default()
            },
        )
        .await
        .expect("archive");
    let active: Vec<Uuid> = store
        .teams()
        .active()
        .await
        .expect("active")
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(active, [crew.id]);
    assert_eq!(crew.version(), 2);

    let link = goclaw_core::NewAgentLink::new(MASTER_TENANT_ID, lead.id, members[0].id);
    let created = store.agent_links().create(link).await.expect("link");
    let to = store
        .agent_links()
        .list_to(MASTER_TENANT_ID, members[0].id)
        .await
        .expect("to");
    assert_eq!(to.iter().map(|l| l.id).collect::<Vec<_>>(), [created.id]);
    assert!(
        store
            .agent_links()
            .list_to(MASTER_TENANT_ID, lead.id)
            .await
            .expect("to")
            .is_empty()
    );
    assert!(
        store
            .agent_links()
            .list_to(other_tenant(), members[0].id)
            .await
            .expect("to")
            .is_empty()
    );
});

database_test!(
    orphaned_blocked_tasks_are_released,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let tasks = store.team_tasks();
        let (crew, _, _) = board(store.as_ref(), 0).await;
        let ended = task(store.as_ref(), &crew, "ended behind the board", &[]).await;
        let gone = task(store.as_ref(), &crew, "deleted behind the board", &[]).await;
        let open = task(store.as_ref(), &crew, "still open", &[]).await;
        let on_ended = task(store.as_ref(), &crew, "on ended", &[ended.id]).await;
        let on_gone = task(store.as_ref(), &crew, "on gone", &[gone.id]).await;
        let on_both = task(store.as_ref(), &crew, "on both", &[gone.id, open.id]).await;
        // What a crash between a blocker's end and its dependents' release, or rows written
        // by another program, would leave.
        db.execute(&format!(
            "UPDATE team_tasks SET status = 'completed' WHERE id = '{}'",
            ended.id
        ))
        .await;
        db.execute(&format!("DELETE FROM team_tasks WHERE id = '{}'", gone.id))
            .await;
        let released = tasks.release_blocked(crew.id).await.expect("release");
        let mut ids: Vec<Uuid> = released.iter().map(|t| t.id).collect();
        ids.sort();
        let mut expected = vec![on_ended.id, on_gone.id];
        expected.sort();
        assert_eq!(ids, expected);
        assert!(released.iter().all(|t| t.status == TaskStatus::Pending));
        let waiting = tasks.get(MASTER_TENANT_ID, on_both.id).await.expect("get");
        assert_eq!(
            waiting.status,
            TaskStatus::Blocked,
            "an open blocker still holds it"
        );
    }
);

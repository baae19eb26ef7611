//! Teams and their task boards on both engines: teams with their lead as first member, names
//! unique per tenant, members added and removed, tenant isolation; tasks numbered 1, 2, 3 per
//! team (also when created concurrently), listing filters, the claim race (50 claimers, exactly
//! one winner, 100 rounds), progress renewing the owner's lock, expired locks and stale tasks
//! found with explicit times, review transitions, dependents unblocked when every blocker has
//! ended, start-up reset and comments.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use goclaw_core::{
    Agent, AgentKey, CommentKind, MASTER_TENANT_ID, MemberRole, NewAgent, NewTaskComment, NewTeam,
    NewTeamTask, Store, StoreError, TaskQuery, TaskStatus, Team, TeamPatch, TeamTask, TenantId,
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

fn status_of(task: &TeamTask) -> TaskStatus {
    task.status
}

store_test!(
    teams_start_with_their_lead_and_keep_members,
    |store: Arc<dyn Store>| async move {
        let teams = store.teams();
        let lead = agent(store.as_ref(), MASTER_TENANT_ID, "lead").await;
        let worker = agent(store.as_ref(), MASTER_TENANT_ID, "worker").await;
        let crew = team(store.as_ref(), MASTER_TENANT_ID, "crew", &lead).await;
        assert_eq!(crew.settings, json!({"version": 2}));
        assert_eq!(crew.status, "active");
        assert_eq!(
            teams.get(MASTER_TENANT_ID, crew.id).await.expect("get"),
            crew
        );
        let again = teams
            .create(NewTeam {
                tenant_id: MASTER_TENANT_ID,
                name: "crew".to_owned(),
                description: String::new(),
                lead_agent_id: worker.id,
                settings: json!({}),
            })
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

        teams
            .add_member(MASTER_TENANT_ID, crew.id, worker.id, MemberRole::Member)
            .await
            .expect("add");
        let members = teams
            .members(MASTER_TENANT_ID, crew.id)
            .await
            .expect("members");
        let roles: Vec<_> = members.iter().map(|m| (m.agent_id, m.role)).collect();
        assert_eq!(
            roles,
            [(lead.id, MemberRole::Lead), (worker.id, MemberRole::Member)]
        );
        let teams_of = teams
            .teams_of(MASTER_TENANT_ID, worker.id)
            .await
            .expect("of");
        assert_eq!(teams_of.iter().map(|t| t.id).collect::<Vec<_>>(), [crew.id]);
        // A reviewer is GoClaw's third role; adding again changes the role.
        let judge = agent(store.as_ref(), MASTER_TENANT_ID, "judge").await;
        for role in [MemberRole::Member, MemberRole::Reviewer] {
            teams
                .add_member(MASTER_TENANT_ID, crew.id, judge.id, role)
                .await
                .expect("add judge");
        }
        let members = teams
            .members(MASTER_TENANT_ID, crew.id)
            .await
            .expect("members");
        let judged = members.iter().find(|m| m.agent_id == judge.id);
        assert_eq!(judged.map(|m| m.role), Some(MemberRole::Reviewer));

        let renamed = teams
            .update(
                MASTER_TENANT_ID,
                crew.id,
                TeamPatch {
                    name: Some("crew-2".to_owned()),
                    ..TeamPatch::default()
                },
            )
            .await
            .expect("update");
        assert_eq!(renamed.name, "crew-2");
        assert_eq!(renamed.settings, crew.settings);

        teams
            .remove_member(MASTER_TENANT_ID, crew.id, worker.id)
            .await
            .expect("remove");
        let gone = teams
            .remove_member(MASTER_TENANT_ID, crew.id, worker.id)
            .await;
        assert!(
            matches!(gone, Err(StoreError::NotFound("team member"))),
            "{gone:?}"
        );
        task(store.as_ref(), &crew, "one", &[]).await;
        teams
            .delete(MASTER_TENANT_ID, crew.id)
            .await
            .expect("delete");
        let missing = teams.get(MASTER_TENANT_ID, crew.id).await;
        assert!(
            matches!(missing, Err(StoreError::NotFound("team"))),
            "{missing:?}"
        );
    }
);

database_test!(
    teams_and_tasks_stay_in_their_tenant,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let (teams, tasks) = (store.teams(), store.team_tasks());
        let lead = agent(store.as_ref(), MASTER_TENANT_ID, "lead").await;
        let stranger = agent(store.as_ref(), other_tenant(), "stranger").await;
        let crew = team(store.as_ref(), MASTER_TENANT_ID, "crew", &lead).await;
        // The same name is free in another tenant, whose lead must be its own.
        team(store.as_ref(), other_tenant(), "crew", &stranger).await;
        let across = teams
            .create(NewTeam {
                tenant_id: other_tenant(),
                name: "x".to_owned(),
                description: String::new(),
                lead_agent_id: lead.id,
                settings: json!({}),
            })
            .await;
        assert!(
            matches!(across, Err(StoreError::NotFound("agent"))),
            "{across:?}"
        );
        let added = teams
            .add_member(MASTER_TENANT_ID, crew.id, stranger.id, MemberRole::Member)
            .await;
        assert!(
            matches!(added, Err(StoreError::NotFound("agent"))),
            "{added:?}"
        );

        assert!(matches!(
            teams.get(other_tenant(), crew.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(teams.list(other_tenant()).await.expect("list").len(), 1);
        assert!(
            teams
                .members(other_tenant(), crew.id)
                .await
                .expect("members")
                .is_empty()
        );
        let job = task(store.as_ref(), &crew, "job", &[]).await;
        let foreign = tasks
            .create(NewTeamTask::new(other_tenant(), crew.id, "sneaky"))
            .await;
        assert!(
            matches!(foreign, Err(StoreError::NotFound("team"))),
            "{foreign:?}"
        );
        assert!(matches!(
            tasks.get(other_tenant(), job.id).await,
            Err(StoreError::NotFound(_))
        ));
        let claim = tasks.claim(other_tenant(), job.id, stranger.id, HOUR).await;
        assert!(matches!(claim, Err(StoreError::NotFound(_))), "{claim:?}");
        let comment = tasks
            .add_comment(
                other_tenant(),
                NewTaskComment {
                    task_id: job.id,
                    agent_id: None,
                    user_id: "u".to_owned(),
                    kind: CommentKind::Note,
                    content: "hi".to_owned(),
                },
            )
            .await;
        assert!(
            matches!(comment, Err(StoreError::NotFound("team task"))),
            "{comment:?}"
        );
        assert!(teams.delete(other_tenant(), crew.id).await.is_err());
    }
);

store_test!(
    tasks_are_numbered_per_team_also_when_created_at_once,
    |store: Arc<dyn Store>| async move {
        let (crew, lead, _) = board(store.as_ref(), 0).await;
        let other = team(store.as_ref(), MASTER_TENANT_ID, "other", &lead).await;
        for (n, subject) in ["a", "b", "c"].iter().enumerate() {
            let made = task(store.as_ref(), &crew, subject, &[]).await;
            assert_eq!(made.task_number, i32::try_from(n + 1).expect("small"));
            assert_eq!(made.status, TaskStatus::Pending);
        }
        assert_eq!(task(store.as_ref(), &other, "x", &[]).await.task_number, 1);

        let creates = (0..20).map(|n| {
            let store = store.clone();
            let crew = crew.clone();
            tokio::spawn(async move { task(store.as_ref(), &crew, &format!("c{n}"), &[]).await })
        });
        for handle in creates.collect::<Vec<_>>() {
            handle.await.expect("join");
        }
        let numbers: Vec<i32> = store
            .team_tasks()
            .list(MASTER_TENANT_ID, crew.id, &TaskQuery::default())
            .await
            .expect("list")
            .iter()
            .map(|t| t.task_number)
            .collect();
        assert_eq!(numbers, (1..=23).collect::<Vec<_>>());
    }
);

database_test!(
    fifty_claimers_one_winner_a_hundred_times,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let (crew, _, members) = board(store.as_ref(), 50).await;
        let job = task(store.as_ref(), &crew, "contested", &[]).await;
        for round in 0..100 {
            let claims = members.iter().map(|member| {
                let (store, agent) = (store.clone(), member.id);
                tokio::spawn(async move {
                    store
                        .team_tasks()
                        .claim(MASTER_TENANT_ID, job.id, agent, HOUR)
                        .await
                        .expect("claim")
                        .map(|t| (agent, t))
                })
            });
            let mut winners = Vec::new();
            for handle in claims.collect::<Vec<_>>() {
                if let Some(won) = handle.await.expect("join") {
                    winners.push(won);
                }
            }
            assert_eq!(winners.len(), 1, "round {round}");
            let (agent, claimed) = &winners[0];
            assert_eq!(claimed.owner_agent_id, Some(*agent));
            assert_eq!(claimed.status, TaskStatus::InProgress);
            assert!(claimed.lock_expires_at > claimed.locked_at);
            let stored = store
                .team_tasks()
                .get(MASTER_TENANT_ID, job.id)
                .await
                .expect("get");
            assert_eq!(stored.owner_agent_id, Some(*agent), "round {round}");
            // Back to pending for the next round.
            let far = Utc::now() + TimeDelta::days(1);
            let reset = store
                .team_tasks()
                .reset_expired_locks(crew.id, far)
                .await
                .expect("reset");
            assert_eq!(reset.len(), 1, "round {round}");
        }
    }
);

store_test!(claims_need_a_pending_task_and_a_member, |store: Arc<
    dyn Store,
>| async move {
    let tasks = store.team_tasks();
    let (crew, lead, members) = board(store.as_ref(), 2).await;
    let outsider = agent(store.as_ref(), MASTER_TENANT_ID, "outsider").await;
    let job = task(store.as_ref(), &crew, "job", &[]).await;
    let by_outsider = tasks
        .claim(MASTER_TENANT_ID, job.id, outsider.id, HOUR)
        .await;
    assert_eq!(by_outsider.expect("claim"), None);
    let won = tasks
        .claim(MASTER_TENANT_ID, job.id, members[0].id, HOUR)
        .await
        .expect("claim")
        .expect("won");
    let lock = won.lock_expires_at.expect("lock") - won.locked_at.expect("locked");
    assert_eq!(lock, TimeDelta::hours(1));
    let second = tasks.claim(MASTER_TENANT_ID, job.id, lead.id, HOUR).await;
    assert_eq!(second.expect("claim"), None);
    let missing = tasks
        .claim(MASTER_TENANT_ID, Uuid::now_v7(), lead.id, HOUR)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("team task"))),
        "{missing:?}"
    );
    let mine = TaskQuery {
        status: Some(TaskStatus::InProgress),
        owner: Some(members[0].id),
    };
    let listed = tasks
        .list(MASTER_TENANT_ID, crew.id, &mine)
        .await
        .expect("list");
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), [job.id]);
    let theirs = TaskQuery {
        status: None,
        owner: Some(members[1].id),
    };
    assert!(
        tasks
            .list(MASTER_TENANT_ID, crew.id, &theirs)
            .await
            .expect("list")
            .is_empty()
    );
});

store_test!(
    progress_renews_the_owners_lock_and_expired_locks_reset,
    |store: Arc<dyn Store>| async move {
        let tasks = store.team_tasks();
        let (crew, _, members) = board(store.as_ref(), 2).await;
        let (owner, other) = (members[0].id, members[1].id);
        let job = task(store.as_ref(), &crew, "job", &[]).await;
        let claimed = tasks
            .claim(MASTER_TENANT_ID, job.id, owner, Duration::from_secs(60))
            .await
            .expect("claim")
            .expect("won");
        let not_owner = tasks
            .progress(MASTER_TENANT_ID, job.id, other, 50, Some("half"), HOUR)
            .await
            .expect("progress");
        assert_eq!(not_owner, None);
        let renewed = tasks
            .progress(MASTER_TENANT_ID, job.id, owner, 150, Some("half"), HOUR)
            .await
            .expect("progress")
            .expect("owner");
        assert_eq!(renewed.progress_percent, 100, "clamped");
        assert_eq!(renewed.progress_step.as_deref(), Some("half"));
        assert!(renewed.lock_expires_at > claimed.lock_expires_at);
        let expires = renewed.lock_expires_at.expect("lock");

        let before = tasks
            .reset_expired_locks(crew.id, expires - TimeDelta::seconds(1))
            .await
            .expect("reset");
        assert!(before.is_empty(), "{before:?}");
        let after = tasks
            .reset_expired_locks(crew.id, expires + TimeDelta::seconds(1))
            .await
            .expect("reset");
        assert_eq!(after.len(), 1);
        let reset = &after[0];
        assert_eq!(reset.status, TaskStatus::Pending);
        assert_eq!(
            (reset.owner_agent_id, reset.locked_at, reset.lock_expires_at),
            (None, None, None)
        );
        let late = tasks
            .progress(MASTER_TENANT_ID, job.id, owner, 60, None, HOUR)
            .await
            .expect("progress");
        assert_eq!(late, None, "a reset task is no longer the owner's");

        // Start-up: whatever is in progress goes back to pending.
        tasks
            .claim(MASTER_TENANT_ID, job.id, other, HOUR)
            .await
            .expect("claim")
            .expect("won");
        let back = tasks.reset_in_progress(crew.id).await.expect("startup");
        assert_eq!(back.iter().map(|t| t.id).collect::<Vec<_>>(), [job.id]);
        let back = tasks.get(MASTER_TENANT_ID, job.id).await.expect("get");
        assert_eq!(
            (back.status, back.owner_agent_id),
            (TaskStatus::Pending, None)
        );
    }
);

store_test!(
    ending_a_task_unblocks_dependents_once_all_blockers_ended,
    |store: Arc<dyn Store>| async move {
        let tasks = store.team_tasks();
        let (crew, _, members) = board(store.as_ref(), 1).await;
        let worker = members[0].id;
        let first = task(store.as_ref(), &crew, "first", &[]).await;
        let second = task(store.as_ref(), &crew, "second", &[]).await;
        let third = task(store.as_ref(), &crew, "third", &[first.id, second.id]).await;
        assert_eq!(third.status, TaskStatus::Blocked);
        assert_eq!(third.blocked_by, [first.id, second.id]);
        let blocked = tasks.claim(MASTER_TENANT_ID, third.id, worker, HOUR).await;
        assert_eq!(
            blocked.expect("claim"),
            None,
            "a blocked task cannot be claimed"
        );
        let unknown = tasks
            .create(NewTeamTask {
                blocked_by: vec![Uuid::now_v7()],
                ..NewTeamTask::new(MASTER_TENANT_ID, crew.id, "x")
            })
            .await;
        assert!(
            matches!(unknown, Err(StoreError::NotFound("blocking task"))),
            "{unknown:?}"
        );

        tasks
            .claim(MASTER_TENANT_ID, first.id, worker, HOUR)
            .await
            .expect("claim")
            .expect("won");
        let not_owner = tasks
            .complete(MASTER_TENANT_ID, first.id, crew.lead_agent_id, "x")
            .await;
        assert_eq!(not_owner.expect("complete"), None);
        let done = tasks
            .complete(MASTER_TENANT_ID, first.id, worker, "done")
            .await
            .expect("complete")
            .expect("owner");
        assert_eq!(status_of(&done.task), TaskStatus::Completed);
        assert_eq!(done.task.result.as_deref(), Some("done"));
        assert!(done.task.completed_at.is_some());
        assert!(done.unblocked.is_empty(), "second is still open");

        let cancelled = tasks
            .cancel(MASTER_TENANT_ID, second.id, "not needed")
            .await
            .expect("cancel")
            .expect("open");
        assert_eq!(
            cancelled.unblocked.iter().map(|t| t.id).collect::<Vec<_>>(),
            [third.id]
        );
        assert_eq!(cancelled.unblocked[0].status, TaskStatus::Pending);
        assert_eq!(
            tasks
                .cancel(MASTER_TENANT_ID, second.id, "again")
                .await
                .expect("cancel"),
            None
        );

        // Blockers that had all ended already: the new task starts pending.
        let fourth = task(store.as_ref(), &crew, "fourth", &[first.id, second.id]).await;
        assert_eq!(fourth.status, TaskStatus::Pending);
        // A failure ends a task too.
        let fifth = task(store.as_ref(), &crew, "fifth", &[fourth.id]).await;
        tasks
            .claim(MASTER_TENANT_ID, fourth.id, worker, HOUR)
            .await
            .expect("claim")
            .expect("won");
        let failed = tasks
            .fail(MASTER_TENANT_ID, fourth.id, worker, "broke")
            .await
            .expect("fail")
            .expect("owner");
        assert_eq!(failed.task.status, TaskStatus::Failed);
        assert_eq!(
            failed.unblocked.iter().map(|t| t.id).collect::<Vec<_>>(),
            [fifth.id]
        );
    }
);

store_test!(
    review_approves_or_rejects,
    |store: Arc<dyn Store>| async move {
        let tasks = store.team_tasks();
        let (crew, _, members) = board(store.as_ref(), 1).await;
        let worker = members[0].id;
        let approved = task(store.as_ref(), &crew, "approved", &[]).await;
        let rejected = task(store.as_ref(), &crew, "rejected", &[]).await;
        let dependent = task(store.as_ref(), &crew, "dependent", &[approved.id]).await;
        assert_eq!(
            tasks
                .approve(MASTER_TENANT_ID, approved.id)
                .await
                .expect("approve"),
            None
        );
        for job in [&approved, &rejected] {
            tasks
                .claim(MASTER_TENANT_ID, job.id, worker, HOUR)
                .await
                .expect("claim")
                .expect("won");
            let review = tasks
                .submit_for_review(MASTER_TENANT_ID, job.id, worker, "have a look")
                .await
                .expect("review")
                .expect("owner");
            assert_eq!(review.status, TaskStatus::InReview);
            assert_eq!(review.lock_expires_at, None);
        }
        let ok = tasks
            .approve(MASTER_TENANT_ID, approved.id)
            .await
            .expect("approve")
            .expect("in review");
        assert_eq!(ok.task.status, TaskStatus::Completed);
        assert_eq!(
            ok.unblocked.iter().map(|t| t.id).collect::<Vec<_>>(),
            [dependent.id]
        );
        let no = tasks
            .reject(MASTER_TENANT_ID, rejected.id, "wrong")
            .await
            .expect("reject")
            .expect("in review");
        assert_eq!(no.task.status, TaskStatus::Cancelled);
        assert_eq!(no.task.result.as_deref(), Some("wrong"));
    }
);

store_test!(stale_tasks_are_marked_with_explicit_times, |store: Arc<
    dyn Store,
>| async move {
    let tasks = store.team_tasks();
    let (crew, _, members) = board(store.as_ref(), 1).await;
    let waiting = task(store.as_ref(), &crew, "waiting", &[]).await;
    let reviewed = task(store.as_ref(), &crew, "reviewed", &[]).await;
    tasks
        .claim(MASTER_TENANT_ID, reviewed.id, members[0].id, HOUR)
        .await
        .expect("claim");
    tasks
        .submit_for_review(MASTER_TENANT_ID, reviewed.id, members[0].id, "r")
        .await
        .expect("review");
    let now = Utc::now();
    let stale_at = |at: chrono::DateTime<Utc>| {
        let tasks = store.team_tasks();
        async move {
            let marked = tasks
                .mark_stale(
                    crew.id,
                    at,
                    at - TimeDelta::hours(2),
                    at - TimeDelta::hours(4),
                )
                .await
                .expect("stale");
            marked.iter().map(|t| t.id).collect::<Vec<_>>()
        }
    };
    assert!(stale_at(now).await.is_empty());
    // Two hours on, only the pending task is stale; four hours on, the review too.
    let later = now + TimeDelta::hours(2) + TimeDelta::minutes(1);
    assert_eq!(stale_at(later).await, [waiting.id]);
    let much_later = now + TimeDelta::hours(4) + TimeDelta::minutes(1);
    assert_eq!(stale_at(much_later).await, [reviewed.id]);
    let other = agent(store.as_ref(), MASTER_TENANT_ID, "other-lead").await;
    let other_team = team(store.as_ref(), MASTER_TENANT_ID, "others", &other).await;
    let elsewhere = task(store.as_ref(), &other_team, "elsewhere", &[]).await;
    let far = now + TimeDelta::days(1);
    let marked = tasks
        .mark_stale(
            crew.id,
            far,
            far - TimeDelta::hours(2),
            far - TimeDelta::hours(4),
        )
        .await
        .expect("stale");
    assert!(marked.is_empty(), "another team's task: {marked:?}");
    let untouched = tasks
        .get(MASTER_TENANT_ID, elsewhere.id)
        .await
        .expect("get");
    assert_eq!(untouched.status, TaskStatus::Pending);
    for id in [waiting.id, reviewed.id] {
        let stale = tasks.get(MASTER_TENANT_ID, id).await.expect("get");
        assert_eq!(stale.status, TaskStatus::Stale);
    }
});

store_test!(
    comments_are_kept_in_order,
    |store: Arc<dyn Store>| async move {
        let tasks = store.team_tasks();
        let (crew, lead, _) = board(store.as_ref(), 0).await;
        let job = task(store.as_ref(), &crew, "job", &[]).await;
        for (kind, content) in [
            (CommentKind::Note, "first"),
            (CommentKind::Blocker, "stuck"),
        ] {
            tasks
                .add_comment(
                    MASTER_TENANT_ID,
                    NewTaskComment {
                        task_id: job.id,
                        agent_id: Some(lead.id),
                        user_id: String::new(),
                        kind,
                        content: content.to_owned(),
                    },
                )
                .await
                .expect("comment");
        }
        let comments = tasks
            .comments(MASTER_TENANT_ID, job.id)
            .await
            .expect("comments");
        let read: Vec<_> = comments
            .iter()
            .map(|c| (c.kind, c.content.as_str(), c.agent_id))
            .collect();
        assert_eq!(
            read,
            [
                (CommentKind::Note, "first", Some(lead.id)),
                (CommentKind::Blocker, "stuck", Some(lead.id))
            ]
        );
    }
);

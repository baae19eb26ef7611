//! Follow-up reminders: a task's owner, waiting on a person, asks the team to remind them
//! (`team_tasks ask_user`); the recovery ticker posts each due reminder to the chat the task
//! came from — `Reminder (n/max): <text>`, GoClaw's wording — and sets the next one a team
//! interval later until `max` went out (0: no limit). The person answering in that chat clears
//! the chat's reminders (`TaskTrailStore::clear_followups_in_chat`, called by the channels).
//!
//! The interval is the team's `settings.followup_interval_minutes` (30 by default), at least
//! [`MIN_INTERVAL`] (GoClaw's cooldown between two reminders of one task); the limit is
//! `settings.followup_max_reminders` (0 by default). A reminder goes out once per due time
//! across gateways: the due time is advanced with a compare-and-set before it is posted, and
//! the post is keyed by task and count, so posting it again queues nothing.

use chrono::{DateTime, TimeDelta, Utc};
use goclaw_core::{Store, StoreError, Team, TeamTask};
use serde_json::Value;

use crate::channels::{ChannelTarget, Channels, PostError};

/// The interval when a team sets none.
pub const DEFAULT_INTERVAL: TimeDelta = TimeDelta::minutes(30);
/// The shortest interval between two reminders of one task.
pub const MIN_INTERVAL: TimeDelta = TimeDelta::minutes(5);
/// Most reminders one pass sends.
const BATCH: u32 = 100;

fn setting(team: &Team, key: &str) -> Option<i64> {
    team.settings
        .get(key)
        .and_then(Value::as_f64)
        .map(|v| v as i64)
}

/// How long after one reminder of `team` the next is due.
pub fn interval(team: &Team) -> TimeDelta {
    setting(team, "followup_interval_minutes")
        .filter(|minutes| *minutes > 0)
        .map_or(DEFAULT_INTERVAL, |minutes| {
            TimeDelta::try_minutes(minutes).unwrap_or(DEFAULT_INTERVAL)
        })
        .max(MIN_INTERVAL)
}

/// How many reminders of one task `team` sends; 0 for no limit.
pub fn max_reminders(team: &Team) -> i32 {
    setting(team, "followup_max_reminders")
        .filter(|max| *max > 0)
        .and_then(|max| i32::try_from(max).ok())
        .unwrap_or(0)
}

/// The text of reminder `n` of `task`.
fn reminder_text(task: &TeamTask, n: i32) -> Option<String> {
    let followup = task.followup.as_ref()?;
    let label = if followup.max > 0 {
        format!("{n}/{}", followup.max)
    } else {
        n.to_string()
    };
    Some(format!("Reminder ({label}): {}", followup.message))
}

/// Sends the reminders due at `now`; how many went out.
pub async fn send_due(
    store: &dyn Store,
    channels: Option<&dyn Channels>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let trail = store.task_trail();
    let mut sent = 0;
    for task in trail.due_followups(now, BATCH).await? {
        let Some(followup) = &task.followup else {
            continue;
        };
        let Some(due_at) = followup.due_at else {
            continue;
        };
        let team = store.teams().get(task.tenant_id, task.team_id).await?;
        let n = followup.sent + 1;
        let next = (followup.max == 0 || n < followup.max).then(|| now + interval(&team));
        if !trail.advance_followup(task.id, due_at, next).await? {
            // Another gateway sent this one.
            continue;
        }
        let Some(text) = reminder_text(&task, n) else {
            continue;
        };
        let target = ChannelTarget {
            tenant_id: task.tenant_id,
            channel: followup.channel.clone(),
            chat_id: followup.chat_id.clone(),
        };
        let key = format!("followup:{}:{n}", task.id);
        let posted = match channels {
            Some(channels) => channels.post(&target, &text, &key, None).await,
            None => Err(PostError::NoChannel),
        };
        match posted {
            Ok(_) => sent += 1,
            Err(PostError::NoChannel) => {
                tracing::warn!(task = %task.id, channel = %followup.channel, "no running channel for a task reminder");
            }
            Err(PostError::Failed(reason)) => {
                tracing::warn!(task = %task.id, reason = %reason, "task reminder not posted");
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use goclaw_core::{AgentId, MASTER_TENANT_ID};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn team(settings: Value) -> Team {
        Team {
            id: Uuid::now_v7(),
            tenant_id: MASTER_TENANT_ID,
            name: "crew".to_owned(),
            description: String::new(),
            lead_agent_id: AgentId::generate(),
            settings,
            status: "active".to_owned(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn intervals_and_limits_come_from_the_team() {
        assert_eq!(interval(&team(json!({}))), DEFAULT_INTERVAL);
        let hourly = team(json!({"followup_interval_minutes": 60, "followup_max_reminders": 3}));
        assert_eq!(interval(&hourly), TimeDelta::minutes(60));
        assert_eq!(max_reminders(&hourly), 3);
        let eager = team(json!({"followup_interval_minutes": 1, "followup_max_reminders": -2}));
        assert_eq!(
            interval(&eager),
            MIN_INTERVAL,
            "never more often than the cooldown"
        );
        assert_eq!(max_reminders(&eager), 0);
        let odd = team(json!({"followup_interval_minutes": "ten"}));
        assert_eq!(interval(&odd), DEFAULT_INTERVAL);
    }
}

//! What a team's board keeps beside its tasks, read in GoClaw's shapes: `teams.events.list
//! {team_id, limit?, offset?}` → `{events, count}` (every task's changes, newest first, 50 a
//! page, at most 100), `teams.tasks.events {teamId, taskId}` → `{events}` (one task's, oldest
//! first) and `teams.known_users {teamId}` → `{users}` (who has talked to the team's agents,
//! at most 100). Each reads only a team the caller may see.

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use super::sessions::store_error;
use super::team_tasks::{TaskParams, on_board};
use super::teams::visible_team;
use crate::teams::wire::{event_json, event_list_json};
use crate::ws::frames::ErrorShape;

/// Most users `teams.known_users` answers (GoClaw's limit).
const KNOWN_USERS: u32 = 100;

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventsParams {
    team_id: String,
    #[serde(rename = "teamId")]
    team_id_camel: String,
    limit: u32,
    offset: u32,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct TeamParams {
    team_id: String,
}

/// `teams.events.list` → `{events, count}`.
pub async fn events_list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: EventsParams = parse(params)?;
    let raw = if params.team_id.is_empty() {
        params.team_id_camel
    } else {
        params.team_id
    };
    if raw.is_empty() {
        return Err(ErrorShape::invalid("team_id is required"));
    }
    let team = visible_team(ctx, &raw).await?;
    let events = ctx
        .state
        .store
        .task_trail()
        .team_events(team.tenant_id, team.id, params.limit, params.offset)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(event_list_json(&events))
}

/// `teams.tasks.events` → `{events}`.
pub async fn task_events(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TaskParams = parse(params)?;
    let board = on_board(ctx, &params).await?;
    let events = ctx
        .state
        .store
        .task_trail()
        .task_events(board.team.tenant_id, board.task.id)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "events": events.iter().map(event_json).collect::<Vec<_>>() }))
}

/// `teams.known_users` → `{users}`.
pub async fn known_users(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TeamParams = parse(params)?;
    if params.team_id.is_empty() {
        return Err(ErrorShape::invalid("teamId is required"));
    }
    let team = visible_team(ctx, &params.team_id).await?;
    let users = ctx
        .state
        .store
        .task_trail()
        .known_users(team.tenant_id, team.id, KNOWN_USERS)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "users": users }))
}

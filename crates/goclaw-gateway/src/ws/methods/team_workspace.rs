//! `teams.workspace.*`: a team's files in GoClaw's shapes — `list {team_id, chat_id?}` →
//! `{files, count}`, `read {team_id, chat_id, file_name}` → `{file, content}`, `delete` →
//! `{deleted}` — and ours, `write {team_id, chat_id, file_name, content}` → `{file}`; on the
//! teams the caller may see, confined to the team's directory (`crate::teams::workspace`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use super::teams::visible_team;
use crate::teams::workspace::{FileEntry, TeamWorkspace, WorkspaceError};
use crate::ws::frames::{ErrorCode, ErrorShape};

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileParams {
    team_id: String,
    chat_id: String,
    file_name: String,
    content: String,
}

/// What a call does to the workspace.
enum Op {
    List,
    Read,
    Write,
    Delete,
}

/// `teams.workspace.list`.
pub async fn list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    run(ctx, params, Op::List).await
}

/// `teams.workspace.read`.
pub async fn read(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    run(ctx, params, Op::Read).await
}

/// `teams.workspace.write`.
pub async fn write(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    run(ctx, params, Op::Write).await
}

/// `teams.workspace.delete`.
pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    run(ctx, params, Op::Delete).await
}

fn refusal(error: WorkspaceError) -> ErrorShape {
    match error {
        WorkspaceError::Invalid(what) => ErrorShape::invalid(what),
        WorkspaceError::NotFound(what) => ErrorShape::not_found(what),
        WorkspaceError::TooLarge => ErrorShape::new(ErrorCode::ResourceExhausted, "file too large"),
        WorkspaceError::Full(what) => ErrorShape::new(ErrorCode::ResourceExhausted, what),
        WorkspaceError::Exists(what) => ErrorShape::new(ErrorCode::AlreadyExists, what),
        WorkspaceError::Io(error) => {
            tracing::error!(error = %error, "team workspace write failed");
            ErrorShape::internal("internal error")
        }
    }
}

async fn run(ctx: &Ctx<'_>, params: Value, op: Op) -> Result<Value, ErrorShape> {
    let params: FileParams = parse(params)?;
    if params.team_id.is_empty() {
        return Err(ErrorShape::invalid("team_id is required"));
    }
    let team = visible_team(ctx, &params.team_id).await?;
    let Some(base) = ctx.state.team_workspaces.clone() else {
        return Err(ErrorShape::new(
            ErrorCode::Unavailable,
            "team workspaces are not available",
        ));
    };
    let done = tokio::task::spawn_blocking(move || {
        let workspace = TeamWorkspace::of(&base, &team);
        let (chat, name) = (params.chat_id.as_str(), params.file_name.as_str());
        match op {
            Op::List => workspace.list(chat).map(|files| {
                let files: Vec<Value> = files.iter().map(FileEntry::to_json).collect();
                json!({ "count": files.len(), "files": files })
            }),
            Op::Read => workspace
                .read(chat, name)
                .map(|(file, content)| json!({ "file": file.to_json(), "content": content })),
            Op::Write => workspace
                .write(chat, name, &params.content)
                .map(|file| json!({ "file": file.to_json() })),
            Op::Delete => workspace
                .delete(chat, name)
                .map(|()| json!({ "deleted": name })),
        }
    })
    .await
    .map_err(|_| ErrorShape::internal("internal error"))?;
    done.map_err(refusal)
}

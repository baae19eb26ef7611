//! Which context files a user's prompt is made of: the agent's shared files, with the user's own
//! copies in their place where the agent type keeps files per user — every file of an `open`
//! agent, only USER.md of a `predefined` one (the agent-level file is then the template the
//! user's copy falls back to). The gateway asks the same question to decide what a caller may
//! read and where their writes go.

use goclaw_core::{Agent, AgentId, ContextFile, Store, StoreError};

/// The agent type whose every context file is per user.
pub const OPEN_AGENT_TYPE: &str = "open";

/// The file a `predefined` agent keeps per user.
pub const PER_USER_FILE: &str = "USER.md";

/// Whether `file_name` of an agent of `agent_type` is kept per user rather than shared.
pub fn is_per_user_file(agent_type: &str, file_name: &str) -> bool {
    agent_type == OPEN_AGENT_TYPE || file_name == PER_USER_FILE
}

/// The shared files with `user`'s own copies in their place (where the agent type keeps that
/// file per user), plus the user's files that have no shared counterpart, ordered by name.
pub fn merge_user_files(
    agent_type: &str,
    shared: Vec<ContextFile>,
    own: Vec<ContextFile>,
) -> Vec<ContextFile> {
    let own: Vec<ContextFile> = own
        .into_iter()
        .filter(|f| is_per_user_file(agent_type, &f.file_name))
        .collect();
    let mut files: Vec<ContextFile> = shared
        .into_iter()
        .filter(|f| !own.iter().any(|o| o.file_name == f.file_name))
        .collect();
    files.extend(own);
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    files
}

/// The context files `user`'s prompt of `agent` contains. An empty `user` sees the shared files.
pub async fn files_for_user(
    store: &dyn Store,
    agent: &Agent,
    user: &str,
) -> Result<Vec<ContextFile>, StoreError> {
    let shared = store.context_files().list(agent.id).await?;
    if user.is_empty() {
        return Ok(shared);
    }
    let own = store.context_files().list_for_user(agent.id, user).await?;
    Ok(merge_user_files(&agent.agent_type, shared, own))
}

/// The file `file_name` as `user`'s prompt of the agent contains it: their own copy where the
/// agent type keeps one and it exists, else the shared file.
pub async fn file_for_user(
    store: &dyn Store,
    agent_id: AgentId,
    agent_type: &str,
    user: &str,
    file_name: &str,
) -> Result<Option<ContextFile>, StoreError> {
    let files = store.context_files();
    if !user.is_empty()
        && is_per_user_file(agent_type, file_name)
        && let Some(own) = files.get_for_user(agent_id, user, file_name).await?
    {
        return Ok(Some(own));
    }
    files.get(agent_id, file_name).await
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn file(name: &str, content: &str) -> ContextFile {
        ContextFile {
            agent_id: AgentId::from_uuid(uuid::Uuid::nil()),
            file_name: name.to_owned(),
            content: content.to_owned(),
            updated_at: Utc::now(),
        }
    }

    fn check(agent_type: &str, shared: &[(&str, &str)], own: &[(&str, &str)], expected: &str) {
        let to_files = |list: &[(&str, &str)]| list.iter().map(|(n, c)| file(n, c)).collect();
        let merged = merge_user_files(agent_type, to_files(shared), to_files(own));
        let got: Vec<String> = merged
            .iter()
            .map(|f| format!("{}={}", f.file_name, f.content))
            .collect();
        assert_eq!(got.join(" "), expected, "{agent_type} {shared:?} {own:?}");
    }

    #[test]
    fn per_user_files_by_agent_type() {
        assert!(is_per_user_file("open", "SOUL.md"));
        assert!(is_per_user_file("open", "USER.md"));
        assert!(is_per_user_file("predefined", "USER.md"));
        assert!(!is_per_user_file("predefined", "SOUL.md"));
        assert!(!is_per_user_file("predefined", "AGENTS.md"));
        assert!(!is_per_user_file("predefined", "user.md"));
    }

    #[test]
    fn user_copies_replace_shared_files() {
        check("open", &[("SOUL.md", "s")], &[], "SOUL.md=s");
        check(
            "open",
            &[("SOUL.md", "s")],
            &[("SOUL.md", "mine")],
            "SOUL.md=mine",
        );
        check("open", &[], &[("NOTES.md", "n")], "NOTES.md=n");
        check(
            "open",
            &[("AGENTS.md", "a"), ("USER.md", "u")],
            &[("USER.md", "me")],
            "AGENTS.md=a USER.md=me",
        );
        check(
            "predefined",
            &[("USER.md", "u")],
            &[("USER.md", "me")],
            "USER.md=me",
        );
        check(
            "predefined",
            &[("SOUL.md", "s")],
            &[("SOUL.md", "mine")],
            "SOUL.md=s",
        );
        check("predefined", &[], &[("SOUL.md", "mine")], "");
    }
}

//! Rows of `skills`, `skill_agent_grants` and `skill_user_grants` for the round trip: an
//! internal skill with tags and a `SKILL.md` of several lines, granted to Acme's agent and a
//! user, inserted with raw SQL.

use goclaw_store::testing::TestDatabase;

use super::{ACME, ACME_AGENT, V, insert};

const SKILL: &str = "0193a5b0-7000-7000-8000-0000000000e1";

/// Acme's skill and its two grants; `t` is their time.
pub async fn fill(db: &TestDatabase, t: &str) {
    use V::*;
    insert(
        db,
        "skills",
        &[
            ("id", Uuid(SKILL)),
            ("tenant_id", Uuid(ACME)),
            ("name", Text("Haiku ✨")),
            ("slug", Text("haiku")),
            ("description", Text("Writes haiku")),
            ("owner_id", Text("alice")),
            ("visibility", Text("internal")),
            ("version", Int(3)),
            ("status", Text("active")),
            ("enabled", Bool(false)),
            ("tags", List(&["poetry", "short"])),
            ("author", Text("Alice")),
            (
                "content",
                Text("---\nname: Haiku\n---\nFive, seven, five.\n"),
            ),
            ("file_path", Text("/data/skills-store/haiku/3")),
            ("file_size", Int(512)),
            ("file_hash", Text("ab12")),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "skill_agent_grants",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e2")),
            ("tenant_id", Uuid(ACME)),
            ("skill_id", Uuid(SKILL)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("pinned_version", Int(2)),
            ("granted_by", Text("admin")),
            ("created_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "skill_user_grants",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e3")),
            ("tenant_id", Uuid(ACME)),
            ("skill_id", Uuid(SKILL)),
            ("user_id", Text("bob")),
            ("granted_by", Text("admin")),
            ("created_at", Time(t)),
        ],
    )
    .await;
}

const MCP_SERVER: &str = "0193a5b0-7000-7000-8000-0000000000e4";

/// Acme's MCP server, granted to its agent (with tool lists) and withheld from a user (a NULL
/// allow list), and a user's sealed credentials; `t` is their time.
pub async fn fill_mcp(db: &TestDatabase, t: &str) {
    use V::*;
    insert(
        db,
        "mcp_servers",
        &[
            ("id", Uuid(MCP_SERVER)),
            ("tenant_id", Uuid(ACME)),
            ("name", Text("github")),
            ("display_name", Text("GitHub ✨")),
            ("transport", Text("stdio")),
            ("command", Text("npx")),
            ("args", List(&["-y", "@modelcontextprotocol/server-github"])),
            ("url", Text("")),
            ("tool_prefix", Text("gh")),
            ("timeout_sec", Int(90)),
            ("settings", Json(r#"{"color":"blue"}"#)),
            ("enabled", Bool(true)),
            ("require_user_credentials", Bool(false)),
            ("secrets", Text("aes-gcm:c2VhbGVk")),
            ("created_by", Text("admin")),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "mcp_agent_grants",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e5")),
            ("tenant_id", Uuid(ACME)),
            ("server_id", Uuid(MCP_SERVER)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("enabled", Bool(true)),
            ("tool_allow", Json(r#"["search_issues"]"#)),
            ("tool_deny", Json(r#"["delete_repo"]"#)),
            ("granted_by", Text("admin")),
            ("created_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "mcp_user_grants",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e6")),
            ("tenant_id", Uuid(ACME)),
            ("server_id", Uuid(MCP_SERVER)),
            ("user_id", Text("bob")),
            ("enabled", Bool(false)),
            ("tool_allow", Null),
            ("tool_deny", Null),
            ("granted_by", Text("admin")),
            ("created_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "mcp_user_credentials",
        &[
            ("tenant_id", Uuid(ACME)),
            ("server_id", Uuid(MCP_SERVER)),
            ("user_id", Text("bob")),
            ("secrets", Text("aes-gcm:Ym9icw")),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
}

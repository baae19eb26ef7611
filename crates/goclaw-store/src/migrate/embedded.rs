//! The migrations compiled into the binary, one list per engine.
//!
//! Both lists are generated from the single table below, so the two engines cannot disagree
//! about which versions exist or what they are called; each entry embeds
//! `migrations/{sqlite,postgres}/NNNN_name.{up,down}.sql`.

use goclaw_core::StoreBackend;

/// One embedded migration of one engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) up: &'static str,
    pub(crate) down: &'static str,
}

macro_rules! embed {
    ($($version:literal $number:literal $name:literal),* $(,)?) => {
        const SQLITE: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            up: include_str!(concat!("../../migrations/sqlite/", $number, "_", $name, ".up.sql")),
            down: include_str!(concat!(
                "../../migrations/sqlite/", $number, "_", $name, ".down.sql"
            )),
        }),*];
        const POSTGRES: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            up: include_str!(concat!(
                "../../migrations/postgres/", $number, "_", $name, ".up.sql"
            )),
            down: include_str!(concat!(
                "../../migrations/postgres/", $number, "_", $name, ".down.sql"
            )),
        }),*];
    };
}

embed! {
    1 "0001" "tenants_agents",
    2 "0002" "sessions_messages",
    3 "0003" "providers_keys_secrets",
    4 "0004" "traces_spans",
    5 "0005" "runtime_fields",
    6 "0006" "exec_approvals",
    7 "0007" "user_context_files",
    8 "0008" "turns",
    9 "0009" "memory",
    10 "0010" "system_configs",
    11 "0011" "vault",
    12 "0012" "episodic_kg",
    13 "0013" "memory_retrieval",
    14 "0014" "memory_signatures",
    15 "0015" "pairing",
    16 "0016" "channel_queue",
    17 "0017" "webhooks",
    18 "0018" "channel_instances",
    19 "0019" "channel_inbox_chat",
    20 "0020" "channel_inbox_draft",
    21 "0021" "cron",
    22 "0022" "teams",
    23 "0023" "heartbeats",
    24 "0024" "team_task_trail",
    25 "0025" "team_reviewers",
    26 "0026" "skills",
    27 "0027" "hooks",
    28 "0028" "mcp_servers",
    29 "0029" "hook_secrets",
    30 "0030" "tenant_users",
}

/// The migrations of `backend`, in ascending version order.
pub(crate) fn for_backend(backend: StoreBackend) -> &'static [Migration] {
    match backend {
        StoreBackend::Sqlite => SQLITE,
        StoreBackend::Postgres => POSTGRES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_ascend_from_one() {
        for backend in [StoreBackend::Sqlite, StoreBackend::Postgres] {
            let mut previous = 0;
            for migration in for_backend(backend) {
                assert!(migration.version > previous, "{}", migration.name);
                previous = migration.version;
                assert!(!migration.up.trim().is_empty(), "{} up", migration.name);
                assert!(!migration.down.trim().is_empty(), "{} down", migration.name);
            }
            assert_eq!(for_backend(backend)[0].version, 1);
        }
    }
}

//! The checklist's v3 vault items, against the live database: the vault migration applied
//! (GoClaw's "migrations 37–44"; in this gateway's own numbering the vault tables come with
//! migration 11, and the subagent, evolution and edition tables GoClaw adds there do not
//! exist), and `vault_documents` and `vault_links` present in the schema itself — a schema
//! recorded as up to date whose tables were dropped by hand still fails.

use super::Check;
use super::probe::DatabaseProbe;

/// The tables the checklist names.
pub const TABLES: [&str; 2] = ["vault_documents", "vault_links"];
/// The migration that creates them.
const VAULT_MIGRATION: i64 = 11;

const S: &str = "database";

/// The vault items of the checklist's database section.
pub fn checks(db: &DatabaseProbe) -> Vec<Check> {
    vec![migration(db), tables(db)]
}

fn migration(db: &DatabaseProbe) -> Check {
    let item = "v3 upgrade: Migrations 37–44 have been applied (subagent tasks, vault tables, \
                evolution tables, edition tables). Run ./goclaw upgrade before starting the new \
                binary";
    let check = match &db.status {
        Some(status) if status.dirty => {
            Check::fail(S, "vault migration", "the schema is marked dirty")
                .fix("check the schema, `goclaw migrate force N`, then `goclaw upgrade`")
        }
        Some(status) => match status.current.unwrap_or(0) {
            at if at >= VAULT_MIGRATION => Check::ok(
                S,
                "vault migration",
                format!("migration {VAULT_MIGRATION} (vault) applied; schema at version {at}"),
            ),
            at => Check::fail(
                S,
                "vault migration",
                format!(
                    "schema at version {at}: migration {VAULT_MIGRATION} (vault) is not applied"
                ),
            )
            .fix("back up the database, then run `goclaw upgrade`"),
        },
        None => Check::fail(
            S,
            "vault migration",
            "unknown: the database could not be read",
        )
        .fix("fix the connection, then run `goclaw upgrade --status`"),
    };
    check.item(item)
}

fn tables(db: &DatabaseProbe) -> Check {
    let item = "v3 upgrade: Vault tables exist (vault_documents, vault_links) — required if any \
                agent has vault enabled";
    let check = match &db.missing_vault_tables {
        Some(missing) if missing.is_empty() => {
            Check::ok(S, "vault tables", TABLES.join(", ") + " exist")
        }
        Some(missing) => Check::fail(
            S,
            "vault tables",
            format!("missing: {}", missing.join(", ")),
        )
        .fix(
            "if `goclaw upgrade --status` says UP TO DATE the tables were dropped by hand: \
                 restore them from a backup (or revert and re-apply migration 11)",
        ),
        None => Check::fail(S, "vault tables", "unknown: the database could not be read")
            .fix("fix the connection, then run `goclaw doctor --production` again"),
    };
    check.item(item)
}

//! Schema versioning on both engines: status of a fresh database, applying, reverting and
//! re-applying every migration, and recovering from a dirty version.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use goclaw_core::StoreBackend;
use goclaw_store::testing::TestDatabase;
use goclaw_store::{MigrateError, MigrationInfo, SchemaState, database_test, migrations};

fn versions(list: &[MigrationInfo]) -> Vec<i64> {
    list.iter().map(|m| m.version).collect()
}

fn all_versions(db: &TestDatabase) -> Vec<i64> {
    versions(&db.migrator().migrations())
}

database_test!(
    fresh_database_needs_every_migration,
    |db: TestDatabase| async move {
        let status = db.migrator().status().await.expect("status");
        let all = all_versions(&db);
        let required = *all.last().expect("at least one migration");
        assert_eq!(status.current, None);
        assert_eq!(status.required, required);
        assert!(!status.dirty);
        assert_eq!(
            status.state,
            SchemaState::UpgradeNeeded {
                from: 0,
                to: required
            }
        );
        assert_eq!(versions(&status.pending), all);
    }
);

database_test!(
    up_applies_every_migration_in_order_once,
    |db: TestDatabase| async move {
        let migrator = db.migrator();
        let mut seen = Vec::new();
        let applied = migrator
            .up(|m, took| {
                assert!(took < Duration::from_secs(60), "{} took {took:?}", m.name);
                seen.push(*m);
            })
            .await
            .expect("first up");
        assert_eq!(versions(&seen), all_versions(&db));
        assert_eq!(applied, seen);

        let status = migrator.status().await.expect("status");
        assert_eq!(status.state, SchemaState::UpToDate);
        assert_eq!(status.current, Some(status.required));
        assert!(status.pending.is_empty());

        let mut calls = 0;
        let again = migrator.up(|_, _| calls += 1).await.expect("second up");
        assert!(again.is_empty());
        assert_eq!(calls, 0);
    }
);

database_test!(
    down_one_leaves_the_last_migration_pending,
    |db: TestDatabase| async move {
        let migrator = db.migrator();
        migrator.up(|_, _| {}).await.expect("up");
        let required = migrator.status().await.expect("status").required;
        let all = all_versions(&db);
        let previous = all[all.len() - 2];

        let reverted = migrator.down(1, |_, _| {}).await.expect("down 1");
        assert_eq!(versions(&reverted), vec![required]);
        let status = migrator.status().await.expect("status");
        assert_eq!(status.current, Some(previous));
        assert_eq!(
            status.state,
            SchemaState::UpgradeNeeded {
                from: previous,
                to: required
            }
        );
        assert_eq!(versions(&status.pending), vec![required]);
    }
);

database_test!(
    down_all_then_up_all_rebuilds_the_schema,
    |db: TestDatabase| async move {
        let migrator = db.migrator();
        migrator.up(|_, _| {}).await.expect("up");
        let all = all_versions(&db);

        let mut seen = Vec::new();
        let reverted = migrator
            .down(usize::MAX, |m, _| seen.push(m.version))
            .await
            .expect("down all");
        let mut newest_first = all.clone();
        newest_first.reverse();
        assert_eq!(versions(&reverted), newest_first);
        assert_eq!(seen, newest_first);
        let status = migrator.status().await.expect("status");
        assert_eq!(status.current, None);
        assert_eq!(versions(&status.pending), all);

        let applied = migrator.up(|_, _| {}).await.expect("up again");
        assert_eq!(versions(&applied), all);
        let store = db.store();
        store.ping().await.expect("ping");
        store
            .tenants()
            .get_by_slug("master")
            .await
            .expect("master tenant seeded again");
    }
);

database_test!(
    dirty_schema_refuses_up_until_forced,
    |db: TestDatabase| async move {
        let migrator = db.migrator();
        migrator.up(|_, _| {}).await.expect("up");
        let required = migrator.status().await.expect("status").required;
        migrator
            .record_version(required, true)
            .await
            .expect("mark dirty");

        let status = migrator.status().await.expect("status");
        assert_eq!(status.state, SchemaState::Dirty);
        assert!(status.dirty);
        let refused = migrator.up(|_, _| {}).await.expect_err("up while dirty");
        assert!(matches!(refused, MigrateError::Dirty { version } if version == required));
        assert!(
            refused.to_string().contains("goclaw migrate force"),
            "{refused}"
        );
        let refused = migrator
            .down(1, |_, _| {})
            .await
            .expect_err("down while dirty");
        assert!(matches!(refused, MigrateError::Dirty { .. }));

        migrator.force(required).await.expect("force");
        let status = migrator.status().await.expect("status");
        assert_eq!(status.state, SchemaState::UpToDate);
        assert!(!status.dirty);
    }
);

database_test!(
    force_accepts_known_versions_and_zero,
    |db: TestDatabase| async move {
        let migrator = db.migrator();
        let unknown = migrator.force(9_999).await.expect_err("unknown version");
        assert!(matches!(unknown, MigrateError::UnknownVersion(9_999)));
        migrator.force(1).await.expect("force 1");
        assert_eq!(migrator.status().await.expect("status").current, Some(1));
        migrator.force(0).await.expect("force 0");
        assert_eq!(migrator.status().await.expect("status").current, None);
    }
);

database_test!(
    newer_schema_means_binary_too_old,
    |db: TestDatabase| async move {
        let migrator = db.migrator();
        migrator.up(|_, _| {}).await.expect("up");
        let required = migrator.status().await.expect("status").required;
        migrator
            .record_version(required + 1, false)
            .await
            .expect("record a newer version");
        let status = migrator.status().await.expect("status");
        assert_eq!(status.state, SchemaState::BinaryTooOld);
        assert!(status.pending.is_empty());
        let refused = migrator
            .up(|_, _| {})
            .await
            .expect_err("up on a newer schema");
        assert!(
            matches!(refused, MigrateError::BinaryTooOld { .. }),
            "{refused}"
        );
        migrator.force(required).await.expect("force back");
        assert_eq!(
            migrator.status().await.expect("status").state,
            SchemaState::UpToDate
        );
    }
);

#[test]
fn both_engines_have_the_same_migrations() {
    let sqlite = migrations(StoreBackend::Sqlite);
    let postgres = migrations(StoreBackend::Postgres);
    assert_eq!(sqlite, postgres);
    assert_eq!(versions(&sqlite).first(), Some(&1));
}

#[test]
fn every_migration_file_is_embedded() {
    let embedded: BTreeSet<String> = migrations(StoreBackend::Sqlite)
        .iter()
        .flat_map(|m| ["up", "down"].map(|dir| format!("{:04}_{}.{dir}.sql", m.version, m.name)))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for engine in ["sqlite", "postgres"] {
        let on_disk: BTreeSet<String> = std::fs::read_dir(root.join(engine))
            .expect("migrations directory")
            .map(|entry| {
                entry
                    .expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(on_disk, embedded, "migrations/{engine}");
    }
}

//! The operator's schema-upgrade flow on PostgreSQL, with the real executable: an empty database
//! needs an upgrade, the gateway refuses to start until it is applied, `goclaw upgrade` applies it
//! once, and a second run changes nothing.

mod support;

use goclaw_store::StoreOptions;
use goclaw_testkit::{StoreBackend, TestDatabase};
use support::{Goclaw, get, home};

async fn empty_postgres() -> Option<(TestDatabase, String)> {
    let db = TestDatabase::new(StoreBackend::Postgres).await?;
    let StoreOptions::Postgres(pg) = db.options() else {
        panic!("a PostgreSQL test database");
    };
    let dsn = pg.expose_dsn().to_owned();
    Some((db, dsn))
}

#[tokio::test]
async fn upgrade_flow_on_empty_postgres() {
    let Some((_db, dsn)) = empty_postgres().await else {
        return;
    };
    let home = home();
    let goclaw = |args: &[&str]| {
        Goclaw::new(home.path())
            .env("GOCLAW_POSTGRES_DSN", &dsn)
            .env("GOCLAW_PORT", "0")
            .args(args)
    };

    let out = goclaw(&["upgrade", "--status"]).run().await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout.contains("Schema current:  none"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("UPGRADE NEEDED (0 -> "),
        "{}",
        out.stdout
    );

    let refused = goclaw(&["serve"])
        .start()
        .await
        .err()
        .expect("serve refuses");
    assert!(!refused.success);
    assert!(
        refused.stderr.contains("goclaw upgrade"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1,
        "{}",
        refused.stderr
    );

    let out = goclaw(&["upgrade", "--dry-run"]).run().await;
    assert!(out.success, "{out:?}");
    assert!(out.stdout.contains("0001 tenants_agents"), "{}", out.stdout);
    let out = goclaw(&["upgrade", "--status"]).run().await;
    assert!(
        out.stdout.contains("UPGRADE NEEDED"),
        "dry run applied nothing: {}",
        out.stdout
    );

    let out = goclaw(&["upgrade"]).run().await;
    assert!(out.success, "{out:?}");
    let applied = out
        .stdout
        .lines()
        .filter(|l| l.contains("applied "))
        .count();
    assert_eq!(
        applied,
        goclaw_store::migrations(StoreBackend::Postgres).len(),
        "{}",
        out.stdout
    );

    let out = goclaw(&["upgrade", "--status"]).run().await;
    assert!(out.stdout.contains("UP TO DATE"), "{}", out.stdout);

    let out = goclaw(&["upgrade"]).run().await;
    assert!(out.success, "{out:?}");
    assert!(out.stdout.contains("nothing to apply"), "{}", out.stdout);
    assert!(!out.stdout.contains("applied "), "{}", out.stdout);

    let server = goclaw(&["serve"]).start().await.expect("gateway starts");
    let (status, _) = get(&server.url("/ready")).await;
    assert_eq!(status, 200);
    let (code, _, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn auto_upgrade_applies_migrations_at_start() {
    let Some((_db, dsn)) = empty_postgres().await else {
        return;
    };
    let home = home();
    let server = Goclaw::new(home.path())
        .env("GOCLAW_POSTGRES_DSN", &dsn)
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_AUTO_UPGRADE", "true")
        .start()
        .await
        .expect("gateway starts after migrating");
    let (status, _) = get(&server.url("/ready")).await;
    assert_eq!(status, 200);
    let (code, _, _) = server.terminate().await;
    assert_eq!(code, Some(0));
    let out = Goclaw::new(home.path())
        .env("GOCLAW_POSTGRES_DSN", &dsn)
        .args(&["upgrade", "--status"])
        .run()
        .await;
    assert!(out.stdout.contains("UP TO DATE"), "{}", out.stdout);
}

#[tokio::test]
async fn unreachable_postgres_fails_without_leaking_the_password() {
    let home = home();
    let out = Goclaw::new(home.path())
        .env(
            "GOCLAW_POSTGRES_DSN",
            "postgres://goclaw:pw-9f8e7d6c@127.0.0.1:1/goclaw",
        )
        .args(&["upgrade", "--status"])
        .run()
        .await;
    assert!(!out.success, "{out:?}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(!out.stderr.contains("pw-9f8e7d6c"), "{}", out.stderr);
    assert!(!out.stdout.contains("pw-9f8e7d6c"), "{}", out.stdout);
}

//! `goclaw secrets rotate-key`, run as the real executable on both backends: every stored
//! secret moves to the new key with nothing lost, and a value that does not decrypt with the
//! current key stops the rotation before anything is written.

mod support;

use goclaw_core::{MASTER_TENANT_ID, NewLlmProvider, ProviderName, SecretRef};
use goclaw_crypto::{EncryptionKey, SecretBox};
use goclaw_store::StoreOptions;
use goclaw_testkit::{StoreBackend, TestDatabase, test_config};
use support::{Finished, Goclaw, home};

const OLD: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const NEW: &str = "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=";
const STRAY: &str = "3333333333333333333333333333333333333333333333333333333333333333";

fn secret_box(raw: &str) -> SecretBox {
    SecretBox::new(&EncryptionKey::parse(raw).expect("valid key"))
}

/// Stores two provider keys and a config secret under `OLD` — with the second provider's
/// encrypted under `middle_key` instead — plus a keyless provider. Returns the plaintexts by
/// where they are stored.
async fn seed(db: &TestDatabase, middle_key: &str) -> Vec<(SecretRef, String)> {
    let store = db.store();
    let mut seeded = Vec::new();
    for (name, plaintext, key) in [
        ("anthropic", "sk-ant-first-secret", OLD),
        ("openrouter", "sk-or-second-secret", middle_key),
    ] {
        let mut provider =
            NewLlmProvider::new(MASTER_TENANT_ID, ProviderName::parse(name).expect("name"));
        provider.api_key_ciphertext = secret_box(key).encrypt(plaintext);
        let created = store
            .llm_providers()
            .create(provider)
            .await
            .expect("provider");
        seeded.push((
            SecretRef::LlmProviderApiKey { id: created.id },
            plaintext.to_owned(),
        ));
    }
    let keyless = NewLlmProvider::new(
        MASTER_TENANT_ID,
        ProviderName::parse("ollama").expect("name"),
    );
    store
        .llm_providers()
        .create(keyless)
        .await
        .expect("keyless provider");
    store
        .secrets()
        .set_config_secret(
            MASTER_TENANT_ID,
            "gateway.token",
            &secret_box(OLD).encrypt("gw-token-third"),
        )
        .await
        .expect("config secret");
    seeded.push((
        SecretRef::ConfigSecret {
            tenant: MASTER_TENANT_ID,
            key: "gateway.token".to_owned(),
        },
        "gw-token-third".to_owned(),
    ));
    seeded
}

/// Runs `goclaw secrets rotate-key` on `db` with the given keys.
async fn rotate(db: &TestDatabase, current: Option<&str>, new: Option<&str>) -> Finished {
    let home = home();
    let mut goclaw = Goclaw::new(home.path()).args(&["secrets", "rotate-key"]);
    goclaw = match db.options() {
        StoreOptions::Sqlite(sqlite) => goclaw
            .env("GOCLAW_STORAGE_BACKEND", "sqlite")
            .env("GOCLAW_SQLITE_PATH", &sqlite.path),
        StoreOptions::Postgres(pg) => goclaw
            .env("GOCLAW_STORAGE_BACKEND", "postgres")
            .env("GOCLAW_POSTGRES_DSN", pg.expose_dsn()),
    };
    if let Some(current) = current {
        goclaw = goclaw.env("GOCLAW_ENCRYPTION_KEY", current);
    }
    if let Some(new) = new {
        goclaw = goclaw.env("GOCLAW_NEW_ENCRYPTION_KEY", new);
    }
    goclaw.run().await
}

/// How many of the seeded values decrypt, with `key`, to what was stored.
async fn readable_with(db: &TestDatabase, key: &str, seeded: &[(SecretRef, String)]) -> usize {
    let stored = db.store().secrets().list_encrypted().await.expect("list");
    let b = secret_box(key);
    seeded
        .iter()
        .filter(|(secret, plaintext)| {
            stored
                .iter()
                .find(|v| &v.secret == secret)
                .is_some_and(|v| b.decrypt(&v.value).as_deref() == Ok(plaintext.as_str()))
        })
        .count()
}

fn assert_no_secret_printed(out: &Finished) {
    let printed = format!("{}{}", out.stdout, out.stderr);
    for secret in [
        OLD,
        NEW,
        STRAY,
        "first-secret",
        "second-secret",
        "gw-token",
        "aes-gcm:",
    ] {
        assert!(!printed.contains(secret), "{secret:?} printed: {printed}");
    }
}

async fn round_trip(backend: StoreBackend) {
    let Some(db) = TestDatabase::migrated(backend).await else {
        return;
    };
    let seeded = seed(&db, OLD).await;
    let out = rotate(&db, Some(OLD), Some(NEW)).await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout
            .contains("rotated 3 secrets (llm_providers: 2, config_secrets: 1)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("set GOCLAW_ENCRYPTION_KEY to the new key"),
        "{}",
        out.stdout
    );
    assert_no_secret_printed(&out);
    assert_eq!(
        readable_with(&db, NEW, &seeded).await,
        3,
        "every secret under the new key"
    );
    assert_eq!(
        readable_with(&db, OLD, &seeded).await,
        0,
        "none left under the old key"
    );

    // The gateway now starts with the new key only.
    let data_dir = tempfile::tempdir().expect("data dir");
    let with_new = test_config(&db, &data_dir, &[("GOCLAW_ENCRYPTION_KEY", NEW)]);
    assert!(goclaw::Application::build(&with_new).await.is_ok());
    let with_old = test_config(&db, &data_dir, &[("GOCLAW_ENCRYPTION_KEY", OLD)]);
    assert!(goclaw::Application::build(&with_old).await.is_err());
}

async fn undecryptable_value_changes_nothing(backend: StoreBackend) {
    let Some(db) = TestDatabase::migrated(backend).await else {
        return;
    };
    let seeded = seed(&db, STRAY).await;
    let before = db.store().secrets().list_encrypted().await.expect("list");
    let out = rotate(&db, Some(OLD), Some(NEW)).await;
    assert!(!out.success, "{out:?}");
    assert!(
        out.stderr.contains("llm_providers.api_key"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert_no_secret_printed(&out);
    assert_eq!(
        db.store().secrets().list_encrypted().await.expect("list"),
        before
    );
    let (first, rest) = seeded.split_at(1);
    let untouched = [first, &rest[1..]].concat();
    assert_eq!(
        readable_with(&db, OLD, &untouched).await,
        2,
        "still under the old key"
    );
    assert_eq!(
        readable_with(&db, NEW, &seeded).await,
        0,
        "none under the new key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_round_trip_sqlite() {
    round_trip(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_round_trip_postgres() {
    round_trip(StoreBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecryptable_value_changes_nothing_sqlite() {
    undecryptable_value_changes_nothing(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecryptable_value_changes_nothing_postgres() {
    undecryptable_value_changes_nothing(StoreBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_needs_two_different_valid_keys() {
    let db = TestDatabase::migrated(StoreBackend::Sqlite)
        .await
        .expect("SQLite");
    let seeded = seed(&db, OLD).await;
    let cases: [(Option<&str>, Option<&str>, &str); 4] = [
        (None, Some(NEW), "GOCLAW_ENCRYPTION_KEY is not set"),
        (Some(OLD), None, "GOCLAW_NEW_ENCRYPTION_KEY is not set"),
        (
            Some(OLD),
            Some("not-a-key"),
            "GOCLAW_NEW_ENCRYPTION_KEY is not a valid key",
        ),
        (Some(OLD), Some(OLD), "the same key"),
    ];
    for (current, new, expected) in cases {
        let out = rotate(&db, current, new).await;
        assert!(!out.success, "{out:?}");
        assert!(
            out.stderr.contains(expected),
            "expected {expected:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("not-a-key"), "{}", out.stderr);
    }
    assert_eq!(readable_with(&db, OLD, &seeded).await, 3, "nothing changed");
}

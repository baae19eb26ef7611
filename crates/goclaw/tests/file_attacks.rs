//! Attacks on `/v1/files`, one per line of `corpus/file_path_attacks.txt`, on both engines:
//! alice (read/write key) aims at host files, the database, other users' and other tenants'
//! files, through `..`, encoded separators, symlinks and NUL bytes; every read and every
//! signing attempt fails and no answer carries the target's bytes. Her own file, as a control,
//! is served.

mod support;

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::json;
use support::callers::{Admin, Callers};

const TOKEN: &str = "file-attacks-gateway-token";
const SECRET: &[u8] = b"top secret bytes 7f3a";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

app_test!(
    every_path_attack_is_refused,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let other = app
            .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
            .await
            .id;
        let data = std::fs::canonicalize(app.data_dir.path()).expect("data dir");
        let workspace = data.join("workspace");
        let master = goclaw_core::MASTER_TENANT_ID.to_string();
        let uploads = |user: &str| data.join("media").join(&master).join(user);
        let write = |path: std::path::PathBuf, bytes: &[u8]| {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, bytes).expect("write");
        };
        write(uploads("alice").join("own.txt"), b"alice's own");
        write(uploads("bob").join("secret.txt"), SECRET);
        write(workspace.join("default/bob/secret.txt"), SECRET);
        write(workspace.join("default/shared.txt"), SECRET);
        write(
            workspace.join(format!("tenants/{other}/helper/carol/secret.txt")),
            SECRET,
        );
        write(workspace.join("default/alice/.keep"), b"");
        for dir in [uploads("alice"), workspace.join("default/alice")] {
            std::os::unix::fs::symlink(data.join("goclaw.db"), dir.join("link-to-db"))
                .expect("symlink");
        }
        let database = std::fs::read(data.join("goclaw.db")).unwrap_or_default();

        let alice = callers.bearer("alice");
        let control = format!("/v1/files/{}", uploads("alice").join("own.txt").display());
        let control = control.replacen("/v1/files//", "/v1/files/", 1);
        let served = app
            .client
            .get(app.url(&control))
            .bearer_auth(&alice)
            .send()
            .await
            .expect("sent");
        assert_eq!(served.status().as_u16(), 200, "the control file is served");

        let corpus = include_str!("corpus/file_path_attacks.txt");
        let mut cases = 0;
        for line in corpus
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            cases += 1;
            let path = line
                .replace("{data}", &data.to_string_lossy())
                .replace("{workspace}", &workspace.to_string_lossy())
                .replace("{alice}", &uploads("alice").to_string_lossy())
                .replace("{bob}", &uploads("bob").to_string_lossy())
                .replace("{other}", &other.to_string());
            let url = format!("/v1/files/{}", path.trim_start_matches('/'));
            let response = app
                .client
                .get(app.url(&url))
                .bearer_auth(&alice)
                .send()
                .await
                .expect("sent");
            let status = response.status().as_u16();
            let body = response.bytes().await.expect("body").to_vec();
            assert!(
                matches!(status, 400 | 403 | 404),
                "{line}: read answered {status}"
            );
            assert!(
                !contains(&body, SECRET),
                "{line}: a secret file's bytes came back"
            );
            assert!(
                database.len() < 64 || !contains(&body, &database[..64]),
                "{line}: the database came back"
            );

            let decoded = path
                .replace("%2e", ".")
                .replace("%2f", "/")
                .replace("%00", "\0");
            let (status, signed) = support::http::call(
                &app,
                &alice,
                None,
                Method::POST,
                "/v1/files/sign",
                Some(json!({ "path": decoded })),
            )
            .await;
            assert!(
                matches!(status, 400 | 403 | 404),
                "{line}: signing answered {status}: {signed}"
            );
        }
        assert!(cases >= 15, "the corpus was read: {cases} cases");
    }
);

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

//! `POST /v1/vault/upload` over real HTTP with hand-built multipart bodies, on both engines:
//! alice and bob (read+write keys bound to them) upload into their own workspace of the `open`
//! agent `default`, and each finds what they uploaded by listing and searching while the other
//! does not; vera (read-only) uploads nothing; the shared root is an admin's; the limits answer
//! 400 and 413; every attack of `corpus/vault_upload_attacks.txt` is refused or defused.

mod support;

use std::path::Path;

use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "vault-upload-token-8c41d2";
const BOUNDARY: &str = "goclaw-upload-boundary-5e0b9a";
const MIB: usize = 1024 * 1024;

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 }, agents: { defaults: { memory: { vault_enrichment: false } } } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

impl Callers {
    /// Uploads `files` (name, content) with the text `fields` as `who`.
    async fn upload(
        &self,
        app: &TestApp,
        who: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> (u16, Value) {
        let response = app
            .client
            .post(app.url("/v1/vault/upload"))
            .bearer_auth(self.bearer(who))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(fields, files))
            .send()
            .await
            .expect("upload sent");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The paths of the documents `who` lists.
    async fn listed(&self, app: &TestApp, who: &str) -> Vec<String> {
        let (status, list) = self
            .call(app, who, Method::GET, "/v1/vault/documents?limit=500", None)
            .await;
        assert_eq!(status, 200, "{who}: {list}");
        paths(&list["documents"])
    }

    /// The paths of the documents `who` finds for `query`.
    async fn found(&self, app: &TestApp, who: &str, query: &str) -> Vec<String> {
        let body = json!({ "query": query, "max_results": 50 });
        let (status, hits) = self
            .call(app, who, Method::POST, "/v1/vault/search", Some(body))
            .await;
        assert_eq!(status, 200, "{who}: {hits}");
        hits.as_array()
            .map(|h| h.iter().filter_map(|h| h["document"]["path"].as_str()))
            .into_iter()
            .flatten()
            .map(str::to_owned)
            .collect()
    }
}

fn paths(documents: &Value) -> Vec<String> {
    documents
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["path"].as_str()))
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect()
}

/// A `multipart/form-data` body: the text fields, then one `files` part per file.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, content) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

const AGENT: &[(&str, &str)] = &[("agent_id", "default")];

app_test!(
    each_user_finds_only_their_own_uploads,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        let ws = app.data_dir.path().join("workspace");

        let notes: &[u8] = b"# Herons\nThe herons nest by the weir in March.\n";
        let (status, answer) = who
            .upload(
                &app,
                "alice",
                AGENT,
                &[
                    ("heron-notes.md", notes),
                    ("tally.csv", b"day,count\n1,4\n"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_goclaw_shape("http_post_v1_vault_upload", &answer);
        assert_eq!(answer["count"], 2, "{answer}");
        let first = &answer["documents"][0]["document"];
        assert_eq!(
            (&first["path"], &first["scope"], &first["title"]),
            (
                &json!("default/alice/heron-notes.md"),
                &json!("personal"),
                &json!("heron-notes")
            ),
            "{answer}"
        );
        let on_disk = std::fs::read(ws.join("default/alice/heron-notes.md")).expect("written");
        assert_eq!(on_disk, notes);

        let (status, answer) = who
            .upload(
                &app,
                "bob",
                AGENT,
                &[("heron-tally-bob.md", b"bob counts herons")],
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["documents"][0]["document"]["path"],
            "default/bob/heron-tally-bob.md"
        );

        // Each finds their own by listing and searching; neither sees the other's.
        for (caller, own, other) in [
            (
                "alice",
                "default/alice/heron-notes.md",
                "default/bob/heron-tally-bob.md",
            ),
            (
                "bob",
                "default/bob/heron-tally-bob.md",
                "default/alice/heron-notes.md",
            ),
        ] {
            let listed = who.listed(&app, caller).await;
            assert!(listed.iter().any(|p| p == own), "{caller}: {listed:?}");
            assert!(!listed.iter().any(|p| p == other), "{caller}: {listed:?}");
            let found = who.found(&app, caller, "heron").await;
            assert!(found.iter().any(|p| p == own), "{caller}: {found:?}");
            assert!(!found.iter().any(|p| p == other), "{caller}: {found:?}");
        }
        assert!(
            who.listed(&app, "alice")
                .await
                .contains(&"default/alice/tally.csv".to_owned())
        );

        // Uploading the same name again replaces the file; the document stays the same one.
        let id = first["id"].clone();
        let (status, again) = who
            .upload(
                &app,
                "alice",
                AGENT,
                &[("heron-notes.md", b"# Herons\nRevised.\n")],
            )
            .await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["documents"][0]["document"]["id"], id, "{again}");
        let on_disk = std::fs::read_to_string(ws.join("default/alice/heron-notes.md"));
        assert_eq!(on_disk.expect("written"), "# Herons\nRevised.\n");

        // A viewer uploads nothing; below admin nothing goes to the shared root.
        let (status, answer) = who.upload(&app, "vera", AGENT, &[("v.md", b"v")]).await;
        assert_eq!(status, 403, "{answer}");
        let (status, answer) = who.upload(&app, "bob", &[], &[("shared.md", b"s")]).await;
        assert_eq!(status, 403, "{answer}");
        assert!(!ws.join("default/vera/v.md").exists() && !ws.join("shared.md").exists());

        // An admin's upload without an agent is the tenant's shared document: everyone's.
        let (status, answer) = who
            .upload(
                &app,
                "admin",
                &[],
                &[("handbook.md", b"The heron hide opens at six.")],
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            (
                &answer["documents"][0]["document"]["path"],
                &answer["documents"][0]["document"]["scope"]
            ),
            (&json!("handbook.md"), &json!("shared"))
        );
        assert!(
            who.found(&app, "bob", "handbook")
                .await
                .contains(&"handbook.md".to_owned())
        );

        // A refused file is an entry with an error; the others in the request still land.
        let (status, answer) = who
            .upload(
                &app,
                "alice",
                AGENT,
                &[("tool.exe", b"MZ"), ("kept.md", b"kept")],
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["count"], 1, "{answer}");
        assert_eq!(answer["documents"][0]["document"], Value::Null, "{answer}");
        assert!(answer["documents"][0]["error"].is_string(), "{answer}");
        assert_eq!(
            answer["documents"][1]["document"]["path"],
            "default/alice/kept.md"
        );
    }
);

app_test!(
    bad_requests_and_limits_are_refused,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        let one: &[(&str, &[u8])] = &[("a.md", b"a")];
        for (fields, files, expected) in [
            (
                vec![
                    ("agent_id", "default"),
                    ("team_id", "0193a5b0-7000-7000-8000-0000000000aa"),
                ],
                one,
                400,
            ),
            (vec![("agent_id", "no-such-agent")], one, 404),
            (vec![("agent_id", "default")], &[][..], 400),
        ] {
            let (status, answer) = who.upload(&app, "alice", &fields, files).await;
            assert_eq!(status, expected, "{fields:?}: {answer}");
        }
        let many: Vec<(String, Vec<u8>)> = (0..51)
            .map(|i| (format!("n{i}.md"), b"n".to_vec()))
            .collect();
        let many: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let (status, answer) = who.upload(&app, "alice", AGENT, &many).await;
        assert_eq!(status, 400, "{answer}");

        // Not multipart at all.
        let (status, answer) = who
            .call(
                &app,
                "alice",
                Method::POST,
                "/v1/vault/upload",
                Some(json!({})),
            )
            .await;
        assert!(matches!(status, 400 | 415), "{status} {answer}");

        // A file over 50 MiB is refused on its own; a body over 64 MiB is 413.
        let big = vec![b'x'; 50 * MIB + 1];
        let (status, answer) = who
            .upload(
                &app,
                "alice",
                AGENT,
                &[("big.md", &big), ("small.md", b"s")],
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["count"], 1, "{answer}");
        assert!(
            answer["documents"][0]["error"]
                .as_str()
                .is_some_and(|e| e.contains("too large")),
            "{answer}"
        );
        // The gateway answers 413 as soon as the body passes the cap and closes the
        // connection: on a busy machine the client may still be writing and see the closed
        // connection instead of the answer. Either way nothing is stored.
        let huge = vec![b'x'; 64 * MIB + 1];
        let sent = app
            .client
            .post(app.url("/v1/vault/upload"))
            .bearer_auth(who.bearer("alice"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(AGENT, &[("huge.md", &huge)]))
            .send()
            .await;
        match sent {
            Ok(response) => {
                assert_eq!(response.status().as_u16(), 413);
                let answer = response.text().await.unwrap_or_default();
                assert!(answer.contains("64 MiB"), "{answer}");
            }
            Err(error) => assert!(
                error.is_request() || error.is_body(),
                "neither the 413 nor a connection closed mid-body: {error:?}"
            ),
        }
        let ws = app.data_dir.path().join("workspace/default/alice");
        assert!(!ws.join("big.md").exists() && !ws.join("huge.md").exists());
    }
);

/// `\u{XXXX}` in a corpus line stands for that character.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\\u{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let end = after.find('}').expect("a closing brace");
        let code = u32::from_str_radix(&after[..end], 16).expect("hex");
        out.push(char::from_u32(code).expect("a character"));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn attacks() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/vault_upload_attacks.txt");
    std::fs::read_to_string(path)
        .expect("the corpus")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (kind, rest) = l.split_once(char::is_whitespace).expect("kind and case");
            (kind.to_owned(), unescape(rest.trim()))
        })
        .collect()
}

/// Every file named `name` under `dir`.
fn files_named(dir: &Path, name: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            files_named(&path, name, out);
        } else if entry.file_name().to_string_lossy() == name {
            out.push(path.display().to_string());
        }
    }
}

app_test!(
    every_upload_attack_is_refused,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        let data = app.data_dir.path();
        let ws = data.join("workspace");
        let outside = data.join("outside");
        std::fs::create_dir_all(&outside).expect("outside");
        std::fs::create_dir_all(ws.join("default/alice")).expect("alice's folder");
        let cases = attacks();
        assert!(cases.len() >= 20, "the corpus: {cases:?}");
        for (kind, case) in cases {
            match kind.as_str() {
                "refused" => {
                    let (status, answer) = who
                        .upload(&app, "alice", AGENT, &[(&case, b"escaped")])
                        .await;
                    assert_eq!(status, 200, "{case:?}: {answer}");
                    assert_eq!(answer["count"], 0, "{case:?}: {answer}");
                    assert_eq!(answer["documents"][0]["document"], Value::Null, "{case:?}");
                    assert!(
                        answer["documents"][0]["error"].is_string(),
                        "{case:?}: {answer}"
                    );
                }
                "symlink_file" => {
                    let target = outside.join("target.md");
                    std::fs::write(&target, "original").expect("target");
                    std::os::unix::fs::symlink(&target, ws.join("default/alice").join(&case))
                        .expect("planted link");
                    let (status, answer) = who
                        .upload(&app, "alice", AGENT, &[(&case, b"escaped")])
                        .await;
                    assert_eq!(status, 200, "{case:?}: {answer}");
                    assert_eq!(answer["count"], 0, "{case:?}: {answer}");
                    assert_eq!(
                        std::fs::read_to_string(&target).expect("target"),
                        "original"
                    );
                }
                "symlink_folder" => {
                    std::fs::create_dir_all(ws.join("default")).expect("agent folder");
                    std::os::unix::fs::symlink(&outside, ws.join("default/bob"))
                        .expect("planted folder link");
                    let (status, answer) =
                        who.upload(&app, "bob", AGENT, &[(&case, b"escaped")]).await;
                    assert_eq!(status, 403, "{case:?}: {answer}");
                    assert!(!outside.join(&case).exists(), "{case:?} written outside");
                }
                "renamed" => {
                    let (sent, stored) = case.split_once(" => ").expect("name => stored");
                    let (status, answer) = who
                        .upload(&app, "alice", AGENT, &[(sent, b"renamed")])
                        .await;
                    assert_eq!(status, 200, "{case:?}: {answer}");
                    assert_eq!(
                        answer["documents"][0]["document"]["path"],
                        format!("default/alice/{stored}"),
                        "{case:?}: {answer}"
                    );
                    assert!(ws.join("default/alice").join(stored).is_file(), "{case:?}");
                }
                other => panic!("unknown kind {other} in the corpus"),
            }
        }
        let mut escaped = Vec::new();
        files_named(data, "escape.md", &mut escaped);
        files_named(data, "passwd", &mut escaped);
        assert!(
            escaped.is_empty(),
            "written outside the caller's folder: {escaped:?}"
        );
        let outside_now: Vec<_> = std::fs::read_dir(&outside)
            .expect("outside")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(outside_now, ["target.md"], "nothing else lands outside");
        let listed = who.listed(&app, "admin").await;
        assert!(
            listed.iter().all(|p| p.starts_with("default/alice/")),
            "{listed:?}"
        );
    }
);

//! Skills end to end over real HTTP, on both engines: a zip uploaded by an admin (a wrapping
//! directory, an example file) is listed, versioned, granted to the `default` agent, found by
//! `skill_search` and used in a turn (the fake model scripts the calls and sees the results),
//! with an embedding provider also by meaning (each skill embedded once, each query);
//! a `/slug` message runs the turn with the skill's instructions and an unknown `/name` has
//! the agent suggest the close one; a viewer reads but never writes; another tenant never
//! sees the skill; every attack of `corpus/skill_upload_attacks.txt` is refused and writes
//! nothing; skills are exported (tar.gz, zip) and imported into another tenant, and a hostile
//! archive is refused whole.

mod support;

use std::io::Write;

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use zip::write::SimpleFileOptions;

const TOKEN: &str = "skills-token-5d1e7a";
const BOUNDARY: &str = "goclaw-skill-boundary-93ac";
const MARKER: &str = "MARKER-7731";
const SKILL_MD: &str = "---\nname: Haiku Writer\ndescription: Writes haiku about the seasons\n\
                        tags: [poetry]\n---\n\n# Haiku\nCount five, seven, five syllables. MARKER-7731\n";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 }, skills: { max_upload_size_mb: 1 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

/// A zip of `(name, bytes, stored uncompressed)` files and `(name, target)` symlinks.
fn zip_of(files: &[(&str, &[u8], bool)], links: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes, stored) in files {
        let method = if *stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(bytes.len() > 1 << 30);
        writer.start_file(*name, options).expect("entry");
        writer.write_all(bytes).expect("entry bytes");
    }
    for (name, target) in links {
        writer
            .add_symlink(*name, *target, SimpleFileOptions::default())
            .expect("symlink");
    }
    writer.finish().expect("zip").into_inner()
}

fn good_zip() -> Vec<u8> {
    zip_of(
        &[
            ("haiku/SKILL.md", SKILL_MD.as_bytes(), false),
            (
                "haiku/examples/spring.txt",
                b"old pond / frog jumps in",
                false,
            ),
        ],
        &[],
    )
}

async fn upload(app: &TestApp, bearer: &str, zip: Vec<u8>) -> (u16, Value) {
    post_file(app, bearer, "/v1/skills/upload", "skill.zip", &zip).await
}

/// `POST path` as `bearer` with `bytes` as the multipart part `file` named `filename`.
async fn post_file(
    app: &TestApp,
    bearer: &str,
    path: &str,
    filename: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(bearer)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn call(
    app: &TestApp,
    bearer: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn slugs(list: &Value) -> Vec<String> {
    list["skills"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["slug"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Sends `message` to the default agent as alice and returns the answer's text.
async fn chat(app: &TestApp, callers: &Callers, message: &str) -> String {
    let body =
        json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": message }] });
    let (status, answer) = call(
        app,
        &callers.bearer("alice"),
        Method::POST,
        "/v1/chat/completions",
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Uploads the haiku skill as the admin and grants it to `default`; its id.
async fn haiku(app: &TestApp, callers: &Callers) -> String {
    let admin = callers.bearer("admin");
    let (status, uploaded) = upload(app, &admin, good_zip()).await;
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(
        (
            &uploaded["slug"],
            &uploaded["version"],
            &uploaded["name"],
            &uploaded["status"],
            &uploaded["is_new"]
        ),
        (
            &json!("haiku-writer"),
            &json!(1),
            &json!("Haiku Writer"),
            &json!("active"),
            &json!(true)
        )
    );
    let id = uploaded["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/skills/{id}/grants/agent");
    let (status, granted) = call(
        app,
        &admin,
        Method::POST,
        &path,
        Some(json!({ "agent_id": "default" })),
    )
    .await;
    assert_eq!((status, granted), (201, json!({ "ok": "true" })));
    id
}

app_test!(
    an_uploaded_skill_is_found_and_used_in_a_turn,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let id = haiku(&app, &callers).await;
        let admin = callers.bearer("admin");
        let (status, again) = upload(&app, &admin, good_zip()).await;
        assert_eq!(
            (status, &again["status"], &again["version"]),
            (200, &json!("unchanged"), &json!(1))
        );
        let (status, info) =
            call(&app, &admin, Method::GET, &format!("/v1/skills/{id}"), None).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(
            (
                &info["slug"],
                &info["source"],
                &info["visibility"],
                &info["enabled"],
                &info["tags"]
            ),
            (
                &json!("haiku-writer"),
                &json!("managed"),
                &json!("internal"),
                &json!(true),
                &json!(["poetry"])
            )
        );
        let base = info["baseDir"].as_str().expect("baseDir");
        let example = std::path::Path::new(base).join("examples/spring.txt");
        assert_eq!(
            std::fs::read_to_string(example).expect("example installed"),
            "old pond / frog jumps in"
        );
        let (status, versions) = call(
            &app,
            &admin,
            Method::GET,
            &format!("/v1/skills/{id}/versions"),
            None,
        )
        .await;
        assert_eq!(
            (status, versions),
            (200, json!({ "versions": [1], "current": 1 }))
        );

        app.llm.push(Reply::tool_call(
            "s1",
            "skill_search",
            json!({ "query": "haiku seasons" }),
        ));
        app.llm.push(Reply::tool_call(
            "s2",
            "use_skill",
            json!({ "name": "haiku-writer" }),
        ));
        app.llm.push(Reply::text("Five, seven, five."));
        assert_eq!(
            chat(&app, &callers, "Write me a poem about autumn").await,
            "Five, seven, five."
        );
        let requests = app.llm.requests();
        let searched = requests[1].body.to_string();
        assert!(
            searched.contains("haiku-writer")
                && searched.contains("Writes haiku about the seasons"),
            "{searched}"
        );
        let used = requests[2].body.to_string();
        assert!(
            used.contains(MARKER),
            "the instructions reach the model: {used}"
        );

        // Disabled, the skill is nobody's to find.
        let toggle = format!("/v1/skills/{id}/toggle");
        let (status, toggled) = call(
            &app,
            &admin,
            Method::POST,
            &toggle,
            Some(json!({ "enabled": false })),
        )
        .await;
        assert_eq!(
            (status, toggled),
            (200, json!({ "ok": true, "enabled": false, "status": "" }))
        );
        app.llm.push(Reply::tool_call(
            "s3",
            "skill_search",
            json!({ "query": "haiku" }),
        ));
        app.llm.push(Reply::text("none"));
        chat(&app, &callers, "any poems?").await;
        let last = app
            .llm
            .requests()
            .last()
            .map(|r| r.body.to_string())
            .unwrap_or_default();
        assert!(last.contains("No skills found matching: haiku"), "{last}");
    }
);

app_test!(
    slash_commands_run_the_skill_or_suggest_one,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        haiku(&app, &callers).await;
        app.llm.push(Reply::text("A haiku about rain."));
        chat(&app, &callers, "/haiku-writer about rain").await;
        let request = app
            .llm
            .requests()
            .last()
            .map(|r| r.body.to_string())
            .unwrap_or_default();
        assert!(
            request.contains("Explicit Skill Activation") && request.contains(MARKER),
            "{request}"
        );
        assert!(
            request.contains("about rain") && !request.contains("/haiku-writer about rain"),
            "{request}"
        );

        app.llm.push(Reply::text("Did you mean haiku-writer?"));
        chat(&app, &callers, "/haiku-writr about snow").await;
        let request = app
            .llm
            .requests()
            .last()
            .map(|r| r.body.to_string())
            .unwrap_or_default();
        assert!(
            request.contains("`haiku-writr` was not found") && request.contains("- `haiku-writer`"),
            "{request}"
        );
        assert!(
            !request.contains(MARKER),
            "an unknown command loads no instructions"
        );
    }
);

app_test!(
    viewers_read_and_tenants_stay_apart,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let id = haiku(&app, &callers).await;
        let vera = callers.bearer("vera");
        let (status, list) = call(&app, &vera, Method::GET, "/v1/skills", None).await;
        assert_eq!(
            (status, slugs(&list)),
            (200, vec!["haiku-writer".to_owned()])
        );
        let (status, _) = call(&app, &vera, Method::GET, &format!("/v1/skills/{id}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(upload(&app, &vera, good_zip()).await.0, 403);
        let update = Some(json!({ "description": "mine now" }));
        assert_eq!(
            call(
                &app,
                &vera,
                Method::PUT,
                &format!("/v1/skills/{id}"),
                update
            )
            .await
            .0,
            403
        );
        let alice = callers.bearer("alice");
        assert_eq!(
            upload(&app, &alice, good_zip()).await.0,
            403,
            "writers are not admins"
        );

        let carol = app
            .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
            .await
            .key;
        let (status, list) = call(&app, &carol, Method::GET, "/v1/skills", None).await;
        assert_eq!((status, slugs(&list)), (200, Vec::<String>::new()));
        for (method, path) in [
            (Method::GET, format!("/v1/skills/{id}")),
            (Method::DELETE, format!("/v1/skills/{id}")),
        ] {
            assert_eq!(call(&app, &carol, method, &path, None).await.0, 404);
        }
        let (status, theirs) = upload(&app, &carol, good_zip()).await;
        assert_eq!(
            (status, &theirs["version"], &theirs["is_new"]),
            (201, &json!(1), &json!(true))
        );
        let (_, list) = call(&app, &vera, Method::GET, "/v1/skills", None).await;
        assert_eq!(slugs(&list), ["haiku-writer"], "one skill each");
        assert_ne!(theirs["id"], json!(id));
    }
);

/// The zip of one corpus case.
fn attack_zip(kind: &str, name: &str) -> Vec<u8> {
    let skill = ("SKILL.md", SKILL_MD.as_bytes(), false);
    match kind {
        "file" => zip_of(&[skill, (name, b"payload", false)], &[]),
        "symlink" => zip_of(&[skill], &[(name, "/etc/passwd")]),
        "bomb" => zip_of(&[skill, (name, &vec![0u8; 6 * 1024 * 1024], false)], &[]),
        "big" => {
            let noise: Vec<u8> = (0..1_300_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            zip_of(&[skill, (name, &noise, true)], &[])
        }
        "nomd" => zip_of(&[(name, b"no skill here", false)], &[]),
        other => panic!("unknown corpus kind {other}"),
    }
}

app_test!(
    every_corpus_attack_is_refused_and_writes_nothing,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let admin = callers.bearer("admin");
        let corpus = include_str!("corpus/skill_upload_attacks.txt");
        let mut cases = 0;
        for line in corpus
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let mut fields = line.split_whitespace();
            let (Some(kind), Some(name)) = (fields.next(), fields.next()) else {
                panic!("bad corpus line {line:?}");
            };
            let expected = fields.collect::<Vec<_>>().join(" ");
            let (status, answer) = upload(&app, &admin, attack_zip(kind, name)).await;
            assert!(status == 400 || status == 413, "{line}: {status} {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(&expected), "{line}: {message:?}");
            cases += 1;
        }
        assert!(cases >= 12, "the corpus was read");
        let (_, list) = call(&app, &admin, Method::GET, "/v1/skills", None).await;
        assert_eq!(slugs(&list), Vec::<String>::new(), "no skill stored");
        let store_dir = app.data_dir.path().join("skills-store");
        let written: Vec<_> = std::fs::read_dir(&store_dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(written.is_empty(), "nothing written: {written:?}");
    }
);

app_test!(
    with_an_embedding_provider_search_embeds_skills_once_and_each_query,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        haiku(&app, &callers).await;
        let admin = callers.bearer("admin");
        let setting = "/v1/system-configs/embedding.provider";
        let (status, _) = call(
            &app,
            &admin,
            Method::PUT,
            setting,
            Some(json!({ "value": "openai" })),
        )
        .await;
        assert_eq!(status, 200);
        let search = |query: &str| Reply::tool_call("s", "skill_search", json!({ "query": query }));
        let before = app.llm.embedding_requests().len();
        app.llm.push(search("haiku seasons"));
        app.llm.push(Reply::text("found"));
        chat(&app, &callers, "find a skill").await;
        let inputs = |from: usize| -> Vec<String> {
            app.llm.embedding_requests()[from..]
                .iter()
                .flat_map(|r| match &r.body["input"] {
                    Value::Array(items) => items.iter().map(Value::to_string).collect(),
                    other => vec![other.to_string()],
                })
                .collect()
        };
        let first = inputs(before);
        assert!(
            first.contains(&json!("Haiku Writer: Writes haiku about the seasons").to_string()),
            "the skill's name and description are embedded: {first:?}"
        );
        assert!(
            first.contains(&json!("haiku seasons").to_string()),
            "{first:?}"
        );
        let requests = app.llm.requests();
        let result = requests[requests.len() - 1].body.to_string();
        assert!(result.contains("haiku-writer"), "{result}");

        // A second search embeds its query only: the skill's vector is kept.
        let again = app.llm.embedding_requests().len();
        app.llm.push(search("autumn poems"));
        app.llm.push(Reply::text("found again"));
        chat(&app, &callers, "find it again").await;
        let second = inputs(again);
        assert!(
            second.contains(&json!("autumn poems").to_string()),
            "{second:?}"
        );
        assert!(
            !second.iter().any(|input| input.contains("Haiku Writer")),
            "the skill is not embedded twice: {second:?}"
        );
    }
);

/// `GET path` as `bearer`: the status, the content type and disposition, the body.
async fn download(app: &TestApp, bearer: &str, path: &str) -> (u16, String, String, Vec<u8>) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("export sent");
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (kind, disposition) = (header("content-type"), header("content-disposition"));
    let body = response.bytes().await.expect("body").to_vec();
    (status, kind, disposition, body)
}

/// `POST /v1/skills/import` of `archive` as `bearer`.
async fn import(app: &TestApp, bearer: &str, archive: &[u8]) -> (u16, Value) {
    post_file(app, bearer, "/v1/skills/import", "skills.tar.gz", archive).await
}

app_test!(
    skills_export_and_import_between_tenants_with_their_grants,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        haiku(&app, &callers).await;
        let admin = callers.bearer("admin");
        let (status, kind, disposition, tar_gz) = download(&app, &admin, "/v1/skills/export").await;
        assert_eq!(status, 200);
        assert_eq!(kind, "application/gzip");
        assert_eq!(
            disposition,
            "attachment; filename=\"goclaw-skill-haiku-writer-v1.tar.gz\""
        );
        assert_eq!(&tar_gz[..2], &[0x1f, 0x8b], "a gzip stream");

        let (status, _, _, zipped) = download(&app, &admin, "/v1/skills/export?format=zip").await;
        assert_eq!(status, 200);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped.clone())).expect("zip");
        let mut names: Vec<String> = (0..archive.len())
            .map(|i| archive.by_index(i).expect("entry").name().to_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "skills/haiku-writer/SKILL.md",
                "skills/haiku-writer/examples/spring.txt",
                "skills/haiku-writer/grants.jsonl",
                "skills/haiku-writer/metadata.json",
            ]
        );
        let mut grants = String::new();
        std::io::Read::read_to_string(
            &mut archive
                .by_name("skills/haiku-writer/grants.jsonl")
                .expect("grants"),
            &mut grants,
        )
        .expect("grants text");
        assert_eq!(grants, "{\"agent_key\":\"default\",\"pinned_version\":1}\n");
        let vera = callers.bearer("vera");
        assert_eq!(download(&app, &vera, "/v1/skills/export").await.0, 403);
        assert_eq!(import(&app, &vera, &tar_gz).await.0, 403);

        // Another tenant imports it: a new skill there (its agents have other keys).
        let carol = app
            .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
            .await
            .key;
        let (status, summary) = import(&app, &carol, &tar_gz).await;
        assert_eq!(
            (status, summary),
            (
                201,
                json!({ "skills_imported": 1, "skills_skipped": 0, "grants_applied": 0 })
            )
        );
        let (_, theirs) = call(&app, &carol, Method::GET, "/v1/skills", None).await;
        assert_eq!(slugs(&theirs), ["haiku-writer"]);
        let base = theirs["skills"][0]["baseDir"].as_str().expect("baseDir");
        assert!(
            std::path::Path::new(base)
                .join("examples/spring.txt")
                .is_file()
        );

        // Importing into the tenant that has it skips the skill and applies the grants.
        let (status, summary) = import(&app, &admin, &zipped).await;
        assert_eq!(
            (status, summary),
            (
                201,
                json!({ "skills_imported": 0, "skills_skipped": 1, "grants_applied": 1 })
            )
        );

        // A hostile archive is refused whole: the good skill beside it is not stored.
        let meta = br#"{"name":"Other","slug":"other","visibility":"internal","version":1}"#;
        let hostile = zip_of(
            &[
                ("skills/other/metadata.json", meta, false),
                ("skills/other/SKILL.md", b"---\nname: Other\n---\nx", false),
                (
                    "skills/evil/../../../etc/cron.d/job",
                    b"* * * * * id",
                    false,
                ),
            ],
            &[],
        );
        let (status, refused) = import(&app, &carol, &hostile).await;
        assert_eq!(status, 400, "{refused}");
        let (_, theirs) = call(&app, &carol, Method::GET, "/v1/skills", None).await;
        assert_eq!(slugs(&theirs), ["haiku-writer"], "nothing else was stored");
    }
);

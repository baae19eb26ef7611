//! GoClaw's `/v1/teams/…` routes over real HTTP on both engines: a team's audit events, newest
//! first a page at a time (the very body `teams.events.list` answers); uploads (hand-built
//! multipart bodies), moves, and downloads of task attachments byte for byte with the
//! attachment's type; names that leave the chat's directory refused with nothing written
//! anywhere; uploads beyond 10 MiB refused with 413; and who reaches them: the tenant's admin,
//! alice (read+write, named by the team) everything, vera (read-only, named) the reads only
//! (403 for changes), bob (read+write, not named) and carol (another tenant's admin) nothing —
//! to them the team does not exist (404).

mod support;
mod teams_kit;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use goclaw_core::{ApiKeyScope, MASTER_TENANT_ID, NewTaskAttachment};
use goclaw_testkit::{StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use support::wire::assert_goclaw_shape;
use teams_kit::{TOKEN, crew, crew_agents, error_code, new_task, on_task, signed_in, text};

const BOUNDARY: &str = "goclaw-team-upload-7c2e91";
const MIB: usize = 1024 * 1024;

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

/// The crew team (named users: alice and vera), the owner's connection that manages it, and
/// every caller's bearer token.
struct Board {
    owner: WsClient,
    callers: Callers,
    carol: String,
    team: String,
}

/// A download as received.
struct Download {
    status: u16,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

async fn board(app: &TestApp) -> Board {
    crew_agents(app).await;
    let callers = Callers::create(app, TOKEN, Admin::AdminKey).await;
    let carol = app
        .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
        .await
        .key;
    let mut owner = signed_in(app, TOKEN, "system").await;
    let team = crew(&mut owner).await;
    Board {
        owner,
        callers,
        carol,
        team,
    }
}

impl Board {
    fn bearer(&self, who: &str) -> String {
        match who {
            "carol" => self.carol.clone(),
            other => self.callers.bearer(other),
        }
    }

    async fn get(&self, app: &TestApp, who: &str, path: &str) -> (u16, Value) {
        support::http::call(app, &self.bearer(who), None, Method::GET, path, None).await
    }

    fn events_path(&self) -> String {
        format!("/v1/teams/{}/events", self.team)
    }

    /// Uploads `file` (its part's file name and bytes) with `fields` and `query` as `who`.
    async fn upload(
        &self,
        app: &TestApp,
        who: &str,
        query: &[(&str, &str)],
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> (u16, Value) {
        let path = format!("/v1/teams/{}/workspace/upload", self.team);
        let response = app
            .client
            .post(app.url(&path))
            .query(query)
            .bearer_auth(self.bearer(who))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(fields, file))
            .send()
            .await
            .expect("upload sent");
        answer(response).await
    }

    /// Moves a file of chat `c1` as `who`.
    async fn move_file(&self, app: &TestApp, who: &str, from: &str, to: &str) -> (u16, Value) {
        let path = format!("/v1/teams/{}/workspace/move", self.team);
        let query = [("chat_id", "c1"), ("from", from), ("to", to)];
        let response = app
            .client
            .put(app.url(&path))
            .query(&query)
            .bearer_auth(self.bearer(who))
            .send()
            .await
            .expect("move sent");
        answer(response).await
    }

    async fn download(&self, app: &TestApp, who: &str, attachment: &str) -> Download {
        let path = format!("/v1/teams/{}/attachments/{attachment}/download", self.team);
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(self.bearer(who))
            .send()
            .await
            .expect("download sent");
        Download {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            bytes: response.bytes().await.expect("body").to_vec(),
        }
    }

    /// The names `teams.workspace.list` shows in chat `c1`.
    async fn listed(&mut self) -> Vec<String> {
        let params = json!({ "team_id": self.team, "chat_id": "c1" });
        let listed = self.owner.call_ok("teams.workspace.list", params).await;
        listed["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| text(&f["name"]))
            .collect()
    }

    /// The team's directory on the host.
    fn dir(&self, app: &TestApp) -> PathBuf {
        app.data_dir.path().join("workspace/teams").join(&self.team)
    }
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A `multipart/form-data` body: the text fields, then the `file` part.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, content)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
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

/// Attaches the file at `path` of chat `chat` to `task`, typed `mime`; the attachment's id.
async fn attach(app: &TestApp, task: &str, chat: &str, path: &str, mime: &str) -> String {
    let attachment = NewTaskAttachment {
        task_id: task.parse().expect("a task id"),
        chat_id: chat.to_owned(),
        path: path.to_owned(),
        file_size: 0,
        mime_type: mime.to_owned(),
        created_by_agent_id: None,
        created_by_sender_id: "tester".to_owned(),
    };
    let attached = app
        .db
        .store()
        .task_trail()
        .attach(MASTER_TENANT_ID, attachment)
        .await
        .expect("attach")
        .expect("a new attachment");
    attached.id.to_string()
}

/// A page of the board's events as vera (a viewer the team names) reads it.
async fn page(board: &Board, app: &TestApp, limit: usize, offset: usize) -> (u16, Value) {
    let path = format!("{}?limit={limit}&offset={offset}", board.events_path());
    board.get(app, "vera", &path).await
}

/// Every file and link under `dir` (links not followed), relative to it.
fn entries(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, into: &mut Vec<String>) {
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in read.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                walk(root, &path, into);
            } else {
                let relative = path.strip_prefix(root).unwrap_or(&path);
                into.push(relative.display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

app_test!(
    events_are_listed_newest_first_a_page_at_a_time,
    app,
    |app: TestApp| async move {
        let mut board = board(&app).await;
        let team = board.team.clone();
        let mut tasks = Vec::new();
        for subject in ["a", "b", "c"] {
            tasks.push(text(
                &new_task(&mut board.owner, &team, subject, &[]).await["id"],
            ));
        }
        let reason = json!({ "reason": "dropped" });
        on_task(
            &mut board.owner,
            "teams.tasks.cancel",
            &team,
            &tasks[0],
            reason,
        )
        .await;

        let (status, all) = board.get(&app, "alice", &board.events_path()).await;
        assert_eq!(status, 200, "{all}");
        assert_goclaw_shape("http_get_v1_teams_id_events", &all);
        let over_ws = board
            .owner
            .call_ok("teams.events.list", json!({ "team_id": team }))
            .await;
        assert_eq!(all, over_ws, "the body of teams.events.list");
        let events = all["events"].as_array().expect("events").clone();
        assert_eq!(all["count"], events.len());
        let seen: Vec<(String, String)> = events
            .iter()
            .map(|e| (text(&e["event_type"]), text(&e["task_id"])))
            .collect();
        assert_eq!(seen[0], ("cancelled".to_owned(), tasks[0].clone()), "{all}");
        let created: Vec<&str> = seen
            .iter()
            .filter(|(kind, _)| kind == "created")
            .map(|(_, task)| task.as_str())
            .collect();
        let newest_first = [tasks[2].as_str(), tasks[1].as_str(), tasks[0].as_str()];
        assert_eq!(created, newest_first);
        let times: Vec<DateTime<Utc>> = events
            .iter()
            .map(|e| text(&e["created_at"]).parse().expect("RFC 3339"))
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

        let (status, first) = page(&board, &app, 2, 0).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["events"], json!(events[..2]));
        assert_eq!(first["count"], 2);
        let (_, rest) = page(&board, &app, 100, 2).await;
        assert_eq!(rest["events"], json!(events[2..]));
        let (_, past) = page(&board, &app, 10, 1000).await;
        assert_eq!(past, json!({ "events": [], "count": 0 }));
        let (_, default) = page(&board, &app, 0, 0).await;
        assert_eq!(default, all, "0 means GoClaw's page of 50");

        for query in [
            "limit=101",
            "limit=-1",
            "limit=x",
            "offset=-1",
            "offset=x",
            "offset=2147483648",
        ] {
            let path = format!("{}?{query}", board.events_path());
            let (status, body) = board.get(&app, "alice", &path).await;
            assert_eq!(
                (status, error_code(&body)),
                (400, "INVALID_REQUEST"),
                "{query}: {body}"
            );
        }
        let (status, body) = board.get(&app, "alice", "/v1/teams/crew/events").await;
        assert_eq!(status, 400, "not a team id: {body}");
    }
);

app_test!(
    uploaded_files_move_and_download_byte_for_byte,
    app,
    |app: TestApp| async move {
        let mut board = board(&app).await;
        let team = board.team.clone();
        let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let raw = Some(("raw.bin", bytes.as_slice()));
        let (status, body) = board.upload(&app, "alice", &[], &[], raw).await;
        assert_eq!(status, 400, "a team keeps one directory per chat: {body}");
        assert!(body.to_string().contains("chat_id"), "{body}");
        let (status, body) = board
            .upload(&app, "alice", &[("chat_id", "c1")], &[], None)
            .await;
        assert_eq!(status, 400, "no file: {body}");

        let (status, uploaded) = board
            .upload(&app, "alice", &[("chat_id", "c1")], &[], raw)
            .await;
        assert_eq!(status, 200, "{uploaded}");
        assert_goclaw_shape("http_post_v1_teams_id_workspace_upload", &uploaded);
        assert_eq!(
            uploaded,
            json!({ "path": "raw.bin", "filename": "raw.bin", "size": 3000,
                "mime_type": "application/octet-stream", "chat_id": "c1" })
        );
        let fields = [("chat_id", "c1"), ("file_name", "docs/plan.md")];
        let plan = Some(("ignored.txt", b"# plan".as_slice()));
        let (status, planned) = board.upload(&app, "alice", &[], &fields, plan).await;
        assert_eq!(status, 200, "{planned}");
        assert_eq!(
            (
                &planned["path"],
                &planned["filename"],
                &planned["mime_type"]
            ),
            (
                &json!("docs/plan.md"),
                &json!("plan.md"),
                &json!("text/markdown")
            )
        );
        assert_eq!(board.listed().await, ["docs", "docs/plan.md", "raw.bin"]);
        let on_disk = board.dir(&app).join("c1/raw.bin");
        assert_eq!(std::fs::read(&on_disk).expect("written"), bytes);

        let (status, moved) = board
            .move_file(&app, "alice", "raw.bin", "archive/raw.bin")
            .await;
        assert_eq!(status, 200, "{moved}");
        assert_goclaw_shape("http_put_v1_teams_id_workspace_move", &moved);
        assert_eq!(moved, json!({ "from": "raw.bin", "to": "archive/raw.bin" }));
        let (status, body) = board.move_file(&app, "alice", "raw.bin", "x.bin").await;
        assert_eq!((status, error_code(&body)), (404, "NOT_FOUND"), "{body}");
        let (status, body) = board
            .move_file(&app, "alice", "docs/plan.md", "archive/raw.bin")
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (409, "ALREADY_EXISTS"),
            "{body}"
        );
        let (status, body) = board.move_file(&app, "alice", "docs/plan.md", "").await;
        assert_eq!(status, 400, "no destination: {body}");
        assert_eq!(
            board.listed().await,
            ["archive", "archive/raw.bin", "docs", "docs/plan.md"]
        );

        let task = text(&new_task(&mut board.owner, &team, "ship", &[]).await["id"]);
        let png = attach(&app, &task, "c1", "archive/raw.bin", "image/png").await;
        let got = board.download(&app, "alice", &png).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.bytes, bytes, "byte for byte");
        assert_eq!(got.headers["content-type"], "image/png");
        assert_eq!(
            got.headers["content-disposition"],
            "attachment; filename=\"raw.bin\""
        );
        assert_eq!(got.headers["x-content-type-options"], "nosniff");

        // A name with quotes, and an attachment without a type.
        let fields = [("chat_id", "c1"), ("file_name", "say \"hi\".txt")];
        let quoted = Some(("q.txt", b"hi".as_slice()));
        let (status, body) = board.upload(&app, "alice", &[], &fields, quoted).await;
        assert_eq!(status, 200, "{body}");
        let untyped = attach(&app, &task, "c1", "say \"hi\".txt", "").await;
        let got = board.download(&app, "alice", &untyped).await;
        assert_eq!((got.status, got.bytes.as_slice()), (200, b"hi".as_slice()));
        assert_eq!(got.headers["content-type"], "application/octet-stream");
        assert_eq!(
            got.headers["content-disposition"],
            "attachment; filename=\"say _hi_.txt\""
        );

        let gone = json!({ "team_id": team, "chat_id": "c1", "file_name": "archive/raw.bin" });
        board.owner.call_ok("teams.workspace.delete", gone).await;
        let got = board.download(&app, "alice", &png).await;
        assert_eq!(got.status, 404, "the file is gone");
        let unknown = uuid::Uuid::now_v7().to_string();
        assert_eq!(board.download(&app, "alice", &unknown).await.status, 404);
        assert_eq!(board.download(&app, "alice", "nope").await.status, 400);
    }
);

app_test!(
    names_that_leave_the_chat_directory_are_refused_and_nothing_is_written,
    app,
    |app: TestApp| async move {
        let board = board(&app).await;
        let seed = Some(("seed.txt", b"seed".as_slice()));
        let c1 = [("chat_id", "c1")];
        let (status, body) = board.upload(&app, "alice", &c1, &[], seed).await;
        assert_eq!(status, 200, "{body}");
        let scope = board.dir(&app).join("c1");
        assert!(scope.join("seed.txt").is_file(), "{}", scope.display());
        // A link planted in the chat's directory leads nowhere either.
        let outside = tempfile::tempdir().expect("dir");
        std::os::unix::fs::symlink(outside.path(), scope.join("out")).expect("link");
        let absolute = outside.path().join("escape.txt").display().to_string();
        let names = [
            "../escape.txt",
            "../../../escape.txt",
            "docs/../../escape.txt",
            absolute.as_str(),
            "..\\escape.txt",
            "docs\\escape.txt",
            "./escape.txt",
            "docs/./escape.txt",
            "..",
            "out/escape.txt",
        ];
        let content = b"escaped".as_slice();
        for name in names {
            let as_query = [("chat_id", "c1"), ("file_name", name)];
            let (status, body) = board
                .upload(&app, "alice", &as_query, &[], Some(("ok.txt", content)))
                .await;
            assert_eq!(
                (status, error_code(&body)),
                (400, "INVALID_REQUEST"),
                "{name}: {body}"
            );
            let (status, body) = board
                .upload(&app, "alice", &c1, &[], Some((name, content)))
                .await;
            assert_eq!(status, 400, "{name} as the part's file name: {body}");
            let (status, body) = board.move_file(&app, "alice", "seed.txt", name).await;
            assert_eq!(status, 400, "moved to {name}: {body}");
            let (status, body) = board.move_file(&app, "alice", name, "moved.txt").await;
            assert_eq!(status, 400, "moved from {name}: {body}");
        }
        // A chat id is one directory, whatever it holds.
        let sneaky = [("chat_id", "../../c2")];
        let (status, body) = board.upload(&app, "alice", &sneaky, &[], seed).await;
        assert_eq!(status, 200, "{body}");

        assert!(entries(outside.path()).is_empty(), "nothing outside");
        assert_eq!(
            entries(&board.dir(&app)),
            ["______c2/seed.txt", "c1/out", "c1/seed.txt"]
        );
        let escaped: Vec<String> = entries(app.data_dir.path())
            .into_iter()
            .filter(|p| p.contains("escape") || p.contains("moved"))
            .collect();
        assert!(escaped.is_empty(), "{escaped:?}");
        assert_eq!(
            std::fs::read(scope.join("seed.txt")).expect("seed"),
            b"seed"
        );
    }
);

app_test!(
    uploads_beyond_ten_mib_are_refused,
    app,
    |app: TestApp| async move {
        let mut board = board(&app).await;
        let c1 = [("chat_id", "c1")];
        let full = vec![b'f'; 10 * MIB];
        let (status, body) = board
            .upload(&app, "alice", &c1, &[], Some(("full.bin", full.as_slice())))
            .await;
        assert_eq!((status, &body["size"]), (200, &json!(10 * MIB)), "{body}");
        let over = vec![b'o'; 10 * MIB + 1];
        let (status, body) = board
            .upload(&app, "alice", &c1, &[], Some(("over.bin", over.as_slice())))
            .await;
        assert_eq!(status, 413, "one byte over: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        // Beyond the body's limit the gateway answers 413 at once and closes the connection,
        // which the client may notice before it reads the answer.
        let way_over = vec![b'w'; 11 * MIB];
        let path = format!("/v1/teams/{}/workspace/upload?chat_id=c1", board.team);
        let sent = app
            .client
            .post(app.url(&path))
            .bearer_auth(board.bearer("alice"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(&[], Some(("way.bin", way_over.as_slice()))))
            .send()
            .await;
        match sent {
            Ok(response) => assert_eq!(response.status().as_u16(), 413),
            Err(error) => assert!(
                error.is_request() || error.is_body(),
                "neither the 413 nor a connection closed mid-body: {error:?}"
            ),
        }
        assert_eq!(board.listed().await, ["full.bin"]);
    }
);

app_test!(
    only_the_teams_users_reach_its_routes,
    app,
    |app: TestApp| async move {
        let mut board = board(&app).await;
        let team = board.team.clone();
        let notes = Some(("notes.md", b"team notes".as_slice()));
        let c1 = [("chat_id", "c1")];
        let (status, body) = board.upload(&app, "alice", &c1, &[], notes).await;
        assert_eq!(status, 200, "{body}");
        let task = text(&new_task(&mut board.owner, &team, "read", &[]).await["id"]);
        let attachment = attach(&app, &task, "c1", "notes.md", "text/markdown").await;

        for who in ["admin", "alice", "vera"] {
            let (status, events) = board.get(&app, who, &board.events_path()).await;
            assert_eq!(status, 200, "{who}: {events}");
            assert!(events["count"].as_u64() >= Some(1), "{who}: {events}");
            let got = board.download(&app, who, &attachment).await;
            assert_eq!(
                (got.status, got.bytes.as_slice()),
                (200, b"team notes".as_slice()),
                "{who}"
            );
        }
        // vera reads, but changes nothing.
        let (status, body) = board.upload(&app, "vera", &c1, &[], notes).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.to_string().contains("permission denied"), "{body}");
        let (status, body) = board.move_file(&app, "vera", "notes.md", "n.md").await;
        assert_eq!(status, 403, "{body}");

        // To bob and carol the team does not exist: the same answer as for no team at all.
        let (_, nothing) = board
            .get(
                &app,
                "bob",
                &format!("/v1/teams/{}/events", uuid::Uuid::now_v7()),
            )
            .await;
        for who in ["bob", "carol"] {
            let (status, body) = board.get(&app, who, &board.events_path()).await;
            assert_eq!((status, &body), (404, &nothing), "{who}");
            let got = board.download(&app, who, &attachment).await;
            assert_eq!(got.status, 404, "{who}");
            let intruder = Some(("intruder.md", b"x".as_slice()));
            let (status, body) = board.upload(&app, who, &c1, &[], intruder).await;
            assert_eq!(
                (status, error_code(&body)),
                (404, "NOT_FOUND"),
                "{who}: {body}"
            );
            let (status, body) = board.move_file(&app, who, "notes.md", "n.md").await;
            assert_eq!(
                (status, error_code(&body)),
                (404, "NOT_FOUND"),
                "{who}: {body}"
            );
        }
        assert_eq!(board.listed().await, ["notes.md"], "nothing changed");
        let (status, _) = board.move_file(&app, "alice", "notes.md", "n.md").await;
        assert_eq!(status, 200);
    }
);

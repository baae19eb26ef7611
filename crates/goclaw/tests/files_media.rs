//! Files and uploads over real HTTP and WebSocket on both engines: a picture uploaded with
//! `/v1/media/upload` and sent with `chat.send` reaches the fake provider as an image part (and
//! a picture inlined in `/v1/chat/completions` does too); uploads of types not taken, pictures
//! that are not what their names say and oversized bodies are refused; a signed `/v1/files`
//! link works without credentials until it expires on the gateway's clock and not after, a
//! tampered or foreign one never; and who reaches what: alice her own uploads, bob and the
//! viewer vera none of hers, the admin all of the tenant's, carol of another tenant nothing.

mod support;

use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Utc};
use goclaw_core::ApiKeyScope;
use goclaw_testkit::{ManualClock, Reply, StoreBackend, TestApp, WsClient, spawn_app_with_clock};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};

const TOKEN: &str = "files-media-gateway-token";
const BOUNDARY: &str = "goclaw-media-upload-5d1f";
/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2031-03-01T12:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

struct World {
    app: TestApp,
    clock: Arc<ManualClock>,
    callers: Callers,
    carol: String,
}

async fn world(backend: StoreBackend) -> Option<World> {
    let clock = Arc::new(ManualClock::new(start()));
    let app = spawn_app_with_clock(
        backend,
        "{ gateway: { rate_limit_rpm: 0 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
        clock.clone(),
    )
    .await?;
    let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
    let carol = app
        .other_tenant("acme", "helper", "carol", &[ApiKeyScope::Admin])
        .await
        .key;
    Some(World {
        app,
        clock,
        callers,
        carol,
    })
}

impl World {
    fn bearer(&self, who: &str) -> String {
        match who {
            "carol" => self.carol.clone(),
            other => self.callers.bearer(other),
        }
    }

    /// Uploads `bytes` named `name` as `who`.
    async fn upload(&self, who: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let response = self
            .app
            .client
            .post(self.app.url("/v1/media/upload"))
            .bearer_auth(self.bearer(who))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload sent");
        answer(response).await
    }

    async fn call(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        support::http::call(&self.app, &self.bearer(who), None, method, path, body).await
    }

    /// `GET url` with `who`'s bearer, or none: the status and the bytes.
    async fn fetch(&self, who: Option<&str>, url: &str) -> (u16, Vec<u8>) {
        let mut request = self.app.client.get(self.app.url(url));
        if let Some(who) = who {
            request = request.bearer_auth(self.bearer(who));
        }
        let response = request.send().await.expect("sent");
        let status = response.status().as_u16();
        (status, response.bytes().await.expect("body").to_vec())
    }

    async fn ws(&self, who: &str) -> WsClient {
        let mut ws = WsClient::open(&self.app.ws_url()).await;
        ws.call_ok("connect", json!({ "token": self.bearer(who) }))
            .await;
        ws
    }
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Runs `body` on SQLite and PostgreSQL.
macro_rules! world_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let world = world(StoreBackend::Sqlite).await.expect("SQLite");
                ($body)(world).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(world) = world(StoreBackend::Postgres).await else {
                    return;
                };
                ($body)(world).await;
            }
        }
    };
}

world_test!(
    an_uploaded_picture_reaches_the_model_as_an_image,
    |w: World| async move {
        let (status, uploaded) = w.upload("alice", "cat.png", PNG).await;
        assert_eq!(status, 200, "{uploaded}");
        assert_eq!(uploaded["mime_type"], "image/png");
        assert_eq!(uploaded["filename"], "cat.png");
        let path = uploaded["path"].as_str().expect("path").to_owned();

        // bob may not send alice's upload.
        let mut bob = w.ws("bob").await;
        let refused = bob
            .call(
                "chat.send",
                json!({ "message": "mine now", "media": [{ "path": path }] }),
            )
            .await;
        assert_eq!(refused["error"]["code"], "INVALID_REQUEST", "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("not yours")
        );
        let outside = bob
            .call(
                "chat.send",
                json!({ "message": "x", "media": ["/etc/passwd"] }),
            )
            .await;
        assert_eq!(outside["error"]["code"], "INVALID_REQUEST", "{outside}");
        assert!(
            w.app.llm.requests().is_empty(),
            "no run started for a refused message"
        );

        w.app.llm.push(Reply::text("A cat."));
        let mut alice = w.ws("alice").await;
        let answer = alice
        .call_ok(
            "chat.send",
            json!({ "message": "what is this?", "media": [{ "path": path, "filename": "cat.png" }] }),
        )
        .await;
        assert_eq!(answer["content"], "A cat.");
        let request = w.app.llm.requests().pop().expect("one LLM call");
        // The default agent's provider is `anthropic`: an image block with the bytes inline
        // (the OpenAI wire's `image_url` part is pinned by the provider's own tests).
        assert_eq!(request.path, "/v1/messages");
        let data = base64::engine::general_purpose::STANDARD.encode(PNG);
        let messages = request.body["messages"].to_string();
        let image = json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}});
        assert!(messages.contains(&image.to_string()), "{messages}");
        assert!(messages.contains("what is this?"), "{messages}");
        assert!(
            messages.contains("(image/png, 70 bytes)"),
            "the file's line: {messages}"
        );

        // The stored message keeps GoClaw's media_refs.
        let key = answer["sessionKey"].as_str().expect("session key");
        let history = alice
            .call_ok("chat.history", json!({ "sessionKey": key }))
            .await;
        let refs = history["messages"][0]["media_refs"].clone();
        assert_eq!(refs[0]["kind"], "image", "{history}");
        assert_eq!(refs[0]["mime_type"], "image/png");
    }
);

world_test!(
    a_picture_inlined_in_chat_completions_reaches_the_model,
    |w: World| async move {
        let data = base64::engine::general_purpose::STANDARD.encode(PNG);
        w.app.llm.push(Reply::text("A dot."));
        let body = json!({
            "model": "goclaw:default",
            "messages": [{ "role": "user", "content": [
                { "type": "text", "text": "describe" },
                { "type": "image_url", "image_url": { "url": format!("data:image/png;base64,{data}") } }
            ]}]
        });
        let (status, answer) = w
            .call("alice", Method::POST, "/v1/chat/completions", Some(body))
            .await;
        assert_eq!(status, 200, "{answer}");
        let request = w.app.llm.requests().pop().expect("one LLM call");
        assert!(
            request.body["messages"].to_string().contains(&data),
            "{}",
            request.body
        );

        let remote = json!({
            "messages": [{ "role": "user", "content": [
                { "type": "image_url", "image_url": { "url": "http://169.254.169.254/latest" } }
            ]}]
        });
        let (status, error) = w
            .call("alice", Method::POST, "/v1/chat/completions", Some(remote))
            .await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(
            w.app.llm.requests().len(),
            1,
            "a remote image is never fetched"
        );
    }
);

world_test!(
    uploads_of_types_not_taken_are_refused,
    |w: World| async move {
        for (name, bytes, status) in [
            ("notes.txt", &b"plain text"[..], 200),
            ("report.pdf", &b"%PDF-1.7"[..], 200),
            ("drawing.svg", &b"<svg onload=alert(1)/>"[..], 415),
            ("fake.png", &b"<html>not a picture</html>"[..], 415),
            ("cat.jpg", PNG, 415),
            ("tool.exe", &b"MZ\x90\x00"[..], 415),
            ("..", &b"x"[..], 400),
        ] {
            let (got, body) = w.upload("alice", name, bytes).await;
            assert_eq!(got, status, "{name}: {body}");
        }
        let (status, body) = w.upload("vera", "notes.txt", b"x").await;
        assert_eq!(status, 403, "a viewer uploads nothing: {body}");
        // One byte over the limit inside a well-formed body: the part is read and refused.
        let over = vec![b'o'; 50 * 1024 * 1024 + 1];
        let (status, body) = w.upload("alice", "big.txt", &over).await;
        assert_eq!(status, 413, "one byte over: {body}");
        // A body declared beyond the limit is answered 413 before it is read, and the connection
        // closed: the client sees the 413 or, still writing, the closed connection.
        let way_over = w
            .app
            .client
            .post(w.app.url("/v1/media/upload"))
            .bearer_auth(w.bearer("alice"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(vec![b'a'; 51 * 1024 * 1024])
            .send()
            .await;
        match way_over {
            Ok(response) => assert_eq!(response.status().as_u16(), 413),
            Err(error) => assert!(
                error.is_request() || error.is_body(),
                "neither the 413 nor a connection closed mid-body: {error:?}"
            ),
        }
        let uploads = w.app.data_dir.path().join("media");
        let kept = walk_files(&uploads);
        assert_eq!(
            kept.len(),
            2,
            "only the two taken uploads were written: {kept:?}"
        );
    }
);

world_test!(signed_links_work_until_they_expire, |w: World| async move {
    let (_, uploaded) = w.upload("alice", "cat.png", PNG).await;
    let path = uploaded["path"].as_str().expect("path").to_owned();
    let id = uploaded["id"].as_str().expect("id").to_owned();
    let file_url = format!("/v1/files/{}", path.trim_start_matches('/'));

    // Own right: alice and the admin, nobody else.
    assert_eq!(w.fetch(Some("alice"), &file_url).await, (200, PNG.to_vec()));
    assert_eq!(w.fetch(Some("admin"), &file_url).await.0, 200);
    assert_eq!(w.fetch(Some("bob"), &file_url).await.0, 403);
    assert_eq!(w.fetch(Some("vera"), &file_url).await.0, 403);
    assert_eq!(w.fetch(Some("carol"), &file_url).await.0, 403);
    assert_eq!(
        w.fetch(None, &file_url).await.0,
        401,
        "unsigned and anonymous"
    );
    let media_url = format!("/v1/media/{id}");
    assert_eq!(
        w.fetch(Some("alice"), &media_url).await,
        (200, PNG.to_vec())
    );
    assert_eq!(w.fetch(Some("admin"), &media_url).await.0, 200);
    assert_eq!(w.fetch(Some("bob"), &media_url).await.0, 404);
    assert_eq!(w.fetch(Some("carol"), &media_url).await.0, 404);

    // Signing needs the same right.
    let sign = |p: &str| Some(json!({ "path": p }));
    let (status, _) = w
        .call("bob", Method::POST, "/v1/files/sign", sign(&path))
        .await;
    assert_eq!(status, 403);
    let (status, _) = w
        .call("alice", Method::POST, "/v1/files/sign", sign("/etc/passwd"))
        .await;
    assert_eq!(status, 404);
    let (status, signed) = w
        .call("alice", Method::POST, "/v1/files/sign", sign(&path))
        .await;
    assert_eq!(status, 200, "{signed}");
    let url = signed["url"].as_str().expect("url").to_owned();
    assert!(
        url.starts_with("/v1/files/") && url.contains("?ft="),
        "{url}"
    );

    assert_eq!(
        w.fetch(None, &url).await,
        (200, PNG.to_vec()),
        "a link needs no credentials"
    );
    let (link_path, token) = url.split_once("?ft=").expect("token");
    let tampered = format!("{link_path}?ft=A{}", &token[1..]);
    assert_eq!(w.fetch(None, &tampered).await.0, 403);
    let (sig, expiry) = token.split_once('.').expect("sig.expiry");
    let later: i64 = expiry.parse::<i64>().expect("expiry") + 86_400;
    assert_eq!(
        w.fetch(None, &format!("{link_path}?ft={sig}.{later}"))
            .await
            .0,
        403
    );
    let elsewhere = format!("/v1/files/etc/passwd?ft={token}");
    assert_eq!(
        w.fetch(None, &elsewhere).await.0,
        403,
        "a token opens its own path only"
    );

    w.clock.advance(chrono::Duration::minutes(59));
    assert_eq!(
        w.fetch(None, &url).await.0,
        200,
        "still valid within the hour"
    );
    w.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(w.fetch(None, &url).await.0, 403, "expired after the hour");
});

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk_files(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

world_test!(
    send_file_delivers_a_workspace_file_as_a_signed_link,
    |w: World| async move {
        w.app.llm.push(Reply::tool_call(
            "c1",
            "write_file",
            json!({ "path": "report.txt", "content": "Q3 revenue grew" }),
        ));
        w.app.llm.push(Reply::tool_call(
            "c2",
            "send_file",
            json!({ "path": "report.txt", "caption": "The Q3 report" }),
        ));
        w.app.llm.push(Reply::text("Here it is."));
        let mut owner = WsClient::open(&w.app.ws_url()).await;
        owner
            .call_ok("connect", json!({ "token": TOKEN, "user_id": "ops" }))
            .await;
        let answer = owner
            .call_ok("chat.send", json!({ "message": "send me the report" }))
            .await;
        assert_eq!(answer["content"], "Here it is.", "{answer}");
        let media = answer["media"].as_array().cloned().unwrap_or_default();
        assert_eq!(media.len(), 1, "{answer}");
        assert_eq!(media[0]["content_type"], "text/plain");
        assert_eq!(media[0]["size"], 15);
        let url = media[0]["path"].as_str().expect("link");
        assert!(
            url.starts_with("/v1/files/") && url.contains("report.txt?ft="),
            "{url}"
        );
        assert_eq!(w.fetch(None, url).await, (200, b"Q3 revenue grew".to_vec()));
        let tool_result = w.app.llm.requests()[2].body["messages"].to_string();
        assert!(
            tool_result.contains("caption for your answer: The Q3 report"),
            "{tool_result}"
        );
    }
);

world_test!(
    read_image_asks_the_agents_model_about_a_workspace_picture,
    |w: World| async move {
        let media = w.app.data_dir.path().join("workspace/default/alice/media");
        std::fs::create_dir_all(&media).expect("media dir");
        std::fs::write(media.join("pic.png"), PNG).expect("picture");
        w.app.llm.push(Reply::tool_call(
            "c1",
            "read_image",
            json!({ "path": "media/pic.png", "prompt": "What colour is it?" }),
        ));
        w.app.llm.push(Reply::text("It is a single red dot."));
        w.app.llm.push(Reply::text("The picture is a red dot."));
        let mut alice = w.ws("alice").await;
        let answer = alice
            .call_ok("chat.send", json!({ "message": "look at media/pic.png" }))
            .await;
        assert_eq!(answer["content"], "The picture is a red dot.");
        let requests = w.app.llm.requests();
        let look = requests[1].body["messages"].to_string();
        let data = base64::engine::general_purpose::STANDARD.encode(PNG);
        assert!(
            look.contains("What colour is it?") && look.contains(&data),
            "{look}"
        );
        assert!(
            requests[1].body["tools"]
                .as_array()
                .is_none_or(|t| t.is_empty())
        );
        let after = requests[2].body["messages"].to_string();
        assert!(after.contains("It is a single red dot."), "{after}");

        // bob's run cannot reach alice's directory.
        w.app.llm.push(Reply::tool_call(
            "c2",
            "read_image",
            json!({ "path": "../alice/media/pic.png" }),
        ));
        w.app.llm.push(Reply::text("I cannot."));
        let mut bob = w.ws("bob").await;
        bob.call_ok("chat.send", json!({ "message": "look at alice's picture" }))
            .await;
        let requests = w.app.llm.requests();
        assert_eq!(
            requests.len(),
            5,
            "no model call looked at the picture for bob"
        );
        let refused = requests[4].body["messages"].to_string();
        assert!(refused.contains("access denied"), "{refused}");
    }
);

//! Webhook calls answered again, later or elsewhere, on both backends: a repeated
//! `Idempotency-Key` gets the first answer (another body under it is 409); an async `llm` call is
//! answered 202 and its answer POSTed to the callback URL, signed with the webhook's secret
//! and retried with the same delivery id and the same answer (the agent runs once) when the
//! receiver asks to wait; a callback to a private address is refused unless the operator
//! allowed it; a `message` webhook posts to a Telegram chat once per idempotency key, and
//! posts the file its `media_url` names (within 25 MiB, never HTML or script); a flood
//! from 10,000 addresses leaves at most 4,096 of them tracked by the per-source window; and
//! without an encryption key there are no webhook routes. An `llm` call's `system` entries
//! instruct the run (they are not part of the message) and its `model` picks the model.

mod webhooks;

use std::time::Duration;

use goclaw_testkit::{
    FakeTelegram, Reply, StoreBackend, TestApp, app_test, spawn_app_with, spawn_app_with_config,
};
use reqwest::Method;
use serde_json::{Value, json};
use webhooks::{
    ENCRYPTION_KEY, Receiver, TOKEN, admin, call, client_from, llm_call, llm_webhook, raw_call,
    register, sign, tracked_sources,
};

async fn allowing_private_callbacks(backend: StoreBackend) -> Option<TestApp> {
    webhooks::app(backend, true).await
}

async fn default_policy(backend: StoreBackend) -> Option<TestApp> {
    webhooks::app(backend, false).await
}

/// Waits until the call is `status` (at most 30 s); returns it.
async fn call_until(app: &TestApp, webhook: &str, call_id: &str, status: &str) -> Value {
    let path = format!("/v1/webhooks/{webhook}/calls/{call_id}");
    for _ in 0..600 {
        let (_, call) = admin(app, Method::GET, &path, TOKEN, None).await;
        if call["status"] == status {
            return call;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("call {call_id} never became {status}");
}

app_test!(
    system_entries_instruct_the_run_and_model_picks_the_model,
    default_policy,
    |app: TestApp| async move {
        let (_, secret) = llm_webhook(&app, json!({})).await;
        app.llm.set_default(Reply::text("Bonjour."));
        let client = client_from(4, 2);
        let auth = [("authorization", format!("Bearer {secret}"))];
        let body = json!({
            "input": [
                { "role": "system", "content": "Answer in French." },
                { "role": "user", "content": "Say hello." }
            ],
            "model": "special-model-7"
        });
        let answered = call(
            &app,
            &client,
            "/v1/webhooks/llm",
            &auth,
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(answered.status, 200, "{}", answered.body);
        assert_eq!(answered.body["output"], "Bonjour.");
        let requests = app.llm.requests();
        let sent = &requests.last().expect("the run called the model").body;
        assert_eq!(sent["model"], "special-model-7", "{sent}");
        let system = sent["system"].to_string();
        assert!(system.contains("Answer in French."), "{system}");
        let messages = sent["messages"].to_string();
        assert!(messages.contains("Say hello."), "{messages}");
        assert!(
            !messages.contains("Answer in French."),
            "system entries are instructions, not the message: {messages}"
        );

        // A model name with spaces or over 200 bytes is refused before anything runs.
        for model in ["two words".to_owned(), "m".repeat(201)] {
            let body = json!({ "input": "hi", "model": model });
            let refused = call(
                &app,
                &client,
                "/v1/webhooks/llm",
                &auth,
                body.to_string().into_bytes(),
            )
            .await;
            assert_eq!(refused.status, 400, "{}", refused.body);
        }
        assert_eq!(app.llm.requests().len(), requests.len(), "nothing else ran");
    }
);

app_test!(
    idempotency_keys_replay_and_conflict,
    default_policy,
    |app: TestApp| async move {
        let (_, secret) = llm_webhook(&app, json!({})).await;
        app.llm.set_default(Reply::text("once"));
        let client = client_from(4, 1);
        let body = json!({ "input": "do it once" }).to_string().into_bytes();
        let headers = |key: &str| {
            vec![
                ("authorization", format!("Bearer {secret}")),
                ("idempotency-key", key.to_owned()),
            ]
        };
        let first = call(
            &app,
            &client,
            "/v1/webhooks/llm",
            &headers("job-42"),
            body.clone(),
        )
        .await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert!(first.headers.get("x-idempotency-replayed").is_none());
        let again = call(
            &app,
            &client,
            "/v1/webhooks/llm",
            &headers("job-42"),
            body.clone(),
        )
        .await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(
            again
                .headers
                .get("x-idempotency-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );
        assert_eq!(again.body, first.body, "the first answer, whole");
        let conflict = call(
            &app,
            &client,
            "/v1/webhooks/llm",
            &headers("job-42"),
            br#"{"input":"something else"}"#.to_vec(),
        )
        .await;
        assert_eq!(
            (conflict.status, conflict.body),
            (
                409,
                json!({ "error": "idempotency key conflict: request body mismatch" })
            )
        );
        let other_key = call(
            &app,
            &client,
            "/v1/webhooks/llm",
            &headers("job-43"),
            body.clone(),
        )
        .await;
        assert_eq!(other_key.status, 200);
        assert_ne!(other_key.body["call_id"], first.body["call_id"]);
        assert_eq!(app.llm.requests().len(), 2, "one run per key");
        let too_long = call(
            &app,
            &client,
            "/v1/webhooks/llm",
            &headers(&"k".repeat(256)),
            body,
        )
        .await;
        assert_eq!(too_long.status, 400);
    }
);

app_test!(
    async_calls_are_delivered_signed_and_retried_with_the_same_answer,
    allowing_private_callbacks,
    |app: TestApp| async move {
        let receiver = Receiver::start(vec![429]).await;
        let (id, secret) = llm_webhook(&app, json!({})).await;
        app.llm.set_default(Reply::text("later answer").usage(4, 2));
        let accepted = llm_call(
            &app,
            &client_from(20, 1),
            &secret,
            json!({ "input": "work on it", "callback_url": receiver.url(), "metadata": { "ticket": 7 } }),
        )
        .await;
        assert_eq!(accepted.status, 202, "{}", accepted.body);
        assert_eq!(accepted.body["status"], "queued");
        let call_id = accepted.body["call_id"]
            .as_str()
            .expect("call id")
            .to_owned();

        let got = receiver.wait_for(2).await;
        let detail = call_until(&app, &id, &call_id, "done").await;
        assert_eq!(detail["attempts"], 2, "{detail}");
        assert_eq!(detail["mode"], "async");
        let delivery = detail["delivery_id"].as_str().expect("delivery id");
        for callback in &got {
            let header = |name: &str| {
                callback
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            assert_eq!(header("x-webhook-delivery-id"), delivery);
            assert_eq!(header("user-agent"), "goclaw-webhook/1");
            assert_eq!(header("content-type"), "application/json");
            let signature = header("x-webhook-signature");
            let t: i64 = signature
                .split(',')
                .find_map(|p| p.strip_prefix("t="))
                .and_then(|t| t.parse().ok())
                .expect("a signature time");
            assert_eq!(
                signature,
                sign(&secret, t, &callback.body),
                "signed with the webhook's secret"
            );
        }
        assert_eq!(got[0].body, got[1].body, "a retry sends the same answer");
        let body: Value = serde_json::from_slice(&got[1].body).expect("JSON");
        assert_eq!(body["call_id"], call_id.as_str());
        assert_eq!(body["delivery_id"], delivery);
        assert_eq!(body["status"], "done");
        assert_eq!(body["output"], "later answer");
        assert_eq!(
            body["usage"],
            json!({ "prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6 })
        );
        assert_eq!(body["metadata"], json!({ "ticket": 7 }));
        assert_eq!(
            app.llm.requests().len(),
            1,
            "the agent ran once for two deliveries"
        );

        // A repeat of an async call's idempotency key after delivery replays the callback body.
        let headers = vec![
            ("authorization", format!("Bearer {secret}")),
            ("idempotency-key", "async-1".to_owned()),
        ];
        let request = json!({ "input": "again", "callback_url": receiver.url() })
            .to_string()
            .into_bytes();
        let first = call(
            &app,
            &client_from(20, 2),
            "/v1/webhooks/llm",
            &headers,
            request.clone(),
        )
        .await;
        assert_eq!(first.status, 202, "{}", first.body);
        let repeat_id = first.body["call_id"].as_str().expect("call id").to_owned();
        receiver.wait_for(3).await;
        call_until(&app, &id, &repeat_id, "done").await;
        let replay = call(
            &app,
            &client_from(20, 2),
            "/v1/webhooks/llm",
            &headers,
            request,
        )
        .await;
        assert_eq!(replay.status, 200, "{}", replay.body);
        assert_eq!(replay.body["call_id"], repeat_id.as_str());
        assert_eq!(replay.body["status"], "done");
        assert_eq!(receiver.got().len(), 3, "the replay delivered nothing new");
    }
);

app_test!(
    a_receiver_refusing_for_good_fails_the_call,
    allowing_private_callbacks,
    |app: TestApp| async move {
        let receiver = Receiver::start(vec![410]).await;
        let (id, secret) = llm_webhook(&app, json!({})).await;
        app.llm.set_default(Reply::text("unwanted"));
        let accepted = llm_call(
            &app,
            &client_from(21, 1),
            &secret,
            json!({ "input": "x", "mode": "async", "callback_url": receiver.url() }),
        )
        .await;
        assert_eq!(accepted.status, 202, "{}", accepted.body);
        let call_id = accepted.body["call_id"].as_str().expect("call id");
        let failed = call_until(&app, &id, call_id, "failed").await;
        assert_eq!(failed["last_error"], "http 410 (permanent)");
        assert_eq!(failed["attempts"], 1);
        assert_eq!(receiver.got().len(), 1);
    }
);

app_test!(
    callbacks_to_private_addresses_are_refused_by_default,
    default_policy,
    |app: TestApp| async move {
        let (_, secret) = llm_webhook(&app, json!({})).await;
        for url in [
            "http://127.0.0.1:9/cb",
            "http://169.254.169.254/latest/meta-data",
            "http://10.1.2.3/cb",
            "file:///etc/passwd",
        ] {
            let refused = llm_call(
                &app,
                &client_from(22, 1),
                &secret,
                json!({ "input": "x", "callback_url": url }),
            )
            .await;
            assert_eq!(refused.status, 400, "{url}: {}", refused.body);
            assert_eq!(
                refused.body,
                json!({ "error": "callback URL is invalid or blocked" })
            );
        }
        assert!(app.llm.requests().is_empty(), "nothing ran");
    }
);

const BOT_TOKEN: &str = "123456:webhook-telegram-token-77ab";

async fn with_telegram(backend: StoreBackend) -> Option<(TestApp, FakeTelegram)> {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1 }} }} }}",
        telegram.api_server()
    );
    let app = spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN),
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ],
    )
    .await?;
    Some((app, telegram))
}

async fn message_webhooks_post_once(backend: StoreBackend) {
    let Some((app, telegram)) = with_telegram(backend).await else {
        return;
    };
    let created = register(&app, TOKEN, json!({ "name": "notify", "kind": "message" })).await;
    let secret = created["secret"].as_str().expect("secret");
    let headers = vec![
        ("authorization", format!("Bearer {secret}")),
        ("idempotency-key", "deploy-9".to_owned()),
    ];
    let body =
        json!({ "channel_name": "telegram", "chat_id": "4242", "content": "Deploy **done**" })
            .to_string()
            .into_bytes();
    let client = client_from(23, 1);
    // The channel may still be starting: it answers 404 until its bot is identified.
    let mut sent = None;
    for _ in 0..100 {
        let answer = call(
            &app,
            &client_from(23, 2),
            "/v1/webhooks/message",
            &[("authorization", format!("Bearer {secret}"))],
            b"{\"channel_name\":\"telegram\",\"chat_id\":\"1\",\"content\":\"warm-up\"}".to_vec(),
        )
        .await;
        if answer.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..2 {
        let answer = call(
            &app,
            &client,
            "/v1/webhooks/message",
            &headers,
            body.clone(),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["status"], "sent");
        assert_eq!(answer.body["channel_name"], "telegram");
        assert_eq!(answer.body["chat_id"], "4242");
        if let Some(first) = &sent {
            assert_eq!(&answer.body, first, "the repeat gets the first answer");
            assert_eq!(
                answer
                    .headers
                    .get("x-idempotency-replayed")
                    .and_then(|v| v.to_str().ok()),
                Some("true")
            );
        }
        sent = Some(answer.body);
    }
    let delivered = telegram.sent_to(4242);
    assert_eq!(delivered.len(), 1, "posted once: {delivered:?}");
    assert_eq!(delivered[0].text, "Deploy <b>done</b>");

    for (request, status, error) in [
        (
            json!({ "channel_name": "discord", "chat_id": "1", "content": "x" }),
            404,
            "webhook channel not found",
        ),
        (
            json!({ "chat_id": "1", "content": "x" }),
            400,
            "channel_name is required",
        ),
        (
            json!({ "channel_name": "telegram", "content": "x" }),
            400,
            "chat_id is required",
        ),
        (
            json!({ "channel_name": "telegram", "chat_id": "1" }),
            400,
            "content is required",
        ),
        (
            json!({ "channel_name": "telegram", "chat_id": "1", "content": "x", "media_url": "https://127.0.0.1/a.png" }),
            400,
            "invalid request: media_url is invalid or blocked: blocked address (loopback)",
        ),
        (
            json!({ "channel_name": "telegram", "chat_id": "1", "content": "x", "media_url": "http://93.184.216.34/a.png" }),
            400,
            "invalid request: media_url must be an https URL",
        ),
    ] {
        let answer = call(
            &app,
            &client_from(23, 3),
            "/v1/webhooks/message",
            &[("authorization", format!("Bearer {secret}"))],
            request.to_string().into_bytes(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.body.clone()),
            (status, json!({ "error": error })),
            "{request}"
        );
    }
}

/// A loopback file server: `/report.pdf`, `/photo.png`, `/page.html`, `/huge.bin` (over
/// 25 MiB, announced) and nothing else.
async fn file_server() -> String {
    use axum::http::header;
    use axum::response::IntoResponse;
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/report.pdf",
            get(|| async { ([(header::CONTENT_TYPE, "application/pdf")], REPORT.to_vec()) }),
        )
        .route(
            "/photo.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], PHOTO.to_vec()) }),
        )
        .route(
            "/page.html",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<script>x</script>",
                )
            }),
        )
        .route(
            "/huge.bin",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                    vec![0u8; 26 * 1024 * 1024],
                )
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

const REPORT: &[u8] = b"%PDF-1.4 quarterly numbers";
const PHOTO: &[u8] = b"\x89PNG\r\n\x1a\n a picture";

async fn message_webhooks_post_files(backend: StoreBackend) {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ gateway: {{ webhook_private_callbacks: true }}, \
         channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1 }} }} }}",
        telegram.api_server()
    );
    let Some(app) = spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN),
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ],
    )
    .await
    else {
        return;
    };
    let files = file_server().await;
    let created = register(&app, TOKEN, json!({ "name": "files", "kind": "message" })).await;
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let post = |body: Value| {
        let (app, secret) = (&app, secret.clone());
        async move {
            call(
                app,
                &client_from(24, 1),
                "/v1/webhooks/message",
                &[("authorization", format!("Bearer {secret}"))],
                body.to_string().into_bytes(),
            )
            .await
        }
    };
    // The channel may still be starting: it answers 404 until its bot is identified.
    for _ in 0..100 {
        let warm =
            post(json!({ "channel_name": "telegram", "chat_id": "1", "content": "warm-up" })).await;
        if warm.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let sent = post(json!({
        "channel_name": "telegram", "chat_id": "88", "content": "The report",
        "media_url": format!("{files}/report.pdf"), "media_caption": "Q3 **numbers**"
    }))
    .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["status"], "sent");
    assert_eq!(telegram.sent_to(88).len(), 1, "the text, then the file");
    assert_eq!(telegram.sent_to(88)[0].text, "The report");
    let uploaded: Vec<_> = telegram
        .sent_files()
        .into_iter()
        .filter(|f| f.chat_id == "88")
        .collect();
    assert_eq!(uploaded.len(), 1, "{uploaded:?}");
    assert_eq!(uploaded[0].method, "sendDocument");
    assert_eq!(uploaded[0].file_name, "report.pdf");
    assert_eq!(uploaded[0].bytes, REPORT);
    assert_eq!(uploaded[0].caption.as_deref(), Some("Q3 <b>numbers</b>"));

    // A file alone: content may be left out; a picture goes as a photo.
    let photo = post(json!({
        "channel_name": "telegram", "chat_id": "89", "media_url": format!("{files}/photo.png")
    }))
    .await;
    assert_eq!(photo.status, 200, "{}", photo.body);
    assert!(telegram.sent_to(89).is_empty(), "no empty text message");
    let photos: Vec<_> = telegram
        .sent_files()
        .into_iter()
        .filter(|f| f.chat_id == "89")
        .collect();
    assert_eq!(photos.len(), 1);
    assert_eq!(
        (photos[0].method.as_str(), photos[0].bytes.as_slice()),
        ("sendPhoto", PHOTO)
    );

    // Refused before anything is posted or recorded.
    for (path, status, error) in [
        (
            "page.html",
            415,
            "invalid request: media type text/html is not allowed",
        ),
        (
            "huge.bin",
            413,
            "invalid request: media_url exceeds the 25 MB size limit",
        ),
        (
            "missing.png",
            400,
            "invalid request: media_url answered HTTP 404",
        ),
    ] {
        let refused = post(json!({
            "channel_name": "telegram", "chat_id": "90", "content": "x",
            "media_url": format!("{files}/{path}")
        }))
        .await;
        assert_eq!(
            (refused.status, refused.body),
            (status, json!({ "error": error })),
            "{path}"
        );
    }
    assert!(telegram.sent_to(90).is_empty());
    // Sent files are not kept.
    let kept = std::fs::read_dir(app.data_dir.path().join("webhook-media"))
        .map(|entries| entries.count())
        .unwrap_or_default();
    assert_eq!(kept, 0, "files of settled posts are removed");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_webhooks_post_files_sqlite() {
    message_webhooks_post_files(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_webhooks_post_files_postgres() {
    message_webhooks_post_files(StoreBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_webhooks_post_once_sqlite() {
    message_webhooks_post_once(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_webhooks_post_once_postgres() {
    message_webhooks_post_once(StoreBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_ten_thousand_sources_stays_within_4096_tracked() {
    let app = default_policy(StoreBackend::Sqlite)
        .await
        .expect("SQLite is always available");
    let sources: Vec<std::net::Ipv4Addr> = (0..10_000u32)
        .map(|i| {
            std::net::Ipv4Addr::new(
                127,
                1 + (i / 250 / 250) as u8,
                1 + (i / 250 % 250) as u8,
                1 + (i % 250) as u8,
            )
        })
        .collect();
    let mut workers = tokio::task::JoinSet::new();
    for chunk in sources.chunks(625) {
        let chunk = chunk.to_vec();
        let gateway = app.addr;
        workers.spawn(async move {
            let mut statuses = Vec::with_capacity(chunk.len());
            for source in chunk {
                statuses.push(raw_call(gateway, source).await);
            }
            statuses
        });
    }
    let mut answered = 0;
    while let Some(statuses) = workers.join_next().await {
        let statuses = statuses.expect("a flood worker");
        assert!(
            statuses.iter().all(|s| *s == 401),
            "every first call is let through to authentication"
        );
        answered += statuses.len();
    }
    assert_eq!(answered, 10_000);
    assert_eq!(
        tracked_sources(&app).await,
        4096.0,
        "the window table is full but not over"
    );
    // The newest source is still counted: its 31st call is refused.
    let last = sources[sources.len() - 1];
    for _ in 0..29 {
        assert_eq!(raw_call(app.addr, last).await, 401);
    }
    assert_eq!(raw_call(app.addr, last).await, 429);
    assert_eq!(tracked_sources(&app).await, 4096.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_encryption_key_there_are_no_webhook_routes() {
    let app = spawn_app_with(StoreBackend::Sqlite, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)])
        .await
        .expect("SQLite");
    let (status, _) = admin(&app, Method::GET, "/v1/webhooks", TOKEN, None).await;
    assert_eq!(status, 404);
    let answer = llm_call(
        &app,
        &client_from(10, 1),
        "wh_anything",
        json!({ "input": "x" }),
    )
    .await;
    assert_eq!(answer.status, 404);
}

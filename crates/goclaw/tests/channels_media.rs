//! Files through Telegram, Discord and Slack end to end, on both backends, against the loopback
//! platforms: a paired user's photo or file reaches the agent as a file in its workspace (the
//! same bytes) and a line in its prompt; a file over the channel's `media_max_bytes` is never
//! downloaded and the agent is told it was not received; and an answer naming
//! `MEDIA:report.txt` delivers exactly that file once, its line taken out of the text.

use std::path::{Path, PathBuf};
use std::time::Duration;

use goclaw_core::{MASTER_TENANT_ID, NewPairingRequest, PairingAsked};
use goclaw_testkit::{
    FakeDiscord, FakeSlack, FakeTelegram, Reply, StoreBackend, TestApp, spawn_app_with_config,
};

const WAIT: Duration = Duration::from_secs(30);
const REPORT: &[u8] = b"Quarterly report\nrevenue: up\n\x00\x01binary tail\xff";
/// Declared by the file that is too large: over every default limit.
const HUGE: u64 = 30_000_000;

/// Pairs `sender` on `channel` as an operator would.
async fn pair(app: &TestApp, channel: &str, sender: &str) {
    let store = app.db.store();
    let asked = store
        .pairing()
        .request(NewPairingRequest {
            tenant_id: MASTER_TENANT_ID,
            sender_id: sender.to_owned(),
            channel: channel.to_owned(),
            chat_id: String::new(),
            account_id: channel.to_owned(),
        })
        .await
        .expect("a pairing request");
    let PairingAsked::Created(request) = asked else {
        panic!("no code: {asked:?}");
    };
    store
        .pairing()
        .approve(MASTER_TENANT_ID, &request.code, "test")
        .await
        .expect("approved")
        .expect("paired");
}

/// The default agent's workspace for `user` (an `open` agent: one per user), with
/// `report.txt` in it.
fn workspace_with_report(app: &TestApp, user: &str) -> PathBuf {
    let workspace = app.data_dir.path().join("workspace/default").join(user);
    std::fs::create_dir_all(&workspace).expect("the workspace");
    std::fs::write(workspace.join("report.txt"), REPORT).expect("the report");
    workspace
}

/// The files in `workspace/media`.
fn received(workspace: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace.join("media"))
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The text of the model request `n`, once it was made.
async fn prompt(app: &TestApp, n: usize) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(request) = app.llm.requests().get(n) {
            return request.body.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no model request {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Checks the photo's file and line, and the "not received" line of the huge file.
fn check_received(workspace: &Path, photo: &[u8], first: &str, second: &str, limit: u64) {
    let files = received(workspace);
    assert_eq!(files.len(), 1, "only the photo was written: {files:?}");
    assert_eq!(std::fs::read(&files[0]).expect("the photo"), photo);
    let name = files[0]
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .expect("a name");
    let line = format!("[image: media/{name} (image/jpeg, {} bytes)]", photo.len());
    assert!(first.contains(&line), "{line} not in {first}");
    assert!(first.contains("what is this?"), "{first}");
    let refused = format!("not received: {HUGE} bytes is over this channel's limit of {limit}]");
    assert!(second.contains(&refused), "{refused} not in {second}");
    assert!(second.contains("huge.pdf"), "{second}");
}

async fn telegram_files_both_ways(backend: StoreBackend) {
    const TOKEN: &str = "123456:telegram-media-token-7c1";
    let telegram = FakeTelegram::start(TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1, dm_policy: 'pairing' }} }} }}",
        telegram.api_server()
    );
    let Some(app) =
        spawn_app_with_config(backend, &config, &[("GOCLAW_TELEGRAM_TOKEN", TOKEN)]).await
    else {
        return;
    };
    pair(&app, "telegram", "4711").await;
    let workspace = workspace_with_report(&app, "4711");
    app.llm.push_all([
        Reply::text("A photo of a cat. Here is the report.\nMEDIA: report.txt"),
        Reply::text("That one is too big."),
    ]);
    let photo = b"\xff\xd8\xff\xe0 a small jpeg \x00\x10".to_vec();
    let file_id = telegram.add_file("cat.jpg", &photo);
    telegram.direct_photo(4711, &file_id, photo.len() as u64, Some("what is this?"));
    let files = telegram
        .wait_for_files(WAIT, |f| !f.is_empty())
        .await
        .expect("the report sent");
    assert_eq!(files[0].method, "sendDocument");
    assert_eq!(files[0].file_name, "report.txt");
    assert_eq!(files[0].bytes, REPORT);
    assert_eq!(files[0].chat_id, "4711");
    let texts = telegram
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("the answer's text");
    assert_eq!(texts[0].text, "A photo of a cat. Here is the report.");
    let first = prompt(&app, 0).await;

    let huge = telegram.add_file("huge.pdf", b"small really");
    telegram.direct_document(4711, &huge, "huge.pdf", "application/pdf", HUGE);
    telegram
        .wait_for_sent(WAIT, |s| s.len() >= 2)
        .await
        .expect("the second answer");
    let second = prompt(&app, 1).await;
    check_received(&workspace, &photo, &first, &second, 20 * 1024 * 1024);
    assert_eq!(
        telegram.file_downloads(),
        1,
        "the huge file was not fetched"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(telegram.sent_files().len(), 1, "the report went once");
    app.stop().await.expect("clean stop");
}

async fn discord_files_both_ways(backend: StoreBackend) {
    const TOKEN: &str = "discord-media-token.81";
    let discord = FakeDiscord::start(TOKEN).await.expect("fake Discord");
    let config = format!(
        "{{ channels: {{ discord: {{ api_server: '{}', dm_policy: 'pairing' }} }} }}",
        discord.api_server()
    );
    let Some(app) =
        spawn_app_with_config(backend, &config, &[("GOCLAW_DISCORD_TOKEN", TOKEN)]).await
    else {
        return;
    };
    pair(&app, "discord", "4711").await;
    let workspace = workspace_with_report(&app, "4711");
    app.llm.push_all([
        Reply::text("A photo of a cat. Here is the report.\nMEDIA:report.txt"),
        Reply::text("That one is too big."),
    ]);
    let photo = b"\xff\xd8\xff\xe0 a discord jpeg".to_vec();
    let attachment = discord.add_attachment("cat.jpg", "image/jpeg", &photo);
    discord.direct_message_with_attachments("4711", "what is this?", vec![attachment]);
    let sent = discord
        .wait_for_sent(WAIT, |s| s.iter().any(|m| !m.files.is_empty()))
        .await
        .expect("the report sent");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].content, "A photo of a cat. Here is the report.");
    assert_eq!(sent[1].channel_id, "dm-4711");
    assert_eq!(sent[1].files.len(), 1);
    assert_eq!(sent[1].files[0].file_name, "report.txt");
    assert_eq!(sent[1].files[0].bytes, REPORT);
    let first = prompt(&app, 0).await;

    let mut huge = discord.add_attachment("huge.pdf", "application/pdf", b"small really");
    huge["size"] = serde_json::json!(HUGE);
    discord.direct_message_with_attachments("4711", "", vec![huge]);
    discord
        .wait_for_sent(WAIT, |s| s.len() >= 3)
        .await
        .expect("the second answer");
    let second = prompt(&app, 1).await;
    check_received(&workspace, &photo, &first, &second, 25 * 1024 * 1024);
    assert_eq!(
        discord.attachment_downloads(),
        1,
        "the huge file was not fetched"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_files = discord
        .sent()
        .iter()
        .filter(|m| !m.files.is_empty())
        .count();
    assert_eq!(with_files, 1, "the report went once");
    app.stop().await.expect("clean stop");
}

async fn slack_files_both_ways(backend: StoreBackend) {
    const BOT: &str = "xoxb-slack-media-bot-91";
    const APP: &str = "xapp-slack-media-app-92";
    let slack = FakeSlack::start(BOT, APP).await.expect("fake Slack");
    let config = format!(
        "{{ channels: {{ slack: {{ api_server: '{}', dm_policy: 'pairing' }} }} }}",
        slack.api_server()
    );
    let Some(app) = spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_SLACK_BOT_TOKEN", BOT),
            ("GOCLAW_SLACK_APP_TOKEN", APP),
        ],
    )
    .await
    else {
        return;
    };
    pair(&app, "slack", "U4711").await;
    let workspace = workspace_with_report(&app, "U4711");
    app.llm.push_all([
        Reply::text("A photo of a cat. Here is the report.\nMEDIA:report.txt"),
        Reply::text("That one is too big."),
    ]);
    let photo = b"\xff\xd8\xff\xe0 a slack jpeg".to_vec();
    let file = slack.add_file("cat.jpg", "image/jpeg", &photo);
    slack.direct_message_with_files("U4711", "what is this?", vec![file]);
    let uploaded = slack
        .wait_for_uploads(WAIT, |u| !u.is_empty())
        .await
        .expect("the report shared");
    assert_eq!(uploaded[0].file_name, "report.txt");
    assert_eq!(uploaded[0].bytes, REPORT);
    assert_eq!(uploaded[0].channel_id, "DU4711");
    let sent = slack
        .wait_for_sent(WAIT, |s| !s.is_empty())
        .await
        .expect("the answer's text");
    assert_eq!(sent[0].text, "A photo of a cat. Here is the report.");
    let first = prompt(&app, 0).await;

    let mut huge = slack.add_file("huge.pdf", "application/pdf", b"small really");
    huge["size"] = serde_json::json!(HUGE);
    slack.direct_message_with_files("U4711", "", vec![huge]);
    slack
        .wait_for_sent(WAIT, |s| s.len() >= 2)
        .await
        .expect("the second answer");
    let second = prompt(&app, 1).await;
    check_received(&workspace, &photo, &first, &second, 20 * 1024 * 1024);
    assert_eq!(slack.file_downloads(), 1, "the huge file was not fetched");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(slack.uploaded().len(), 1, "the report went once");
    app.stop().await.expect("clean stop");
}

goclaw_testkit::backend_tests!(
    telegram_files_both_ways,
    discord_files_both_ways,
    slack_files_both_ways
);

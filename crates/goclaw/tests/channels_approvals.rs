//! Exec approvals answered in the Telegram chat, on both backends: a scripted `exec` in a
//! direct chat's run posts the request there with "Allow once", "Allow always" and "Deny"
//! buttons; a press by anyone but the run's user changes nothing; the user's "Allow once"
//! runs the command and the run answers; a "Deny" keeps it from running.

use std::time::Duration;

use goclaw_testkit::{FakeTelegram, Reply, StoreBackend, TestApp, spawn_app_with_config};
use serde_json::json;

const BOT_TOKEN: &str = "123456:approval-test-token-3e1d";
const WAIT: Duration = Duration::from_secs(30);

async fn start(backend: StoreBackend) -> Option<(TestApp, FakeTelegram)> {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1, dm_policy: 'open' }} }}, \
         tools: {{ execApproval: {{ security: 'full', ask: 'always' }} }} }}",
        telegram.api_server()
    );
    let app =
        spawn_app_with_config(backend, &config, &[("GOCLAW_TELEGRAM_TOKEN", BOT_TOKEN)]).await?;
    Some((app, telegram))
}

/// Waits for the message with buttons in `chat`; returns its id and buttons.
async fn approval_message(telegram: &FakeTelegram, chat: i64) -> (i64, Vec<(String, String)>) {
    let sent = telegram
        .wait_for_sent(WAIT, |s| {
            s.iter()
                .any(|m| m.chat_id == chat.to_string() && !m.buttons.is_empty())
        })
        .await
        .expect("an approval request in the chat");
    let message = sent
        .iter()
        .find(|m| !m.buttons.is_empty())
        .expect("the request");
    assert!(
        message.text.contains("echo approved-by-button"),
        "{}",
        message.text
    );
    (message.message_id, message.buttons.clone())
}

async fn allow_once_from_the_chat_runs_the_command(backend: StoreBackend) {
    let Some((app, telegram)) = start(backend).await else {
        return;
    };
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        json!({"command": "echo approved-by-button"}),
    ));
    app.llm.push(Reply::text("The command ran."));
    telegram.direct_message(7001, "please run it");
    let (message_id, buttons) = approval_message(&telegram, 7001).await;
    let labels: Vec<&str> = buttons.iter().map(|(text, _)| text.as_str()).collect();
    assert_eq!(labels, ["Allow once", "Allow always", "Deny"]);
    let allow_once = buttons[0].1.clone();

    // Someone else pressing (in their own chat) answers nothing.
    let stranger = telegram.press(7002, 7002, message_id, &allow_once);
    let answers = wait_answers(&telegram, 1).await;
    assert_eq!(
        answers[0],
        (stranger, "You may not answer this request.".to_owned())
    );
    assert_eq!(app.llm.requests().len(), 1, "the run still waits");

    let own = telegram.press(7001, 7001, message_id, &allow_once);
    let sent = telegram
        .wait_for_sent(WAIT, |s| s.iter().any(|m| m.text == "The command ran."))
        .await
        .expect("the run's answer");
    assert!(
        sent.iter().any(|m| m.text.starts_with("Allowed once")),
        "the chat is told: {sent:?}"
    );
    assert!(
        wait_answers(&telegram, 2)
            .await
            .contains(&(own, "Allowed once".to_owned()))
    );
    let after = app.llm.requests()[1].body.to_string();
    assert!(
        after.contains("approved-by-button\\n"),
        "the command's output reached the model: {after}"
    );
    // A late press of the same button finds nothing waiting.
    telegram.press(7001, 7001, message_id, &allow_once);
    let answers = wait_answers(&telegram, 3).await;
    assert_eq!(answers[2].1, "This request is no longer waiting.");
    app.stop().await.expect("clean stop");
}

async fn deny_from_the_chat_keeps_the_command_from_running(backend: StoreBackend) {
    let Some((app, telegram)) = start(backend).await else {
        return;
    };
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        json!({"command": "echo approved-by-button"}),
    ));
    app.llm.push(Reply::text("Not allowed, then."));
    telegram.direct_message(7101, "please run it");
    let (message_id, buttons) = approval_message(&telegram, 7101).await;
    telegram.press(7101, 7101, message_id, &buttons[2].1);
    telegram
        .wait_for_sent(WAIT, |s| s.iter().any(|m| m.text == "Not allowed, then."))
        .await
        .expect("the run's answer");
    let after = app.llm.requests()[1].body.to_string();
    assert!(
        !after.contains("approved-by-button\\n"),
        "nothing ran: {after}"
    );
    app.stop().await.expect("clean stop");
}

async fn wait_answers(telegram: &FakeTelegram, n: usize) -> Vec<(String, String)> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let answers = telegram.press_answers();
        if answers.len() >= n {
            return answers;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} press answers never came: {answers:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

goclaw_testkit::backend_tests!(
    allow_once_from_the_chat_runs_the_command,
    deny_from_the_chat_keeps_the_command_from_running
);

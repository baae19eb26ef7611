//! `goclaw doctor` asks each channel's platform whether its credentials work, through the
//! configured API base: the loopback Bot API answers `getMe` for the right token and 401 for
//! a wrong one, which the doctor reports as failing with the reason and a fix; the loopback
//! Discord (`users/@me`) and Slack (`auth.test`) likewise. Tokens are shown masked either way.

mod support;

use goclaw_testkit::{FakeDiscord, FakeSlack, FakeTelegram};
use serde_json::Value;
use support::{Goclaw, home};

const BOT_TOKEN: &str = "123456:doctor-telegram-token-7c1e";

async fn telegram_check(api_server: &str, token: &str) -> (Value, String) {
    let home = home();
    std::fs::write(
        home.path().join("config.json"),
        format!("{{ channels: {{ telegram: {{ api_server: '{api_server}' }} }} }}"),
    )
    .expect("config.json");
    let doctor = |args: &'static [&'static str]| {
        Goclaw::new(home.path())
            .env("GOCLAW_TELEGRAM_TOKEN", token)
            .env("GOCLAW_SANDBOX_MODE", "off")
            .args(args)
    };
    let json = doctor(&["doctor", "--json"]).run().await;
    let report: Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    let check = report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == "telegram"))
        .unwrap_or_else(|| panic!("no telegram check: {report:#}"))
        .clone();
    let text = doctor(&["doctor"]).run().await;
    assert!(!json.stdout.contains(token) && !text.stdout.contains(token));
    assert!(!json.stderr.contains(token) && !text.stderr.contains(token));
    (check, text.stdout)
}

#[tokio::test]
async fn a_working_token_is_reported_ok_and_a_refused_one_failing() {
    let telegram = FakeTelegram::start(BOT_TOKEN).await.expect("fake Telegram");
    let (check, text) = telegram_check(&telegram.api_server(), BOT_TOKEN).await;
    assert_eq!(check["status"], "ok", "{check:#}");
    assert_eq!(
        check["detail"],
        "enabled, token 1234****7c1e, bot @GoclawBot answers"
    );
    assert!(
        text.contains("telegram: enabled, token 1234****7c1e"),
        "{text}"
    );

    let wrong = "654321:a-token-telegram-refuses";
    let (check, text) = telegram_check(&telegram.api_server(), wrong).await;
    assert_eq!(check["status"], "fail", "{check:#}");
    let detail = check["detail"].as_str().expect("detail");
    assert!(
        detail.starts_with("failing, token 6543****uses: unauthorized: telegram 401"),
        "{detail}"
    );
    assert!(
        check["fix"]
            .as_str()
            .is_some_and(|f| f.contains("@BotFather"))
    );
    assert!(text.contains("FAIL") || text.contains("fail"), "{text}");
}

#[tokio::test]
async fn an_unreachable_api_server_is_failing() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let (check, _) = telegram_check(&format!("http://{addr}"), BOT_TOKEN).await;
    assert_eq!(check["status"], "fail", "{check:#}");
    let detail = check["detail"].as_str().expect("detail");
    assert!(detail.contains("telegram unreachable"), "{detail}");
}

/// The doctor's check named `name`, run with `config` and `env`; no token of `secrets` is
/// printed.
async fn check_of(name: &str, config: &str, env: &[(&str, &str)], secrets: &[&str]) -> Value {
    let home = home();
    std::fs::write(home.path().join("config.json"), config).expect("config.json");
    let mut doctor = Goclaw::new(home.path()).env("GOCLAW_SANDBOX_MODE", "off");
    for (key, value) in env {
        doctor = doctor.env(key, value);
    }
    let run = doctor.args(&["doctor", "--json"]).run().await;
    for secret in secrets {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
    let report: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check: {report:#}"))
        .clone()
}

#[tokio::test]
async fn discord_and_slack_tokens_are_checked_against_their_platforms() {
    let discord = FakeDiscord::start("discord-doctor-token-1")
        .await
        .expect("fake Discord");
    let config = format!(
        "{{ channels: {{ discord: {{ api_server: '{}' }} }} }}",
        discord.api_server()
    );
    for (token, status, detail) in [
        ("discord-doctor-token-1", "ok", "bot @goclaw answers"),
        ("discord-wrong-token-99", "fail", "unauthorized"),
    ] {
        let check = check_of(
            "discord",
            &config,
            &[("GOCLAW_DISCORD_TOKEN", token)],
            &[token],
        )
        .await;
        assert_eq!(check["status"], status, "{check:#}");
        assert!(
            check["detail"].as_str().is_some_and(|d| d.contains(detail)),
            "{check:#}"
        );
    }

    let slack = FakeSlack::start("xoxb-doctor-bot-1", "xapp-doctor-app-1")
        .await
        .expect("fake Slack");
    let config = format!(
        "{{ channels: {{ slack: {{ api_server: '{}' }} }} }}",
        slack.api_server()
    );
    for (bot, status, detail) in [
        ("xoxb-doctor-bot-1", "ok", "bot @goclaw answers"),
        ("xoxb-doctor-wrong-2", "fail", "unauthorized"),
    ] {
        let env = [
            ("GOCLAW_SLACK_BOT_TOKEN", bot),
            ("GOCLAW_SLACK_APP_TOKEN", "xapp-doctor-app-1"),
        ];
        let check = check_of("slack", &config, &env, &[bot, "xapp-doctor-app-1"]).await;
        assert_eq!(check["status"], status, "{check:#}");
        assert!(
            check["detail"].as_str().is_some_and(|d| d.contains(detail)),
            "{check:#}"
        );
    }
}

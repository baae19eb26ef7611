//! The `message` tool with a recording sender: the conversation's own chat, files, forwards
//! and who may make them.

use std::sync::Mutex;

use goclaw_core::{MASTER_TENANT_ID, SessionKey};

use super::*;

/// One recorded post: channel, chat, text, key and file.
type Post = (String, String, String, String, Option<MessageFile>);

/// Records every post.
#[derive(Default)]
struct Recorder {
    posts: Mutex<Vec<Post>>,
}

#[async_trait]
impl ChannelSender for Recorder {
    async fn send(
        &self,
        _tenant: TenantId,
        channel: &str,
        chat_id: &str,
        text: &str,
        key: &str,
        file: Option<MessageFile>,
    ) -> Result<Delivery, String> {
        if channel == "ws" {
            return Err("no running channel ws".to_owned());
        }
        let mut posts = self.posts.lock().unwrap_or_else(|e| e.into_inner());
        posts.push((
            channel.into(),
            chat_id.into(),
            text.into(),
            key.into(),
            file,
        ));
        Ok(Delivery::Sent)
    }
}

fn context(session: &str, trust: Trust, workspace: &std::path::Path) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "default".into(),
        session_key: SessionKey::parse(session).expect("key"),
        user_id: "alice".into(),
        trust,
        run_id: "run-1".into(),
        channel: "telegram".into(),
        workspace: workspace.to_path_buf(),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

const ALICE_CHAT: &str = "agent:default:telegram:direct:1001";

#[tokio::test]
async fn a_message_goes_to_the_conversations_chat_with_its_file() {
    let dir = tempfile::tempdir().expect("dir");
    let workspace = std::fs::canonicalize(dir.path()).expect("canonical");
    std::fs::write(workspace.join("chart.png"), b"png").expect("write");
    let recorder = Arc::new(Recorder::default());
    let tool = MessageTool::new(recorder.clone());
    let ctx = context(ALICE_CHAT, Trust::User, &workspace);
    let sent = tool
        .call(
            &ctx,
            json!({"action": "send", "message": "Build finished."}),
        )
        .await;
    assert_eq!(sent.content, "Message sent to telegram:1001.");
    let with_file = tool
        .call(
            &ctx,
            json!({"action": "send", "message": "MEDIA:chart.png\nThe chart"}),
        )
        .await;
    assert!(!with_file.is_error, "{}", with_file.content);
    let posts = recorder.posts.lock().expect("posts").clone();
    assert_eq!(posts.len(), 2);
    assert_eq!(
        (
            posts[0].0.as_str(),
            posts[0].1.as_str(),
            posts[0].2.as_str()
        ),
        ("telegram", "1001", "Build finished.")
    );
    assert_eq!(posts[1].2, "The chart");
    let file = posts[1].4.clone().expect("a file");
    assert_eq!(file.path, workspace.join("chart.png"));
    assert_eq!(file.mime_type, "image/png");
    assert_ne!(posts[0].3, posts[1].3, "each post has its own key");
    let outside = tool
        .call(
            &ctx,
            json!({"action": "send", "message": "MEDIA:../secret.txt"}),
        )
        .await;
    assert!(outside.is_error, "{}", outside.content);
}

#[tokio::test]
async fn forwards_need_a_reason_and_an_admins_run() {
    let dir = tempfile::tempdir().expect("dir");
    let recorder = Arc::new(Recorder::default());
    let tool = MessageTool::new(recorder.clone());
    let elsewhere = json!({"action": "send", "message": "hi", "target": "2002"});
    let with_reason = json!({"action": "send", "message": "hi", "target": "2002",
        "forward": true, "forward_reason": "\"tell bob the build is done\""});
    let user = context(ALICE_CHAT, Trust::User, dir.path());
    let refused = tool.call(&user, elsewhere.clone()).await;
    assert!(
        refused.is_error && refused.content.contains("forward=true"),
        "{}",
        refused.content
    );
    let refused = tool.call(&user, with_reason.clone()).await;
    assert!(
        refused.is_error && refused.content.contains("permission denied"),
        "{}",
        refused.content
    );
    let admin = context(ALICE_CHAT, Trust::Admin, dir.path());
    let refused = tool.call(&admin, elsewhere).await;
    assert!(refused.is_error, "no reason, no forward");
    let forwarded = tool.call(&admin, with_reason).await;
    assert_eq!(forwarded.content, "Message sent to telegram:2002.");
    assert_eq!(recorder.posts.lock().expect("posts").len(), 1);

    // A WebSocket conversation has no chat of its own.
    let ws = context("agent:default:ws:direct:abc", Trust::User, dir.path());
    let output = tool
        .call(&ws, json!({"action": "send", "message": "hi"}))
        .await;
    assert!(output.is_error, "{}", output.content);
    let output = tool
        .call(&ws, json!({"action": "delete", "message": "hi"}))
        .await;
    assert!(
        output.content.contains("action must be"),
        "{}",
        output.content
    );
}

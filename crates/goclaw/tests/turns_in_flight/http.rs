//! Turns over `POST /v1/chat/completions` with `stream: true`: a turn is acknowledged when the
//! 200 response headers arrive, and answered when the stream ends with `[DONE]` after the
//! final chunk. A stream cut off by the gateway's death is neither answered nor an error.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::Ledger;

/// Sends turn `turn` of the ledger in a task of its own.
pub fn spawn_turn(
    client: reqwest::Client,
    url: String,
    token: &'static str,
    ledger: Arc<Ledger>,
    turn: usize,
) -> JoinHandle<()> {
    tokio::spawn(async move { send_turn(&client, &url, token, &ledger, turn).await })
}

async fn send_turn(client: &reqwest::Client, url: &str, token: &str, ledger: &Ledger, turn: usize) {
    let planned = &ledger.turns[turn];
    let body = json!({
        "model": "goclaw:default",
        "stream": true,
        "user": planned.user_id,
        "messages": [{ "role": "user", "content": planned.message }],
    });
    let sent = client
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", &planned.idempotency_key)
        .json(&body)
        .send()
        .await;
    let Ok(response) = sent else {
        return; // never reached a live gateway
    };
    let status = response.status().as_u16();
    if status != 200 {
        let text = response.text().await.unwrap_or_default();
        ledger.failed(turn, format!("HTTP {status}: {text}"));
        return;
    }
    ledger.acknowledge(turn);
    let Ok(text) = response.text().await else {
        return; // cut off
    };
    match streamed_answer(&text) {
        Some(Ok(content)) => ledger.answered_with(turn, content, None),
        Some(Err(error)) => ledger.failed(turn, error),
        None => {}
    }
}

/// The answer a complete SSE body carries, or the error object it ended with; `None` for a
/// body cut off before `[DONE]`.
pub fn streamed_answer(body: &str) -> Option<Result<String, String>> {
    let mut content = String::new();
    let mut stopped = false;
    let mut error = None;
    for data in body.lines().filter_map(|line| line.strip_prefix("data:")) {
        let data = data.trim();
        if data == "[DONE]" {
            return match (error, stopped) {
                (Some(error), _) => Some(Err(error)),
                (None, true) => Some(Ok(content)),
                (None, false) => Some(Err(format!("[DONE] without a final chunk: {body}"))),
            };
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            return Some(Err(format!("a data line that is not JSON: {data}")));
        };
        if let Some(message) = chunk.pointer("/error/message").and_then(Value::as_str) {
            error = Some(message.to_owned());
            continue;
        }
        let choice = &chunk["choices"][0];
        if let Some(piece) = choice.pointer("/delta/content").and_then(Value::as_str) {
            content.push_str(piece);
        }
        stopped |= choice["finish_reason"] == "stop";
    }
    None
}

#[cfg(test)]
mod tests {
    use super::streamed_answer;

    #[test]
    fn reads_answers_errors_and_cut_streams() {
        let chunk = |delta: &str, finish: &str| {
            format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
            )
        };
        let answer = [
            chunk(r#"{"role":"assistant","content":""}"#, "null"),
            chunk(r#"{"content":"hel"}"#, "null"),
            chunk(r#"{"content":"lo"}"#, "null"),
            chunk("{}", r#""stop""#),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        assert_eq!(streamed_answer(&answer), Some(Ok("hello".to_owned())));
        let failed = "data: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n";
        assert_eq!(streamed_answer(failed), Some(Err("boom".to_owned())));
        let cut = chunk(r#"{"content":"hel"}"#, "null");
        assert_eq!(streamed_answer(&cut), None);
    }
}

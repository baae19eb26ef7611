//! `send_file`, `read_document` and `wait` against a real workspace directory.

use super::*;
use goclaw_core::{MASTER_TENANT_ID, SessionKey, Trust};

fn context(workspace: &std::path::Path) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "default".into(),
        session_key: SessionKey::parse("agent:default:ws:direct:t").expect("key"),
        user_id: "alice".into(),
        trust: Trust::User,
        run_id: "r".into(),
        channel: "ws".into(),
        workspace: workspace.to_path_buf(),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

/// A one-page PDF showing `text` in Helvetica, with a correct cross-reference table.
fn pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 24 Tf 72 700 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (index, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[tokio::test]
async fn send_file_names_workspace_files_and_refuses_others() {
    let dir = tempfile::tempdir().expect("dir");
    let workspace = std::fs::canonicalize(dir.path()).expect("canonical");
    std::fs::write(workspace.join("chart.png"), b"png").expect("write");
    std::fs::write(workspace.join("notes.md"), b"# notes").expect("write");
    let ctx = context(&workspace);
    let sent = SendFileTool
        .call(
            &ctx,
            json!({"path": "chart.png", "caption": "The chart", "attachments": [{"path": "notes.md"}]}),
        )
        .await;
    assert!(!sent.is_error, "{}", sent.content);
    assert_eq!(
        sent.media,
        vec![
            workspace.join("chart.png").to_string_lossy().into_owned(),
            workspace.join("notes.md").to_string_lossy().into_owned(),
        ]
    );
    assert!(
        sent.content.contains("caption for your answer: The chart"),
        "{}",
        sent.content
    );
    for refused in [
        json!({"path": "../outside.txt"}),
        json!({"path": "/etc/passwd"}),
        json!({"path": "missing.png"}),
        json!({}),
    ] {
        let output = SendFileTool.call(&ctx, refused.clone()).await;
        assert!(output.is_error, "{refused}: {}", output.content);
        assert!(output.media.is_empty());
    }
}

#[tokio::test]
async fn read_document_extracts_pdf_pages_and_reads_text() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("report.pdf"), pdf("Quarterly revenue grew")).expect("write");
    std::fs::write(dir.path().join("plain.txt"), "just text").expect("write");
    std::fs::write(dir.path().join("blob.bin"), [0u8, 1, 2, 3]).expect("write");
    std::fs::write(dir.path().join("broken.pdf"), b"%PDF-1.4 this is not a pdf").expect("write");
    let ctx = context(dir.path());
    let tool = ReadDocumentTool {
        parser: DocumentParserConfig::default(),
    };
    let read = tool.call(&ctx, json!({"path": "report.pdf"})).await;
    assert!(!read.is_error, "{}", read.content);
    assert!(read.content.contains("--- page 1 ---"), "{}", read.content);
    assert!(
        read.content.contains("Quarterly revenue grew"),
        "{}",
        read.content
    );
    let text = tool.call(&ctx, json!({"path": "plain.txt"})).await;
    assert_eq!(text.content, "just text");
    for refused in ["blob.bin", "broken.pdf", "../etc/passwd", "missing.pdf"] {
        let output = tool.call(&ctx, json!({"path": refused})).await;
        assert!(output.is_error, "{refused}: {}", output.content);
    }
}

#[tokio::test(start_paused = true)]
async fn wait_pauses_within_its_bounds() {
    let dir = tempfile::tempdir().expect("dir");
    let ctx = context(dir.path());
    let started = tokio::time::Instant::now();
    let waited = WaitTool
        .call(&ctx, json!({"timeMs": 120_000, "reason": "build"}))
        .await;
    assert_eq!(waited.content, "Waited 120000 ms (build).");
    assert!(started.elapsed() >= Duration::from_millis(120_000));
    for refused in [json!({"timeMs": 0}), json!({"timeMs": 300_001}), json!({})] {
        let output = WaitTool.call(&ctx, refused.clone()).await;
        assert!(output.is_error, "{refused}");
    }
}

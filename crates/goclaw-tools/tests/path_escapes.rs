//! The path-escape corpus (`corpus/path_escapes.txt`) run against the workspace guard and the
//! file tools: every attack is refused or stays inside the workspace, and no tool call reads
//! the secret outside it or writes anything there.

use std::fs;
use std::path::{Path, PathBuf};

use goclaw_core::{MASTER_TENANT_ID, SessionKey, Tool, ToolContext};
use goclaw_tools::files::{ReadFileTool, WriteFileTool};
use goclaw_tools::workspace::{Access, WorkspaceGuard};
use serde_json::json;

const SECRET: &str = "TOPSECRET";
const PAYLOAD: &str = "PWNED";

/// One temp tree per case: `$ROOT/{ws,out,allowed}`.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        for sub in ["ws", "out", "allowed"] {
            fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        fs::write(root.join("out/secret.txt"), SECRET).expect("secret");
        Self { _dir: dir, root }
    }

    fn ws(&self) -> PathBuf {
        self.root.join("ws")
    }

    fn expand(&self, raw: &str) -> String {
        let root = self.root.display().to_string();
        raw.replace("$WS", &format!("{root}/ws"))
            .replace("$OUT", &format!("{root}/out"))
            .replace("$ALLOWED", &format!("{root}/allowed"))
            .replace("$ROOT", &root)
            .replace("\\0", "\0")
    }

    /// A setup path: absolute after expansion, else under the workspace.
    fn place(&self, raw: &str) -> PathBuf {
        let expanded = PathBuf::from(self.expand(raw));
        if expanded.is_absolute() {
            expanded
        } else {
            self.ws().join(expanded)
        }
    }

    fn setup(&self, tag: &str) {
        let (kind, rest) = tag.split_once(':').expect("setup kind");
        let link = |rest: &str| {
            let (from, to) = rest.split_once(" -> ").expect("setup arrow");
            (self.place(from.trim()), self.expand(to.trim()))
        };
        match kind {
            "file" => {
                let path = self.place(rest);
                fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                fs::write(path, "ok").expect("file");
            }
            "dir" => fs::create_dir_all(self.place(rest)).expect("dir"),
            "symlink" => {
                let (from, to) = link(rest);
                std::os::unix::fs::symlink(to, from).expect("symlink");
            }
            "hardlink" => {
                let (from, to) = link(rest);
                fs::hard_link(to, from).expect("hardlink");
            }
            other => panic!("unknown setup {other}"),
        }
    }

    fn context(&self) -> ToolContext {
        ToolContext {
            tenant_id: MASTER_TENANT_ID,
            agent_key: "default".into(),
            session_key: SessionKey::parse("agent:default:test").expect("session key"),
            user_id: "u".into(),
            trust: goclaw_core::Trust::Admin,
            run_id: "r".into(),
            channel: "test".into(),
            workspace: self.ws(),
            restrict_to_workspace: true,
            allowed_paths: vec![self.root.join("allowed")],
        }
    }

    /// Whether the payload landed anywhere outside the workspace and allowed root.
    fn payload_outside(&self) -> bool {
        fn scan(dir: &Path, skip: &[PathBuf]) -> bool {
            let Ok(entries) = fs::read_dir(dir) else {
                return false;
            };
            entries.flatten().any(|entry| {
                let path = entry.path();
                if skip.contains(&path) {
                    return false;
                }
                let Ok(meta) = fs::symlink_metadata(&path) else {
                    return false;
                };
                if meta.is_dir() {
                    scan(&path, skip)
                } else {
                    meta.is_file() && fs::read_to_string(&path).is_ok_and(|c| c.contains(PAYLOAD))
                }
            })
        }
        scan(&self.root, &[self.ws(), self.root.join("allowed")])
    }
}

struct Case {
    line: usize,
    expect: String,
    access: Access,
    path: String,
    setups: Vec<String>,
}

fn corpus() -> Vec<Case> {
    let text = include_str!("corpus/path_escapes.txt");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, line)| {
            let mut parts = line.split(" | ");
            let head = parts.next().expect("head");
            let mut words = head.splitn(3, ' ');
            let expect = words.next().expect("expect").to_owned();
            let access = match words.next().expect("access") {
                "read" => Access::Read,
                "write" => Access::Write,
                other => panic!("line {}: bad access {other}", i + 1),
            };
            let path = words.next().unwrap_or("").to_owned();
            Case {
                line: i + 1,
                expect,
                access,
                path,
                setups: parts.map(str::to_owned).collect(),
            }
        })
        .collect()
}

#[tokio::test]
async fn no_path_in_the_corpus_escapes_the_workspace() {
    let cases = corpus();
    let attacks = cases.iter().filter(|c| c.expect != "allow").count();
    assert!(attacks >= 50, "only {attacks} attack cases");
    for case in &cases {
        let tree = Tree::new();
        for setup in &case.setups {
            tree.setup(setup);
        }
        let ctx = tree.context();
        let guard = WorkspaceGuard::new(&ctx).expect("guard");
        let allowed_root = fs::canonicalize(tree.root.join("allowed")).expect("allowed");
        let requested = tree.expand(&case.path);
        let result = guard.resolve(&requested, case.access);
        let what = format!(
            "line {}: {} {:?} -> {result:?}",
            case.line, case.expect, case.path
        );
        if let Ok(path) = &result {
            assert!(
                path.starts_with(guard.workspace()) || path.starts_with(&allowed_root),
                "ESCAPE {what}"
            );
        }
        match case.expect.as_str() {
            "deny" => assert!(result.is_err(), "not refused: {what}"),
            "allow" => assert!(result.is_ok(), "refused: {what}"),
            "inside" => {}
            other => panic!("line {}: bad expectation {other}", case.line),
        }

        // The tools themselves must agree.
        match case.access {
            Access::Read => {
                let out = ReadFileTool.call(&ctx, json!({ "path": requested })).await;
                assert!(
                    !out.content.contains(SECRET),
                    "secret read: {what}: {out:?}"
                );
            }
            Access::Write => {
                let out = WriteFileTool
                    .call(&ctx, json!({ "path": requested, "content": PAYLOAD }))
                    .await;
                assert!(!tree.payload_outside(), "written outside: {what}: {out:?}");
                if case.expect == "allow" {
                    assert!(!out.is_error, "write failed: {what}: {out:?}");
                }
            }
        }
        assert_eq!(
            fs::read_to_string(tree.root.join("out/secret.txt")).expect("secret"),
            SECRET,
            "secret changed: {what}"
        );
    }
}

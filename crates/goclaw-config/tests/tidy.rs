//! Source hygiene of this crate: every Rust file opens with a `//!` doc
//! paragraph and `#![forbid(unsafe_code)]`, and stays under 600 lines.
#![forbid(unsafe_code)]

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_file_is_documented_safe_and_short() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    let mut problems = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        if !text.starts_with("//!") {
            problems.push(format!("{name}: does not start with a //! doc"));
        }
        if !text.contains("#![forbid(unsafe_code)]") {
            problems.push(format!("{name}: lacks #![forbid(unsafe_code)]"));
        }
        let lines = text.lines().count();
        if lines > 600 {
            problems.push(format!("{name}: {lines} lines (limit 600)"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

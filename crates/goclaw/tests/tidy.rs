//! Repository rules checked by the test suite rather than by reviewers: every source file
//! opens with a `//!` doc, files stay small, tests are never switched off, and the crate
//! boundaries of ARCHITECTURE.md hold.

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/goclaw sits two levels below the workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    assert!(files.len() > 10, "found the workspace sources");
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            (path, text)
        })
        .collect()
}

#[test]
fn every_source_file_starts_with_a_module_doc() {
    let missing: Vec<_> = sources()
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(path, _)| path)
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! doc: {missing:#?}"
    );
}

#[test]
fn files_stay_small() {
    let long: Vec<_> = sources()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(path, text)| (path, text.lines().count()))
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn no_test_is_switched_off() {
    let banned = [concat!("#[", "ignore"), concat!("#[", "should_panic")];
    let offenders: Vec<_> = sources()
        .into_iter()
        .filter(|(_, text)| banned.iter().any(|b| text.contains(b)))
        .map(|(path, _)| path)
        .collect();
    assert!(
        offenders.is_empty(),
        "ignored or should_panic tests: {offenders:#?}"
    );
}

fn dependencies(krate: &str) -> Vec<String> {
    let manifest = workspace_root()
        .join("crates")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("crate manifest");
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if !in_deps {
            continue;
        }
        if let Some(name) = line.split(['=', '.', ' ']).next().filter(|n| !n.is_empty()) {
            deps.push(name.to_owned());
        }
    }
    deps
}

fn check_forbidden(krate: &str, forbidden: &[&str]) {
    let deps = dependencies(krate);
    assert!(!deps.is_empty(), "{krate} has dependencies to check");
    for name in forbidden {
        assert!(
            !deps.iter().any(|d| d == name),
            "{krate} must not depend on {name} (see ARCHITECTURE.md)"
        );
    }
}

#[test]
fn crate_boundaries_hold() {
    check_forbidden(
        "goclaw-core",
        &["axum", "sqlx", "reqwest", "tokio", "goclaw-config"],
    );
    check_forbidden(
        "goclaw-config",
        &["axum", "sqlx", "reqwest", "goclaw-store"],
    );
    check_forbidden("goclaw-gateway", &["sqlx", "goclaw-store", "goclaw-config"]);
    check_forbidden("goclaw-telemetry", &["axum", "sqlx", "goclaw-gateway"]);
    check_forbidden(
        "goclaw-crypto",
        &[
            "goclaw-core",
            "goclaw-store",
            "goclaw-config",
            "sqlx",
            "tokio",
        ],
    );
    check_forbidden(
        "goclaw-store",
        &["axum", "reqwest", "goclaw-gateway", "goclaw-config"],
    );
    check_forbidden(
        "goclaw-providers",
        &["axum", "sqlx", "goclaw-gateway", "goclaw-store"],
    );
    check_forbidden(
        "goclaw-agent",
        &["axum", "sqlx", "reqwest", "goclaw-gateway", "goclaw-store"],
    );
    check_forbidden(
        "goclaw-tools",
        &[
            "axum",
            "sqlx",
            "goclaw-gateway",
            "goclaw-store",
            "goclaw-agent",
        ],
    );
}

#[test]
fn only_the_store_speaks_sql() {
    let sql_markers = [
        "sqlx::query",
        "CREATE TABLE",
        "INSERT INTO",
        "SELECT * FROM",
    ];
    let offenders: Vec<_> = sources()
        .into_iter()
        .filter(|(path, _)| {
            let p = path.to_string_lossy();
            !p.contains("/crates/goclaw-store/") && !p.ends_with("tidy.rs")
        })
        .filter(|(_, text)| sql_markers.iter().any(|m| text.contains(m)))
        .map(|(path, _)| path)
        .collect();
    assert!(
        offenders.is_empty(),
        "SQL outside goclaw-store: {offenders:#?}"
    );
}

/// SQL files outside the store's migrations, each with the reason it may exist.
const SQL_OUTSIDE_THE_STORE: &[(&str, &str)] = &[(
    "crates/goclaw-bench/src/floor.sql",
    "the benchmark's floor program measures the least a turn must do, without the gateway",
)];

#[test]
fn sql_files_live_in_the_store_or_are_listed() {
    fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            if path.is_dir() {
                sql_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "sql") {
                out.push(path);
            }
        }
    }
    let root = workspace_root();
    let mut files = Vec::new();
    sql_files(&root.join("crates"), &mut files);
    let unlisted: Vec<_> = files
        .iter()
        .filter_map(|path| path.strip_prefix(&root).ok())
        .map(|path| path.to_string_lossy().into_owned())
        .filter(|path| !path.starts_with("crates/goclaw-store/"))
        .filter(|path| {
            !SQL_OUTSIDE_THE_STORE
                .iter()
                .any(|(listed, _)| listed == path)
        })
        .collect();
    assert!(
        unlisted.is_empty(),
        "SQL files outside goclaw-store, not listed with a reason: {unlisted:#?}"
    );
}

/// Crates that call into C and so may not forbid `unsafe` outright: the store (sqlite-vec
/// registration) and the gateway (`malloc_trim` after a connection flood).
const FFI_CRATES: &[&str] = &["goclaw-store", "goclaw-gateway"];

#[test]
fn crates_forbid_unsafe_code_unless_they_need_ffi() {
    let crates_dir = workspace_root().join("crates");
    let entries = std::fs::read_dir(&crates_dir).expect("crates directory");
    let mut missing = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if FFI_CRATES.contains(&name.as_str()) {
            continue;
        }
        let lib = entry.path().join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap_or_default();
        if !text.contains("#![forbid(unsafe_code)]") {
            missing.push(lib);
        }
    }
    assert!(
        missing.is_empty(),
        "crate roots without #![forbid(unsafe_code)]: {missing:#?}"
    );
}

#[test]
fn every_unsafe_block_explains_itself() {
    let mut unexplained = Vec::new();
    for (path, text) in sources() {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if !code.contains(concat!("unsafe", " {")) && !code.contains(concat!("unsafe", " fn")) {
                continue;
            }
            let window = &lines[i.saturating_sub(6)..i];
            if !window.iter().any(|l| l.contains("SAFETY:")) {
                unexplained.push(format!("{}:{}", path.display(), i + 1));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "unsafe without a // SAFETY: note: {unexplained:#?}"
    );
}

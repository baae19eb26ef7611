//! The env file `goclaw onboard` writes (`.env.local` by default): `KEY=value` lines that both
//! `set -a; . ./.env.local; set +a` and Docker's `--env-file` read. Re-running keeps every
//! existing line and value and appends only the keys that are missing; the file is written
//! through a temporary file and is readable by its owner only (0600).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The `KEY=value` pairs of an env file (`export KEY=value` and quoted values accepted);
/// empty when the file does not exist.
pub fn read(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(text.lines().filter_map(parse_line).collect())
}

fn parse_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let value = value.trim();
    let unquoted = ['\'', '"']
        .iter()
        .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
        .unwrap_or(value);
    Some((key.to_owned(), unquoted.to_owned()))
}

/// Appends `KEY=value` for each pair whose key the file does not have yet, keeping the rest
/// of the file as it is, and makes the file 0600. Returns the keys written.
pub fn merge(path: &Path, pairs: &[(String, String)]) -> anyhow::Result<Vec<String>> {
    let existing_text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let present: BTreeMap<String, String> = existing_text.lines().filter_map(parse_line).collect();
    let mut text = existing_text.clone();
    let mut written = Vec::new();
    for (key, value) in pairs {
        if present.contains_key(key) || written.contains(key) {
            continue;
        }
        if text.is_empty() {
            text.push_str(
                "# Written by `goclaw onboard`. Keep this file private: it holds secrets.\n",
            );
        } else if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{key}={}\n", quote(value)));
        written.push(key.clone());
    }
    write_private(path, &text)?;
    Ok(written)
}

/// Single-quotes a value unless it is made of characters both sh and Docker read literally.
fn quote(value: &str) -> String {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+,=?".contains(c));
    if plain && !value.is_empty() {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temp = tempfile_in(dir)?;
    temp.1
        .write_all(text.as_bytes())
        .and_then(|()| temp.1.sync_all())
        .with_context(|| format!("cannot write {}", temp.0.display()))?;
    std::fs::rename(&temp.0, path).with_context(|| format!("cannot write {}", path.display()))?;
    set_private(path)
}

/// A new file next to the target, created 0600 from the start.
fn tempfile_in(dir: &Path) -> anyhow::Result<(std::path::PathBuf, std::fs::File)> {
    let name = format!(
        ".goclaw-env-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    );
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    Ok((path, file))
}

fn set_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: Option<(&str, &str)>) {
        let parsed = parse_line(line);
        let expected = expected.map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(parsed, expected, "parse_line({line:?})");
    }

    #[test]
    fn parses_env_lines() {
        check("A=b", Some(("A", "b")));
        check("export A=b", Some(("A", "b")));
        check("A='b c'", Some(("A", "b c")));
        check("A=\"b\"", Some(("A", "b")));
        check("# A=b", None);
        check("", None);
        check("not a line", None);
        check("A B=c", None);
    }

    #[test]
    fn merge_keeps_values_and_never_duplicates() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".env.local");
        std::fs::write(&path, "KEEP=me\nA=old").expect("write");
        let pairs = vec![
            ("A".to_owned(), "new".to_owned()),
            ("B".to_owned(), "x y".to_owned()),
        ];
        assert_eq!(merge(&path, &pairs).expect("merge"), vec!["B".to_owned()]);
        assert_eq!(merge(&path, &pairs).expect("merge"), Vec::<String>::new());
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "KEEP=me\nA=old\nB='x y'\n");
        let values = read(&path).expect("read");
        assert_eq!(values.get("B").map(String::as_str), Some("x y"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

//! Bundles written and read back in both formats, and every kind of hostile archive refused.

use super::*;

const LIMITS: PackageLimits = PackageLimits {
    max_archive_bytes: 1024 * 1024,
    max_unpacked_bytes: 2 * 1024 * 1024,
};

fn metadata(slug: &str) -> BundleMetadata {
    BundleMetadata {
        id: "0193a5b0-7000-7000-8000-0000000000e1".into(),
        name: "Haiku ✨".into(),
        slug: slug.into(),
        description: Some("Writes haiku".into()),
        visibility: "internal".into(),
        version: 3,
        tags: vec!["poetry".into()],
    }
}

fn skill_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("SKILL.md"),
        "---\nname: Haiku\n---\nFive, seven, five.",
    )
    .expect("SKILL.md");
    std::fs::create_dir_all(dir.path().join("examples")).expect("examples");
    std::fs::write(dir.path().join("examples/spring.txt"), "old pond").expect("example");
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).expect("symlink");
    dir
}

#[test]
fn both_formats_round_trip_and_links_are_left_out() {
    let dir = skill_dir();
    let export = ExportSkill {
        metadata: metadata("haiku"),
        dir: dir.path().to_path_buf(),
        grants: vec![BundleGrant {
            agent_key: "default".into(),
            pinned_version: 2,
        }],
    };
    for format in [BundleFormat::TarGz, BundleFormat::Zip] {
        let bytes = write_bundle(std::slice::from_ref(&export), format).expect("written");
        let skills = read_bundle(&bytes, LIMITS).expect("read back");
        assert_eq!(skills.len(), 1, "{format:?}");
        let skill = &skills[0];
        assert_eq!(skill.metadata, metadata("haiku"));
        assert!(skill.skill_md.contains("Five, seven, five."));
        assert_eq!(skill.grants, export.grants);
        let mut paths: Vec<String> = skill
            .files
            .iter()
            .map(|(p, _)| p.to_string_lossy().into_owned())
            .collect();
        paths.sort();
        assert_eq!(paths, ["SKILL.md", "examples/spring.txt"], "{format:?}");
    }
}

/// A tar.gz of `(name, kind, data)` entries written byte by byte (names unchecked).
fn raw_tar(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for (name, kind, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(*kind);
        if kind.is_symlink() || kind.is_hard_link() {
            header.set_link_name("/etc/passwd").expect("link name");
            header.set_size(0);
        }
        let bytes = name.as_bytes();
        let field = &mut header.as_old_mut().name;
        field[..bytes.len()].copy_from_slice(bytes);
        header.set_cksum();
        let body: &[u8] = if kind.is_file() { data } else { &[] };
        builder.append(&header, body).expect("entry");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

#[test]
fn hostile_archives_are_refused_whole() {
    use tar::EntryType::{Char, Link, Regular, Symlink};
    let meta = serde_json::to_vec(&metadata("haiku")).expect("json");
    let good: [(&str, tar::EntryType, &[u8]); 2] = [
        ("skills/haiku/metadata.json", Regular, &meta),
        (
            "skills/haiku/SKILL.md",
            Regular,
            b"---\nname: Haiku\n---\nx",
        ),
    ];
    assert!(read_bundle(&raw_tar(&good), LIMITS).is_ok());
    let cases: Vec<(&str, tar::EntryType, &[u8])> = vec![
        ("skills/haiku/../../etc/cron.d/x", Regular, b"x"),
        ("/etc/passwd", Regular, b"x"),
        ("skills/haiku/link", Symlink, b""),
        ("skills/haiku/hard", Link, b""),
        ("skills/haiku/dev", Char, b""),
    ];
    for case in cases {
        let mut entries = good.to_vec();
        entries.push(case);
        assert!(
            read_bundle(&raw_tar(&entries), LIMITS).is_err(),
            "{:?}",
            case.0
        );
    }
    let big = vec![b'a'; 3 * 1024 * 1024];
    let mut entries = good.to_vec();
    entries.push(("skills/haiku/big.txt", Regular, &big));
    assert!(matches!(
        read_bundle(&raw_tar(&entries), LIMITS),
        Err(BundleError::Package(PackageError::UnpacksTooLarge { .. }))
    ));
    let no_meta = [("skills/haiku/SKILL.md", Regular, &b"x"[..])];
    assert!(matches!(
        read_bundle(&raw_tar(&no_meta), LIMITS),
        Err(BundleError::Skill { .. })
    ));
    let wrong_slug = serde_json::to_vec(&metadata("other")).expect("json");
    let mismatched = [
        ("skills/haiku/metadata.json", Regular, &wrong_slug[..]),
        ("skills/haiku/SKILL.md", Regular, &b"x"[..]),
    ];
    assert!(read_bundle(&raw_tar(&mismatched), LIMITS).is_err());
    assert!(matches!(
        read_bundle(b"plain text", LIMITS),
        Err(BundleError::UnknownFormat)
    ));
}

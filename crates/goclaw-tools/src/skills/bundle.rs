//! Skill bundles, GoClaw's export/import archive: `skills/<slug>/metadata.json` (`id`, `name`,
//! `slug`, `description`, `visibility`, `version`, `tags`), every file of the skill's current
//! version (`SKILL.md` first) and `skills/<slug>/grants.jsonl` (`{agent_key,
//! pinned_version}` per line), as a `tar.gz` (GoClaw's default) or a `zip`.
//!
//! Reading checks the whole archive before anything is used, with the rules of an upload:
//! a `..` entry, an absolute path, a link (symbolic or hard) or a device, more than
//! [`MAX_BUNDLE_ENTRIES`] entries, files unpacking past the limit, or a skill without
//! `metadata.json` or `SKILL.md` refuse the import. Writing takes regular files only, from
//! inside the skill's directory (links are skipped).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::package::{PackageError, PackageLimits, checked_path};

/// Most entries an imported archive may hold.
pub const MAX_BUNDLE_ENTRIES: usize = 10_000;

/// An archive's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleFormat {
    TarGz,
    Zip,
}

impl BundleFormat {
    /// GoClaw's `?format=`: `tar.gz` (or `tgz`, or nothing) and `zip`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "tar.gz" | "tgz" => Some(Self::TarGz),
            "zip" => Some(Self::Zip),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::TarGz => "application/gzip",
            Self::Zip => "application/zip",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::TarGz => ".tar.gz",
            Self::Zip => ".zip",
        }
    }
}

/// A grant in `grants.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleGrant {
    pub agent_key: String,
    #[serde(default = "first_version")]
    pub pinned_version: i64,
}

fn first_version() -> i64 {
    1
}

/// `metadata.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleMetadata {
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub visibility: String,
    #[serde(default)]
    pub version: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// One skill of a bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleSkill {
    pub metadata: BundleMetadata,
    /// `SKILL.md` as text.
    pub skill_md: String,
    /// Every file with its path inside the skill, `SKILL.md` included.
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub grants: Vec<BundleGrant>,
}

/// A skill to export: its metadata, the directory of its current version, its grants.
pub struct ExportSkill {
    pub metadata: BundleMetadata,
    pub dir: PathBuf,
    pub grants: Vec<BundleGrant>,
}

/// Why an archive is refused (on top of the upload rules).
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("not a tar.gz or zip archive")]
    UnknownFormat,
    #[error("the archive holds more than {MAX_BUNDLE_ENTRIES} entries")]
    TooManyEntries,
    #[error("entry {0:?} is a link or a device; only files are allowed")]
    NotAFile(String),
    #[error("skill {slug:?}: {reason}")]
    Skill { slug: String, reason: String },
}

/// Reads and checks the archive `bytes`: its skills by slug.
pub fn read_bundle(bytes: &[u8], limits: PackageLimits) -> Result<Vec<BundleSkill>, BundleError> {
    if bytes.len() as u64 > limits.max_archive_bytes {
        return Err(PackageError::TooLarge {
            limit_mb: limits.max_archive_bytes / (1024 * 1024),
        }
        .into());
    }
    let entries = if bytes.starts_with(&[0x1f, 0x8b]) {
        tar_entries(bytes, limits)?
    } else if bytes.starts_with(b"PK") {
        zip_entries(bytes, limits)?
    } else {
        return Err(BundleError::UnknownFormat);
    };
    group(entries)
}

/// Keeps an entry's data within the unpacked budget.
fn take(
    reader: impl Read,
    raw: &str,
    unpacked: &mut u64,
    limits: PackageLimits,
) -> Result<Vec<u8>, PackageError> {
    let budget = limits.max_unpacked_bytes.saturating_sub(*unpacked);
    let mut data = Vec::new();
    reader
        .take(budget + 1)
        .read_to_end(&mut data)
        .map_err(|e| PackageError::Unreadable {
            name: raw.to_owned(),
            reason: e.to_string(),
        })?;
    if data.len() as u64 > budget {
        return Err(PackageError::UnpacksTooLarge {
            limit_mb: limits.max_unpacked_bytes / (1024 * 1024),
        });
    }
    *unpacked += data.len() as u64;
    Ok(data)
}

fn tar_entries(
    bytes: &[u8],
    limits: PackageLimits,
) -> Result<Vec<(PathBuf, Vec<u8>)>, BundleError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let unreadable = |e: std::io::Error| PackageError::Unreadable {
        name: "archive".into(),
        reason: e.to_string(),
    };
    let mut entries = Vec::new();
    let mut unpacked = 0;
    for (count, entry) in archive.entries().map_err(unreadable)?.enumerate() {
        if count >= MAX_BUNDLE_ENTRIES {
            return Err(BundleError::TooManyEntries);
        }
        let entry = entry.map_err(unreadable)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            checked_path(&raw)?;
            continue;
        }
        if !kind.is_file() {
            return Err(BundleError::NotAFile(raw));
        }
        let Some(path) = checked_path(&raw)? else {
            continue;
        };
        let data = take(entry, &raw, &mut unpacked, limits)?;
        entries.push((path, data));
    }
    Ok(entries)
}

fn zip_entries(
    bytes: &[u8],
    limits: PackageLimits,
) -> Result<Vec<(PathBuf, Vec<u8>)>, BundleError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| PackageError::NotZip(e.to_string()))?;
    if archive.len() > MAX_BUNDLE_ENTRIES {
        return Err(BundleError::TooManyEntries);
    }
    let mut entries = Vec::new();
    let mut unpacked = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index(index)
            .map_err(|e| PackageError::NotZip(e.to_string()))?;
        let raw = entry.name().to_owned();
        if entry.is_symlink() {
            return Err(PackageError::Symlink(raw).into());
        }
        let Some(path) = checked_path(&raw)? else {
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let data = take(entry, &raw, &mut unpacked, limits)?;
        entries.push((path, data));
    }
    Ok(entries)
}

/// Groups `skills/<slug>/<file>` entries by slug; anything else is ignored.
fn group(entries: Vec<(PathBuf, Vec<u8>)>) -> Result<Vec<BundleSkill>, BundleError> {
    let mut by_slug: BTreeMap<String, Vec<(PathBuf, Vec<u8>)>> = BTreeMap::new();
    for (path, data) in entries {
        let mut parts = path.components();
        let (Some(top), Some(slug)) = (parts.next(), parts.next()) else {
            continue;
        };
        let rest: PathBuf = parts.collect();
        if top.as_os_str() != "skills" || rest.as_os_str().is_empty() {
            continue;
        }
        let slug = slug.as_os_str().to_string_lossy().into_owned();
        by_slug.entry(slug).or_default().push((rest, data));
    }
    by_slug
        .into_iter()
        .map(|(slug, files)| skill(slug, files))
        .collect()
}

fn skill(slug: String, files: Vec<(PathBuf, Vec<u8>)>) -> Result<BundleSkill, BundleError> {
    let fail = |reason: &str| BundleError::Skill {
        slug: slug.clone(),
        reason: reason.to_owned(),
    };
    let find = |name: &str| {
        files
            .iter()
            .find(|(path, _)| path == Path::new(name))
            .map(|(_, data)| data.clone())
    };
    let metadata: BundleMetadata =
        serde_json::from_slice(&find("metadata.json").ok_or_else(|| fail("no metadata.json"))?)
            .map_err(|e| fail(&format!("metadata.json: {e}")))?;
    if metadata.slug != slug {
        return Err(fail("metadata.json names another slug"));
    }
    let skill_md = String::from_utf8(find("SKILL.md").ok_or_else(|| fail("no SKILL.md"))?)
        .map_err(|_| fail("SKILL.md is not UTF-8 text"))?;
    let grants = match find("grants.jsonl") {
        None => Vec::new(),
        Some(lines) => String::from_utf8_lossy(&lines)
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).map_err(|e| fail(&format!("grants.jsonl: {e}"))))
            .collect::<Result<_, _>>()?,
    };
    let files = files
        .into_iter()
        .filter(|(path, _)| path != Path::new("metadata.json") && path != Path::new("grants.jsonl"))
        .collect();
    Ok(BundleSkill {
        metadata,
        skill_md,
        files,
        grants,
    })
}

/// Writes `skills` as an archive of `format`.
pub fn write_bundle(skills: &[ExportSkill], format: BundleFormat) -> std::io::Result<Vec<u8>> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for skill in skills {
        let prefix = format!("skills/{}/", skill.metadata.slug);
        let metadata = serde_json::to_vec_pretty(&skill.metadata).map_err(std::io::Error::other)?;
        files.push((format!("{prefix}metadata.json"), metadata));
        for (path, data) in directory_files(&skill.dir)? {
            files.push((format!("{prefix}{path}"), data));
        }
        if !skill.grants.is_empty() {
            let mut lines = Vec::new();
            for grant in &skill.grants {
                serde_json::to_writer(&mut lines, grant).map_err(std::io::Error::other)?;
                lines.push(b'\n');
            }
            files.push((format!("{prefix}grants.jsonl"), lines));
        }
    }
    match format {
        BundleFormat::TarGz => {
            let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let mut builder = tar::Builder::new(encoder);
            for (name, data) in &files {
                let mut header = tar::Header::new_gnu();
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                header.set_cksum();
                builder.append_data(&mut header, name, data.as_slice())?;
            }
            builder.into_inner()?.finish()
        }
        BundleFormat::Zip => {
            let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in &files {
                writer
                    .start_file(name.as_str(), options)
                    .map_err(std::io::Error::other)?;
                writer.write_all(data)?;
            }
            Ok(writer.finish().map_err(std::io::Error::other)?.into_inner())
        }
    }
}

/// The regular files under `root` (links skipped, `metadata.json`/`grants.jsonl` at the top
/// left out), with `/`-separated relative paths, `SKILL.md` first.
fn directory_files(root: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let Ok(relative) = path.strip_prefix(root) else {
                    continue;
                };
                let relative = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                if relative == "metadata.json" || relative == "grants.jsonl" {
                    continue;
                }
                files.push((relative, std::fs::read(&path)?));
            }
        }
    }
    files.sort_by(|a, b| (a.0 != "SKILL.md", &a.0).cmp(&(b.0 != "SKILL.md", &b.0)));
    Ok(files)
}

#[cfg(test)]
mod tests;

//! Reading an uploaded skill package (a zip with `SKILL.md` at its root or inside one
//! top-level directory) and installing it as a version directory of the skill store.
//!
//! Everything is checked before anything is written: an entry that would land outside the
//! skill (`..`, an absolute path, a drive letter), a symlink, more than [`MAX_ENTRIES`] entries,
//! an archive over the upload limit, or files that unpack past the unpacked limit (counted by
//! what decompression actually yields, not by what the headers claim) refuse the whole
//! package. Installation writes into a staging directory beside the destination and renames
//! it into place, so a failed write leaves nothing behind either.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Most entries a package may hold.
pub const MAX_ENTRIES: usize = 1000;

/// How large a package may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageLimits {
    /// The zip file itself.
    pub max_archive_bytes: u64,
    /// All its files once decompressed.
    pub max_unpacked_bytes: u64,
}

impl PackageLimits {
    /// `skills.max_upload_size_mb` for the archive, and five times that unpacked.
    pub fn from_upload_mb(mb: u32) -> Self {
        let bytes = u64::from(mb.max(1)) * 1024 * 1024;
        Self {
            max_archive_bytes: bytes,
            max_unpacked_bytes: bytes * 5,
        }
    }
}

/// Why a package was refused; the message is meant for the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("the upload is larger than the {limit_mb} MB limit (skills.max_upload_size_mb)")]
    TooLarge { limit_mb: u64 },
    #[error("the files unpack to more than {limit_mb} MB")]
    UnpacksTooLarge { limit_mb: u64 },
    #[error("the package holds more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("not a valid zip file: {0}")]
    NotZip(String),
    #[error("entry {0:?} leaves the skill directory (`..`)")]
    Traversal(String),
    #[error("entry {0:?} is an absolute path")]
    Absolute(String),
    #[error("entry {0:?} is a symlink; symlinks are not allowed")]
    Symlink(String),
    #[error("entry {0:?} has an invalid name")]
    BadName(String),
    #[error("entry {name:?} could not be read: {reason}")]
    Unreadable { name: String, reason: String },
    #[error("the package has no SKILL.md at its root (or inside a single top-level directory)")]
    MissingSkillMd,
    #[error("SKILL.md is not UTF-8 text")]
    SkillMdNotText,
    #[error("SKILL.md is empty")]
    EmptySkillMd,
}

/// A checked package: its `SKILL.md` and every file, with paths relative to the skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillPackage {
    pub skill_md: String,
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// Bytes of all files together.
    pub unpacked_bytes: u64,
}

/// Reads and checks the zip `bytes`.
pub fn read_package(bytes: &[u8], limits: PackageLimits) -> Result<SkillPackage, PackageError> {
    if bytes.len() as u64 > limits.max_archive_bytes {
        return Err(PackageError::TooLarge {
            limit_mb: limits.max_archive_bytes / (1024 * 1024),
        });
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| PackageError::NotZip(e.to_string()))?;
    if archive.len() > MAX_ENTRIES {
        return Err(PackageError::TooManyEntries);
    }
    let mut entries: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut unpacked: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| PackageError::NotZip(e.to_string()))?;
        let raw = entry.name().to_owned();
        if entry.is_symlink() {
            return Err(PackageError::Symlink(raw));
        }
        let Some(path) = checked_path(&raw)? else {
            continue; // a directory or an OS artifact
        };
        if entry.is_dir() {
            continue;
        }
        let budget = limits.max_unpacked_bytes - unpacked;
        let mut data = Vec::new();
        (&mut entry)
            .take(budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| PackageError::Unreadable {
                name: raw.clone(),
                reason: e.to_string(),
            })?;
        if data.len() as u64 > budget {
            return Err(PackageError::UnpacksTooLarge {
                limit_mb: limits.max_unpacked_bytes / (1024 * 1024),
            });
        }
        unpacked += data.len() as u64;
        entries.push((path, data));
    }
    let prefix = skill_root(&entries)?;
    let mut files = Vec::with_capacity(entries.len());
    for (path, data) in entries {
        let Ok(relative) = path.strip_prefix(&prefix) else {
            continue; // outside the wrapping directory: not part of the skill
        };
        files.push((relative.to_path_buf(), data));
    }
    let skill_md = files
        .iter()
        .find(|(path, _)| path == Path::new("SKILL.md"))
        .map(|(_, data)| data.clone())
        .ok_or(PackageError::MissingSkillMd)?;
    let skill_md = String::from_utf8(skill_md).map_err(|_| PackageError::SkillMdNotText)?;
    if skill_md.trim().is_empty() {
        return Err(PackageError::EmptySkillMd);
    }
    Ok(SkillPackage {
        skill_md,
        files,
        unpacked_bytes: unpacked,
    })
}

/// The entry's path inside the package, or `None` for a directory marker or an OS artifact
/// (`__MACOSX/`, `.DS_Store`, `Thumbs.db`). Backslashes count as separators, as zips made on
/// Windows use them.
pub(crate) fn checked_path(raw: &str) -> Result<Option<PathBuf>, PackageError> {
    let name = raw.replace('\\', "/");
    if name.contains('\0') {
        return Err(PackageError::BadName(raw.to_owned()));
    }
    let bytes = name.as_bytes();
    if name.starts_with('/')
        || (bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic())
    {
        return Err(PackageError::Absolute(raw.to_owned()));
    }
    let mut path = PathBuf::new();
    for component in Path::new(&name).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(PackageError::Traversal(raw.to_owned())),
            Component::RootDir | Component::Prefix(_) => {
                return Err(PackageError::Absolute(raw.to_owned()));
            }
        }
    }
    if path.as_os_str().is_empty() || is_artifact(&path) {
        return Ok(None);
    }
    Ok(Some(path))
}

fn is_artifact(path: &Path) -> bool {
    path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("__MACOSX" | ".DS_Store" | "Thumbs.db" | "desktop.ini")
        )
    })
}

/// The directory the skill lives in: the root when `SKILL.md` is there, else the one
/// top-level directory holding it.
fn skill_root(entries: &[(PathBuf, Vec<u8>)]) -> Result<PathBuf, PackageError> {
    if entries.iter().any(|(p, _)| p == Path::new("SKILL.md")) {
        return Ok(PathBuf::new());
    }
    entries
        .iter()
        .find_map(|(path, _)| {
            let mut parts = path.components();
            let top = parts.next()?;
            let rest: PathBuf = parts.collect();
            (rest == Path::new("SKILL.md")).then(|| PathBuf::from(top.as_os_str()))
        })
        .ok_or(PackageError::MissingSkillMd)
}

/// Writes `package` as the directory `dest` (which must not exist yet): into a staging
/// directory beside it first, renamed into place once every file is written.
pub fn install(package: &SkillPackage, dest: &Path) -> std::io::Result<()> {
    let parent = dest
        .parent()
        .ok_or_else(|| std::io::Error::other("the destination has no parent directory"))?;
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".upload-")
        .tempdir_in(parent)?;
    for (path, data) in &package.files {
        let target = staging.path().join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&target, data)?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dest).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&staged);
    })
}

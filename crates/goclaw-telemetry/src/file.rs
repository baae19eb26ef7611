//! A log file that rotates itself by size: when the next line would take the file past its
//! limit, `goclaw.log` becomes `goclaw.log.1`, older copies shift up, the oldest beyond the
//! retention count is deleted, and a new file is started.
//!
//! The file is opened in append mode, so external rotation by `logrotate` with `copytruncate`
//! also works (set the size limit to 0 to leave rotation to it). Lines arrive whole from the
//! masking writer, so a rotation never splits a line.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// Size-based rotation of one log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate when the file would grow past this many bytes; 0 never rotates.
    pub max_bytes: u64,
    /// Rotated copies kept (`.1` … `.N`); older ones are deleted.
    pub keep: u32,
}

/// A log file shared by every writer of the process.
#[derive(Debug, Clone)]
pub struct RotatingFile {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    path: PathBuf,
    file: File,
    size: u64,
    rotation: Rotation,
}

impl RotatingFile {
    /// Opens (creating it and its directory) the log file at `path` for appending.
    pub fn open(path: impl Into<PathBuf>, rotation: Rotation) -> io::Result<Self> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            state: Arc::new(Mutex::new(State {
                path,
                file,
                size,
                rotation,
            })),
        })
    }

    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| io::Error::other("log file lock poisoned"))?;
        let max = state.rotation.max_bytes;
        let len = line.len() as u64;
        if max > 0 && state.size > 0 && state.size + len > max {
            // Someone (logrotate) may have truncated the file meanwhile.
            state.size = state.file.metadata().map(|m| m.len()).unwrap_or(state.size);
            if state.size > 0 && state.size + len > max {
                state.rotate()?;
            }
        }
        state.file.write_all(line)?;
        state.size += len;
        Ok(())
    }
}

impl State {
    fn rotate(&mut self) -> io::Result<()> {
        let keep = self.rotation.keep;
        if keep == 0 {
            fs::remove_file(&self.path).or_else(ignore_missing)?;
        } else {
            fs::remove_file(numbered(&self.path, keep)).or_else(ignore_missing)?;
            for n in (1..keep).rev() {
                fs::rename(numbered(&self.path, n), numbered(&self.path, n + 1))
                    .or_else(ignore_missing)?;
            }
            fs::rename(&self.path, numbered(&self.path, 1)).or_else(ignore_missing)?;
        }
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn ignore_missing(error: io::Error) -> io::Result<()> {
    if error.kind() == io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(error)
    }
}

/// `goclaw.log` → `goclaw.log.<n>`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o640);
    }
    options.open(path)
}

/// One writer handed to the formatter; it passes what it is given to the file as one line.
#[derive(Debug)]
pub struct FileWriter {
    file: RotatingFile,
}

impl Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for RotatingFile {
    type Writer = FileWriter;

    fn make_writer(&'a self) -> Self::Writer {
        FileWriter { file: self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(file: &RotatingFile, line: &str) {
        file.make_writer()
            .write_all(line.as_bytes())
            .expect("writing a log line");
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn rotates_by_size_and_keeps_the_newest_copies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs/goclaw.log");
        let rotation = Rotation {
            max_bytes: 20,
            keep: 2,
        };
        let file = RotatingFile::open(&path, rotation).expect("open");
        for n in 0..5 {
            write(&file, &format!("line number {n}\n")); // 14 bytes: one line per file
        }
        assert_eq!(read(&path), "line number 4\n");
        assert_eq!(read(&numbered(&path, 1)), "line number 3\n");
        assert_eq!(read(&numbered(&path, 2)), "line number 2\n");
        assert!(!numbered(&path, 3).exists(), "only two copies are kept");
    }

    #[test]
    fn appends_to_an_existing_file_and_never_splits_a_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("goclaw.log");
        fs::write(&path, "old\n").expect("seed");
        let rotation = Rotation {
            max_bytes: 10,
            keep: 1,
        };
        let file = RotatingFile::open(&path, rotation).expect("open");
        write(&file, "a line longer than the limit\n");
        assert_eq!(read(&numbered(&path, 1)), "old\n");
        assert_eq!(read(&path), "a line longer than the limit\n");
    }

    #[test]
    fn zero_limit_leaves_rotation_to_logrotate_copytruncate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("goclaw.log");
        let rotation = Rotation {
            max_bytes: 0,
            keep: 5,
        };
        let file = RotatingFile::open(&path, rotation).expect("open");
        write(&file, "before\n");
        // What `copytruncate` does: copy, then truncate in place.
        fs::copy(&path, numbered(&path, 1)).expect("copy");
        OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(0))
            .expect("truncate");
        write(&file, "after\n");
        assert_eq!(read(&path), "after\n", "append mode writes at the new end");
        assert_eq!(read(&numbered(&path, 1)), "before\n");
    }

    #[cfg(unix)]
    #[test]
    fn new_log_files_are_not_world_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("goclaw.log");
        let _file = RotatingFile::open(
            &path,
            Rotation {
                max_bytes: 0,
                keep: 0,
            },
        )
        .expect("open");
        let mode = fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o007, 0, "mode {mode:o}");
    }
}

//! Errors that stop loading ([`ConfigError`]) and findings that do not
//! ([`ConfigWarning`]). Every message names the file, key path or variable
//! it is about.
#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config path given explicitly (`--config`) does not exist.
    #[error("{}: config file not found", .file.display())]
    NotFound {
        /// The path that was given.
        file: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("{}: cannot read config file: {source}", .file.display())]
    Read {
        /// The config file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid JSON5.
    #[error("{}: syntax error{}: {message}", .file.display(), location(*.line, *.column))]
    Syntax {
        /// The config file.
        file: PathBuf,
        /// One-based line of the error, when known.
        line: Option<usize>,
        /// One-based column of the error, when known.
        column: Option<usize>,
        /// What the parser expected.
        message: String,
    },
    /// A key has a value of the wrong type, an unknown enum value, or a value
    /// out of range.
    #[error("{}{path}: {message}", file_prefix(.file.as_deref()))]
    Invalid {
        /// The config file, when the value came from one.
        file: Option<PathBuf>,
        /// Dotted key path, e.g. `gateway.port` or `agents.list.bob.temperature`.
        path: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// The file holds a secret that may only come from the environment.
    #[error(
        "{}: {path} must not be stored in the config file; set {env_var} in the environment instead",
        .file.display()
    )]
    SecretInFile {
        /// The config file.
        file: PathBuf,
        /// Dotted key path of the secret.
        path: String,
        /// The variable that must carry it.
        env_var: &'static str,
    },
    /// An environment variable has a value that cannot be used.
    #[error("environment variable {var}: {message}")]
    InvalidEnv {
        /// The variable.
        var: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// A required environment variable is missing.
    #[error("environment variable {var} must be set: {reason}")]
    MissingEnv {
        /// The variable.
        var: &'static str,
        /// Why it is required.
        reason: String,
    },
}

impl ConfigError {
    /// Attaches the config file to an [`ConfigError::Invalid`] that has none.
    pub(crate) fn in_file(self, path: &Path) -> Self {
        match self {
            Self::Invalid {
                file: None,
                path: key,
                message,
            } => Self::Invalid {
                file: Some(path.to_path_buf()),
                path: key,
                message,
            },
            other => other,
        }
    }

    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            file: None,
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn invalid_env(var: &str, message: impl Into<String>) -> Self {
        Self::InvalidEnv {
            var: var.to_owned(),
            message: message.into(),
        }
    }
}

fn file_prefix(file: Option<&Path>) -> String {
    file.map(|f| format!("{}: ", f.display()))
        .unwrap_or_default()
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        (Some(line), None) => format!(" at line {line}"),
        _ => String::new(),
    }
}

/// Something in the file that was accepted but deserves attention: an
/// unknown key (often a typo), an ignored key, or a secret better kept in
/// the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// Dotted key path, e.g. `gateway.rate_limt_rpm`.
    pub path: String,
    /// What happened and what to do.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

//! Installs the global `tracing` subscriber: level from settings, JSON or text format, stdout
//! through the masking writer.

use std::io;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::mask::{MaskingMakeWriter, SecretMask};

/// How log lines are formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line (the default; what log collectors expect).
    #[default]
    Json,
    /// Human-readable text.
    Text,
}

/// What the logger needs to know.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `error`, `warn`, `info`, `debug` or `trace`, or a full `EnvFilter` directive.
    pub level: String,
    pub format: LogFormat,
    /// Values that must never appear in output.
    pub mask: SecretMask,
}

/// Why the logger could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("invalid log level {level:?}: {reason}")]
    InvalidLevel { level: String, reason: String },
    #[error("a global logger is already installed")]
    AlreadyInstalled,
}

/// Installs the process-wide logger writing to stdout.
pub fn init_logging(settings: &LogSettings) -> Result<(), LoggingError> {
    install(settings, io::stdout)
}

/// Installs the process-wide logger writing to stderr (for commands whose stdout is their
/// output).
pub fn init_logging_stderr(settings: &LogSettings) -> Result<(), LoggingError> {
    install(settings, io::stderr)
}

/// Installs the process-wide logger writing to a (self-rotating) log file.
pub fn init_logging_file(
    settings: &LogSettings,
    file: crate::file::RotatingFile,
) -> Result<(), LoggingError> {
    install(settings, file)
}

/// Builds a subscriber for `settings` writing through `make_writer` (tests capture output with
/// this).
pub fn subscriber<W>(
    settings: &LogSettings,
    make_writer: W,
) -> Result<Box<dyn tracing::Subscriber + Send + Sync>, LoggingError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.level).map_err(|e| LoggingError::InvalidLevel {
        level: settings.level.clone(),
        reason: e.to_string(),
    })?;
    let writer = MaskingMakeWriter::new(make_writer, settings.mask.clone());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    Ok(match settings.format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish(),
        ),
        LogFormat::Text => Box::new(builder.with_ansi(false).finish()),
    })
}

fn install<W>(settings: &LogSettings, make_writer: W) -> Result<(), LoggingError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let subscriber = subscriber(settings, make_writer)?;
    tracing::subscriber::set_global_default(subscriber).map_err(|_| LoggingError::AlreadyInstalled)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Capture {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("capture lock").clone()).expect("utf-8 logs")
        }
    }

    const TOKEN: &str = "gw-token-5f2b9c1d7e";
    const DSN_PASSWORD: &str = "pg-pass-8a7b6c";

    fn log_everything(format: LogFormat) -> String {
        let capture = Capture::default();
        let settings = LogSettings {
            level: "debug".into(),
            format,
            mask: SecretMask::new([TOKEN, DSN_PASSWORD]),
        };
        let subscriber = subscriber(&settings, capture.clone()).expect("subscriber");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("connecting with token {TOKEN}");
            tracing::warn!(token = TOKEN, "security.test_event");
            tracing::debug!(dsn = %format!("postgres://app:{DSN_PASSWORD}@db/goclaw"), "opening");
            tracing::error!(error = ?format!("auth failed for \"{TOKEN}\""), "failure");
        });
        capture.text()
    }

    #[test]
    fn json_lines_mask_every_secret() {
        let out = log_everything(LogFormat::Json);
        assert_eq!(out.lines().count(), 4, "{out}");
        for line in out.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
            assert!(value.get("level").is_some(), "{line}");
        }
        assert!(!out.contains(TOKEN), "token leaked: {out}");
        assert!(!out.contains(DSN_PASSWORD), "password leaked: {out}");
        assert!(out.contains("***"), "{out}");
        assert!(out.contains("security.test_event"));
    }

    #[test]
    fn text_lines_mask_every_secret() {
        let out = log_everything(LogFormat::Text);
        assert_eq!(out.lines().count(), 4, "{out}");
        assert!(!out.contains(TOKEN), "token leaked: {out}");
        assert!(!out.contains(DSN_PASSWORD), "password leaked: {out}");
    }

    #[test]
    fn rejects_bad_level() {
        let settings = LogSettings {
            level: "loud=[".into(),
            format: LogFormat::Json,
            mask: SecretMask::default(),
        };
        assert!(subscriber(&settings, io::sink).is_err());
    }
}

//! Errors of the config stage: each says which file and line, and what to do next.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a user's file. `line` and `column` are 1-based; 0 means unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(file: &Path, line: usize, column: usize) -> Self {
        Location {
            file: file.to_path_buf(),
            line,
            column,
        }
    }

    pub fn file(file: &Path) -> Self {
        Location::new(file, 0, 0)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause is part of the message, not a `source`: printed as a chain it would repeat.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{at}: not UTF-8 text (byte 0x{byte:02x}); orch reads releases and values files as UTF-8"
    )]
    NotUtf8 { at: Location, byte: u8 },
    #[error("{at}: {message}")]
    Yaml { at: Location, message: String },
    #[error("{at}: template error: {message}")]
    Template { at: Location, message: String },
    #[error("{at}: {message}")]
    Invalid { at: Location, message: String },
    #[error("{at}: values file {} does not exist", path.display())]
    MissingValuesFile { at: Location, path: PathBuf },
    #[error("unknown environment `{name}`; {}", known_environments(known))]
    UnknownEnvironment { name: String, known: Vec<String> },
    #[error(
        "no releases file: {} has neither releases/ nor helmfile.yaml; pass -f PATH",
        dir.display()
    )]
    NoReleasesFile { dir: PathBuf },
    #[error("{}: no *.yaml or *.yaml.j2 files in this directory", dir.display())]
    EmptyDirectory { dir: PathBuf },
    #[error("--set {}: {message}", shorten(expression))]
    BadSetExpression { expression: String, message: String },
}

fn known_environments(known: &[String]) -> String {
    if known.is_empty() {
        "the releases files define no environments".to_string()
    } else {
        format!("defined: {}", known.join(", "))
    }
}

impl ConfigError {
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        ConfigError::Io {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// Input echoed in a message, cut to a readable length: a 5 MB name must not become a
/// 5 MB error line.
pub fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    const MAX_CHARS: usize = 80;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}... ({} bytes)", &text[..cut], text.len()).into(),
        None => text.into(),
    }
}

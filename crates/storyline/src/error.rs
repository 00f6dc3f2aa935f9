//! Typed errors of the library. Binaries add context with `anyhow`.

use std::path::PathBuf;

/// Where a bad record came from: a file, and a line when the format has lines.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.path.display(), line),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// One input record that could not be read. The run records it and goes on.
#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{location}: {message}")]
pub struct IngestError {
    pub location: Location,
    pub message: String,
}

impl IngestError {
    pub fn new(path: impl Into<PathBuf>, line: Option<usize>, message: impl Into<String>) -> Self {
        IngestError {
            location: Location {
                path: path.into(),
                line,
            },
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The store's engine failed. The engine's own error is the source, boxed, so that no
    /// engine's type is part of the library's interface.
    #[error("store {path}: {source}")]
    Store {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "store {path} has schema version {found}, this storyline understands up to {supported}"
    )]
    SchemaVersion {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{0}")]
    Input(#[from] IngestError),
    #[error("no such {what}: {id}")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
    /// Another writer committed a batch after this pipeline restored its state: the batch
    /// was refused whole, and a pipeline restored again can take it.
    #[error("{}: another ingest wrote to this store meanwhile; run one ingest at a time", path.display())]
    WrittenMeanwhile { path: PathBuf },
    /// The system refused a thread for a pipeline stage.
    #[error("cannot start the {stage} thread: {source}")]
    Thread {
        stage: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The optional sentence-embedding model failed (load or inference).
    #[error("embedding model: {0}")]
    Embed(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

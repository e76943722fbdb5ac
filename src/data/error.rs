//! Errors of the data layer; every one names the file it is about.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The OS error is part of the message (and not a `source`, so a printed error chain
    /// says it once).
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{0}")]
    Mismatch(String),
    #[error("bad shard '{0}': expected i/n with 0 <= i < n, e.g. 0/4")]
    BadShard(String),
    #[error("policy failed: {0}")]
    Policy(String),
    #[error(transparent)]
    Env(#[from] crate::envs::EnvError),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}

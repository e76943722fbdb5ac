//! Errors of the simulation core.
use std::path::PathBuf;

/// What went wrong loading or stepping a MuJoCo model.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The MJCF did not compile; `message` is MuJoCo's, with its line where MuJoCo gives one.
    #[error("{}: MJCF does not compile: {message}", source_name.display())]
    Compile {
        source_name: PathBuf,
        message: String,
    },
    /// The file could not be read at all (the OS error is part of the message, not a
    /// `source`, so a printed error chain says it once).
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The simulation became unstable (NaN/Inf or huge values); the episode cannot go on.
    #[error("simulation diverged at t = {time_secs:.4} s: {message}")]
    Diverged { time_secs: f64, message: String },
    /// MuJoCo raised an error while stepping or recomputing (its stack or arena ran out, say);
    /// the simulation was reset, so the episode cannot go on.
    #[error("MuJoCo error at t = {time_secs:.4} s: {message} (the simulation was reset)")]
    Mujoco { time_secs: f64, message: String },
    /// A control vector or action sequence had the wrong size or non-finite values.
    #[error("bad control input: {0}")]
    BadControl(String),
    /// A saved state does not belong to this model.
    #[error("state does not fit the model: {0}")]
    BadState(String),
    /// The model has a size or feature this core does not accept.
    #[error("unsupported model: {0}")]
    Unsupported(String),
}

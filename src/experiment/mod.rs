//! Experiments that chain the other layers into one resumable, shardable pipeline (collect data,
//! train, evaluate, report), each stage keeping its results in files under one folder.
//!
//! - [`zero_shot`]: the paper's section 5.2.1 at this machine's scale: one TDM trained on many
//!   procedural walkers, evaluated on walkers it never saw, against the ground-truth planner and
//!   against its own BC view.
//! - [`few_shot`]: that generalist fine-tuned on a few episodes of a held-out walker, against a
//!   TDM from scratch and the best MLP baseline on the same data (Fig. 6b's shape).
//! - [`walkers`]: what both are built from: walkers by name, the ground-truth expert and its
//!   data, prompted evaluation episodes.
pub mod few_shot;
pub mod walkers;
pub mod zero_shot;

use crate::data::DataError;
use crate::envs::EnvError;
use crate::models::ModelError;
use crate::models::tdm::TrainError;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    /// A stage needs an earlier one's results.
    #[error("{0}")]
    NotReady(String),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Train(#[from] TrainError),
}

impl ExperimentError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Writes `value` as pretty JSON to `path`, atomically.
fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), ExperimentError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ExperimentError::io(dir, e))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| ExperimentError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    crate::files::atomic_write(path, text.as_bytes()).map_err(|e| ExperimentError::io(path, e))
}

/// Reads JSON written by [`write_json`]; a broken file is an error naming it.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ExperimentError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// A number in a report's CSV, written with `D` decimals.
#[derive(Clone, Copy, Debug)]
struct Fixed<const D: usize>(f64);

impl<const D: usize> serde::Serialize for Fixed<D> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.*}", D, self.0))
    }
}

/// A report's three files in `dir`: `results.json`, `results.csv` (the `header` line, then one
/// line per row, its fields in the header's order) and `results.png`.
fn write_results<R: serde::Serialize>(
    dir: &Path,
    report: &impl serde::Serialize,
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
    chart: &crate::chart::Chart,
    (width, height): (u32, u32),
) -> Result<(), ExperimentError> {
    write_json(&dir.join("results.json"), report)?;
    let path = dir.join("results.csv");
    let table = || -> Result<Vec<u8>, std::io::Error> {
        let mut csv = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        csv.write_record(header)?;
        for row in rows {
            csv.serialize(row)?;
        }
        csv.into_inner().map_err(|e| e.into_error())
    };
    let bytes = table().map_err(|e| ExperimentError::io(&path, e))?;
    crate::files::atomic_write(&path, &bytes).map_err(|e| ExperimentError::io(&path, e))?;
    let path = dir.join("results.png");
    chart
        .save_png(&path, width, height)
        .map_err(|e| ExperimentError::io(&path, e))
}

//! Saving what the window shows to files: text (walker trees, MJCF, plot CSVs), the 3D view as
//! a PNG (from pixels the window read back), and the episode so far as a one-episode dataset.
//! Every write is atomic; every error names the file and the problem.
use super::scene::SceneRunner;
use crate::data::{DataError, Dataset, EnvInfo};
use std::path::{Path, PathBuf};

/// A file that could not be written, and why.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot save {what} to {path}: {source}")]
    Write {
        what: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot save the view to {path}: {source}")]
    View {
        path: PathBuf,
        source: ReadbackError,
    },
    #[error("cannot save the view to {path}: {problem}")]
    Png { path: PathBuf, problem: String },
    #[error("the episode has no steps yet: nothing to export")]
    EmptyEpisode,
    #[error("cannot export the episode: {0}")]
    Dataset(#[from] DataError),
}

/// Why the window could not read the 3D view back from the GPU.
#[derive(Debug, thiserror::Error)]
pub enum ReadbackError {
    #[error("no GPU renderer to read the view from")]
    NoRenderer,
    #[error("the 3D view has not been drawn yet")]
    NotDrawn,
    /// The renderer's read-back failed (its message).
    #[error("{0}")]
    Gpu(String),
}

/// A frame read back from the GPU: width, height and tightly packed RGBA8 rows.
pub type Pixels = (u32, u32, Vec<u8>);

/// Writes `text` to `path`; `what` names it in messages ("walker tree", "reward CSV").
pub fn save_text(path: &Path, text: &str, what: &str) -> Result<(), ExportError> {
    crate::files::atomic_write(path, text.as_bytes()).map_err(|source| ExportError::Write {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    })
}

/// Encodes read-back pixels (`Err`: why none could be read) as a PNG at `path`.
pub fn save_png(path: &Path, pixels: Result<Pixels, ReadbackError>) -> Result<(), ExportError> {
    let (w, h, rgba) = pixels.map_err(|source| ExportError::View {
        path: path.to_path_buf(),
        source,
    })?;
    let png = |problem: String| ExportError::Png {
        path: path.to_path_buf(),
        problem,
    };
    let bytes = crate::render::image::encode_png(w, h, &rgba).map_err(png)?;
    crate::files::atomic_write(path, &bytes).map_err(|e| png(e.to_string()))
}

/// Appends the scene's episode so far to the dataset in `dir` (created if new); returns its
/// number of steps.
pub fn save_episode(dir: &Path, scene: &SceneRunner) -> Result<usize, ExportError> {
    let episode = scene.episode();
    if episode.is_empty() {
        return Err(ExportError::EmptyEpisode);
    }
    let spec = scene.env().spec();
    let policy = serde_json::json!({
        "kind": format!("{:?}", scene.policy).to_lowercase(),
        "model": scene.agent.model.name,
        "source": "tdm-workbench window",
    });
    let mut ds =
        Dataset::create_or_resume(dir, EnvInfo::from_spec(spec), policy, scene.seed, None)?;
    let index = ds.meta().episodes.len();
    ds.append(index, scene.seed, episode)?;
    Ok(episode.len())
}

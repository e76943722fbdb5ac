//! Opening any learned model from its checkpoint file (the file says which family it is), and
//! any model a command line names (`gt` or a checkpoint).
use super::checkpoint_file::checkpoint_family;
use super::mlp::MlpModel;
use super::tdm::TdmModel;
use super::{DynamicsModel, GroundTruth, ModelError};
use crate::envs::{EnvSpec, Task};
use std::path::Path;
use std::sync::Arc;

/// A learned dynamics model loaded from a checkpoint.
pub enum LearnedModel {
    Tdm(Box<TdmModel>),
    Mlp(Box<MlpModel>),
}

impl LearnedModel {
    /// Loads the TDM or MLP baseline in `path` for `spec`; every error names the file.
    pub fn load(path: &Path, spec: &EnvSpec) -> Result<Self, ModelError> {
        match checkpoint_family(path)? {
            "mlp" => Ok(Self::Mlp(Box::new(MlpModel::load(path, spec)?))),
            _ => Ok(Self::Tdm(Box::new(TdmModel::load(path, spec)?))),
        }
    }

    pub fn as_dyn(&mut self) -> &mut dyn DynamicsModel {
        match self {
            Self::Tdm(m) => m.as_mut(),
            Self::Mlp(m) => m.as_mut(),
        }
    }

    pub fn into_dyn(self) -> Box<dyn DynamicsModel> {
        match self {
            Self::Tdm(m) => m,
            Self::Mlp(m) => m,
        }
    }
}

/// Whether the checkpoint in `path` can plan on `spec`, from its metadata alone (no tensor is
/// read, so a list of files is checked in milliseconds): the same rule [`LearnedModel::load`]
/// applies, with the same [`ModelError::Shape`] message where it does not fit.
pub fn check_fit(path: &Path, spec: &EnvSpec) -> Result<(), ModelError> {
    let fit = match checkpoint_family(path)? {
        "mlp" => super::mlp::load_meta(path)?.fit(spec),
        _ => super::tdm::load_meta(path)?.fit(spec),
    };
    fit.map_err(|why| ModelError::Shape(format!("{}: {why}", path.display())))
}

/// Parses a model argument of the command line: `gt` (None) or a checkpoint file, optionally
/// prefixed `tdm:` or `mlp:` (the file's own metadata decides which it is).
pub fn model_path(arg: &str) -> Option<&Path> {
    if arg == "gt" {
        return None;
    }
    let file = arg
        .strip_prefix("tdm:")
        .or_else(|| arg.strip_prefix("mlp:"))
        .unwrap_or(arg);
    Some(Path::new(file))
}

/// The model a command-line argument names (see [`model_path`]) for `task`: ground truth with
/// `gt_threads` rollout workers (0: one per core), or the checkpoint's model.
pub fn open_model(
    arg: &str,
    task: &Arc<dyn Task>,
    gt_threads: usize,
) -> Result<Box<dyn DynamicsModel>, ModelError> {
    Ok(match model_path(arg) {
        None => Box::new(GroundTruth::new(task.clone(), gt_threads)),
        Some(path) => LearnedModel::load(path, task.spec())?.into_dyn(),
    })
}

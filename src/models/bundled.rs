//! The checkpoints shipped in `assets/models`: which files there are, which family each one's
//! metadata names, and the bundled TDM for a task (the window's and `gui --model bundled`'s
//! default).
use super::{check_fit, checkpoint_family};
use crate::envs::EnvSpec;
use std::path::{Path, PathBuf};

/// A checkpoint shipped in `assets/models`, with the family its metadata names.
#[derive(Clone, Debug, PartialEq)]
pub struct BundledModel {
    pub path: PathBuf,
    /// "tdm" or "mlp".
    pub family: &'static str,
}

impl BundledModel {
    /// The family in capitals and the file name, e.g. `TDM cartpole-swingup-small.safetensors`.
    pub fn label(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        format!("{} {name}", self.family.to_uppercase())
    }
}

/// `./assets/models` if it exists, else the one beside the sources.
fn models_dir() -> PathBuf {
    let local = PathBuf::from("assets/models");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models")
    }
}

/// The readable checkpoints shipped in `assets/models`, TDMs first.
pub fn bundled_models() -> Vec<BundledModel> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(models_dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "safetensors")
                        && !p.to_string_lossy().ends_with(".train.safetensors")
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut models: Vec<BundledModel> = files
        .into_iter()
        .filter_map(|path| {
            let family = checkpoint_family(&path).ok()?;
            Some(BundledModel { path, family })
        })
        .collect();
    models.sort_by_key(|m| m.family != "tdm");
    models
}

/// The bundled models for a scene of `spec`, each with why it does not fit (`None`: it fits),
/// those that fit first; read from the files' metadata, no tensor is loaded.
pub fn bundled_models_for(spec: &EnvSpec) -> Vec<(BundledModel, Option<String>)> {
    let mut models: Vec<(BundledModel, Option<String>)> = bundled_models()
        .into_iter()
        .map(|m| {
            let why = check_fit(&m.path, spec).err().map(|e| e.to_string());
            (m, why)
        })
        .collect();
    models.sort_by_key(|(_, why)| why.is_some());
    models
}

/// The bundled TDM for a task, if one was trained on it (`assets/models/TASK-*.safetensors`).
pub fn bundled_model_for(task: &str) -> Option<PathBuf> {
    bundled_models()
        .into_iter()
        .find(|m| {
            m.family == "tdm"
                && m.path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{task}-")))
        })
        .map(|m| m.path)
}

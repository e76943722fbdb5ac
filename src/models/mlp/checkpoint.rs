//! MLP checkpoints in the shared format ([`crate::models::checkpoint_file`]): the metadata key
//! `mlp` holds [`MlpMeta`] as JSON (sizes, variant, normalisation, training environment); the
//! tensors are those [`Mlp::new`] creates for its [`super::MlpConfig`].
use super::config::{MLP_CHECKPOINT_VERSION, MlpMeta};
use super::model::Mlp;
use crate::models::checkpoint_file::{self as file, CheckpointError, Family};
use candle_core::Tensor;
use candle_nn::{VarBuilder, VarMap};
use std::collections::HashMap;
use std::path::Path;

/// The MLP family of the shared checkpoint format.
pub struct MlpFile;

impl Family for MlpFile {
    const KEY: &'static str = "mlp";
    const VERSION: u32 = MLP_CHECKPOINT_VERSION;
    type Meta = MlpMeta;
    type Model = Mlp;

    fn check(meta: &MlpMeta) -> Result<(), impl std::fmt::Display> {
        meta.validate()
    }

    fn tensor_shapes(meta: &MlpMeta) -> Vec<(String, Vec<usize>)> {
        meta.model.tensor_shapes()
    }

    fn build(meta: &MlpMeta, vb: VarBuilder) -> candle_core::Result<Mlp> {
        Mlp::new(meta.model, vb)
    }
}

/// A loaded MLP checkpoint: its metadata, variables and model.
pub type LoadedMlp = file::Loaded<MlpFile>;

/// Writes the checkpoint (atomically) and, when given, the training state sidecar.
pub fn save(
    path: &Path,
    varmap: &VarMap,
    meta: &MlpMeta,
    train_state: Option<(&HashMap<String, Tensor>, u64)>,
) -> Result<(), CheckpointError> {
    file::save::<MlpFile>(path, varmap, meta, train_state)
}

/// Reads and checks a checkpoint: valid safetensors, metadata from this or an older version
/// whose sizes agree (refused: a TDM's), every tensor present with the shape the config
/// implies.
pub fn load(path: &Path) -> Result<LoadedMlp, CheckpointError> {
    file::load::<MlpFile>(path)
}

//! TDM checkpoints in the shared format ([`crate::models::checkpoint_file`]): the metadata key
//! `tdm` holds [`CheckpointMeta`] as JSON; the tensors are those [`Tdm::new`] creates for its
//! [`super::TdmConfig`].
use super::config::{CHECKPOINT_VERSION, CheckpointMeta};
use super::model::Tdm;
use crate::models::checkpoint_file::{self as file, CheckpointError, Family};
use candle_core::Tensor;
use candle_nn::{VarBuilder, VarMap};
use std::collections::HashMap;
use std::path::Path;

/// The TDM family of the shared checkpoint format.
pub struct TdmFile;

impl Family for TdmFile {
    const KEY: &'static str = "tdm";
    const VERSION: u32 = CHECKPOINT_VERSION;
    type Meta = CheckpointMeta;
    type Model = Tdm;

    fn check(meta: &CheckpointMeta) -> Result<(), impl std::fmt::Display> {
        meta.validate()
    }

    fn tensor_shapes(meta: &CheckpointMeta) -> Vec<(String, Vec<usize>)> {
        meta.model.tensor_shapes()
    }

    fn build(meta: &CheckpointMeta, vb: VarBuilder) -> candle_core::Result<Tdm> {
        Tdm::new(meta.model, vb)
    }
}

/// A loaded TDM checkpoint: its metadata, variables and model.
pub type Loaded = file::Loaded<TdmFile>;

/// Writes the checkpoint (atomically) and, when given, the training state sidecar.
pub fn save(
    path: &Path,
    varmap: &VarMap,
    meta: &CheckpointMeta,
    train_state: Option<(&HashMap<String, Tensor>, u64)>,
) -> Result<(), CheckpointError> {
    file::save::<TdmFile>(path, varmap, meta, train_state)
}

/// A checkpoint's metadata alone, reading only the file's header (not the weights).
pub fn load_meta(path: &Path) -> Result<CheckpointMeta, CheckpointError> {
    file::load_meta::<TdmFile>(path)
}

/// Reads and checks a checkpoint: valid safetensors, metadata from this or an older version
/// (refused: an MLP's, a bad model config), every tensor present with the shape the config
/// implies.
pub fn load(path: &Path) -> Result<Loaded, CheckpointError> {
    file::load::<TdmFile>(path)
}

//! TDM checkpoints in the shared format ([`crate::models::checkpoint_file`]): the metadata key
//! `tdm` holds [`CheckpointMeta`] as JSON.
use super::config::{CHECKPOINT_VERSION, CheckpointMeta};
use super::model::Tdm;
use crate::models::checkpoint_file::{self as file, CheckpointError, bad};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use std::collections::HashMap;
use std::path::Path;

const META_KEY: &str = "tdm";

/// Writes the checkpoint (atomically) and, when given, the training state sidecar.
pub fn save(
    path: &Path,
    varmap: &VarMap,
    meta: &CheckpointMeta,
    train_state: Option<(&HashMap<String, Tensor>, u64)>,
) -> Result<(), CheckpointError> {
    let json = serde_json::to_string(meta).map_err(|e| bad(path, e.to_string()))?;
    file::write(path, varmap, META_KEY, json, train_state)
}

/// A loaded checkpoint: its metadata and the variables of a model built from it.
pub struct Loaded {
    pub meta: CheckpointMeta,
    pub varmap: VarMap,
    pub model: Tdm,
}

/// The checkpoint's metadata from `metadata` (refused: an MLP's, a newer version's, a bad model
/// config).
fn parse_meta(
    path: &Path,
    metadata: &HashMap<String, String>,
) -> Result<CheckpointMeta, CheckpointError> {
    if !metadata.contains_key(META_KEY) && metadata.contains_key("mlp") {
        return Err(bad(path, "an MLP baseline checkpoint, not a TDM"));
    }
    let probe = file::metadata_json(path, metadata, META_KEY, CHECKPOINT_VERSION)?;
    let meta: CheckpointMeta =
        serde_json::from_value(probe).map_err(|e| bad(path, format!("bad metadata: {e}")))?;
    meta.model
        .validate()
        .map_err(|e| bad(path, format!("bad model config: {e}")))?;
    Ok(meta)
}

/// A checkpoint's metadata alone, reading only the file's header (not the weights).
pub fn load_meta(path: &Path) -> Result<CheckpointMeta, CheckpointError> {
    parse_meta(path, &file::read_metadata(path)?)
}

/// Reads and checks a checkpoint: valid safetensors, metadata from this or an older version,
/// every tensor present with the shape the config implies.
pub fn load(path: &Path) -> Result<Loaded, CheckpointError> {
    let (tensors, metadata) = file::read(path)?;
    let meta = parse_meta(path, &metadata)?;
    let varmap = VarMap::new();
    let model = Tdm::new(
        meta.model,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .map_err(|e| bad(path, e.to_string()))?;
    file::fill_varmap(path, &varmap, &tensors)?;
    Ok(Loaded {
        meta,
        varmap,
        model,
    })
}

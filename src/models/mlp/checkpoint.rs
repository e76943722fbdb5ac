//! MLP checkpoints in the shared format ([`crate::models::checkpoint_file`]): the metadata key
//! `mlp` holds [`MlpMeta`] as JSON.
use super::config::{MLP_CHECKPOINT_VERSION, MlpMeta};
use super::model::Mlp;
use crate::models::checkpoint_file::{self as file, CheckpointError, bad};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use std::collections::HashMap;
use std::path::Path;

const META_KEY: &str = "mlp";

/// Writes the checkpoint (atomically) and, when given, the training state sidecar.
pub fn save(
    path: &Path,
    varmap: &VarMap,
    meta: &MlpMeta,
    train_state: Option<(&HashMap<String, Tensor>, u64)>,
) -> Result<(), CheckpointError> {
    let json = serde_json::to_string(meta).map_err(|e| bad(path, e.to_string()))?;
    file::write(path, varmap, META_KEY, json, train_state)
}

/// A loaded MLP checkpoint.
pub struct LoadedMlp {
    pub meta: MlpMeta,
    pub varmap: VarMap,
    pub model: Mlp,
}

/// Reads and checks a checkpoint: valid safetensors, metadata from this or an older version
/// whose sizes agree, every tensor present with the shape the config implies.
pub fn load(path: &Path) -> Result<LoadedMlp, CheckpointError> {
    let (tensors, metadata) = file::read(path)?;
    if !metadata.contains_key(META_KEY) && metadata.contains_key("tdm") {
        return Err(bad(path, "a TDM checkpoint, not an MLP baseline"));
    }
    let probe = file::metadata_json(path, &metadata, META_KEY, MLP_CHECKPOINT_VERSION)?;
    let meta: MlpMeta =
        serde_json::from_value(probe).map_err(|e| bad(path, format!("bad metadata: {e}")))?;
    meta.validate()
        .map_err(|e| bad(path, format!("bad model config: {e}")))?;
    let varmap = VarMap::new();
    let model = Mlp::new(
        meta.model,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .map_err(|e| bad(path, e.to_string()))?;
    file::fill_varmap(path, &varmap, &tensors)?;
    Ok(LoadedMlp {
        meta,
        varmap,
        model,
    })
}

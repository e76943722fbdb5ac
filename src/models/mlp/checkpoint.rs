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

/// The metadata alone (the header; no tensor is read).
pub fn load_meta(path: &Path) -> Result<MlpMeta, CheckpointError> {
    file::load_meta::<MlpFile>(path)
}

/// Reads and checks a checkpoint: valid safetensors, metadata from this or an older version
/// whose sizes agree (refused: a TDM's), every tensor present with the shape the config
/// implies.
pub fn load(path: &Path) -> Result<LoadedMlp, CheckpointError> {
    file::load::<MlpFile>(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::EnvInfo;
    use crate::models::checkpoint_file::tests::rewrite_metadata;
    use crate::models::mlp::{MLP_CHECKPOINT_VERSION, MlpConfig, MlpVariant, Normalization};
    use candle_core::{DType, Device};

    fn saved(name: &str, variant: MlpVariant) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("mlp-ckpt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.safetensors");
        let cfg = MlpConfig::preset("tiny", variant, 5, 1, 3073).unwrap();
        let varmap = VarMap::new();
        Mlp::new(
            cfg,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )
        .unwrap();
        let meta = MlpMeta {
            version: MLP_CHECKPOINT_VERSION,
            model: cfg,
            tokenizer: Default::default(),
            env: EnvInfo {
                name: "toy".into(),
                observation_size: 5,
                action_size: 1,
                control_dt_secs: 0.01,
                observation_labels: vec![],
                action_labels: vec![],
            },
            normalization: Normalization {
                input_mean: vec![0.0; 6],
                input_std: vec![1.0; 6],
                target_mean: vec![0.0; 6],
                target_std: vec![1.0; 6],
            },
            steps_trained: 0,
            samples_trained: 0,
            data: vec![],
            held_out_loss: None,
        };
        save(&path, &varmap, &meta, None).unwrap();
        path
    }

    fn refusal(path: &Path) -> String {
        let err = load(path).err().expect("refused").to_string();
        assert!(err.contains("m.safetensors"), "{err}");
        err
    }

    #[test]
    fn sizes_the_tensors_do_not_have_and_a_foreign_vocabulary_are_refused() {
        let path = saved("layers", MlpVariant::Plain);
        assert!(load(&path).is_ok());
        rewrite_metadata(&path, "mlp", |m| m["model"]["layers"] = 100_000.into());
        let err = refusal(&path);
        assert!(
            err.contains("layers 100000 is too large (at most 256)"),
            "{err}"
        );
        let path = saved("hidden", MlpVariant::Plain);
        rewrite_metadata(&path, "mlp", |m| m["model"]["hidden"] = 65_536.into());
        let err = refusal(&path);
        assert!(err.contains("the config needs [65536]"), "{err}");
        let path = saved("vocab", MlpVariant::TokenizedDelta);
        rewrite_metadata(&path, "mlp", |m| m["tokenizer"]["bins"] = 512.into());
        let err = refusal(&path);
        assert!(
            err.contains("vocab_size 3073 is not the tokenizer's vocabulary (1537 tokens)"),
            "{err}"
        );
    }
}

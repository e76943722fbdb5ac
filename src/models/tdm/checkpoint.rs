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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::checkpoint_file::tests::rewrite_metadata;
    use crate::models::tdm::{CHECKPOINT_VERSION, LossWeights, TdmConfig};
    use candle_core::{DType, Device};

    fn saved(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tdm-ckpt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.safetensors");
        let cfg = TdmConfig::preset("tiny", 3073).unwrap();
        let varmap = VarMap::new();
        Tdm::new(
            cfg,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )
        .unwrap();
        let meta = CheckpointMeta {
            version: CHECKPOINT_VERSION,
            kind: "tdm".into(),
            model: cfg,
            tokenizer: Default::default(),
            envs: vec![],
            loss: LossWeights::default(),
            steps_trained: 0,
            tokens_trained: 0,
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
    fn sizes_the_tensors_do_not_have_are_refused_before_anything_is_built() {
        let path = saved("sizes");
        rewrite_metadata(&path, "tdm", |m| m["model"]["layers"] = 100_000.into());
        let err = refusal(&path);
        assert!(
            err.contains("layers 100000 is too large (at most 256)"),
            "{err}"
        );
        // Within bounds but far more than the file holds: refused from the header, with no
        // allocation of the claimed size.
        let path = saved("width");
        rewrite_metadata(&path, "tdm", |m| {
            m["model"]["width"] = 16_384.into();
            m["model"]["mlp_width"] = 65_536.into();
        });
        let err = refusal(&path);
        assert!(err.contains("the config needs [65536]"), "{err}");
        let path = saved("layers");
        rewrite_metadata(&path, "tdm", |m| m["model"]["layers"] = 3.into());
        let err = refusal(&path);
        assert!(err.contains("missing tensor 'blocks.2.fc1.bias'"), "{err}");
    }

    #[test]
    fn a_tokenizer_that_disagrees_with_the_vocabulary_is_refused() {
        let path = saved("bins");
        rewrite_metadata(&path, "tdm", |m| m["tokenizer"]["bins"] = 512.into());
        let err = refusal(&path);
        assert!(
            err.contains("vocab_size 3073 is not the tokenizer's vocabulary (1537 tokens)"),
            "{err}"
        );
        let path = saved("loss");
        rewrite_metadata(&path, "tdm", |m| m["loss"]["rewards"] = (-1.0).into());
        let err = refusal(&path);
        assert!(err.contains("loss weight rewards = -1"), "{err}");
    }
}

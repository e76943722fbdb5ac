//! The TDM's configuration, its presets, and what a checkpoint records about its training.
use crate::data::EnvInfo;
use crate::tokenize::TokenizerConfig;
use serde::{Deserialize, Serialize};

/// The checkpoint format this build writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// A [`TdmConfig`] whose sizes do not fit together, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TdmConfigError {
    #[error("{field} must be positive")]
    NotPositive { field: &'static str },
    #[error("width {width} is not a multiple of heads {heads}")]
    HeadsDoNotDivide { width: usize, heads: usize },
    #[error("{field} {value} is too small (at least {least})")]
    TooSmall {
        field: &'static str,
        value: usize,
        least: usize,
    },
}

/// Architecture of the decoder-only transformer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TdmConfig {
    pub vocab_size: usize,
    pub layers: usize,
    /// Model width d.
    pub width: usize,
    pub heads: usize,
    /// MLP hidden width (4 d in the presets).
    pub mlp_width: usize,
    /// Tokens a query attends to (the training window; a sliding window at inference).
    pub context_tokens: usize,
    /// Local positions (index within an environment step): step lengths up to this.
    pub max_step_tokens: usize,
}

impl TdmConfig {
    /// Named sizes: `tiny` for tests, `small` (~0.2M parameters) and `base` (~0.8M) that train on
    /// two CPU cores in minutes, `large` (~3.2M) for a GPU or patience.
    pub fn preset(name: &str, vocab_size: usize) -> Option<Self> {
        let (layers, width, heads, context_tokens) = match name {
            "tiny" => (2, 32, 2, 64),
            "small" => (2, 64, 4, 256),
            "base" => (4, 128, 4, 512),
            "large" => (6, 256, 8, 1024),
            _ => return None,
        };
        Some(Self {
            vocab_size,
            layers,
            width,
            heads,
            mlp_width: 4 * width,
            context_tokens,
            max_step_tokens: 128,
        })
    }

    pub fn head_dim(&self) -> usize {
        self.width / self.heads
    }

    /// Checks the sizes fit together.
    pub fn validate(&self) -> Result<(), TdmConfigError> {
        for (field, value) in [
            ("layers", self.layers),
            ("width", self.width),
            ("heads", self.heads),
            ("mlp_width", self.mlp_width),
        ] {
            if value == 0 {
                return Err(TdmConfigError::NotPositive { field });
            }
        }
        if !self.width.is_multiple_of(self.heads) {
            return Err(TdmConfigError::HeadsDoNotDivide {
                width: self.width,
                heads: self.heads,
            });
        }
        for (field, value, least) in [
            ("context_tokens", self.context_tokens, 2),
            ("max_step_tokens", self.max_step_tokens, 4),
            ("vocab_size", self.vocab_size, 4),
        ] {
            if value < least {
                return Err(TdmConfigError::TooSmall {
                    field,
                    value,
                    least,
                });
            }
        }
        Ok(())
    }

    /// ALiBi slope of head `h` (Press et al., 2022): a geometric sequence from 2^(-8/H).
    pub fn alibi_slope(&self, h: usize) -> f32 {
        2f32.powf(-8.0 * (h as f32 + 1.0) / self.heads as f32)
    }

    pub fn parameter_count(&self) -> usize {
        let (d, f, v) = (self.width, self.mlp_width, self.vocab_size);
        let block = 4 * d + d * 3 * d + 3 * d + d * d + d + d * f + f + f * d + d;
        v * d + self.max_step_tokens * d + self.layers * block + 2 * d + d * v + v
    }
}

/// What the model is trained to predict.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossWeights {
    pub observations: f32,
    pub rewards: f32,
    /// Above 0, the model also learns actions (the BC policy view).
    pub actions: f32,
    /// Above 0, each learned token's target is not its one bin but a Gaussian of this standard
    /// deviation (in bins) around it, cut at 3 sigma and renormalised (the "HL-Gauss"
    /// histogram loss): a prediction one bin off is then nearly right instead of entirely
    /// wrong, which tells the model that bins are ordered. 0: the plain one-bin target.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub smoothing_bins: f32,
}

fn is_zero(x: &f32) -> bool {
    *x == 0.0
}

impl Default for LossWeights {
    fn default() -> Self {
        Self {
            observations: 1.0,
            rewards: 1.0,
            actions: 0.0,
            smoothing_bins: 0.0,
        }
    }
}

/// Everything a checkpoint records besides its weights, as JSON in the safetensors metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    pub version: u32,
    /// "tdm" (more kinds share the format later).
    pub kind: String,
    pub model: TdmConfig,
    pub tokenizer: TokenizerConfig,
    /// The environments the model was trained on, with their sizes.
    pub envs: Vec<EnvInfo>,
    pub loss: LossWeights,
    pub steps_trained: u64,
    pub tokens_trained: u64,
    /// Dataset folders used.
    pub data: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_loss: Option<f32>,
}

//! The TDM's configuration, its presets, and what a checkpoint records about its training.
use crate::data::EnvInfo;
use crate::envs::EnvSpec;
use crate::tokenize::{Tokenizer, TokenizerConfig};
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
    #[error("{field} {value} is too large (at most {most})")]
    TooLarge {
        field: &'static str,
        value: usize,
        most: usize,
    },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("vocab_size {vocab_size} is not the tokenizer's vocabulary ({tokenizer} tokens)")]
    VocabMismatch { vocab_size: usize, tokenizer: usize },
    #[error("loss weight {field} = {value} (must be a finite number >= 0)")]
    LossWeight { field: &'static str, value: String },
}

/// Largest sizes a configuration may claim (a checkpoint's header must then hold the tensors
/// too): far above any preset, low enough that no size product overflows.
const MAX_LAYERS: usize = 256;
const MAX_WIDTH: usize = 16_384;
const MAX_MLP_WIDTH: usize = 65_536;
const MAX_CONTEXT: usize = 1 << 20;
const MAX_STEP_TOKENS: usize = 1 << 16;
/// The largest tokenizer's vocabulary (2^20 bins per range).
const MAX_VOCAB: usize = 3 * (1 << 20) + 1;

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
        for (field, value, most) in [
            ("layers", self.layers, MAX_LAYERS),
            ("width", self.width, MAX_WIDTH),
            ("heads", self.heads, self.width),
            ("mlp_width", self.mlp_width, MAX_MLP_WIDTH),
            ("context_tokens", self.context_tokens, MAX_CONTEXT),
            ("max_step_tokens", self.max_step_tokens, MAX_STEP_TOKENS),
            ("vocab_size", self.vocab_size, MAX_VOCAB),
        ] {
            if value > most {
                return Err(TdmConfigError::TooLarge { field, value, most });
            }
        }
        Ok(())
    }

    /// Every variable [`super::Tdm::new`] creates, with its shape (candle's layouts: linear
    /// weights `[out, in]`).
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let (d, f, v) = (self.width, self.mlp_width, self.vocab_size);
        let mut shapes = vec![
            ("tok.weight".to_string(), vec![v, d]),
            ("pos.weight".to_string(), vec![self.max_step_tokens, d]),
            ("ln_f.weight".to_string(), vec![d]),
            ("ln_f.bias".to_string(), vec![d]),
            ("head.weight".to_string(), vec![v, d]),
            ("head.bias".to_string(), vec![v]),
        ];
        for i in 0..self.layers {
            for (name, shape) in [
                ("ln1.weight", vec![d]),
                ("ln1.bias", vec![d]),
                ("qkv.weight", vec![3 * d, d]),
                ("qkv.bias", vec![3 * d]),
                ("proj.weight", vec![d, d]),
                ("proj.bias", vec![d]),
                ("ln2.weight", vec![d]),
                ("ln2.bias", vec![d]),
                ("fc1.weight", vec![f, d]),
                ("fc1.bias", vec![f]),
                ("fc2.weight", vec![d, f]),
                ("fc2.bias", vec![d]),
            ] {
                shapes.push((format!("blocks.{i}.{name}"), shape));
            }
        }
        shapes
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

impl CheckpointMeta {
    /// Whether the model can plan on `spec`, from the metadata alone: a specialist (every
    /// training environment of one observation/action size) needs that size; a generalist,
    /// trained on several sizes, takes any environment whose steps fit its position table
    /// (zero-shot). `Err` says why not, in words.
    pub fn fit(&self, spec: &EnvSpec) -> Result<(), String> {
        let fits = |e: &EnvInfo| {
            e.observation_size == spec.observation_size && e.action_size == spec.action_size
        };
        let generalist = self.envs.iter().any(|e| {
            (e.observation_size, e.action_size)
                != (self.envs[0].observation_size, self.envs[0].action_size)
        });
        if !generalist && !self.envs.iter().any(fits) {
            let trained: Vec<String> = self
                .envs
                .iter()
                .map(|e| {
                    format!(
                        "{} ({} obs, {} act)",
                        e.name, e.observation_size, e.action_size
                    )
                })
                .collect();
            return Err(format!(
                "trained on {}; '{}' has {} obs, {} act",
                trained.join(", "),
                spec.name,
                spec.observation_size,
                spec.action_size
            ));
        }
        let step = Tokenizer::step_len(spec.observation_size, spec.action_size);
        if step > self.model.max_step_tokens {
            return Err(format!(
                "a step of '{}' is {step} tokens, the model knows {}",
                spec.name, self.model.max_step_tokens
            ));
        }
        Ok(())
    }

    /// Checks the model's sizes, that its vocabulary is the tokenizer's, and the loss weights.
    pub fn validate(&self) -> Result<(), TdmConfigError> {
        self.model.validate()?;
        let tokenizer = crate::tokenize::Tokenizer::new(self.tokenizer)
            .map_err(|e| TdmConfigError::Tokenizer(e.to_string()))?
            .vocab_size() as usize;
        if tokenizer != self.model.vocab_size {
            return Err(TdmConfigError::VocabMismatch {
                vocab_size: self.model.vocab_size,
                tokenizer,
            });
        }
        let l = &self.loss;
        for (field, value) in [
            ("observations", l.observations),
            ("rewards", l.rewards),
            ("actions", l.actions),
            ("smoothing_bins", l.smoothing_bins),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(TdmConfigError::LossWeight {
                    field,
                    value: value.to_string(),
                });
            }
        }
        Ok(())
    }
}

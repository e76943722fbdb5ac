//! The MLP baselines' configuration and what their checkpoints record.
use crate::data::EnvInfo;
use crate::envs::EnvSpec;
use crate::tokenize::TokenizerConfig;
use serde::{Deserialize, Serialize};

/// The checkpoint format this build writes and reads for MLPs.
pub const MLP_CHECKPOINT_VERSION: u32 = 1;

/// An [`MlpConfig`] or [`MlpMeta`] that does not hold together, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MlpConfigError {
    #[error("{field} must be positive")]
    NotPositive { field: &'static str },
    #[error(
        "a tokenized MLP needs an embedding width and a vocabulary (embed {embed}, vocab_size {vocab_size})"
    )]
    NoEmbedding { embed: usize, vocab_size: usize },
    #[error(
        "environment '{env}' ({} obs, {} act) does not match the model ({} obs, {} act)",
        env_sizes.0, env_sizes.1, model_sizes.0, model_sizes.1
    )]
    EnvMismatch {
        env: String,
        env_sizes: (usize, usize),
        model_sizes: (usize, usize),
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
    #[error("normalization sizes do not match the model")]
    NormalizationSizes,
    #[error("normalization has a non-finite value or a non-positive deviation")]
    NormalizationValues,
}

/// The baselines of the paper's Fig. 4 / Fig. 12.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MlpVariant {
    /// Standardised (o_t, a_t) in, standardised (o_{t+1}, r_t) out.
    Plain,
    /// Standardised (o_t, a_t) in, the change o_{t+1} - o_t (and r_t) out.
    Delta,
    /// Every entry of (o_t, a_t) tokenized and embedded, (o_{t+1}, r_t) out.
    Tokenized,
    /// Embedded tokens in, delta out: the best baseline of the paper.
    TokenizedDelta,
}

impl MlpVariant {
    pub const ALL: [Self; 4] = [
        Self::Plain,
        Self::Delta,
        Self::Tokenized,
        Self::TokenizedDelta,
    ];

    /// The name used by `train --model` and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "mlp",
            Self::Delta => "mlp-delta",
            Self::Tokenized => "mlp-tokenized",
            Self::TokenizedDelta => "mlp-tokenized-delta",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == s)
    }

    pub fn tokenized_inputs(self) -> bool {
        matches!(self, Self::Tokenized | Self::TokenizedDelta)
    }

    pub fn delta_outputs(self) -> bool {
        matches!(self, Self::Delta | Self::TokenizedDelta)
    }
}

/// Architecture of one MLP baseline (one environment: its sizes are part of the model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    pub variant: MlpVariant,
    pub observation_size: usize,
    pub action_size: usize,
    /// Hidden layers and their width.
    pub layers: usize,
    pub hidden: usize,
    /// Width of each input token's embedding (tokenized variants).
    pub embed: usize,
    /// Vocabulary of the tokenizer (tokenized variants).
    pub vocab_size: usize,
}

impl MlpConfig {
    /// Named sizes: `tiny` for tests, `small` (2 x 256), `base` (3 x 384, ~0.3-0.4M parameters
    /// as the paper's baselines), `large` (4 x 1024).
    pub fn preset(
        name: &str,
        variant: MlpVariant,
        observation_size: usize,
        action_size: usize,
        vocab_size: usize,
    ) -> Option<Self> {
        let (layers, hidden, embed) = match name {
            "tiny" => (2, 32, 8),
            "small" => (2, 256, 16),
            "base" => (3, 384, 32),
            "large" => (4, 1024, 64),
            _ => return None,
        };
        Some(Self {
            variant,
            observation_size,
            action_size,
            layers,
            hidden,
            embed,
            vocab_size,
        })
    }

    /// Entries of one input row: o_t then a_t.
    pub fn inputs(&self) -> usize {
        self.observation_size + self.action_size
    }

    /// Entries of one output row: o_{t+1} (or its change) then r_t.
    pub fn outputs(&self) -> usize {
        self.observation_size + 1
    }

    /// Width of the first layer's input.
    pub fn input_width(&self) -> usize {
        if self.variant.tokenized_inputs() {
            self.inputs() * self.embed
        } else {
            self.inputs()
        }
    }

    pub fn validate(&self) -> Result<(), MlpConfigError> {
        for (field, value) in [
            ("observation_size", self.observation_size),
            ("action_size", self.action_size),
            ("layers", self.layers),
            ("hidden", self.hidden),
        ] {
            if value == 0 {
                return Err(MlpConfigError::NotPositive { field });
            }
        }
        for (field, value, most) in [
            ("observation_size", self.observation_size, 100_000),
            ("action_size", self.action_size, 100_000),
            ("layers", self.layers, 256),
            ("hidden", self.hidden, 65_536),
            ("embed", self.embed, 4096),
            ("vocab_size", self.vocab_size, 3 * (1 << 20) + 1),
        ] {
            if value > most {
                return Err(MlpConfigError::TooLarge { field, value, most });
            }
        }
        if self.variant.tokenized_inputs() && (self.embed == 0 || self.vocab_size < 4) {
            return Err(MlpConfigError::NoEmbedding {
                embed: self.embed,
                vocab_size: self.vocab_size,
            });
        }
        Ok(())
    }

    /// Every variable [`super::Mlp::new`] creates, with its shape (linear weights `[out, in]`).
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut shapes = Vec::new();
        if self.variant.tokenized_inputs() {
            shapes.push(("tok.weight".to_string(), vec![self.vocab_size, self.embed]));
            shapes.push(("index".to_string(), vec![self.inputs(), self.embed]));
        }
        let mut width = self.input_width();
        for i in 0..self.layers {
            shapes.push((format!("fc.{i}.weight"), vec![self.hidden, width]));
            shapes.push((format!("fc.{i}.bias"), vec![self.hidden]));
            width = self.hidden;
        }
        shapes.push(("out.weight".to_string(), vec![self.outputs(), width]));
        shapes.push(("out.bias".to_string(), vec![self.outputs()]));
        shapes
    }

    pub fn parameter_count(&self) -> usize {
        let (h, l) = (self.hidden, self.layers);
        let mut p = self.input_width() * h + h + (l - 1) * (h * h + h) + h * self.outputs();
        p += self.outputs();
        if self.variant.tokenized_inputs() {
            p += self.vocab_size * self.embed + self.inputs() * self.embed;
        }
        p
    }
}

/// Per-entry mean and standard deviation of the inputs and the targets, from the training split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    pub input_mean: Vec<f32>,
    pub input_std: Vec<f32>,
    pub target_mean: Vec<f32>,
    pub target_std: Vec<f32>,
}

/// Everything an MLP checkpoint records besides its weights (metadata key `mlp`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpMeta {
    pub version: u32,
    pub model: MlpConfig,
    pub tokenizer: TokenizerConfig,
    pub env: EnvInfo,
    pub normalization: Normalization,
    pub steps_trained: u64,
    /// Transitions seen in training.
    pub samples_trained: u64,
    pub data: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_loss: Option<f32>,
}

impl MlpMeta {
    /// Whether the network's sizes are `spec`'s (an MLP is a specialist); `Err` says why not.
    pub fn fit(&self, spec: &EnvSpec) -> Result<(), String> {
        let c = &self.model;
        if c.observation_size != spec.observation_size || c.action_size != spec.action_size {
            return Err(format!(
                "trained on {} ({} obs, {} act); '{}' has {} obs, {} act",
                self.env.name,
                c.observation_size,
                c.action_size,
                spec.name,
                spec.observation_size,
                spec.action_size
            ));
        }
        Ok(())
    }

    /// Checks that the sizes of the config and the normalization agree.
    pub fn validate(&self) -> Result<(), MlpConfigError> {
        self.model.validate()?;
        let c = &self.model;
        if c.variant.tokenized_inputs() {
            let tokenizer = crate::tokenize::Tokenizer::new(self.tokenizer)
                .map_err(|e| MlpConfigError::Tokenizer(e.to_string()))?
                .vocab_size() as usize;
            if tokenizer != c.vocab_size {
                return Err(MlpConfigError::VocabMismatch {
                    vocab_size: c.vocab_size,
                    tokenizer,
                });
            }
        }
        if self.env.observation_size != c.observation_size || self.env.action_size != c.action_size
        {
            return Err(MlpConfigError::EnvMismatch {
                env: self.env.name.clone(),
                env_sizes: (self.env.observation_size, self.env.action_size),
                model_sizes: (c.observation_size, c.action_size),
            });
        }
        let n = &self.normalization;
        if n.input_mean.len() != c.inputs()
            || n.input_std.len() != c.inputs()
            || n.target_mean.len() != c.outputs()
            || n.target_std.len() != c.outputs()
        {
            return Err(MlpConfigError::NormalizationSizes);
        }
        let all = n
            .input_std
            .iter()
            .chain(&n.target_std)
            .chain(&n.input_mean)
            .chain(&n.target_mean);
        if all.clone().any(|x| !x.is_finite())
            || n.input_std.iter().chain(&n.target_std).any(|&s| s <= 0.0)
        {
            return Err(MlpConfigError::NormalizationValues);
        }
        Ok(())
    }
}

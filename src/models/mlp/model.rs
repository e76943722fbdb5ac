//! The MLP network, and the encoding of its inputs and outputs shared by training and planning.
//!
//! Inputs are (o_t, a_t): standardised values, or (tokenized variants) each entry's token
//! embedded, plus a learned embedding of the entry's index, concatenated. Hidden layers are
//! linear + ReLU. Outputs are the standardised o_{t+1} (or o_{t+1} - o_t for delta variants)
//! followed by the standardised r_t; the loss is their mean squared error.
use super::config::{MlpConfig, Normalization};
use crate::tokenize::Tokenizer;
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Embedding, Linear, VarBuilder, VarMap, embedding, linear};

/// The network (training and inference share it).
pub struct Mlp {
    cfg: MlpConfig,
    tokens: Option<(Embedding, Tensor)>,
    hidden: Vec<Linear>,
    out: Linear,
}

impl Mlp {
    /// Builds (or, with a loaded `VarBuilder`, reads) the network. Variable names: `tok.weight`
    /// and `index` (tokenized variants), `fc.{i}.*`, `out.*`.
    pub fn new(cfg: MlpConfig, vb: VarBuilder) -> Result<Self> {
        let tokens = if cfg.variant.tokenized_inputs() {
            let table = embedding(cfg.vocab_size, cfg.embed, vb.pp("tok"))?;
            let index = vb.get((cfg.inputs(), cfg.embed), "index")?;
            Some((table, index))
        } else {
            None
        };
        let mut hidden = Vec::with_capacity(cfg.layers);
        let mut width = cfg.input_width();
        for i in 0..cfg.layers {
            hidden.push(linear(width, cfg.hidden, vb.pp(format!("fc.{i}")))?);
            width = cfg.hidden;
        }
        Ok(Self {
            out: linear(width, cfg.outputs(), vb.pp("out"))?,
            cfg,
            tokens,
            hidden,
        })
    }

    pub fn config(&self) -> &MlpConfig {
        &self.cfg
    }

    /// Re-initialises every variable reproducibly from `seed`: hidden weights He-normal
    /// (std sqrt(2 / fan-in)), the output layer 0.01, embeddings N(0, 1), biases 0.
    pub fn init_weights(varmap: &VarMap, seed: u64) -> Result<()> {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let vars = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("variable map is poisoned".into()))?;
        let mut names: Vec<&String> = vars.keys().collect();
        names.sort();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for name in names {
            let var = &vars[name];
            let shape = var.as_tensor().shape().clone();
            let count = shape.elem_count();
            let std = if name.ends_with(".bias") {
                0.0
            } else if name == "out.weight" {
                0.01
            } else if name.starts_with("fc.") {
                (2.0 / shape.dims()[1] as f64).sqrt()
            } else {
                1.0
            };
            let values: Vec<f32> = if std == 0.0 {
                vec![0.0; count]
            } else {
                let normal =
                    Normal::new(0.0, std).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
                (0..count).map(|_| normal.sample(&mut rng) as f32).collect()
            };
            var.set(&Tensor::from_vec(values, shape, var.device())?)?;
        }
        Ok(())
    }

    /// Outputs `[B, n + 1]` for a batch of encoded inputs.
    pub fn forward(&self, input: &Encoded) -> Result<Tensor> {
        let dev = &Device::Cpu;
        let width = self.cfg.inputs();
        let rows = input.entries() / width;
        let mut x = match (&self.tokens, input) {
            (Some((table, index)), Encoded::Tokens(t)) => {
                let ids = Tensor::from_slice(t, (rows, width), dev)?;
                table
                    .forward(&ids)?
                    .broadcast_add(index)?
                    .reshape((rows, width * self.cfg.embed))?
            }
            (None, Encoded::Values(v)) => Tensor::from_slice(v, (rows, width), dev)?,
            _ => {
                return Err(candle_core::Error::Msg(
                    "input encoding does not match the MLP variant".into(),
                ));
            }
        };
        for layer in &self.hidden {
            x = layer.forward(&x)?.relu()?;
        }
        self.out.forward(&x)?.to_dtype(DType::F32)
    }
}

/// A batch of inputs, row-major `[B][n + m]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Encoded {
    Values(Vec<f32>),
    Tokens(Vec<u32>),
}

impl Encoded {
    /// Values in all rows together.
    pub fn entries(&self) -> usize {
        match self {
            Self::Values(v) => v.len(),
            Self::Tokens(t) => t.len(),
        }
    }
}

/// Encodes rows of (o_t, a_t) for the network; `rows` yields each row's observation and action.
pub fn encode_inputs<'a>(
    cfg: &MlpConfig,
    norm: &Normalization,
    tok: &Tokenizer,
    rows: impl Iterator<Item = (&'a [f64], &'a [f64])>,
) -> Encoded {
    let n = cfg.observation_size;
    if cfg.variant.tokenized_inputs() {
        let mut out = Vec::new();
        for (o, a) in rows {
            // NaN inputs (a diverged imagination) map to bin 0; the caller flags the candidate.
            out.extend(o.iter().map(|&x| tok.encode_observation(x).unwrap_or(0)));
            out.extend(
                a.iter()
                    .map(|&x| tok.encode_action(x).unwrap_or(tok.action_offset())),
            );
        }
        Encoded::Tokens(out)
    } else {
        let mut out = Vec::new();
        for (o, a) in rows {
            for (i, &x) in o.iter().chain(a.iter()).enumerate() {
                out.push(((x as f32) - norm.input_mean[i]) / norm.input_std[i]);
            }
        }
        debug_assert!(out.len() % (n + cfg.action_size) == 0);
        Encoded::Values(out)
    }
}

/// The raw (unstandardised) target row: o_{t+1} or its change, then r_t.
pub fn raw_target(cfg: &MlpConfig, o: &[f64], reward: f64, next: &[f64], out: &mut Vec<f32>) {
    for (x, y) in o.iter().zip(next) {
        out.push(if cfg.variant.delta_outputs() {
            (y - x) as f32
        } else {
            *y as f32
        });
    }
    out.push(reward as f32);
}

/// Turns one output row back into (o_{t+1}, r_t), given o_t.
pub fn decode_output(
    cfg: &MlpConfig,
    norm: &Normalization,
    o: &[f64],
    out_row: &[f32],
    next: &mut [f64],
) -> f64 {
    let n = cfg.observation_size;
    for i in 0..n {
        let v = (out_row[i] * norm.target_std[i] + norm.target_mean[i]) as f64;
        next[i] = if cfg.variant.delta_outputs() {
            o[i] + v
        } else {
            v
        };
    }
    (out_row[n] * norm.target_std[n] + norm.target_mean[n]) as f64
}

//! The TDM: a decoder-only transformer over tokenized observations, actions and rewards
//! (Schubert et al., 2023, section 3.1; Gato, Reed et al., 2022).
//!
//! Token embedding plus a learned *local* position embedding (the token's index within its
//! environment step, as Gato's local observation positions), pre-LN blocks with causal
//! multi-head attention biased by ALiBi (Press et al., 2022; so a sliding window works at
//! inference without re-encoding), a GELU MLP, a final norm and a vocabulary head.
//!
//! This is the training graph (candle, with every op differentiable); `infer` has the fast
//! batched decode path over the same weights.
use super::config::TdmConfig;
use super::fastmath;
use candle_core::{CpuStorage, CustomOp1, D, DType, Device, Layout, Module, Result, Shape, Tensor};
use candle_nn::{Embedding, Linear, VarBuilder, VarMap, embedding, linear, ops};

const LN_EPS: f32 = 1e-5;

struct Norm {
    weight: Tensor,
    bias: Tensor,
}

impl Norm {
    fn new(d: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(d, "weight", candle_nn::Init::Const(1.0))?,
            bias: vb.get_with_hints(d, "bias", candle_nn::Init::Const(0.0))?,
        })
    }

    /// The composed layer norm: candle's fused one has no backward pass.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::layer_norm_slow(x, &self.weight, &self.bias, LN_EPS)
    }
}

/// The tanh-form GELU, as candle's `Tensor::gelu`, through [`GELU`] for f32 on the CPU
/// (libm's `tanhf`/`powf` in candle's forward and backward were ~11% of a training step).
fn gelu(x: &Tensor) -> Result<Tensor> {
    if x.dtype() == DType::F32 && x.device().is_cpu() {
        x.apply_op1(GELU)
    } else {
        x.gelu()
    }
}

/// An elementwise f32 function as a candle op: a vectorisable forward, and where `derivative`
/// is given a backward `grad * derivative(x)` (the derivative op itself has none: second
/// derivatives are not used).
struct Elementwise {
    name: &'static str,
    f: fn(f32) -> f32,
    derivative: Option<&'static Elementwise>,
}

const GELU: Elementwise = Elementwise {
    name: "fast-gelu",
    f: fastmath::gelu,
    derivative: Some(&GELU_GRAD),
};

const GELU_GRAD: Elementwise = Elementwise {
    name: "fast-gelu-grad",
    f: fastmath::gelu_grad,
    derivative: None,
};

impl CustomOp1 for Elementwise {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(v) = s else {
            candle_core::bail!("{} takes f32", self.name)
        };
        let out = candle_core::cpu_backend::unary_map(v, l, self.f);
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        match self.derivative {
            Some(d) => Ok(Some(grad_res.mul(&arg.apply_op1_no_bwd(d)?)?)),
            None => candle_core::bail!("{} has no backward", self.name),
        }
    }
}

struct Block {
    ln1: Norm,
    qkv: Linear,
    proj: Linear,
    ln2: Norm,
    fc1: Linear,
    fc2: Linear,
    heads: usize,
}

impl Block {
    fn new(cfg: &TdmConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.width;
        Ok(Self {
            ln1: Norm::new(d, vb.pp("ln1"))?,
            qkv: linear(d, 3 * d, vb.pp("qkv"))?,
            proj: linear(d, d, vb.pp("proj"))?,
            ln2: Norm::new(d, vb.pp("ln2"))?,
            fc1: linear(d, cfg.mlp_width, vb.pp("fc1"))?,
            fc2: linear(cfg.mlp_width, d, vb.pp("fc2"))?,
            heads: cfg.heads,
        })
    }

    /// `x`: `[B, T, d]`; `bias`: `[H, T, T]` (ALiBi plus the causal mask).
    fn forward(&self, x: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let dh = d / self.heads;
        let qkv = self
            .qkv
            .forward(&self.ln1.forward(x)?)?
            .reshape((b, t, 3, self.heads, dh))?;
        let q = qkv
            .narrow(2, 0, 1)?
            .squeeze(2)?
            .transpose(1, 2)?
            .contiguous()?;
        let k = qkv
            .narrow(2, 1, 1)?
            .squeeze(2)?
            .transpose(1, 2)?
            .contiguous()?;
        let v = qkv
            .narrow(2, 2, 1)?
            .squeeze(2)?
            .transpose(1, 2)?
            .contiguous()?;
        let scores = (q.matmul(&k.t()?)? * (1.0 / (dh as f64).sqrt()))?.broadcast_add(bias)?;
        let att = ops::softmax(&scores, D::Minus1)?.matmul(&v)?;
        let att = att.transpose(1, 2)?.reshape((b, t, d))?;
        let x = (x + self.proj.forward(&att)?)?;
        let h = self
            .fc2
            .forward(&gelu(&self.fc1.forward(&self.ln2.forward(&x)?)?)?)?;
        x + h
    }
}

/// Positions whose next token is of one kind: their flat indices `[n]` (u32, into `B * T`), the
/// targets relative to the range start `[n]` (u32), the vocabulary range and the loss weight.
pub struct TargetGroup {
    pub indices: Tensor,
    pub targets: Tensor,
    pub count: usize,
    pub range: std::ops::Range<usize>,
    pub weight: f32,
    /// `[count, bins]`: soft target distributions (label smoothing over neighbouring bins);
    /// `None`: the one-bin `targets`.
    pub soft: Option<Tensor>,
}

/// The transformer (training view).
pub struct Tdm {
    cfg: TdmConfig,
    tokens: Embedding,
    local_pos: Embedding,
    blocks: Vec<Block>,
    ln_f: Norm,
    head: Linear,
}

impl Tdm {
    /// Builds (or, with a loaded `VarBuilder`, reads) the model. Variable names:
    /// `tok.weight`, `pos.weight`, `blocks.{i}.{ln1,qkv,proj,ln2,fc1,fc2}.*`, `ln_f.*`, `head.*`.
    pub fn new(cfg: TdmConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.width;
        Ok(Self {
            tokens: embedding(cfg.vocab_size, d, vb.pp("tok"))?,
            local_pos: embedding(cfg.max_step_tokens, d, vb.pp("pos"))?,
            blocks: (0..cfg.layers)
                .map(|i| Block::new(&cfg, vb.pp(format!("blocks.{i}"))))
                .collect::<Result<_>>()?,
            ln_f: Norm::new(d, vb.pp("ln_f"))?,
            head: linear(d, cfg.vocab_size, vb.pp("head"))?,
            cfg,
        })
    }

    pub fn config(&self) -> &TdmConfig {
        &self.cfg
    }

    /// Re-initialises every variable of `varmap` reproducibly from `seed` (GPT-2 style): weight
    /// matrices and embeddings N(0, 0.02^2), residual output projections scaled by
    /// 1/sqrt(2 layers), biases 0, norms 1 and 0. candle's own initialisers draw from an
    /// unseeded generator.
    pub fn init_weights(cfg: &TdmConfig, varmap: &VarMap, seed: u64) -> Result<()> {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let vars = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("variable map is poisoned".into()))?;
        let mut names: Vec<&String> = vars.keys().collect();
        names.sort();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let resid = 0.02 / (2.0 * cfg.layers as f64).sqrt();
        for name in names {
            let var = &vars[name];
            let shape = var.as_tensor().shape().clone();
            let count = shape.elem_count();
            let values: Vec<f32> = if name.ends_with(".bias") {
                vec![0.0; count]
            } else if name.starts_with("ln") || name.contains(".ln") {
                vec![1.0; count]
            } else {
                let std = if name.ends_with("proj.weight") || name.ends_with("fc2.weight") {
                    resid
                } else {
                    0.02
                };
                let normal =
                    Normal::new(0.0, std).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
                (0..count).map(|_| normal.sample(&mut rng) as f32).collect()
            };
            var.set(&Tensor::from_vec(values, shape, var.device())?)?;
        }
        Ok(())
    }

    /// The attention bias `[H, T, T]`: -slope_h (i - j) for keys j in the sliding window
    /// `i - context < j <= i`, -inf elsewhere (windows longer than the context only occur when
    /// checking the decode path; training windows fit the context).
    pub fn attention_bias(cfg: &TdmConfig, t: usize, device: &Device) -> Result<Tensor> {
        let mut bias = vec![0f32; cfg.heads * t * t];
        for h in 0..cfg.heads {
            let slope = cfg.alibi_slope(h);
            for i in 0..t {
                for j in 0..t {
                    let visible = j <= i && i - j < cfg.context_tokens;
                    bias[(h * t + i) * t + j] = if visible {
                        -slope * (i - j) as f32
                    } else {
                        f32::NEG_INFINITY
                    };
                }
            }
        }
        Tensor::from_vec(bias, (cfg.heads, t, t), device)
    }

    /// The final hidden states `[B, T, d]` (after the last norm).
    pub fn hidden(&self, tokens: &Tensor, local_positions: &Tensor) -> Result<Tensor> {
        let (_, t) = tokens.dims2()?;
        let bias = Self::attention_bias(&self.cfg, t, tokens.device())?;
        let mut x = (self.tokens.forward(tokens)? + self.local_pos.forward(local_positions)?)?;
        for block in &self.blocks {
            x = block.forward(&x, &bias)?;
        }
        self.ln_f.forward(&x)
    }

    /// Logits `[B, T, V]` for tokens `[B, T]` (u32) at local positions `[B, T]` (u32).
    pub fn forward(&self, tokens: &Tensor, local_positions: &Tensor) -> Result<Tensor> {
        self.head.forward(&self.hidden(tokens, local_positions)?)
    }

    /// Weighted next-token loss where each learned position is scored only against its target's
    /// own range of the vocabulary (observation bins, reward bins or action bins), which is how
    /// the planner decodes: it always knows which kind of token comes next. Far cheaper than the
    /// full-vocabulary loss, since only learned positions reach the head.
    pub fn range_loss(
        &self,
        tokens: &Tensor,
        local_positions: &Tensor,
        groups: &[TargetGroup],
    ) -> Result<Tensor> {
        let h = self.hidden(tokens, local_positions)?;
        let (b, t, d) = h.dims3()?;
        let flat = h.reshape((b * t, d))?;
        let (w, bias) = (self.head.weight(), self.head.bias());
        let mut total: Option<Tensor> = None;
        let mut weight_sum = 0f64;
        for g in groups.iter().filter(|g| g.count > 0 && g.weight > 0.0) {
            let rows = flat.index_select(&g.indices, 0)?;
            let wr = w.narrow(0, g.range.start, g.range.len())?;
            let mut logits = rows.matmul(&wr.t()?)?;
            if let Some(bias) = bias {
                logits = logits.broadcast_add(&bias.narrow(0, g.range.start, g.range.len())?)?;
            }
            let logp = ops::log_softmax(&logits, D::Minus1)?;
            let picked = match &g.soft {
                Some(soft) => (logp * soft)?.sum_all()?,
                None => logp.gather(&g.targets.unsqueeze(1)?, 1)?.sum_all()?,
            };
            let term = (picked * (-(g.weight as f64)))?;
            weight_sum += g.weight as f64 * g.count as f64;
            total = Some(match total {
                Some(acc) => (acc + term)?,
                None => term,
            });
        }
        match total {
            Some(t) => t / weight_sum.max(1e-9),
            None => Tensor::new(0f32, tokens.device()),
        }
    }

    /// Weighted next-token loss: `targets` `[B, T]` and per-position weights `[B, T]` (0 where
    /// the position is not learned). Returns the weighted mean negative log-likelihood.
    pub fn loss(
        &self,
        tokens: &Tensor,
        local_positions: &Tensor,
        targets: &Tensor,
        weights: &Tensor,
    ) -> Result<Tensor> {
        let logits = self.forward(tokens, local_positions)?;
        let logp = ops::log_softmax(&logits, D::Minus1)?;
        let picked = logp
            .gather(&targets.unsqueeze(D::Minus1)?, D::Minus1)?
            .squeeze(D::Minus1)?;
        let total = weights.sum_all()?.to_dtype(DType::F32)?;
        (picked * weights)?
            .sum_all()?
            .neg()?
            .broadcast_div(&total.clamp(1e-6f32, f32::MAX)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The custom GELU matches candle's in value and gradient.
    #[test]
    fn fast_gelu_matches_candles_forward_and_backward() -> Result<()> {
        let v: Vec<f32> = (0..600).map(|i| (i as f32 - 300.0) * 0.021).collect();
        let x = candle_core::Var::from_vec(v, (20, 30), &Device::Cpu)?;
        let w = Tensor::arange(0f32, 600.0, &Device::Cpu)?
            .reshape((20, 30))?
            .affine(0.01, -3.0)?;
        let ours = gelu(x.as_tensor())?;
        let theirs = x.as_tensor().gelu()?;
        let diff = (&ours - &theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "forward differs by {diff}");
        let g1 = ours.mul(&w)?.sum_all()?.backward()?;
        let g2 = theirs.mul(&w)?.sum_all()?.backward()?;
        let (Some(a), Some(b)) = (g1.get(x.as_tensor()), g2.get(x.as_tensor())) else {
            candle_core::bail!("no gradient")
        };
        let diff = (a - b)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-4, "gradient differs by {diff}");
        // Strided input (a transpose) goes through the layout.
        let t = gelu(&x.as_tensor().t()?)?.t()?;
        let diff = (&t - &theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "strided forward differs by {diff}");
        Ok(())
    }
}

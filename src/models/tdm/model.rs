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
use super::attention::Attention;
use super::block::BlockOp;
use super::config::TdmConfig;
use super::fused;
use super::head::{HeadGroup, RangeHead, Targets};
use candle_core::{D, DType, Device, Module, Result, Tensor};
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

    /// Over `x` `[rows, d]`: the fused op on the CPU (candle's own fused one has no backward
    /// pass), candle's composed one elsewhere and where `composed` asks for it.
    fn forward(&self, x: &Tensor, composed: bool) -> Result<Tensor> {
        if composed || !x.device().is_cpu() {
            ops::layer_norm_slow(x, &self.weight, &self.bias, LN_EPS)
        } else {
            fused::layer_norm(x, &self.weight, &self.bias, LN_EPS)
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
    mlp_width: usize,
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
            mlp_width: cfg.mlp_width,
        })
    }

    /// `x`: `[B T, d]` (batch rows' tokens one after another); `att`: the attention of this
    /// batch shape. The whole block is one fused op ([`BlockOp`]) over the packed parameters.
    fn forward(&self, x: &Tensor, att: &Attention) -> Result<Tensor> {
        let flat = |t: &Tensor| t.flatten_all();
        let bias = |l: &Linear| -> Result<Tensor> {
            l.bias()
                .cloned()
                .ok_or_else(|| candle_core::Error::Msg("a block's linear layer has no bias".into()))
        };
        let params = Tensor::cat(
            &[
                self.ln1.weight.clone(),
                self.ln1.bias.clone(),
                flat(self.qkv.weight())?,
                bias(&self.qkv)?,
                flat(self.proj.weight())?,
                bias(&self.proj)?,
                self.ln2.weight.clone(),
                self.ln2.bias.clone(),
                flat(self.fc1.weight())?,
                bias(&self.fc1)?,
                flat(self.fc2.weight())?,
                bias(&self.fc2)?,
            ],
            0,
        )?;
        x.contiguous()?
            .apply_op2(&params, BlockOp::new(att.clone(), self.mlp_width, LN_EPS))
    }

    fn residual_mlp(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.fc1.forward(&self.ln2.forward(x, true)?)?.gelu()?;
        x + self.fc2.forward(&h)?
    }

    /// The same block composed of candle's own ops (attention through `bias` `[H, T, T]`):
    /// what the fused ops are checked against.
    fn forward_composed(&self, x: &Tensor, bias: &Tensor, b: usize) -> Result<Tensor> {
        let (bt, d) = x.dims2()?;
        let t = bt / b;
        let dh = d / self.heads;
        let qkv = self
            .qkv
            .forward(&self.ln1.forward(x, true)?)?
            .reshape((b, t, 3, self.heads, dh))?;
        let part = |i| -> Result<Tensor> {
            qkv.narrow(2, i, 1)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, k, v) = (part(0)?, part(1)?, part(2)?);
        let scores = (q.matmul(&k.t()?)? * (1.0 / (dh as f64).sqrt()))?.broadcast_add(bias)?;
        let att = ops::softmax(&scores, D::Minus1)?.matmul(&v)?;
        let att = att.transpose(1, 2)?.reshape((bt, d))?;
        self.residual_mlp(&(x + self.proj.forward(&att)?)?)
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
    /// Candle's composed ops instead of the fused ones (the reference the tests compare with).
    composed: bool,
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
            composed: false,
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

    /// Computes with candle's composed ops instead of the fused ones: the reference the fused
    /// ops are checked against, and slower.
    pub fn set_composed(&mut self, composed: bool) {
        self.composed = composed;
    }

    /// The final hidden states `[B T, d]` (after the last norm), batch rows one after another.
    fn hidden_rows(&self, tokens: &Tensor, local_positions: &Tensor) -> Result<Tensor> {
        let (b, t) = tokens.dims2()?;
        let d = self.cfg.width;
        let x = (self.tokens.forward(tokens)? + self.local_pos.forward(local_positions)?)?;
        let mut x = x.reshape((b * t, d))?;
        if self.composed || !tokens.device().is_cpu() {
            let bias = Self::attention_bias(&self.cfg, t, tokens.device())?;
            for block in &self.blocks {
                x = block.forward_composed(&x, &bias, b)?;
            }
        } else {
            let att = Attention {
                batch: b,
                tokens: t,
                width: d,
                context: self.cfg.context_tokens,
                slopes: (0..self.cfg.heads)
                    .map(|h| self.cfg.alibi_slope(h))
                    .collect(),
            };
            for block in &self.blocks {
                x = block.forward(&x, &att)?;
            }
        }
        self.ln_f.forward(&x, self.composed)
    }

    /// The final hidden states `[B, T, d]` (after the last norm).
    pub fn hidden(&self, tokens: &Tensor, local_positions: &Tensor) -> Result<Tensor> {
        let (b, t) = tokens.dims2()?;
        self.hidden_rows(tokens, local_positions)?
            .reshape((b, t, self.cfg.width))
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
        let flat = self.hidden_rows(tokens, local_positions)?;
        let (w, bias) = (self.head.weight(), self.head.bias());
        if let (false, true, Some(bias)) = (self.composed, flat.device().is_cpu(), bias) {
            let groups = groups
                .iter()
                .map(|g| -> Result<HeadGroup> {
                    Ok(HeadGroup {
                        rows: g.indices.to_vec1()?,
                        targets: match &g.soft {
                            Some(soft) => Targets::Soft(soft.flatten_all()?.to_vec1()?),
                            None => Targets::Hard(g.targets.to_vec1()?),
                        },
                        start: g.range.start,
                        bins: g.range.len(),
                        weight: g.weight,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if groups.iter().all(|g| g.rows.is_empty() || g.weight <= 0.0) {
                return Tensor::new(0f32, tokens.device());
            }
            return flat.apply_op3(w, bias, RangeHead::new(groups));
        }
        let mut total: Option<Tensor> = None;
        let mut weight_sum = 0f64;
        for g in groups.iter().filter(|g| g.count > 0 && g.weight > 0.0) {
            let rows = flat.index_select(&g.indices, 0)?;
            let wr = w.narrow(0, g.range.start, g.range.len())?;
            let mut logits = rows.matmul(&wr.t()?)?;
            if let Some(bias) = bias {
                logits = logits.broadcast_add(&bias.narrow(0, g.range.start, g.range.len())?)?;
            }
            let nll = match &g.soft {
                Some(soft) => (ops::log_softmax(&logits, D::Minus1)? * soft)?
                    .sum_all()?
                    .neg()?,
                None => ops::log_softmax(&logits, D::Minus1)?
                    .gather(&g.targets.unsqueeze(1)?, 1)?
                    .sum_all()?
                    .neg()?,
            };
            let term = (nll * f64::from(g.weight))?;
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
    use candle_core::Var;

    /// A model of `cfg`, seeded, and a batch of `b` windows of `t` tokens with one group of each
    /// kind of target (observation bins, reward bins), as training builds them.
    fn setup(
        cfg: TdmConfig,
        b: usize,
        t: usize,
    ) -> Result<(Tdm, VarMap, Tensor, Tensor, Vec<TargetGroup>)> {
        let dev = Device::Cpu;
        let varmap = VarMap::new();
        let model = Tdm::new(cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev))?;
        Tdm::init_weights(&cfg, &varmap, 3)?;
        // Larger weights than the init's, so the attention is far from uniform.
        for var in varmap.all_vars() {
            var.set(&(var.as_tensor() * 8.0)?)?;
        }
        let n = b * t;
        let tokens: Vec<u32> = (0..n as u32)
            .map(|i| (i * 7919 + 13) % cfg.vocab_size as u32)
            .collect();
        let pos: Vec<u32> = (0..n as u32).map(|i| i % 8).collect();
        let x = Tensor::from_vec(tokens, (b, t), &dev)?;
        let p = Tensor::from_vec(pos, (b, t), &dev)?;
        let group = |offset: u32, weight: f32, step: usize| -> Result<TargetGroup> {
            let idx: Vec<u32> = (0..n as u32).step_by(step).collect();
            let tgt: Vec<u32> = idx.iter().map(|i| (i * 31 + offset) % 24).collect();
            let count = idx.len();
            // The reward group with soft targets: a distribution peaked at the target.
            let soft = (offset > 0)
                .then(|| {
                    let rows: Vec<f32> = tgt
                        .iter()
                        .flat_map(|&k| {
                            (0..24u32).map(move |j| if j == k { 0.7 } else { 0.3 / 23.0 })
                        })
                        .collect();
                    Tensor::from_vec(rows, (count, 24), &dev)
                })
                .transpose()?;
            Ok(TargetGroup {
                indices: Tensor::from_vec(idx, count, &dev)?,
                targets: Tensor::from_vec(tgt, count, &dev)?,
                count,
                range: offset as usize..offset as usize + 24,
                weight,
                soft,
            })
        };
        let groups = vec![group(0, 1.0, 1)?, group(48, 0.5, 3)?];
        Ok((model, varmap, x, p, groups))
    }

    fn loss_and_grads(
        model: &Tdm,
        vars: &[Var],
        x: &Tensor,
        p: &Tensor,
        g: &[TargetGroup],
    ) -> Result<(f32, Vec<Tensor>)> {
        let loss = model.range_loss(x, p, g)?;
        let grads = loss.backward()?;
        let per_var = vars
            .iter()
            .map(|v| {
                grads
                    .get(v.as_tensor())
                    .cloned()
                    .ok_or_else(|| candle_core::Error::Msg("no gradient".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((loss.to_scalar()?, per_var))
    }

    /// The fused ops (the blocks, the final layer norm, the range head with hard and soft
    /// targets) give the composed graph's loss and the gradient of every variable, also for
    /// windows longer than the context (where the attention's sliding window cuts keys off),
    /// lengths that are not a multiple of the attention's row blocks, and a batch that does not
    /// split evenly into the blocks' tasks.
    #[test]
    fn the_fused_graph_matches_the_composed_one_in_loss_and_every_gradient() -> Result<()> {
        for (t, context) in [(70, 128), (150, 40)] {
            let cfg = TdmConfig {
                vocab_size: 97,
                layers: 2,
                width: 32,
                heads: 4,
                mlp_width: 64,
                context_tokens: context,
                max_step_tokens: 8,
            };
            let (mut model, varmap, x, p, groups) = setup(cfg, 9, t)?;
            let vars = varmap.all_vars();
            let (fused_loss, fused) = loss_and_grads(&model, &vars, &x, &p, &groups)?;
            model.set_composed(true);
            let (loss, composed) = loss_and_grads(&model, &vars, &x, &p, &groups)?;
            assert!(
                (fused_loss - loss).abs() < 1e-4 * loss.abs(),
                "t {t}: loss {fused_loss} vs {loss}"
            );
            for (a, b) in fused.iter().zip(&composed) {
                let scale = b.abs()?.max_all()?.to_scalar::<f32>()?.max(1e-6);
                let diff = (a - b)?.abs()?.max_all()?.to_scalar::<f32>()?;
                assert!(
                    diff < 2e-3 * scale,
                    "t {t}: a gradient differs by {diff} (largest entry {scale})"
                );
            }
        }
        Ok(())
    }
}

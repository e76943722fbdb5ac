//! Fast batched decoding for planning: the TDM's weights as plain f32 arrays, a KV cache per
//! sequence on top of one shared, read-only prefix cache (the episode history, encoded once per
//! plan), matrix products through `matrixmultiply`'s sgemm for the whole batch at once, and
//! attention over a sliding window of `context_tokens` (ALiBi needs no re-encoding when the
//! window moves). Produces the same logits as the candle graph in `model.rs` (tested).
use super::config::TdmConfig;
use super::fastmath::{gelu_in_place, softmax_in_place, sum};
use super::gemm::{View, gemm};
use candle_nn::VarMap;
use std::ops::Range;

const LN_EPS: f32 = 1e-5;

/// One linear layer: `weight` `[out][in]` (candle's layout), `bias` `[out]`.
struct Lin {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inp: usize,
    out: usize,
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct BlockW {
    ln1: Norm,
    qkv: Lin,
    proj: Lin,
    ln2: Norm,
    fc1: Lin,
    fc2: Lin,
}

/// The model's weights for the decode path.
pub struct Weights {
    pub cfg: TdmConfig,
    /// ALiBi slope per head, computed once.
    slopes: Vec<f32>,
    tok: Vec<f32>,
    pos: Vec<f32>,
    blocks: Vec<BlockW>,
    ln_f: Norm,
    head: Lin,
}

/// Why a model's variables could not be copied into [`Weights`].
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("variable map is poisoned")]
    Poisoned,
    #[error("missing variable {0}")]
    Missing(String),
    #[error("variable {name} has {len} values, the config needs {expected}")]
    Shape {
        name: String,
        len: usize,
        expected: usize,
    },
    #[error("{name}: {source}")]
    Tensor {
        name: String,
        source: candle_core::Error,
    },
}

/// The values of variable `name`, refused unless there are `expected` of them (so the decode
/// path never indexes past a weight the config claims).
fn get(varmap: &VarMap, name: &str, expected: usize) -> Result<Vec<f32>, WeightsError> {
    let vars = varmap.data().lock().map_err(|_| WeightsError::Poisoned)?;
    let v = vars
        .get(name)
        .ok_or_else(|| WeightsError::Missing(name.to_string()))?;
    let values = v
        .as_tensor()
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(|source| WeightsError::Tensor {
            name: name.to_string(),
            source,
        })?;
    if values.len() != expected {
        return Err(WeightsError::Shape {
            name: name.to_string(),
            len: values.len(),
            expected,
        });
    }
    Ok(values)
}

impl Weights {
    /// Copies the weights out of a model's variables.
    pub fn from_varmap(cfg: TdmConfig, varmap: &VarMap) -> Result<Self, WeightsError> {
        let lin = |p: &str, inp: usize, out: usize| -> Result<Lin, WeightsError> {
            Ok(Lin {
                weight: get(varmap, &format!("{p}.weight"), inp * out)?,
                bias: get(varmap, &format!("{p}.bias"), out)?,
                inp,
                out,
            })
        };
        let (d, f) = (cfg.width, cfg.mlp_width);
        let norm = |p: &str| -> Result<Norm, WeightsError> {
            Ok(Norm {
                weight: get(varmap, &format!("{p}.weight"), d)?,
                bias: get(varmap, &format!("{p}.bias"), d)?,
            })
        };
        let blocks = (0..cfg.layers)
            .map(|i| {
                let p = format!("blocks.{i}");
                Ok(BlockW {
                    ln1: norm(&format!("{p}.ln1"))?,
                    qkv: lin(&format!("{p}.qkv"), d, 3 * d)?,
                    proj: lin(&format!("{p}.proj"), d, d)?,
                    ln2: norm(&format!("{p}.ln2"))?,
                    fc1: lin(&format!("{p}.fc1"), d, f)?,
                    fc2: lin(&format!("{p}.fc2"), f, d)?,
                })
            })
            .collect::<Result<_, WeightsError>>()?;
        Ok(Self {
            slopes: (0..cfg.heads).map(|h| cfg.alibi_slope(h)).collect(),
            tok: get(varmap, "tok.weight", cfg.vocab_size * d)?,
            pos: get(varmap, "pos.weight", cfg.max_step_tokens * d)?,
            blocks,
            ln_f: norm("ln_f")?,
            head: lin("head", d, cfg.vocab_size)?,
            cfg,
        })
    }
}

/// Keys and values of one sequence, per layer, `[len][d]` each.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    len: usize,
}

impl KvCache {
    pub fn new(layers: usize) -> Self {
        Self {
            keys: vec![Vec::new(); layers],
            values: vec![Vec::new(); layers],
            len: 0,
        }
    }

    /// An empty cache with room for `tokens` tokens of width `width` per layer, so appending
    /// never moves it.
    pub fn with_capacity(layers: usize, tokens: usize, width: usize) -> Self {
        // (`vec![v; n]` clones, and a clone does not keep the capacity.)
        let room = || {
            (0..layers)
                .map(|_| Vec::with_capacity(tokens * width))
                .collect()
        };
        Self {
            keys: room(),
            values: room(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.keys
            .iter_mut()
            .chain(self.values.iter_mut())
            .for_each(Vec::clear);
        self.len = 0;
    }
}

/// `y[k][out] = x[k][in] W^T + b`.
#[inline(always)]
fn linear(lin: &Lin, x: &[f32], rows: usize, y: &mut Vec<f32>) {
    linear_raw(&lin.weight, &lin.bias, lin.inp, lin.out, x, rows, y);
}

/// `y[k][out] = x[k][inp] W^T + b` for `weight` `[out][inp]`.
fn linear_raw(
    weight: &[f32],
    bias: &[f32],
    inp: usize,
    out: usize,
    x: &[f32],
    rows: usize,
    y: &mut Vec<f32>,
) {
    debug_assert!(weight.len() == inp * out && bias.len() == out && x.len() >= rows * inp);
    y.clear();
    for _ in 0..rows {
        y.extend_from_slice(bias);
    }
    // SAFETY: the slices hold rows x inp, out x inp and rows x out values, as the strides say.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            inp,
            out,
            1.0,
            x.as_ptr(),
            inp as isize,
            1,
            weight.as_ptr(),
            1,
            inp as isize,
            1.0,
            y.as_mut_ptr(),
            out as isize,
            1,
        );
    }
}

#[inline(always)]
fn layer_norm(norm: &Norm, x: &[f32], d: usize, y: &mut Vec<f32>) {
    y.clear();
    for row in x.chunks_exact(d) {
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let inv = 1.0 / (var + LN_EPS).sqrt();
        y.extend(
            row.iter()
                .zip(&norm.weight)
                .zip(&norm.bias)
                .map(|((v, w), b)| (v - mean) * inv * w + b),
        );
    }
}

/// Scratch buffers reused across decode steps.
#[derive(Default)]
pub struct Scratch {
    x: Vec<f32>,
    h: Vec<f32>,
    qkv: Vec<f32>,
    att: Vec<f32>,
    tmp: Vec<f32>,
    mlp: Vec<f32>,
    scores: Vec<f32>,
    /// One row of the model's width.
    lane: Vec<f32>,
}

/// [`Weights::step_portable`] compiled for AVX2 + FMA as well as for the baseline, the best the
/// CPU runs picked at run time (the same mechanism as `fastmath::softmax_mean`): with AVX2 the
/// loops over rows, scores and bins run eight lanes wide instead of SSE2's four.
#[allow(clippy::too_many_arguments)]
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn step_dispatched(
    w: &Weights,
    prefix: &KvCache,
    caches: &mut [KvCache],
    tokens: &[u32],
    position: u32,
    logits: Option<Range<usize>>,
    s: &mut Scratch,
    out: &mut Vec<f32>,
) {
    w.step_portable(prefix, caches, tokens, position, logits, s, out);
}

impl Weights {
    #[allow(clippy::too_many_arguments)]
    /// Feeds one token to each of `caches.len()` sequences, each continuing `prefix` (which may
    /// be empty). The sequences advance in lockstep, so their tokens share one local `position`. Appends their keys/values to `caches`. When `logits` is `Some(range)`, writes
    /// the logits of the vocabulary `range` for every sequence to `out` (`[k][range.len()]`).
    pub fn step(
        &self,
        prefix: &KvCache,
        caches: &mut [KvCache],
        tokens: &[u32],
        position: u32,
        logits: Option<Range<usize>>,
        s: &mut Scratch,
        out: &mut Vec<f32>,
    ) {
        step_dispatched(self, prefix, caches, tokens, position, logits, s, out);
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn step_portable(
        &self,
        prefix: &KvCache,
        caches: &mut [KvCache],
        tokens: &[u32],
        position: u32,
        logits: Option<Range<usize>>,
        s: &mut Scratch,
        out: &mut Vec<f32>,
    ) {
        let cfg = &self.cfg;
        let (d, heads, dh) = (cfg.width, cfg.heads, cfg.head_dim());
        let k = caches.len();
        s.x.clear();
        let pos_at = (position as usize).min(cfg.max_step_tokens - 1) * d;
        for &t in tokens {
            let t = t as usize * d;
            s.x.extend(
                self.tok[t..t + d]
                    .iter()
                    .zip(&self.pos[pos_at..pos_at + d])
                    .map(|(a, b)| a + b),
            );
        }
        let scale = 1.0 / (dh as f32).sqrt();
        for (l, b) in self.blocks.iter().enumerate() {
            layer_norm(&b.ln1, &s.x, d, &mut s.h);
            linear(&b.qkv, &s.h, k, &mut s.qkv);
            s.att.clear();
            s.att.resize(k * d, 0.0);
            for (i, cache) in caches.iter_mut().enumerate() {
                let row = &s.qkv[i * 3 * d..(i + 1) * 3 * d];
                cache.keys[l].extend_from_slice(&row[d..2 * d]);
                cache.values[l].extend_from_slice(&row[2 * d..3 * d]);
            }
            // A token whose logits nobody reads needs only its keys and values from the last
            // layer: that layer's attention and MLP would only feed the head.
            if logits.is_none() && l + 1 == self.blocks.len() {
                break;
            }
            // The sequences advance in lockstep, so all see the same window: keys
            // `first..prefix.len` of the shared prefix, then their own from `own_first`.
            let own = caches.first().map_or(0, |c| c.keys[l].len() / d);
            debug_assert!(caches.iter().all(|c| c.keys[l].len() == own * d));
            let total = prefix.len + own;
            let p = total - 1;
            let first = (p + 1).saturating_sub(cfg.context_tokens);
            let span = total - first;
            let pre_first = first.min(prefix.len);
            let pre_span = prefix.len - pre_first;
            let own_first = first.saturating_sub(prefix.len);
            // scores `[k][heads][span]`: the prefix part for all sequences at once (one product
            // per head), then each sequence's own keys.
            s.scores.clear();
            s.scores.resize(k * heads * span, 0.0);
            let score_view = |hd: usize, cols: usize| View {
                offset: hd * span,
                rows: k,
                cols,
                rs: heads * span,
                cs: 1,
            };
            if pre_span > 0 {
                for hd in 0..heads {
                    let q = View::rows(0, hd * dh, k, dh, 3 * d);
                    let keys = View::rows(pre_first, hd * dh, pre_span, dh, d).t();
                    let out = score_view(hd, pre_span);
                    gemm(
                        scale,
                        (&s.qkv, q),
                        (&prefix.keys[l], keys),
                        0.0,
                        (&mut s.scores, out),
                    );
                }
            }
            s.lane.clear();
            s.lane.resize(d, 0.0);
            for (i, cache) in caches.iter().enumerate() {
                let q = &s.qkv[i * 3 * d..i * 3 * d + d];
                let sc = &mut s.scores[i * heads * span..(i + 1) * heads * span];
                // q * key over the whole width (full-width vector ops), then a sum per head.
                for (jj, key) in cache.keys[l][own_first * d..].chunks_exact(d).enumerate() {
                    s.lane
                        .iter_mut()
                        .zip(q)
                        .zip(key)
                        .for_each(|((o, a), b)| *o = a * b);
                    for hd in 0..heads {
                        sc[hd * span + pre_span + jj] =
                            sum(&s.lane[hd * dh..(hd + 1) * dh]) * scale;
                    }
                }
                for hd in 0..heads {
                    let r = &mut sc[hd * span..(hd + 1) * span];
                    let slope = self.slopes[hd];
                    r.iter_mut()
                        .enumerate()
                        .for_each(|(jj, x)| *x -= slope * (p - first - jj) as f32);
                    softmax_in_place(r);
                }
            }
            s.att.clear();
            s.att.resize(k * d, 0.0);
            if pre_span > 0 {
                for hd in 0..heads {
                    let probs = score_view(hd, pre_span);
                    let values = View::rows(pre_first, hd * dh, pre_span, dh, d);
                    let out = View::rows(0, hd * dh, k, dh, d);
                    gemm(
                        1.0,
                        (&s.scores, probs),
                        (&prefix.values[l], values),
                        0.0,
                        (&mut s.att, out),
                    );
                }
            }
            for (i, cache) in caches.iter().enumerate() {
                let sc = &s.scores[i * heads * span..(i + 1) * heads * span];
                let dst = &mut s.att[i * d..(i + 1) * d];
                // Each head's weight spread over its columns, then one full-width pass.
                for (jj, val) in cache.values[l][own_first * d..].chunks_exact(d).enumerate() {
                    for hd in 0..heads {
                        s.lane[hd * dh..(hd + 1) * dh].fill(sc[hd * span + pre_span + jj]);
                    }
                    dst.iter_mut()
                        .zip(&s.lane)
                        .zip(val)
                        .for_each(|((o, w), v)| *o += w * v);
                }
            }
            linear(&b.proj, &s.att, k, &mut s.tmp);
            s.x.iter_mut().zip(&s.tmp).for_each(|(x, y)| *x += y);
            layer_norm(&b.ln2, &s.x, d, &mut s.h);
            linear(&b.fc1, &s.h, k, &mut s.mlp);
            gelu_in_place(&mut s.mlp);
            linear(&b.fc2, &s.mlp, k, &mut s.tmp);
            s.x.iter_mut().zip(&s.tmp).for_each(|(x, y)| *x += y);
        }
        for cache in caches.iter_mut() {
            cache.len += 1;
        }
        if let Some(range) = logits {
            layer_norm(&self.ln_f, &s.x, d, &mut s.h);
            let weight = &self.head.weight[range.start * d..range.end * d];
            linear_raw(
                weight,
                &self.head.bias[range.clone()],
                d,
                range.len(),
                &s.h,
                k,
                out,
            );
        }
    }

    /// Encodes `tokens` into `cache` one at a time (batch of one).
    pub fn encode(&self, cache: &mut KvCache, tokens: &[u32], positions: &[u32], s: &mut Scratch) {
        let empty = KvCache::new(self.cfg.layers);
        let mut out = Vec::new();
        for (t, p) in tokens.iter().zip(positions) {
            self.step(
                &empty,
                std::slice::from_mut(cache),
                &[*t],
                *p,
                None,
                s,
                &mut out,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tdm::Tdm;
    use candle_core::{DType, Device};
    use candle_nn::VarBuilder;

    /// The dispatching `step` (AVX2 + FMA where the CPU has them) and the portable body give
    /// the same logits, with the window sliding past the shared prefix.
    #[test]
    fn the_simd_and_portable_steps_agree() -> Result<(), String> {
        let cfg = TdmConfig {
            context_tokens: 16,
            ..TdmConfig::preset("tiny", 3073).ok_or("no tiny preset")?
        };
        let varmap = VarMap::new();
        Tdm::new(
            cfg,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )
        .map_err(|e| e.to_string())?;
        let w = Weights::from_varmap(cfg, &varmap).map_err(|e| e.to_string())?;
        let mut prefix = KvCache::new(cfg.layers);
        let mut s = Scratch::default();
        let toks: Vec<u32> = (0..12).map(|i| (i * 389 + 5) % 3073).collect();
        let pos: Vec<u32> = (0..12).map(|i| i % 8).collect();
        w.encode(&mut prefix, &toks, &pos, &mut s);
        let mut a = vec![KvCache::new(cfg.layers); 3];
        let mut b = a.clone();
        let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
        let mut worst = 0f32;
        for t in 0..20u32 {
            let toks: Vec<u32> = (0..3).map(|c| (t * 131 + c * 977 + 1) % 3073).collect();
            let logits = Some(0..3073);
            w.step(
                &prefix,
                &mut a,
                &toks,
                t % 8,
                logits.clone(),
                &mut s,
                &mut out_a,
            );
            w.step_portable(&prefix, &mut b, &toks, t % 8, logits, &mut s, &mut out_b);
            assert_eq!(out_a.len(), 3 * 3073);
            for (x, y) in out_a.iter().zip(&out_b) {
                worst = worst.max((x - y).abs());
            }
        }
        assert!(worst < 1e-4, "max |simd - portable| = {worst}");
        Ok(())
    }

    /// Steps whose logits are not asked for skip the last layer's attention and MLP; what they
    /// leave in the cache is the same, so later logits do not change.
    #[test]
    fn skipping_unread_logits_changes_no_later_logits() -> Result<(), String> {
        let cfg = TdmConfig {
            context_tokens: 16,
            ..TdmConfig::preset("tiny", 3073).ok_or("no tiny preset")?
        };
        let varmap = VarMap::new();
        Tdm::new(
            cfg,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )
        .map_err(|e| e.to_string())?;
        let w = Weights::from_varmap(cfg, &varmap).map_err(|e| e.to_string())?;
        let prefix = KvCache::new(cfg.layers);
        let (mut all, mut some) = (
            vec![KvCache::new(cfg.layers); 2],
            vec![KvCache::new(cfg.layers); 2],
        );
        let mut s = Scratch::default();
        let (mut out_all, mut out_some) = (Vec::new(), Vec::new());
        for t in 0..24u32 {
            let toks: Vec<u32> = (0..2).map(|c| (t * 211 + c * 97 + 3) % 3073).collect();
            w.step(
                &prefix,
                &mut all,
                &toks,
                t % 8,
                Some(0..3073),
                &mut s,
                &mut out_all,
            );
            let want = (t % 3 == 2).then_some(0..3073);
            w.step(
                &prefix,
                &mut some,
                &toks,
                t % 8,
                want.clone(),
                &mut s,
                &mut out_some,
            );
            if want.is_some() {
                assert_eq!(out_all, out_some, "logits differ at token {t}");
            }
        }
        Ok(())
    }
}

//! The vocabulary head and the range-restricted loss as one candle op for training on the CPU:
//! from the final hidden states `[N, d]`, the head's weight `[V, d]` and bias `[V]` to the
//! weighted mean negative log-likelihood, each learned position scored against its own range of
//! the vocabulary (see `Tdm::range_loss`). Composed of candle ops this was a row gather, a
//! narrowed weight, a product, a log-softmax and a gather per target kind, each with its own
//! backward node (and zeroed, full-size gradient buffers for the gather and the narrow). The
//! op keeps each position's probabilities between the forward and the backward pass.
use super::fastmath;
use super::gemm::{View, gemm};
use super::op_state::{Kept, f32_values, values};
use candle_core::{CpuStorage, CustomOp3, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Positions scored per parallel task.
const ROWS_PER_TASK: usize = 128;

/// What each position is scored against: one bin, or a distribution over the range's bins.
pub enum Targets {
    Hard(Vec<u32>),
    /// `[rows, bins]`, each row summing to 1.
    Soft(Vec<f32>),
}

/// The positions of one kind of target.
pub struct HeadGroup {
    /// Indices into the `N` hidden rows.
    pub rows: Vec<u32>,
    pub targets: Targets,
    /// The vocabulary range `start..start + bins`.
    pub start: usize,
    pub bins: usize,
    pub weight: f32,
}

pub struct RangeHead {
    groups: Vec<HeadGroup>,
    /// Per group, `[rows, bins]`: the softmax of each position's logits.
    saved: Kept<Vec<Vec<f32>>>,
}

impl RangeHead {
    pub fn new(groups: Vec<HeadGroup>) -> Self {
        Self {
            groups: groups
                .into_iter()
                .filter(|g| !g.rows.is_empty() && g.weight > 0.0)
                .collect(),
            saved: Kept::new(),
        }
    }

    fn weight_sum(&self) -> f64 {
        self.groups
            .iter()
            .map(|g| f64::from(g.weight) * g.rows.len() as f64)
            .sum::<f64>()
            .max(1e-9)
    }

    /// Group `g`'s rows `r0..r0 + n` as logits (`[n, bins]`, then turned into probabilities
    /// in place) and their summed negative log-likelihood.
    fn score(
        g: &HeadGroup,
        r0: usize,
        h: &[f32],
        w: &[f32],
        b: &[f32],
        d: usize,
        probs: &mut [f32],
    ) -> f64 {
        let n = probs.len() / g.bins;
        let mut rows = vec![0f32; n * d];
        for (dst, &r) in rows.chunks_exact_mut(d).zip(&g.rows[r0..r0 + n]) {
            dst.copy_from_slice(&h[r as usize * d..(r as usize + 1) * d]);
        }
        for row in probs.chunks_exact_mut(g.bins) {
            row.copy_from_slice(&b[g.start..g.start + g.bins]);
        }
        let wr = View::rows(g.start, 0, g.bins, d, d).t();
        gemm(
            1.0,
            (&rows, View::rows(0, 0, n, d, d)),
            (w, wr),
            1.0,
            (probs, View::rows(0, 0, n, g.bins, g.bins)),
        );
        softmax_rows(probs, g.bins, &g.targets, r0)
    }
}

/// Each `bins`-wide row of `logits` (positions `r0..` of a group) into its softmax; returns
/// the rows' summed negative log-likelihood of `targets`. Compiled for AVX2 + FMA too.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn softmax_rows(logits: &mut [f32], bins: usize, targets: &Targets, r0: usize) -> f64 {
    let mut nll = 0f64;
    for (i, row) in logits.chunks_exact_mut(bins).enumerate() {
        let max = fastmath::max(row);
        // The target's share, read before the row turns into probabilities.
        let (mass, picked) = match targets {
            Targets::Hard(t) => (1.0, row[t[r0 + i] as usize]),
            Targets::Soft(s) => {
                let s = &s[(r0 + i) * bins..(r0 + i + 1) * bins];
                (fastmath::sum(s), fastmath::dot(s, row))
            }
        };
        row.iter_mut().for_each(|x| *x = fastmath::exp(*x - max));
        let sum = fastmath::sum(row);
        let inv = 1.0 / sum;
        row.iter_mut().for_each(|x| *x *= inv);
        nll += f64::from((max + sum.ln()) * mass - picked);
    }
    nll
}

fn check_shapes(h: &Layout, w: &Layout, b: &Layout) -> Result<usize> {
    match (h.shape().dims(), w.shape().dims(), b.shape().dims()) {
        ([_, d], [v, dw], [vb]) if d == dw && v == vb => Ok(*d),
        (h, w, b) => {
            candle_core::bail!("range head: hidden {h:?}, weight {w:?}, bias {b:?} do not fit")
        }
    }
}

impl CustomOp3 for RangeHead {
    fn name(&self) -> &'static str {
        "tdm-range-head"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = check_shapes(l1, l2, l3)?;
        let (h, w, b) = (
            f32_values(s1, l1, self.name())?,
            f32_values(s2, l2, self.name())?,
            f32_values(s3, l3, self.name())?,
        );
        let (n_rows, vocab) = (h.len() / d, b.len());
        for g in &self.groups {
            let targets_ok = match &g.targets {
                Targets::Hard(t) => {
                    t.len() == g.rows.len() && t.iter().all(|&x| (x as usize) < g.bins)
                }
                Targets::Soft(s) => s.len() == g.rows.len() * g.bins,
            };
            if g.start + g.bins > vocab
                || g.rows.iter().any(|&r| r as usize >= n_rows)
                || !targets_ok
            {
                candle_core::bail!(
                    "range head: a target group does not fit {n_rows} rows and {vocab} entries"
                )
            }
        }
        let mut total = 0f64;
        let mut saved = Vec::with_capacity(self.groups.len());
        for (gi, g) in self.groups.iter().enumerate() {
            let mut probs = vec![0f32; g.rows.len() * g.bins];
            total += probs
                .par_chunks_mut(ROWS_PER_TASK * g.bins)
                .enumerate()
                .map(|(c, p)| Self::score(&self.groups[gi], c * ROWS_PER_TASK, h, w, b, d, p))
                .sum::<f64>()
                * f64::from(g.weight);
            saved.push(probs);
        }
        self.saved.put(saved);
        let loss = (total / self.weight_sum()) as f32;
        Ok((CpuStorage::F32(vec![loss]), Shape::from(())))
    }

    fn bwd(
        &self,
        h: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (n_rows, d) = h.dims2()?;
        let vocab = b.dims1()?;
        let (hv, wv, bv) = (values(h)?, values(w)?, values(b)?);
        let gs = f64::from(grad.to_scalar::<f32>()?);
        let saved = self.saved.take_or(|| {
            self.groups
                .iter()
                .map(|g| {
                    let mut p = vec![0f32; g.rows.len() * g.bins];
                    Self::score(g, 0, &hv, &wv, &bv, d, &mut p);
                    p
                })
                .collect()
        });
        let (mut dh, mut dw, mut db) = (
            vec![0f32; n_rows * d],
            vec![0f32; vocab * d],
            vec![0f32; vocab],
        );
        for (g, mut probs) in self.groups.iter().zip(saved) {
            let scale = (gs * f64::from(g.weight) / self.weight_sum()) as f32;
            // dlogits = scale (p - target), in place.
            probs
                .par_chunks_mut(ROWS_PER_TASK * g.bins)
                .enumerate()
                .for_each(|(c, chunk)| {
                    for (i, row) in chunk.chunks_exact_mut(g.bins).enumerate() {
                        let r = c * ROWS_PER_TASK + i;
                        match &g.targets {
                            Targets::Hard(t) => row[t[r] as usize] -= 1.0,
                            Targets::Soft(s) => {
                                let s = &s[r * g.bins..(r + 1) * g.bins];
                                let mass = fastmath::sum(s);
                                row.iter_mut().zip(s).for_each(|(p, t)| *p = *p * mass - t);
                            }
                        }
                        row.iter_mut().for_each(|p| *p *= scale);
                    }
                });
            // Per task of rows: the range's weight and bias gradients, and the rows' own.
            let rows_per_task = g
                .rows
                .len()
                .div_ceil(2 * rayon::current_num_threads())
                .max(1);
            let parts: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = probs
                .par_chunks(rows_per_task * g.bins)
                .zip(g.rows.par_chunks(rows_per_task))
                .map(|(dl, idx)| {
                    let n = idx.len();
                    let mut rows = vec![0f32; n * d];
                    for (dst, &r) in rows.chunks_exact_mut(d).zip(idx) {
                        dst.copy_from_slice(&hv[r as usize * d..(r as usize + 1) * d]);
                    }
                    let vdl = View::rows(0, 0, n, g.bins, g.bins);
                    let vrows = View::rows(0, 0, n, d, d);
                    let mut dwr = vec![0f32; g.bins * d];
                    gemm(
                        1.0,
                        (dl, vdl.t()),
                        (&rows, vrows),
                        0.0,
                        (&mut dwr, View::rows(0, 0, g.bins, d, d)),
                    );
                    let mut dbr = vec![0f32; g.bins];
                    for row in dl.chunks_exact(g.bins) {
                        dbr.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                    }
                    let wr = View::rows(g.start, 0, g.bins, d, d);
                    gemm(1.0, (dl, vdl), (&wv, wr), 0.0, (&mut rows, vrows));
                    (dwr, dbr, rows)
                })
                .collect();
            for ((dwr, dbr, dhr), idx) in parts.iter().zip(g.rows.chunks(rows_per_task)) {
                let range = g.start * d..(g.start + g.bins) * d;
                dw[range].iter_mut().zip(dwr).for_each(|(a, b)| *a += b);
                db[g.start..g.start + g.bins]
                    .iter_mut()
                    .zip(dbr)
                    .for_each(|(a, b)| *a += b);
                for (src, &r) in dhr.chunks_exact(d).zip(idx) {
                    dh[r as usize * d..(r as usize + 1) * d]
                        .iter_mut()
                        .zip(src)
                        .for_each(|(a, b)| *a += b);
                }
            }
        }
        let dev = &Device::Cpu;
        Ok((
            Some(Tensor::from_vec(dh, (n_rows, d), dev)?),
            Some(Tensor::from_vec(dw, (vocab, d), dev)?),
            Some(Tensor::from_vec(db, vocab, dev)?),
        ))
    }
}
